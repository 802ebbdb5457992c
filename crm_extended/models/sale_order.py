from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "crm.contact.log.document.mixin"]
    _contact_log_field = "sale_order_id"

    contact_log_ids = fields.One2many("crm.contact.log", "sale_order_id", string="Contact Logs")
    # the customer history reads a customer's newest orders through an index on this
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer Company",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
    )

    def _auto_init(self):
        # filled in one UPDATE rather than recomputed order by order on large databases
        if not column_exists(self.env.cr, "sale_order", "commercial_partner_id"):
            create_column(self.env.cr, "sale_order", "commercial_partner_id", "int4")
            self.env.cr.execute(
                SQL(
                    "UPDATE sale_order so SET commercial_partner_id = p.commercial_partner_id "
                    "FROM res_partner p WHERE p.id = so.partner_id"
                )
            )
        return super()._auto_init()

    # ------------------------------------------------------------
    # CONTRACT
    # ------------------------------------------------------------

    contract_id = fields.Many2one(
        "crm.contract",
        index="btree_not_null",
        check_company=True,
        tracking=True,
        domain="[('commercial_partner_id', '=', commercial_partner_id), "
        "('state', 'not in', ('cancelled', 'terminated', 'expired'))]",
        help="The customer contract this order is part of: its invoices belong to the "
        "contract too.",
    )

    @api.constrains("contract_id", "partner_id")
    def _check_contract_customer(self):
        for order in self.filtered("contract_id"):
            if order.commercial_partner_id != order.contract_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "The order %(order)s is for %(customer)s but the contract %(contract)s "
                        "is with %(contract_customer)s: choose a contract of the customer.",
                        order=order.display_name,
                        customer=order.commercial_partner_id.display_name,
                        contract=order.contract_id.display_name,
                        contract_customer=order.contract_id.commercial_partner_id.display_name,
                    )
                )

    def _prepare_invoice(self):
        values = super()._prepare_invoice()
        if self.contract_id:
            values["contract_id"] = self.contract_id.id
        return values

    def _get_invoice_grouping_keys(self):
        # orders of different contracts are never merged into one invoice
        return [*super()._get_invoice_grouping_keys(), "contract_id"]
