from odoo import fields, models


class CrmPaymentPromise(models.Model):
    _name = "crm.payment.promise"
    _description = "Payment Promise"

    name = fields.Char()
    invoice_ids = fields.Many2many(
        "account.move",
        relation="crm_payment_promise_account_move_rel",
        column1="promise_id",
        column2="move_id",
        string="Invoices",
    )
