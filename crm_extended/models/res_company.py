from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    crm_contract_require_original = fields.Boolean(
        string="Signed Original Required",
        default=True,
        help="A contract can be activated only once a signed original is attached to it.",
    )
    crm_contract_invoice_post = fields.Boolean(
        string="Post Contract Invoices",
        help="Invoices created by contracts' invoicing plans are posted at once; "
        "otherwise they are left in draft for an accountant to check.",
    )
    crm_contract_renewal_days = fields.Integer(
        string="Renewal Notice (days)",
        default=30,
        help="How many days before a contract ends its salesperson gets a renewal activity "
        "and the contract shows as expiring.",
    )
    crm_contract_due_soon_days = fields.Integer(
        string="Due Soon (days)",
        default=7,
        help="A contract whose next unpaid installment falls due within this many days is "
        "shown as due soon.",
    )
    crm_payment_reminder_interval = fields.Integer(
        string="Days Between Reminders",
        default=7,
        help="Minimum number of days between two payment reminders to the same customer.",
    )

    crm_rfm_source = fields.Selection(
        [("orders", "Confirmed Sales Orders"), ("invoices", "Posted Invoices")],
        string="Purchase Trends Source",
        default="orders",
        required=True,
        help="Purchases the customers' trends are computed from: confirmed sales orders "
        "(less the credit notes of their invoices), or posted customer invoices less "
        "credit notes.",
    )
    crm_rfm_lookback_months = fields.Integer(
        string="Purchase Trends Look-back (months)",
        default=24,
        help="Purchases older than this many months are ignored by the purchase trends.",
    )
    crm_rfm_trend_days = fields.Integer(
        string="Trend Period (days)",
        default=90,
        help="The trend compares the revenue of the last this-many days to the same number "
        "of days before them.",
    )
    # written by crm.customer.rfm._refresh, in SQL
    crm_rfm_analysis_date = fields.Date(
        string="Purchase Trends Date",
        readonly=True,
        help="Day of the last refresh of the purchase trends: their recency counts from it.",
    )
    crm_rfm_full_refresh = fields.Boolean(
        string="Purchase Trends Full Refresh",
        readonly=True,
        help="The purchase trends settings changed: the next refresh recomputes every "
        "customer's top categories.",
    )

    def write(self, vals):
        # the daily refresh recomputes the top categories of the customers whose figures
        # changed only: new settings must reach all of them
        if {"crm_rfm_source", "crm_rfm_lookback_months", "crm_rfm_trend_days"} & set(vals):
            vals = {**vals, "crm_rfm_full_refresh": True}
        return super().write(vals)

    @api.constrains("crm_rfm_lookback_months", "crm_rfm_trend_days")
    def _check_crm_rfm_settings(self):
        for company in self:
            if not 1 <= company.crm_rfm_lookback_months <= 120:
                raise ValidationError(
                    self.env._("The purchase trends look-back must be between 1 and 120 months.")
                )
            if company.crm_rfm_trend_days <= 0:
                raise ValidationError(self.env._("The trend period must be at least one day."))

    @api.constrains(
        "crm_contract_renewal_days", "crm_contract_due_soon_days", "crm_payment_reminder_interval"
    )
    def _check_crm_contract_days(self):
        for company in self:
            if (
                company.crm_contract_renewal_days < 0
                or company.crm_contract_due_soon_days < 0
                or company.crm_payment_reminder_interval < 0
            ):
                raise ValidationError(
                    self.env._("Numbers of days of contracts and reminders cannot be negative.")
                )
