from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.tools import format_amount, format_date

SKIP_REASONS = [
    ("blocked", "Reminders blocked"),
    ("do_not_contact", "Do not contact"),
    ("dispute", "Disputed"),
    ("promise", "Payment promised"),
    ("interval", "Reminded recently"),
]


class CrmPaymentReminderPreview(models.TransientModel):
    """Who the reminder job would remind on a day, of what, at which level, and who it
    would skip and why. Computed by the job's own planning (``_get_reminder_plan``);
    nothing is sent, except by the "Send Now" button of a customer."""

    _name = "crm.payment.reminder.preview"
    _description = "Preview of the Next Payment Reminder Run"

    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="The day of the run to preview: today, or a later day to see what is coming.",
    )
    line_ids = fields.One2many(
        "crm.payment.reminder.preview.line", "preview_id", string="Customers", readonly=True
    )
    send_count = fields.Integer(string="To Remind", compute="_compute_counts")
    skip_count = fields.Integer(string="Skipped", compute="_compute_counts")

    @api.depends("line_ids.skip_reason")
    def _compute_counts(self):
        for preview in self:
            skipped = preview.line_ids.filtered("skip_reason")
            preview.skip_count = len(skipped)
            preview.send_count = len(preview.line_ids) - len(skipped)

    @api.depends("date")
    def _compute_display_name(self):
        for preview in self:
            preview.display_name = self.env._(
                "Reminder run of %(date)s", date=format_date(self.env, preview.date)
            )

    @api.model
    def action_open(self):
        """Menu entry: compute today's plan and show it."""
        preview = self.create({})
        preview._compute_plan()
        return preview._action_reopen()

    def action_refresh(self):
        self.ensure_one()
        self._compute_plan()
        return self._action_reopen()

    def _action_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Preview Next Reminder Run"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    def _compute_plan(self):
        """Replace the lines with the plan of the job for the chosen day, for the user's
        companies (the job itself runs for all companies)."""
        self.ensure_one()
        Reminder = self.env["crm.payment.reminder"]
        self.env["crm.payment.reminder.level"]._get_or_create_default_levels(self.env.companies)
        plan = Reminder._get_reminder_plan(today=self.date, companies=self.env.companies)
        moves = self.env["account.move"].browse(
            {item.move_id for entry in plan for item in entry.items + entry.excluded_items}
        )
        moves.fetch(["name"])
        currencies = self.env["res.currency"].browse(
            {item.currency_id for entry in plan for item in entry.items + entry.excluded_items}
        )
        currencies.fetch(["name", "symbol", "position", "decimal_places"])
        self.line_ids = [Command.clear()] + [
            Command.create(self._prepare_line_values(entry, moves, currencies)) for entry in plan
        ]

    def _prepare_line_values(self, entry, moves, currencies):
        items = entry.items or entry.excluded_items
        totals = defaultdict(float)
        for item in items:
            totals[item.currency_id] += item.amount
        return {
            "partner_id": entry.partner_id,
            "company_id": entry.company_id,
            "level_id": entry.level_id,
            "skip_reason": entry.skip_reason,
            "last_reminder_date": entry.last_reminder_date,
            "days_overdue": entry.days_overdue,
            "invoice_count": len({item.move_id for item in items}),
            "invoices": self._join_names(moves, items),
            "excluded_invoices": self._join_names(moves, entry.excluded_items),
            "amount_summary": " + ".join(
                format_amount(self.env, amount, currencies.browse(currency_id))
                for currency_id, amount in sorted(totals.items())
            ),
        }

    @api.model
    def _join_names(self, moves, items):
        return ", ".join(dict.fromkeys(moves.browse(item.move_id).name or "" for item in items))


class CrmPaymentReminderPreviewLine(models.TransientModel):
    _name = "crm.payment.reminder.preview.line"
    _description = "Customer in the Preview of the Next Payment Reminder Run"
    _order = "skip_reason desc, days_overdue desc, id"

    preview_id = fields.Many2one(
        "crm.payment.reminder.preview", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    level_id = fields.Many2one("crm.payment.reminder.level", readonly=True)
    channel = fields.Selection(related="level_id.channel")
    skip_reason = fields.Selection(SKIP_REASONS, string="Skipped Because", readonly=True)
    last_reminder_date = fields.Date(string="Last Reminded On", readonly=True)
    days_overdue = fields.Integer(readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    invoices = fields.Char(string="Overdue Invoices", readonly=True)
    excluded_invoices = fields.Char(
        string="Left Out",
        readonly=True,
        help="Overdue invoices left out of the reminder: disputed or promised.",
    )
    amount_summary = fields.Char(string="Amount Due", readonly=True)

    def action_send_now(self):
        """Send this customer's reminder now (the interval is not waited for)."""
        self.ensure_one()
        reminders = self.env["crm.payment.reminder"]._send_now(self.partner_id, self.company_id)
        return reminders._action_open()

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }
