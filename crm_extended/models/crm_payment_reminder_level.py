from odoo import api, fields, models
from odoo.exceptions import ValidationError

# The escalation every company starts with: (xmlid of the main company's level, days).
DEFAULT_LEVELS = (
    ("crm_payment_reminder_level_friendly", 3),
    ("crm_payment_reminder_level_firm", 15),
    ("crm_payment_reminder_level_letter", 30),
)


class CrmPaymentReminderLevel(models.Model):
    """One step of the escalation of overdue-invoice reminders, per company.

    An overdue invoice (or installment) reaches a level once it is ``days`` past its due
    date; the daily job sends each customer the highest level one of their invoices newly
    reached, through the level's channel. A level is sent once per invoice or installment.
    """

    _name = "crm.payment.reminder.level"
    _description = "Payment Reminder Level"
    _order = "company_id, days, sequence, id"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    days = fields.Integer(
        string="Days Overdue",
        required=True,
        help="The level is reached this many days after an invoice's (or installment's) "
        "due date.",
    )
    channel = fields.Selection(
        [("email", "Email"), ("letter", "Letter"), ("phone", "Phone Call")],
        required=True,
        default="email",
        help="Email: the template below is sent to the customer's invoicing address. "
        "Letter: a PDF letter is prepared, to print and post. "
        "Phone call: a call is planned for the customer's salesperson.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain="[('model', '=', 'crm.payment.reminder')]",
        help="Renders the email listing all the customer's overdue invoices.",
    )
    plan_call = fields.Boolean(
        string="Plan a Call",
        help="Also plan a phone call about the overdue invoices for the customer's "
        "salesperson (a planned contact in their activities).",
    )
    notify_manager = fields.Boolean(
        string="Notify the Manager",
        help="Give the leader of the salesperson's sales team a to-do on the customer; "
        "without a team leader, the company's first accounting manager gets it.",
    )
    description = fields.Html(
        string="Letter Text",
        translate=True,
        sanitize=True,
        help="Opening text of the reminder letter, above the list of overdue invoices.",
    )
    reminder_count = fields.Integer(string="Reminders", compute="_compute_reminder_count")

    _sql_constraints = [
        (
            "company_days_uniq",
            "unique (company_id, days)",
            "A company already has a reminder level at this number of days overdue.",
        ),
    ]

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_reminder_count(self):
        counts = dict(
            self.env["crm.payment.reminder"]._read_group(
                [("level_id", "in", self.ids)], ["level_id"], ["__count"]
            )
        )
        for level in self:
            level.reminder_count = counts.get(level, 0)

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("days")
    def _check_days(self):
        for level in self:
            if level.days < 0:
                raise ValidationError(
                    self.env._(
                        "The level “%(name)s” cannot be reached %(days)s days after the due "
                        "date: the days overdue cannot be negative.",
                        name=level.name,
                        days=level.days,
                    )
                )

    @api.constrains("channel", "mail_template_id")
    def _check_mail_template(self):
        for level in self:
            if level.channel == "email" and not level.mail_template_id:
                raise ValidationError(
                    self.env._(
                        "The level “%(name)s” sends emails: choose its email template.",
                        name=level.name,
                    )
                )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_payment_reminder_action"
        )
        action["domain"] = [("level_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.model
    def action_open_levels(self):
        """Open the levels of the user's companies, creating the default ones first for
        companies created since the module was installed."""
        self._get_or_create_default_levels(self.env.companies)
        return self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_payment_reminder_level_action"
        )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _get_or_create_default_levels(self, companies):
        """Give each of ``companies`` that has no level at all (archived ones count) the
        default escalation, and return the active levels of ``companies``.

        The defaults are copies of the main company's default levels (names and letter
        text with their translations), or built from :meth:`_prepare_default_levels_values`
        when those were deleted. One query when every company has its levels.
        """
        Level = self.sudo().with_context(active_test=False)
        configured = {company.id for [company] in Level._read_group([], ["company_id"])}
        missing = companies.sudo().filtered(lambda company: company.id not in configured)
        for company in missing:
            templates = [
                self.env.ref(f"crm_extended.{xmlid}", raise_if_not_found=False)
                for xmlid, __ in DEFAULT_LEVELS
            ]
            if all(templates):
                for template in templates:
                    template.copy({"company_id": company.id, "active": True})
            else:
                Level.create(self._prepare_default_levels_values(company))
        return self.search([("company_id", "in", companies.ids)])

    @api.model
    def _create_default_levels_for_all_companies(self):
        """Module install and upgrade: the default levels for companies that have none."""
        companies = self.env["res.company"].sudo().search([("active", "=", True)])
        self._get_or_create_default_levels(companies)

    @api.model
    def _prepare_default_levels_values(self, company):
        """Values of the default levels of ``company``: a friendly email at 3 days, a firm
        email and a planned call at 15, a letter and a notice to the manager at 30."""
        ref = self.env.ref
        return [
            {
                "name": self.env._("Friendly reminder"),
                "sequence": 1,
                "days": 3,
                "channel": "email",
                "mail_template_id": ref("crm_extended.mail_template_payment_reminder").id,
                "company_id": company.id,
            },
            {
                "name": self.env._("Firm reminder"),
                "sequence": 2,
                "days": 15,
                "channel": "email",
                "mail_template_id": ref("crm_extended.mail_template_payment_reminder_firm").id,
                "plan_call": True,
                "company_id": company.id,
            },
            {
                "name": self.env._("Reminder letter"),
                "sequence": 3,
                "days": 30,
                "channel": "letter",
                "notify_manager": True,
                "company_id": company.id,
            },
        ]
