from odoo import fields, models


class AccountMoveDisputeWizard(models.TransientModel):
    _name = "account.move.dispute.wizard"
    _description = "Flag an Invoice as Disputed"

    name = fields.Char()
