from odoo import fields, models
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
