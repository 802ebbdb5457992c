from odoo import fields, models


class AccountMoveDisputeWizard(models.TransientModel):
    """Flag a customer invoice as disputed with the reason, or settle its dispute."""

    _name = "account.move.dispute.wizard"
    _description = "Flag an Invoice as Disputed"

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        ondelete="cascade",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
    )
    disputed = fields.Boolean(
        string="Flag as Disputed",
        help="Checked: the invoice is flagged as disputed. Unchecked: its dispute is settled.",
    )
    reason = fields.Text(
        help="Why the customer disputes the invoice; when settling, how it was settled.",
    )

    def action_confirm(self):
        self.ensure_one()
        self.move_id._set_payment_dispute(self.disputed, self.reason)
        return {"type": "ir.actions.act_window_close"}
