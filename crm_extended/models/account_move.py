from odoo import api, fields, models
from odoo.exceptions import ValidationError


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.contact.log.document.mixin"]
    _contact_log_field = "invoice_id"

    # the customer history filters invoices by customer company
    commercial_partner_id = fields.Many2one(index=True)
    contact_log_ids = fields.One2many("crm.contact.log", "invoice_id", string="Contact Logs")

    # ------------------------------------------------------------
    # CONTRACT
    # ------------------------------------------------------------

    contract_id = fields.Many2one(
        "crm.contract",
        index="btree_not_null",
        check_company=True,
        tracking=True,
        copy=False,
        domain="[('commercial_partner_id', '=', commercial_partner_id), "
        "('state', '!=', 'cancelled')]",
        help="The customer contract this invoice or credit note belongs to: it counts in the "
        "contract's invoiced, paid and overdue amounts.",
    )
    contract_period_start = fields.Date(
        string="Period From", copy=False, readonly=True, help="Recurring contract period invoiced."
    )
    contract_period_end = fields.Date(string="Period To", copy=False, readonly=True)
    contract_payment_status = fields.Selection(
        related="contract_id.payment_status", string="Contract Payment Status"
    )
    contract_original_count = fields.Integer(related="contract_id.original_count")
    invoice_days_overdue = fields.Integer(
        string="Days Overdue",
        compute="_compute_invoice_days_overdue",
        help="Days since the due date of a posted invoice still to be paid.",
    )

    def init(self):
        result = super().init()
        # a recurring period of a contract is invoiced once: a second invoice for it fails
        # here even when two transactions create it at the same time
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS account_move_contract_period_uniq "
            "ON account_move (contract_id, contract_period_start) "
            "WHERE contract_period_start IS NOT NULL AND state != 'cancel'"
        )
        return result

    @api.depends("invoice_date_due", "payment_state", "state", "move_type")
    @api.depends_context("date")
    def _compute_invoice_days_overdue(self):
        today = fields.Date.context_today(self)
        for move in self:
            late = (
                move.state == "posted"
                and move.move_type == "out_invoice"
                and move.payment_state in ("not_paid", "partial")
                and move.invoice_date_due
                and move.invoice_date_due < today
            )
            move.invoice_days_overdue = (today - move.invoice_date_due).days if late else 0

    @api.constrains("contract_id", "partner_id")
    def _check_contract_customer(self):
        for move in self.filtered("contract_id"):
            if move.move_type not in ("out_invoice", "out_refund"):
                raise ValidationError(
                    self.env._(
                        "Only customer invoices and credit notes can belong to a contract, "
                        "not %(move)s.",
                        move=move.display_name,
                    )
                )
            if move.commercial_partner_id != move.contract_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "The invoice %(move)s is for %(customer)s but the contract %(contract)s "
                        "is with %(contract_customer)s: choose a contract of the invoiced "
                        "customer.",
                        move=move.display_name,
                        customer=move.commercial_partner_id.display_name,
                        contract=move.contract_id.display_name,
                        contract_customer=move.contract_id.commercial_partner_id.display_name,
                    )
                )

    def _reverse_moves(self, default_values_list=None, cancel=False):
        # a credit note stays with the contract of the invoice it reverses, so the contract's
        # invoiced amount goes down
        if not default_values_list:
            default_values_list = [{} for _move in self]
        for move, default_values in zip(self, default_values_list, strict=True):
            if move.contract_id and move.move_type == "out_invoice":
                default_values.setdefault("contract_id", move.contract_id.id)
        return super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)

    def action_open_contract(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.contract",
            "res_id": self.contract_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_open_contract_originals(self):
        self.ensure_one()
        return self.contract_id.action_view_originals()
