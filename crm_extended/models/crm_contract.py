import logging
from datetime import timedelta

import psycopg2.errors
from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, format_amount, format_date

_logger = logging.getLogger(__name__)

STATES = [
    ("draft", "Draft"),
    ("active", "Active"),
    ("expiring", "Expiring"),
    ("expired", "Expired"),
    ("terminated", "Terminated"),
    ("cancelled", "Cancelled"),
]
# the contract is in force: it may be invoiced, renewed, terminated
RUNNING_STATES = ("active", "expiring")
# periods and milestones dated before the end are still invoiced once the contract expired
INVOICING_STATES = ("active", "expiring", "expired")
INVOICING_KINDS = [
    ("none", "From Sales Orders"),
    ("milestone", "Milestones"),
    ("recurring", "Recurring"),
]
RECURRING_INTERVALS = [
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly"),
    ("yearly", "Yearly"),
]
INTERVAL_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
PAYMENT_STATUSES = [
    ("up_to_date", "Up to Date"),
    ("due_soon", "Due Soon"),
    ("overdue", "Overdue"),
    ("in_dispute", "In Dispute"),
    ("promise_pending", "Promise Pending"),
]
INVOICE_TYPES = ("out_invoice", "out_refund")
# stored payment figures, all computed by _compute_payment_figures
PAYMENT_FIELDS = (
    "invoice_count",
    "amount_invoiced",
    "amount_paid",
    "amount_residual",
    "amount_overdue",
    "next_due_date",
    "last_payment_date",
    "payment_status",
    "payment_refresh_date",
)
CRON_BATCH_SIZE = 200
REFRESH_BATCH_SIZE = 1000


class CrmContract(models.Model):
    """A customer contract: what is sold, for how long, how it is invoiced and paid.

    The signed originals prove what the customer agreed to; the invoicing plan (milestones or
    recurring periods) creates the invoices through a daily job, and every customer invoice or
    credit note linked to the contract (``account.move.contract_id``) counts in its payment
    figures, computed for many contracts at once by grouped queries.
    """

    _name = "crm.contract"
    _description = "Contract"
    _inherit = ["mail.thread", "mail.activity.mixin", "portal.mixin"]
    _order = "date_start desc, id desc"
    _rec_names_search = ["name", "title", "partner_id.complete_name"]
    _check_company_auto = True
    _mail_post_access = "read"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(
        string="Number", readonly=True, copy=False, index="trigram", default="/", tracking=True
    )
    title = fields.Char(required=True, tracking=True, help="What the contract is about.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer Company",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
        precompute=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        index="btree_not_null",
        compute="_compute_team_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    payment_term_id = fields.Many2one(
        "account.payment.term",
        string="Payment Terms",
        check_company=True,
        compute="_compute_payment_term_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    date_signed = fields.Date(string="Signed On", tracking=True, copy=False)
    date_start = fields.Date(
        string="Start Date", required=True, tracking=True, default=fields.Date.context_today
    )
    date_end = fields.Date(
        string="End Date", tracking=True, index="btree_not_null", help="Empty: open-ended."
    )
    state = fields.Selection(
        STATES,
        string="Status",
        required=True,
        default="draft",
        copy=False,
        index=True,
        tracking=True,
        group_expand="_read_group_state",
    )
    note = fields.Html(string="Terms and Notes", sanitize=True)

    # what is sold
    line_ids = fields.One2many("crm.contract.line", "contract_id", string="Lines", copy=True)
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount", compute="_compute_amounts", store=True
    )
    amount_tax = fields.Monetary(string="Taxes", compute="_compute_amounts", store=True)
    amount_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True, tracking=True
    )
    tax_totals = fields.Binary(compute="_compute_tax_totals", exportable=False)

    # signed originals
    original_ids = fields.One2many(
        "crm.contract.original", "contract_id", string="Signed Originals", copy=False
    )
    original_count = fields.Integer(string="Originals", compute="_compute_original_count")

    # invoicing plan
    invoicing_kind = fields.Selection(
        INVOICING_KINDS,
        string="Invoicing",
        required=True,
        default="none",
        tracking=True,
        help="From Sales Orders: the contract's orders are invoiced as usual and their "
        "invoices belong to the contract. Milestones: dated amounts or percentages of the "
        "total. Recurring: the contract's lines every period.",
    )
    milestone_ids = fields.One2many(
        "crm.contract.milestone", "contract_id", string="Milestones", copy=False
    )
    recurring_interval = fields.Selection(
        RECURRING_INTERVALS, string="Invoice Every", default="monthly", tracking=True
    )
    recurring_next_date = fields.Date(
        string="Next Invoice On",
        copy=False,
        index="btree_not_null",
        tracking=True,
        help="Start of the next period to invoice; empty once the last period is invoiced.",
    )
    invoicing_failed_date = fields.Date(
        copy=False,
        readonly=True,
        help="Last day the invoicing job failed on this contract; it retries the next day.",
    )

    # invoices and payments (company currency: totals of many contracts add up)
    sale_order_ids = fields.One2many("sale.order", "contract_id", string="Sales Orders")
    sale_order_count = fields.Integer(string="Orders", compute="_compute_sale_order_count")
    invoice_ids = fields.One2many(
        "account.move",
        "contract_id",
        string="Invoices",
        domain=[("move_type", "in", INVOICE_TYPES)],
        readonly=True,
    )
    invoice_count = fields.Integer(compute="_compute_payment_figures", store=True)
    amount_invoiced = fields.Monetary(
        string="Invoiced",
        currency_field="company_currency_id",
        compute="_compute_payment_figures",
        store=True,
        help="Posted invoices minus posted credit notes, in the company's currency.",
    )
    amount_paid = fields.Monetary(
        string="Paid",
        currency_field="company_currency_id",
        compute="_compute_payment_figures",
        store=True,
        help="What was invoiced and is no longer due, in the company's currency.",
    )
    amount_residual = fields.Monetary(
        string="Amount Due",
        currency_field="company_currency_id",
        compute="_compute_payment_figures",
        store=True,
        help="What remains to be paid on the posted invoices, less open credit notes, in "
        "the company's currency.",
    )
    amount_overdue = fields.Monetary(
        string="Overdue",
        currency_field="company_currency_id",
        compute="_compute_payment_figures",
        store=True,
        help="Unpaid installments past their due date, in the company's currency.",
    )
    next_due_date = fields.Date(
        string="Earliest Due Date",
        compute="_compute_payment_figures",
        store=True,
        help="Due date of the oldest unpaid installment.",
    )
    last_payment_date = fields.Date(compute="_compute_payment_figures", store=True)
    payment_status = fields.Selection(
        PAYMENT_STATUSES,
        compute="_compute_payment_figures",
        store=True,
        index=True,
        help="In Dispute: an unpaid invoice is disputed. Promise Pending: the customer "
        "promised to pay an unpaid invoice by a date still to come. Overdue: an installment "
        "is past due. Due Soon: the next installment falls due within the company's "
        "due-soon days.",
    )
    payment_refresh_date = fields.Date(
        compute="_compute_payment_figures",
        store=True,
        help="Day the payment status was computed (it depends on the date).",
    )

    # renewal and end
    previous_contract_id = fields.Many2one(
        "crm.contract", string="Renews", readonly=True, copy=False, index="btree_not_null"
    )
    next_contract_id = fields.Many2one(
        "crm.contract", string="Renewed By", readonly=True, copy=False, index="btree_not_null"
    )
    renewal_activity_date = fields.Date(
        copy=False,
        readonly=True,
        help="Day the salesperson was asked to renew the contract (once per end date).",
    )
    termination_date = fields.Date(
        tracking=True, copy=False, help="Last day of the contract; empty: the day it is terminated."
    )
    termination_reason = fields.Text(tracking=True, copy=False)

    _sql_constraints = [
        (
            "name_company_unique",
            "UNIQUE(company_id, name)",
            "A contract with this number already exists in this company.",
        ),
    ]

    def init(self):
        # the customer's contracts, newest first (partner form, portal, caller card)
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_contract_customer_idx "
            "ON crm_contract (commercial_partner_id, date_start DESC, id DESC)"
        )
        # the receivables list and the daily status refresh: contracts with money due
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_contract_open_residual_idx "
            "ON crm_contract (id) WHERE amount_residual <> 0"
        )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("partner_id")
    def _compute_user_id(self):
        for contract in self:
            salesperson = (
                contract.partner_id.user_id or contract.partner_id.commercial_partner_id.user_id
            )
            contract.user_id = salesperson or contract.user_id or self.env.user

    @api.depends("user_id")
    def _compute_team_id(self):
        for contract in self:
            team = contract.team_id
            if not team or contract.user_id not in (team.member_ids | team.user_id):
                team = contract.user_id.sale_team_id or team
            contract.team_id = team

    @api.depends("partner_id", "company_id")
    def _compute_currency_id(self):
        for contract in self:
            if contract.line_ids and contract.currency_id:
                # the lines were priced in it: changing it is refused, not done silently
                contract.currency_id = contract.currency_id
                continue
            company = contract.company_id or self.env.company
            pricelist = contract.partner_id.with_company(company).property_product_pricelist
            contract.currency_id = pricelist.currency_id or company.currency_id

    @api.depends("partner_id", "company_id")
    def _compute_payment_term_id(self):
        for contract in self:
            partner = contract.partner_id.with_company(contract.company_id)
            contract.payment_term_id = partner.property_payment_term_id or contract.payment_term_id

    @api.depends("line_ids.price_total", "currency_id", "company_id")
    def _compute_amounts(self):
        for contract in self:
            totals = contract._get_tax_totals()
            contract.amount_untaxed = totals["base_amount_currency"]
            contract.amount_tax = totals["tax_amount_currency"]
            contract.amount_total = totals["total_amount_currency"]

    @api.depends_context("lang")
    @api.depends("line_ids.price_total", "currency_id", "company_id")
    def _compute_tax_totals(self):
        for contract in self:
            contract.tax_totals = contract._get_tax_totals()

    def _get_tax_totals(self):
        """Odoo's tax totals summary of the contract's lines (in the contract's currency)."""
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        company = self.company_id or self.env.company
        base_lines = [line._prepare_base_line_for_taxes_computation() for line in self.line_ids]
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        return AccountTax._get_tax_totals_summary(
            base_lines=base_lines,
            currency=self.currency_id or company.currency_id,
            company=company,
        )

    def _compute_original_count(self):
        counts = dict(
            self.env["crm.contract.original"]._read_group(
                [("contract_id", "in", self.ids)], ["contract_id"], ["__count"]
            )
        )
        for contract in self:
            contract.original_count = counts.get(contract._origin, 0)

    def _compute_sale_order_count(self):
        counts = dict(
            self.env["sale.order"]._read_group(
                [("contract_id", "in", self.ids)], ["contract_id"], ["__count"]
            )
        )
        for contract in self:
            contract.sale_order_count = counts.get(contract._origin, 0)

    @api.depends(
        "company_id.crm_contract_due_soon_days",
        "invoice_ids.state",
        "invoice_ids.amount_total_signed",
        "invoice_ids.amount_residual_signed",
        "invoice_ids.payment_state",
        "invoice_ids.invoice_date_due",
        "invoice_ids.payment_disputed",
        "invoice_ids.payment_promise_ids.state",
        "invoice_ids.payment_promise_ids.date_promised",
    )
    def _compute_payment_figures(self):
        today = fields.Date.context_today(self)
        ids = [contract._origin.id for contract in self if contract._origin.id]
        figures = self.browse(ids)._get_payment_figures(today) if ids else {}
        for contract in self:
            values = figures.get(contract._origin.id, {})
            contract.update(
                {
                    "invoice_count": values.get("invoice_count", 0),
                    "amount_invoiced": values.get("invoiced", 0.0),
                    "amount_paid": values.get("invoiced", 0.0) - values.get("residual", 0.0),
                    "amount_residual": values.get("residual", 0.0),
                    "amount_overdue": values.get("overdue", 0.0),
                    "next_due_date": values.get("next_due_date", False),
                    "last_payment_date": values.get("last_payment_date", False),
                    "payment_status": contract._get_payment_status(values, today),
                    "payment_refresh_date": today,
                }
            )

    def _get_payment_figures(self, today):
        """Payment figures of the contracts ``self`` on the day ``today``, in a fixed number
        of grouped queries whatever the number of contracts.

        :return: {contract id: {"invoice_count", "invoiced", "residual", "overdue",
            "next_due_date", "disputed", "promise_pending", "last_payment_date"}}; amounts
            in the company's currency, signed (credit notes negative). Contracts without
            any invoice may be missing.
        """
        figures = {contract_id: {} for contract_id in self.ids}
        Move = self.env["account.move"].sudo()
        for contract, count in Move._read_group(
            [("contract_id", "in", self.ids), ("move_type", "in", INVOICE_TYPES)],
            ["contract_id"],
            ["__count"],
        ):
            figures[contract.id]["invoice_count"] = count

        # open installments: the receivable lines (``payment_term``) of posted documents
        self.env["account.move.line"].flush_model(
            ["move_id", "display_type", "balance", "amount_residual", "date_maturity"]
        )
        Move.flush_model(["contract_id", "state", "move_type", "payment_disputed"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT move.contract_id,
                       SUM(line.balance),
                       SUM(line.amount_residual),
                       SUM(line.amount_residual) FILTER (
                           WHERE line.amount_residual > 0 AND line.date_maturity < %(today)s),
                       MIN(line.date_maturity) FILTER (WHERE line.amount_residual > 0),
                       BOOL_OR(move.payment_disputed AND line.amount_residual > 0)
                  FROM account_move_line line
                  JOIN account_move move ON move.id = line.move_id
                 WHERE move.contract_id = ANY(%(ids)s)
                   AND move.state = 'posted'
                   AND move.move_type IN %(types)s
                   AND line.display_type = 'payment_term'
                 GROUP BY move.contract_id
                """,
                today=today,
                ids=self.ids,
                types=INVOICE_TYPES,
            )
        )
        for contract_id, invoiced, residual, overdue, next_due, disputed in rows:
            figures[contract_id].update(
                {
                    "invoiced": invoiced or 0.0,
                    "residual": residual or 0.0,
                    "overdue": overdue or 0.0,
                    "next_due_date": next_due,
                    "disputed": bool(disputed),
                }
            )

        # a promise pauses the chase while its date is to come and the invoice is unpaid
        for (contract,) in Move._read_group(
            [
                ("contract_id", "in", self.ids),
                ("state", "=", "posted"),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "in", ("not_paid", "partial")),
                (
                    "payment_promise_ids",
                    "any",
                    [("state", "=", "open"), ("date_promised", ">=", today)],
                ),
            ],
            ["contract_id"],
        ):
            figures[contract.id]["promise_pending"] = True

        # last payment: reconciliations of the contract's invoices with anything but a
        # credit note (payments, bank statement lines, manual entries)
        self.env["account.partial.reconcile"].flush_model(
            ["debit_move_id", "credit_move_id", "max_date"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT move.contract_id, MAX(part.max_date)
                  FROM account_partial_reconcile part
                  JOIN account_move_line line ON line.id = part.debit_move_id
                  JOIN account_move move ON move.id = line.move_id
                  JOIN account_move_line counterpart ON counterpart.id = part.credit_move_id
                  JOIN account_move paid_by ON paid_by.id = counterpart.move_id
                 WHERE move.contract_id = ANY(%(ids)s)
                   AND move.state = 'posted'
                   AND move.move_type = 'out_invoice'
                   AND paid_by.move_type NOT IN %(types)s
                 GROUP BY move.contract_id
                """,
                ids=self.ids,
                types=INVOICE_TYPES,
            )
        )
        for contract_id, last_payment_date in rows:
            figures[contract_id]["last_payment_date"] = last_payment_date
        return figures

    def _get_payment_status(self, figures, today):
        """The payment status of this contract from its ``figures`` (see
        :meth:`_get_payment_figures`). Precedence: in dispute, promise pending, overdue,
        due soon, up to date."""
        self.ensure_one()
        currency = self.company_currency_id or self.env.company.currency_id
        if figures.get("disputed"):
            return "in_dispute"
        if figures.get("promise_pending"):
            return "promise_pending"
        if currency.compare_amounts(figures.get("overdue", 0.0), 0.0) > 0:
            return "overdue"
        next_due = figures.get("next_due_date")
        due_soon_days = (self.company_id or self.env.company).crm_contract_due_soon_days
        if next_due and next_due <= today + timedelta(days=due_soon_days):
            return "due_soon"
        return "up_to_date"

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for contract in self:
            contract.access_url = f"/my/contracts/{contract.id}"
        return result

    @api.model
    def _read_group_state(self, values, domain):
        return [key for key, _label in STATES if key != "cancelled"]

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for contract in self:
            if contract.date_end and contract.date_end < contract.date_start:
                raise ValidationError(
                    self.env._(
                        "The contract %(contract)s ends on %(end)s, before it starts on "
                        "%(start)s: correct the end date.",
                        contract=contract.display_name,
                        end=format_date(self.env, contract.date_end),
                        start=format_date(self.env, contract.date_start),
                    )
                )

    @api.constrains("currency_id")
    def _check_lines_currency(self):
        self.line_ids._check_currency()

    @api.constrains("invoicing_kind", "recurring_interval")
    def _check_recurring_interval(self):
        for contract in self:
            if contract.invoicing_kind == "recurring" and not contract.recurring_interval:
                raise ValidationError(
                    self.env._(
                        "Choose how often the recurring contract %(contract)s is invoiced.",
                        contract=contract.display_name,
                    )
                )

    @api.constrains("line_ids", "milestone_ids")
    def _check_milestone_totals(self):
        """Milestones never bill more than the contract: percentages up to 100 %, and
        amounts up to its total."""
        for contract in self.filtered("milestone_ids"):
            percent = sum(
                contract.milestone_ids.filtered(lambda m: m.value_type == "percent").mapped(
                    "percent"
                )
            )
            if percent > 100.0 + 1e-6:
                raise ValidationError(
                    self.env._(
                        "The milestones of %(contract)s add up to %(percent)s %% of its "
                        "total: they cannot exceed 100 %%.",
                        contract=contract.display_name,
                        percent=round(percent, 2),
                    )
                )
            total = sum(contract.milestone_ids.mapped("amount"))
            if contract.currency_id.compare_amounts(total, contract.amount_total) > 0:
                raise ValidationError(
                    self.env._(
                        "The milestones of %(contract)s add up to %(milestones)s, more than "
                        "the contract's total of %(total)s: lower them or add contract lines.",
                        contract=contract.display_name,
                        milestones=contract._format_amount(total),
                        total=contract._format_amount(contract.amount_total),
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("name") or vals["name"] == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = (
                    self.env["ir.sequence"].with_company(company).next_by_code("crm.contract")
                    or "/"
                )
        return super().create(vals_list)

    def write(self, vals):
        result = super().write(vals)
        if "date_end" in vals or "date_start" in vals:
            today = fields.Date.context_today(self)
            for contract in self.filtered(lambda c: c.state in INVOICING_STATES):
                updates = contract._prepare_time_state_values(vals, today)
                if updates:
                    super(CrmContract, contract).write(updates)
        return result

    def _prepare_time_state_values(self, vals, today):
        """What changes when the dates of this contract in force move (``vals``): it
        follows them (an extended expired contract is active again) and its salesperson is
        reminded again of a new end date."""
        self.ensure_one()
        state = self._get_time_state(today)
        values = {"state": state} if state != self.state else {}
        if "date_end" in vals and self.renewal_activity_date:
            values["renewal_activity_date"] = False
        return values

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_force(self):
        if any(contract.state not in ("draft", "cancelled") for contract in self):
            raise UserError(
                self.env._(
                    "Only draft or cancelled contracts can be deleted: terminate a contract "
                    "in force, or archive it."
                )
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_activate(self):
        """Put draft contracts in force once they are complete and, where the company
        requires it, signed."""
        today = fields.Date.context_today(self)
        for contract in self:
            if contract.state != "draft":
                raise UserError(
                    self.env._(
                        "The contract %(contract)s is not a draft: only drafts can be activated.",
                        contract=contract.display_name,
                    )
                )
            if contract.company_id.crm_contract_require_original and not contract.original_ids:
                raise UserError(
                    self.env._(
                        "Attach the signed original (PDF) of %(contract)s before activating "
                        "it: %(company)s requires one.",
                        contract=contract.display_name,
                        company=contract.company_id.name,
                    )
                )
            if contract.invoicing_kind in ("recurring", "milestone") and not contract.line_ids:
                raise UserError(
                    self.env._(
                        "The contract %(contract)s has no lines: add what it sells before "
                        "activating its invoicing plan.",
                        contract=contract.display_name,
                    )
                )
            if contract.invoicing_kind == "milestone" and not contract.milestone_ids:
                raise UserError(
                    self.env._(
                        "The contract %(contract)s is invoiced by milestones but has none: "
                        "add them before activating it.",
                        contract=contract.display_name,
                    )
                )
            values = {"state": contract._get_time_state(today)}
            if not contract.date_signed:
                values["date_signed"] = (
                    max(contract.original_ids.mapped("date_signed"), default=False) or today
                )
            if contract.invoicing_kind == "recurring" and not contract.recurring_next_date:
                values["recurring_next_date"] = contract.date_start
            contract.write(values)
        return True

    def action_create_due_invoices(self):
        """Invoice now what is due today on these contracts (the daily job does it too)."""
        for contract in self:
            if contract.state not in INVOICING_STATES:
                raise UserError(
                    self.env._(
                        "The contract %(contract)s is not in force: it cannot be invoiced.",
                        contract=contract.display_name,
                    )
                )
        self._lock_for_invoicing()
        invoices = self._create_due_invoices()
        if not invoices:
            raise UserError(
                self.env._(
                    "Nothing is due today on %(contracts)s: the next milestones and periods "
                    "are invoiced on their dates.",
                    contracts=", ".join(self.mapped("display_name")),
                )
            )
        return self._get_invoices_action(invoices)

    def action_renew(self):
        """Create the next contract: same customer and lines, starting the day after this
        one ends and lasting as long; open it."""
        self.ensure_one()
        if self.next_contract_id:
            raise UserError(
                self.env._(
                    "The contract %(contract)s was already renewed by %(next)s.",
                    contract=self.display_name,
                    next=self.next_contract_id.display_name,
                )
            )
        if self.state not in INVOICING_STATES:
            raise UserError(
                self.env._(
                    "Only contracts in force or expired can be renewed, not %(contract)s.",
                    contract=self.display_name,
                )
            )
        if not self.date_end:
            raise UserError(
                self.env._(
                    "The contract %(contract)s has no end date: it does not need renewing.",
                    contract=self.display_name,
                )
            )
        renewal = self.copy(self._prepare_renewal_values())
        self.next_contract_id = renewal
        self.activity_feedback(
            ["crm_extended.mail_activity_type_contract_renewal"],
            feedback=self.env._("Renewed by %(contract)s", contract=renewal.display_name),
        )
        self.message_post(
            body=Markup("%s <a href='#' data-oe-model='crm.contract' data-oe-id='%s'>%s</a>")
            % (self.env._("Renewed by"), renewal.id, renewal.display_name),
            subtype_xmlid="mail.mt_note",
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.contract",
            "res_id": renewal.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _prepare_renewal_values(self):
        """Values of the contract renewing this one, given to ``copy`` (lines are copied;
        milestones are moved by the same shift as the dates)."""
        self.ensure_one()
        start = self.date_end + timedelta(days=1)
        duration = relativedelta(start, self.date_start)
        shift = start - self.date_start
        return {
            "date_start": start,
            "date_end": start + duration - timedelta(days=1),
            "previous_contract_id": self.id,
            "milestone_ids": [
                fields.Command.create(
                    {
                        "name": milestone.name,
                        "sequence": milestone.sequence,
                        "date": milestone.date + shift,
                        "value_type": milestone.value_type,
                        "percent": milestone.percent,
                        "amount_fixed": milestone.amount_fixed,
                    }
                )
                for milestone in self.milestone_ids
            ],
        }

    def action_terminate(self):
        """Ask for the termination date and reason (a dialog on the contract itself)."""
        self.ensure_one()
        if self.state not in INVOICING_STATES:
            raise UserError(
                self.env._(
                    "Only a contract in force can be terminated, not %(contract)s.",
                    contract=self.display_name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Terminate %(contract)s", contract=self.display_name),
            "res_model": "crm.contract",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("crm_extended.crm_contract_view_form_terminate").id, "form")],
            "target": "new",
        }

    def action_confirm_termination(self):
        for contract in self:
            if contract.state not in INVOICING_STATES:
                raise UserError(
                    self.env._(
                        "Only a contract in force can be terminated, not %(contract)s.",
                        contract=contract.display_name,
                    )
                )
            if not (contract.termination_reason or "").strip():
                raise UserError(
                    self.env._(
                        "Give the reason why %(contract)s is terminated.",
                        contract=contract.display_name,
                    )
                )
            if not contract.termination_date:
                contract.termination_date = fields.Date.context_today(self)
            if contract.termination_date < contract.date_start:
                raise UserError(
                    self.env._(
                        "The contract %(contract)s cannot be terminated before it starts.",
                        contract=contract.display_name,
                    )
                )
        self.write({"state": "terminated", "recurring_next_date": False})
        return True

    def action_cancel(self):
        posted = self.env["account.move"].search_count(
            [("contract_id", "in", self.ids), ("state", "=", "posted")], limit=1
        )
        if posted:
            raise UserError(
                self.env._(
                    "A contract with posted invoices cannot be cancelled: terminate it instead."
                )
            )
        self.write({"state": "cancelled", "recurring_next_date": False})
        return True

    def action_draft(self):
        for contract in self:
            if contract.state != "cancelled" and contract.invoice_ids:
                raise UserError(
                    self.env._(
                        "The contract %(contract)s has invoices: it cannot go back to draft.",
                        contract=contract.display_name,
                    )
                )
        self.write({"state": "draft", "recurring_next_date": False})
        return True

    def action_view_invoices(self):
        self.ensure_one()
        return self._get_invoices_action(self.invoice_ids)

    def _get_invoices_action(self, invoices):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", invoices.ids)]
        action["context"] = {
            "default_move_type": "out_invoice",
            "default_contract_id": self.id if len(self) == 1 else False,
            "default_partner_id": self.partner_id.id if len(self) == 1 else False,
        }
        if len(invoices) == 1:
            action["views"] = [(self.env.ref("account.view_move_form").id, "form")]
            action["res_id"] = invoices.id
        return action

    def action_view_sale_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["domain"] = [("contract_id", "=", self.id)]
        action["context"] = {
            "default_contract_id": self.id,
            "default_partner_id": self.partner_id.id,
        }
        return action

    def action_view_originals(self):
        """The signed original itself when there is one, otherwise the list."""
        self.ensure_one()
        originals = self.original_ids
        if len(originals) == 1:
            return {
                "type": "ir.actions.act_url",
                "url": originals._get_download_url(),
                "target": "new",
            }
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Signed Originals"),
            "res_model": "crm.contract.original",
            "view_mode": "list,form",
            "domain": [("contract_id", "=", self.id)],
            "context": {"default_contract_id": self.id},
        }

    # ------------------------------------------------------------
    # INVOICING
    # ------------------------------------------------------------

    def _lock_for_invoicing(self):
        """Lock these contracts' rows until the end of the transaction: invoices are created
        by one transaction at a time (the daily job skips locked contracts)."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM crm_contract WHERE id = ANY(%s) FOR UPDATE NOWAIT",
                        self.ids,
                    )
                )
        except psycopg2.errors.LockNotAvailable:
            raise UserError(
                self.env._(
                    "These contracts are being invoiced right now by someone else: try again "
                    "in a moment."
                )
            ) from None
        # what the other transaction did is now visible
        self.invalidate_recordset(["recurring_next_date", "invoicing_failed_date"])
        self.milestone_ids.invalidate_recordset(["invoice_id", "state"])

    @api.model
    def _get_due_invoicing_domain(self, today):
        """Domain of the contracts with something to invoice on ``today``.

        Extension point: a module adding a kind of invoicing plan ORs its own condition and
        extends :meth:`_prepare_due_invoices_values`. Contracts that failed today are left
        for tomorrow's run.
        """
        return [
            ("state", "in", INVOICING_STATES),
            "|",
            ("invoicing_failed_date", "=", False),
            ("invoicing_failed_date", "<", today),
            "|",
            "&",
            ("invoicing_kind", "=", "recurring"),
            ("recurring_next_date", "<=", today),
            "&",
            ("invoicing_kind", "=", "milestone"),
            ("milestone_ids", "any", [("state", "=", "to_invoice"), ("date", "<=", today)]),
        ]

    @api.model
    def _cron_create_invoices(self, limit=CRON_BATCH_SIZE):
        """Create the invoices due today, ``limit`` contracts per run.

        Safe to run twice or concurrently: a run locks the contracts it takes (``SKIP
        LOCKED``), the periods and milestones already invoiced are skipped, and a unique
        index forbids two invoices of one contract for the same period. A contract that
        fails is rolled back alone, its salesperson is told, and it is retried tomorrow.
        """
        today = fields.Date.context_today(self)
        domain = self._get_due_invoicing_domain(today)
        query = self._search(domain, order="id", limit=limit)
        rows = self.env.execute_query(
            SQL("%s FOR UPDATE OF crm_contract SKIP LOCKED", query.select())
        )
        contracts = self.browse(row[0] for row in rows)
        invoices = self.env["account.move"]
        failed = self.browse()
        for contract in contracts:
            try:
                with self.env.cr.savepoint():
                    invoices |= contract._create_due_invoices(today)
            except Exception as error:  # one contract must not stop the run
                _logger.warning(
                    "Contract %s (id %s) not invoiced: %s", contract.name, contract.id, error
                )
                failed |= contract
                contract._notify_invoicing_failure(error, today)
        _logger.info(
            "Contract invoicing: %s invoices for %s contracts, %s failed",
            len(invoices),
            len(contracts) - len(failed),
            len(failed),
        )
        self.env["ir.cron"]._notify_progress(
            done=len(contracts), remaining=self.search_count(domain)
        )
        return invoices

    def _create_due_invoices(self, today=None):
        """Create the invoices of the periods and milestones due on ``today`` (default: the
        current day) of these contracts, posted if their company says so.

        The caller locks the contracts first (see :meth:`_lock_for_invoicing`).

        :return: the invoices created
        """
        today = today or fields.Date.context_today(self)
        invoices = self.env["account.move"]
        for contract in self:
            plan = contract._prepare_due_invoices_values(today)
            if plan["vals_list"]:
                moves = (
                    self.env["account.move"]
                    .with_company(contract.company_id)
                    .with_context(default_move_type="out_invoice")
                    .create(plan["vals_list"])
                )
                for milestone, move in zip(plan["milestones"], moves, strict=True):
                    if milestone:
                        milestone.invoice_id = move
                if contract.company_id.crm_contract_invoice_post:
                    moves.action_post()
                invoices |= moves
                contract._log_created_invoices(moves, plan["milestones"])
            values = {"invoicing_failed_date": False}
            if "recurring_next_date" in plan:
                values["recurring_next_date"] = plan["recurring_next_date"]
            if any(contract[name] != value for name, value in values.items()):
                contract.write(values)
        return invoices

    def _log_created_invoices(self, moves, milestones):
        """Note in the chatter which invoices the plan created, for which period or
        milestone (``milestones``: one milestone or None per invoice)."""
        self.ensure_one()
        items = Markup("")
        for move, milestone in zip(moves, milestones, strict=True):
            if milestone:
                what = milestone.name
            else:
                what = self.env._(
                    "%(start)s to %(end)s",
                    start=format_date(self.env, move.contract_period_start),
                    end=format_date(self.env, move.contract_period_end),
                )
            items += Markup(
                "<li><a href='#' data-oe-model='account.move' data-oe-id='%s'>%s</a> (%s)</li>"
            ) % (move.id, move.name if move.name not in (False, "/") else self.env._("Draft"), what)
        self._message_log(
            body=Markup("<p>%s</p><ul>%s</ul>")
            % (self.env._("Invoices created by the invoicing plan:"), items)
        )

    def _prepare_due_invoices_values(self, today):
        """What to invoice on ``today`` for this contract.

        :return: {"vals_list": [invoice values], "milestones": [milestone or None, one per
            invoice], and for a recurring contract "recurring_next_date": the next period's
            start after those invoiced (False once the last period is invoiced)}
        """
        self.ensure_one()
        plan = {"vals_list": [], "milestones": []}
        if self.invoicing_kind == "recurring" and self.recurring_next_date:
            periods, next_date = self._get_due_periods(today)
            already = set(
                self.env["account.move"]
                .search_fetch(
                    [
                        ("contract_id", "=", self.id),
                        ("contract_period_start", "in", [start for start, _end in periods]),
                        ("state", "!=", "cancel"),
                    ],
                    ["contract_period_start"],
                )
                .mapped("contract_period_start")
            )
            for start, end in periods:
                if start not in already:
                    plan["vals_list"].append(self._prepare_period_invoice_values(start, end))
                    plan["milestones"].append(None)
            plan["recurring_next_date"] = next_date
        elif self.invoicing_kind == "milestone":
            for milestone in self.milestone_ids:
                if milestone.state == "to_invoice" and milestone.date <= today:
                    plan["vals_list"].append(self._prepare_milestone_invoice_values(milestone))
                    plan["milestones"].append(milestone)
        return plan

    def _get_period_starts(self):
        """Generator of the starts of the contract's invoicing periods, from its start date
        (computed from it, so periods starting on the 31st stay on month ends)."""
        self.ensure_one()
        months = INTERVAL_MONTHS[self.recurring_interval or "monthly"]
        index = 0
        while True:
            yield self.date_start + relativedelta(months=months * index)
            index += 1

    def _get_due_periods(self, today):
        """The periods of this recurring contract to invoice on ``today``, from
        ``recurring_next_date`` on: ([(start, end)], start of the following period or False
        when the contract ends before it)."""
        self.ensure_one()
        starts = self._get_period_starts()
        following = next(starts)
        while following <= self.recurring_next_date:
            following = next(starts)
        # the next date may have been moved by hand between two period starts
        start = self.recurring_next_date
        periods = []
        while start <= today and (not self.date_end or start <= self.date_end):
            end = following - timedelta(days=1)
            if self.date_end:
                end = min(end, self.date_end)
            periods.append((start, end))
            start, following = following, next(starts)
        if self.date_end and start > self.date_end:
            start = False
        return periods, start

    def _prepare_invoice_values(self, invoice_date):
        """Common values of the invoices of this contract (dated ``invoice_date``; due
        then, or as the contract's payment terms say)."""
        self.ensure_one()
        values = {
            "move_type": "out_invoice",
            "partner_id": self.partner_id.address_get(["invoice"])["invoice"],
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": invoice_date,
            "invoice_origin": self.name,
            "invoice_payment_term_id": self.payment_term_id.id,
            "invoice_user_id": self.user_id.id,
            "team_id": self.team_id.id,
            "contract_id": self.id,
            "invoice_line_ids": [],
        }
        if not self.payment_term_id:
            values["invoice_date_due"] = invoice_date
        return values

    def _prepare_period_invoice_values(self, start, end):
        """Invoice of one recurring period: every contract line, labelled with the period."""
        self.ensure_one()
        env = self.with_context(lang=self.partner_id.lang or self.env.lang).env
        period = env._(
            "%(start)s to %(end)s",
            start=format_date(env, start),
            end=format_date(env, end),
        )
        values = self._prepare_invoice_values(start)
        values.update(
            {
                "contract_period_start": start,
                "contract_period_end": end,
                "invoice_line_ids": [
                    fields.Command.create(
                        line._prepare_invoice_line_values(name=f"{line.name}\n{period}")
                    )
                    for line in self.line_ids
                ],
            }
        )
        return values

    def _prepare_milestone_invoice_values(self, milestone):
        """Invoice of one milestone: each contract line for the milestone's share of the
        contract's total, so the invoice carries the lines' own taxes."""
        self.ensure_one()
        if self.currency_id.is_zero(self.amount_total):
            raise UserError(
                self.env._(
                    "The contract %(contract)s has a total of zero: its milestones cannot be "
                    "invoiced.",
                    contract=self.display_name,
                )
            )
        ratio = milestone.amount / self.amount_total
        values = self._prepare_invoice_values(milestone.date)
        values["invoice_line_ids"] = [
            fields.Command.create(
                line._prepare_invoice_line_values(
                    ratio=ratio, name=f"{milestone.name}: {line.name}"
                )
            )
            for line in self.line_ids
        ]
        return values

    def _notify_invoicing_failure(self, error, today):
        """Log why the invoicing of this contract failed and ask its salesperson to look,
        once (an open warning activity is not duplicated)."""
        self.ensure_one()
        reason = error.args[0] if isinstance(error, UserError) and error.args else str(error)
        self.invoicing_failed_date = today
        self._message_log(
            body=Markup("<p>%s</p><p>%s</p>")
            % (self.env._("The invoices due could not be created:"), reason)
        )
        warning_type = self.env.ref("mail.mail_activity_data_warning", raise_if_not_found=False)
        if warning_type and not self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == warning_type
        ):
            self.activity_schedule(
                activity_type_id=warning_type.id,
                user_id=(self.user_id or self.env.user).id,
                summary=self.env._("Contract invoicing failed"),
                note=reason,
            )

    # ------------------------------------------------------------
    # STATES AND RENEWAL
    # ------------------------------------------------------------

    def _get_time_state(self, today):
        """The state a contract in force has on ``today`` given its end date."""
        self.ensure_one()
        if not self.date_end:
            return "active"
        if self.date_end < today:
            return "expired"
        if self.date_end <= today + timedelta(days=self.company_id.crm_contract_renewal_days):
            return "expiring"
        return "active"

    @api.model
    def _get_state_update_domains(self, today):
        """The contracts the daily state job acts on, per action:
        {"expire": domain, "expiring": domain, "remind": domain}. Windows depend on each
        company's renewal days."""
        running = [("state", "in", RUNNING_STATES)]
        window = expression.OR(
            [
                [
                    ("company_id", "=", company.id),
                    (
                        "date_end",
                        "<=",
                        today + timedelta(days=company.crm_contract_renewal_days),
                    ),
                ]
                for (company,) in self._read_group(
                    [*running, ("date_end", ">=", today)], ["company_id"]
                )
            ]
        )
        return {
            "expire": [*running, ("date_end", "<", today)],
            "expiring": [("state", "=", "active"), ("date_end", ">=", today), *window],
            "remind": [
                *running,
                ("date_end", ">=", today),
                ("renewal_activity_date", "=", False),
                ("next_contract_id", "=", False),
                *window,
            ],
        }

    @api.model
    def _cron_update_states(self, limit=CRON_BATCH_SIZE):
        """Daily: contracts past their end expire, contracts entering the renewal window
        become expiring and their salesperson gets one renewal activity.

        Safe to run twice: each step only takes contracts not done yet (the renewal activity
        is remembered per end date in ``renewal_activity_date``).
        """
        today = fields.Date.context_today(self)
        domains = self._get_state_update_domains(today)
        expired = self.search(domains["expire"], limit=limit, order="id")
        expired.write({"state": "expired"})
        expiring = self.search(domains["expiring"], limit=limit, order="id")
        expiring.write({"state": "expiring"})
        to_remind = self.search(domains["remind"], limit=limit, order="id")
        to_remind._schedule_renewal_activities(today)
        remaining = sum(self.search_count(domain) for domain in domains.values())
        self.env["ir.cron"]._notify_progress(
            done=len(expired) + len(expiring) + len(to_remind), remaining=remaining
        )
        return expired, expiring, to_remind

    def _schedule_renewal_activities(self, today):
        """One "renew" activity per contract for its salesperson, created in one go."""
        if not self:
            return self.env["mail.activity"]
        activity_type = self.env.ref("crm_extended.mail_activity_type_contract_renewal")
        model_id = self.env["ir.model"]._get_id(self._name)
        vals_list = []
        for contract in self:
            user = contract.user_id or self.env.user
            env = self.with_context(lang=user.lang or self.env.lang).env
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": contract.id,
                    "activity_type_id": activity_type.id,
                    "user_id": user.id,
                    "date_deadline": today,
                    "automated": True,
                    "summary": env._(
                        "Renew %(contract)s (%(customer)s), ending on %(date)s",
                        contract=contract.name,
                        customer=contract.partner_id.display_name,
                        date=format_date(env, contract.date_end),
                    ),
                }
            )
        activities = self.env["mail.activity"].sudo().create(vals_list)
        self.write({"renewal_activity_date": today})
        return activities

    # ------------------------------------------------------------
    # PAYMENTS
    # ------------------------------------------------------------

    def _refresh_payment_status(self):
        """Recompute the stored payment figures and status of these contracts now.

        The ORM recomputes them when their invoices change; the status also depends on the
        date (overdue, due soon, promise expiry), which the daily job refreshes with this.
        """
        for fname in PAYMENT_FIELDS:
            self.env.add_to_compute(self._fields[fname], self)
        self.flush_recordset(list(PAYMENT_FIELDS))

    @api.model
    def _cron_refresh_payment_status(self, limit=REFRESH_BATCH_SIZE):
        """Daily: refresh the time-dependent payment status of the contracts with an open
        amount, ``limit`` per batch, not yet refreshed today."""
        today = fields.Date.context_today(self)
        domain = [
            ("amount_residual", "!=", 0),
            "|",
            ("payment_refresh_date", "=", False),
            ("payment_refresh_date", "<", today),
        ]
        contracts = self.with_context(active_test=False).search(domain, limit=limit, order="id")
        contracts._refresh_payment_status()
        self.env["ir.cron"]._notify_progress(
            done=len(contracts),
            remaining=self.with_context(active_test=False).search_count(domain),
        )
        return contracts

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def _format_amount(self, amount):
        self.ensure_one()
        return format_amount(self.env, amount, self.currency_id)
