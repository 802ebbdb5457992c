from odoo import fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    # the customer history filters payments by customer
    partner_id = fields.Many2one(index=True)
