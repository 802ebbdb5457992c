from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    payment_disputed = fields.Boolean(string="Disputed", tracking=True, copy=False)
    payment_dispute_reason = fields.Text(string="Dispute Reason", tracking=True, copy=False)
    payment_promise_ids = fields.Many2many(
        "crm.payment.promise",
        relation="crm_payment_promise_account_move_rel",
        column1="move_id",
        column2="promise_id",
        string="Payment Promises",
        copy=False,
    )
