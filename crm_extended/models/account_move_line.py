from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # Written by the payment reminders (see crm.payment.reminder._mark_items_reminded): the
    # highest reminder level sent for this receivable item, which is never sent again for it.
    payment_reminder_level_id = fields.Many2one(
        "crm.payment.reminder.level",
        string="Last Reminder Level",
        readonly=True,
        copy=False,
        ondelete="set null",
    )
    payment_reminder_date = fields.Date(string="Last Reminded On", readonly=True, copy=False)

    def init(self):
        result = super().init()
        # the reminder job walks the open customer receivables of a company by due date:
        # a small index, whatever the size of the ledger
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS account_move_line_crm_open_receivable_idx "
            "ON account_move_line (company_id, date_maturity) "
            "WHERE display_type = 'payment_term' AND parent_state = 'posted' "
            "AND reconciled IS NOT TRUE AND amount_residual > 0"
        )
        return result
