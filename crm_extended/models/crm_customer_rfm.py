import logging
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv.expression import AND, OR
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_index

from ..tools import scheduler_may_commit

_logger = logging.getLogger(__name__)

# memory for the refresh's aggregate and sorts (100k customers: a few tens of MB)
REFRESH_WORK_MEM = "128MB"

# The named segments, from the best customers to those already gone. Their keys are fixed:
# promotion plans' audience rules and the partner search use them.
SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential_loyalist", "Potential Loyalist"),
    ("new", "New Customers"),
    ("promising", "Promising"),
    ("need_attention", "Need Attention"),
    ("about_to_sleep", "About to Sleep"),
    ("at_risk", "At Risk"),
    ("cant_lose", "Can't Lose Them"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]

# segment of a customer from its recency score (r) and its frequency-monetary score (fm)
SEGMENT_CASE = SQL(
    """CASE
        WHEN r_score <= 2 AND fm_score <= 2 THEN
            CASE WHEN r_score = 1 AND fm_score = 1 THEN 'lost' ELSE 'hibernating' END
        WHEN r_score <= 2 AND fm_score <= 4 THEN 'at_risk'
        WHEN r_score <= 2 THEN 'cant_lose'
        WHEN r_score = 3 AND fm_score <= 2 THEN 'about_to_sleep'
        WHEN r_score = 3 AND fm_score = 3 THEN 'need_attention'
        WHEN r_score <= 4 AND fm_score >= 4 THEN 'loyal'
        WHEN r_score = 4 AND fm_score = 1 THEN 'promising'
        WHEN fm_score <= 3 AND fm_score >= 2 THEN 'potential_loyalist'
        WHEN fm_score = 1 THEN 'new'
        ELSE 'champions'
    END"""
)


class CrmCustomerRfm(models.Model):
    """Purchase trends of a customer (commercial partner) in a company: recency, frequency
    and monetary value of its purchases over the company's look-back window, their 1-5
    scores among the company's customers and the named segment they give.

    Rows are written only by :meth:`_refresh`, in SQL (daily job, or "Refresh" by a sales
    manager); users read them. A customer without any purchase in the window has no row.
    """

    _name = "crm.customer.rfm"
    _description = "Customer Purchase Trends"
    _order = "monetary desc, id"
    _rec_name = "partner_id"
    _check_company_auto = True
    # rows are written only by the refresh, in SQL: who and when add nothing to the
    # company's analysis date, and their foreign keys would slow down the refresh
    _log_access = False

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    # indexed by the unique (partner_id, company_id) constraint
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    # stored to group and filter the reports by salesperson; set by the refresh, kept up to
    # date by the ORM when the customer's salesperson changes
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson", store=True)
    analysis_date = fields.Date(related="company_id.crm_rfm_analysis_date")
    first_order_date = fields.Date(readonly=True)
    last_order_date = fields.Date(readonly=True)
    # not stored: it would change daily on every row; sort on last_order_date instead
    recency_days = fields.Integer(
        string="Recency (days)",
        compute="_compute_recency_days",
        search="_search_recency_days",
        help="Days from the last purchase to the analysis date.",
    )
    frequency = fields.Integer(
        readonly=True,
        help="Number of distinct confirmed orders (or posted invoices) in the look-back window.",
    )
    monetary = fields.Monetary(
        string="Revenue",
        readonly=True,
        help="Untaxed revenue in the look-back window, in the company currency, credit notes "
        "deducted.",
    )
    average_order_value = fields.Monetary(readonly=True, aggregator="avg")
    mean_interval_days = fields.Float(
        string="Days Between Orders",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
        help="Mean number of days between two orders; empty for a single order.",
    )
    next_order_date = fields.Date(
        string="Expected Next Order",
        readonly=True,
        help="Last order date plus the mean number of days between orders.",
    )
    top_category_ids = fields.Many2many(
        "product.category",
        relation="crm_customer_rfm_product_category_rel",
        column1="rfm_id",
        column2="category_id",
        string="Top Categories",
        readonly=True,
        help="The (at most three) product categories the customer spent most on.",
    )
    trend_percent = fields.Float(
        string="Trend (%)",
        readonly=True,
        digits=(16, 1),
        aggregator="avg",
        help="Revenue of the last trend period compared to the period before it; empty when "
        "the period before had no revenue.",
    )
    revenue_last_period = fields.Monetary(
        string="Revenue of the Last Period",
        readonly=True,
        help="Revenue of the last trend period (Sales settings), credit notes deducted.",
    )
    revenue_previous_period = fields.Monetary(
        string="Revenue of the Period Before",
        readonly=True,
        help="Revenue of the trend period before the last one, credit notes deducted.",
    )
    has_trend = fields.Boolean(
        readonly=True, help="The period before the last one had revenue: the trend is known."
    )
    r_score = fields.Integer(readonly=True, aggregator="avg")
    f_score = fields.Integer(readonly=True, aggregator="avg")
    m_score = fields.Integer(readonly=True, aggregator="avg")
    fm_score = fields.Integer(readonly=True, aggregator="avg")
    segment = fields.Selection(SEGMENTS, readonly=True)
    snapshot_count = fields.Integer(compute="_compute_snapshot_count")

    _sql_constraints = [
        (
            "partner_company_uniq",
            "UNIQUE(partner_id, company_id)",
            "A customer has one line of purchase trends per company.",
        ),
    ]

    def init(self):
        # the refresh rewrites the rows whose figures moved: room in the pages keeps the
        # updates HOT
        self.env.cr.execute(SQL("ALTER TABLE crm_customer_rfm SET (fillfactor = 70)"))
        # installed or upgraded: the derived figures or the segment rules may have changed,
        # which the daily refresh does not look for (it compares what they follow from);
        # the next refresh checks every row (the column is new on install: nothing to check)
        if column_exists(self.env.cr, "res_company", "crm_rfm_full_refresh"):
            self.env.cr.execute(
                SQL(
                    "UPDATE res_company SET crm_rfm_full_refresh = TRUE"
                    " WHERE crm_rfm_full_refresh IS NOT TRUE"
                )
            )
        # the refresh scans a company's confirmed orders / posted customer documents of a
        # date window
        create_index(
            self.env.cr,
            "sale_order_crm_rfm_company_date_idx",
            "sale_order",
            ["company_id", "date_order"],
            where="state = 'sale'",
        )
        # the top categories of the customers whose purchases changed read their orders'
        # lines from this index alone (index-only scan), not from the table
        self.env.cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS sale_order_line_crm_rfm_order_idx
                ON sale_order_line (order_id) INCLUDE (product_id, price_subtotal)
             WHERE display_type IS NULL
            """
            )
        )
        create_index(
            self.env.cr,
            "account_move_crm_rfm_company_date_idx",
            "account_move",
            ["company_id", "invoice_date"],
            where="move_type IN ('out_invoice', 'out_refund') AND state = 'posted'",
        )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("last_order_date", "company_id.crm_rfm_analysis_date")
    def _compute_recency_days(self):
        for rfm in self:
            analysis_date = rfm.company_id.crm_rfm_analysis_date
            rfm.recency_days = (
                (analysis_date - rfm.last_order_date).days
                if analysis_date and rfm.last_order_date
                else 0
            )

    def _search_recency_days(self, operator, value):
        """Rows by recency: per company, a condition on the last order date (the recency
        counts from the company's analysis date)."""
        flipped = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if operator not in flipped or not isinstance(value, int) or isinstance(value, bool):
            raise UserError(self.env._("Search the recency with a number of days."))
        companies = self.env["res.company"].sudo().search([("crm_rfm_analysis_date", "!=", False)])
        return OR(
            [
                AND(
                    [
                        [("company_id", "=", company.id)],
                        [
                            (
                                "last_order_date",
                                flipped[operator],
                                company.crm_rfm_analysis_date - timedelta(days=value),
                            )
                        ],
                    ]
                )
                for company in companies
            ]
        )

    def _compute_snapshot_count(self):
        counts = {
            (partner.id, company.id): count
            for partner, company, count in self.env["crm.customer.rfm.snapshot"]._read_group(
                [
                    ("partner_id", "in", self.partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                ],
                ["partner_id", "company_id"],
                ["__count"],
            )
        }
        for rfm in self:
            rfm.snapshot_count = counts.get((rfm.partner_id.id, rfm.company_id.id), 0)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_refresh(self):
        """Refresh the purchase trends of the user's selected companies now (sales
        managers only)."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales administrators can refresh the purchase trends.")
            )
        # a manager asking for it also gets the top categories of every customer rebuilt
        count = self.sudo()._refresh(self.env.companies, full=True)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Purchase trends refreshed: %(count)s customers.", count=count
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_open_snapshots(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_customer_rfm_snapshot_action"
        )
        action["domain"] = [
            ("partner_id", "=", self.partner_id.id),
            ("company_id", "=", self.company_id.id),
        ]
        action["context"] = {}
        return action

    # ------------------------------------------------------------
    # THE REFRESH
    # ------------------------------------------------------------

    @api.model
    def _cron_refresh(self):
        """Daily job: refresh every company's purchase trends."""
        return self._refresh()

    @api.model
    def _refresh(self, companies=None, analysis_date=None, full=False):
        """Recompute the purchase trends of ``companies`` (all active companies when None)
        at ``analysis_date`` (today by default), set-based, a fixed number of queries per
        company whatever its number of customers.

        Every customer's figures, scores and segment are recomputed from all the purchases
        of the window, but only what changed is written: the rows whose values moved (new
        customers inserted, those without purchases in the window any more deleted), the
        top categories of the customers whose purchases changed (of all customers with
        ``full``, or when the company's settings changed since the last refresh), and a
        snapshot row (:class:`crm.customer.rfm.snapshot`) per customer who appeared,
        changed segment or scores, or left. The analysis date is stored once, on the
        company. Running it twice writes nothing the second time. Under the scheduler each
        company is committed on its own.

        :param full: recompute the top categories of every customer (the "Refresh" button
            does; needed after product categories were changed)
        :return: number of rows (customers) of the companies
        """
        if companies is None:
            companies = self.env["res.company"].sudo().search([("active", "=", True)])
        auto_commit = scheduler_may_commit(self.env)
        for model in ("sale.order", "sale.order.line", "account.move", "account.move.line"):
            self.env[model].flush_model()
        self.env["product.product"].flush_model(["product_tmpl_id"])
        self.env["product.template"].flush_model(["categ_id"])
        self.env["res.company"].flush_model()
        self.env["res.partner"].flush_model(["user_id", "tz"])
        self.flush_model()
        self.env["crm.customer.rfm.snapshot"].flush_model()
        total = 0
        for done, company in enumerate(companies.sudo(), start=1):
            # "today" in the company's time zone, like the days orders are counted in (the
            # job runs as a user of any time zone, or none)
            company_date = analysis_date or fields.Date.context_today(
                self.with_context(tz=self._get_refresh_tz(company))
            )
            total += self._refresh_company(company, company_date, full=full)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(companies) - done)
            if auto_commit:
                # a company's trends are complete on their own: a timeout on a later company
                # must not throw them away (scheduler only, see scheduler_may_commit)
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self.invalidate_model()
        self.env["crm.customer.rfm.snapshot"].invalidate_model()
        self.env["res.company"].invalidate_model(["crm_rfm_analysis_date", "crm_rfm_full_refresh"])
        self.env["res.partner"].invalidate_model(["rfm_id", "rfm_segment"])
        return total

    @api.model
    def _get_refresh_window(self, company, analysis_date):
        """The dates a refresh of ``company`` looks at: ``(window_start, scan_start,
        trend_days)``. Purchases of [window_start, analysis_date] make R, F and M; those of
        [scan_start, analysis_date] (scan_start ≤ window_start) make the trend, which
        compares the last ``trend_days`` to the ``trend_days`` before."""
        trend_days = company.crm_rfm_trend_days or 90
        window_start = analysis_date - relativedelta(months=company.crm_rfm_lookback_months or 24)
        scan_start = min(window_start, analysis_date - timedelta(days=2 * trend_days - 1))
        return window_start, scan_start, trend_days

    @api.model
    def _get_refresh_tz(self, company):
        """Timezone of the days orders are dated in: the company's address's (orders are
        stored in UTC); invoices carry their date already."""
        if company.crm_rfm_source == "invoices":
            return "UTC"
        return company.partner_id.tz or "UTC"

    @api.model
    def _get_refresh_bounds(self, company, analysis_date):
        """The first instants of the window, of the scanned days and of both trend
        periods, and the instant after the analysis date: UTC timestamps of the starts of
        those days in :meth:`_get_refresh_tz`."""
        window_start, scan_start, trend_days = self._get_refresh_window(company, analysis_date)
        tz = pytz.timezone(self._get_refresh_tz(company))

        def start_of(day):
            local = tz.localize(datetime.combine(day, time.min))
            return local.astimezone(pytz.utc).replace(tzinfo=None)

        return {
            "window_from": start_of(window_start),
            "scan_from": start_of(scan_start),
            "trend_from": start_of(analysis_date - timedelta(days=trend_days - 1)),
            "previous_from": start_of(analysis_date - timedelta(days=2 * trend_days - 1)),
            "end": start_of(analysis_date + timedelta(days=1)),
        }

    @api.model
    def _get_events_sql(self, company, analysis_date):
        """SQL of the purchases of ``company``'s customers: rows ``(partner_id, event_at,
        order_at, units, in_window)``, one per order / invoice or credit note (negative
        units), ``units`` the untaxed amount in the company currency as an integer number of
        its smallest unit (summing integers is much faster than summing numerics; the
        amounts are rounded to the currency anyway), ``event_at`` a UTC timestamp (for
        a date: its start in :meth:`_get_refresh_tz`), ``order_at`` the same for the orders
        / invoices of the window and NULL for the others (what R and F count), ``in_window``
        whether the amount counts in M: a constant TRUE when the whole scan is the window
        (see :meth:`_window_is_scan`).

        - ``orders`` source: confirmed orders, revenue = untaxed amount converted at the
          order's rate and rounded to the company currency; dated on their order date in the
          timezone of the company's address (UTC when none); minus posted credit notes of
          their invoices (product lines linked to the orders' lines), dated on their
          invoice date. A credit note counts in the window only if both it and its order do.
        - ``invoices`` source: posted customer invoices and credit notes on their invoice
          date, their untaxed signed amount.
        """
        window_start, scan_start, __ = self._get_refresh_window(company, analysis_date)
        bounds = self._get_refresh_bounds(company, analysis_date)
        whole_scan = self._window_is_scan(company, analysis_date)
        if company.crm_rfm_source == "invoices":
            return SQL(
                """
                SELECT am.commercial_partner_id AS partner_id,
                       am.invoice_date::timestamp AS event_at,
                       CASE WHEN am.move_type = 'out_invoice' AND %(in_window)s
                            THEN am.invoice_date::timestamp
                       END AS order_at,
                       (am.amount_untaxed_signed * %(factor)s)::bigint AS units,
                       %(in_window)s AS in_window
                  FROM account_move am
                 WHERE am.company_id = %(company_id)s
                   AND am.move_type IN ('out_invoice', 'out_refund')
                   AND am.state = 'posted'
                   AND am.invoice_date BETWEEN %(scan_start)s AND %(analysis_date)s
                   AND am.commercial_partner_id IS NOT NULL
                """,
                company_id=company.id,
                scan_start=scan_start,
                analysis_date=analysis_date,
                factor=10**company.currency_id.decimal_places,
                in_window=SQL("TRUE") if whole_scan else SQL("am.invoice_date >= %s", window_start),
            )
        return SQL(
            """
            SELECT so.commercial_partner_id AS partner_id,
                   so.date_order AS event_at,
                   %(order_at)s AS order_at,
                   -- rounded to the unit (half away from zero, like ROUND())
                   (CASE WHEN so.currency_rate = 1 THEN so.amount_untaxed
                         ELSE so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1)
                    END * %(factor)s)::bigint AS units,
                   %(order_in_window)s AS in_window
              FROM sale_order so
             WHERE so.company_id = %(company_id)s
               AND so.state = 'sale'
               AND so.date_order >= %(scan_from)s
               AND so.date_order < %(end)s
               AND so.commercial_partner_id IS NOT NULL
            UNION ALL
            SELECT so.commercial_partner_id,
                   am.invoice_date::timestamp AT TIME ZONE %(tz)s AT TIME ZONE 'UTC',
                   NULL,
                   (-SUM(aml.balance) * %(factor)s)::bigint,
                   %(refund_in_window)s
              FROM account_move am
              JOIN account_move_line aml
                ON aml.move_id = am.id
               AND aml.display_type = 'product'
              JOIN LATERAL (
                    SELECT MIN(sol.order_id) AS order_id
                      FROM sale_order_line_invoice_rel rel
                      JOIN sale_order_line sol ON sol.id = rel.order_line_id
                     WHERE rel.invoice_line_id = aml.id
                   ) link ON TRUE
              JOIN sale_order so ON so.id = link.order_id
             WHERE am.company_id = %(company_id)s
               AND am.move_type = 'out_refund'
               AND am.state = 'posted'
               AND am.invoice_date BETWEEN %(scan_start)s AND %(analysis_date)s
               AND so.company_id = %(company_id)s
               AND so.state = 'sale'
               AND so.date_order >= %(scan_from)s
               AND so.date_order < %(end)s
               AND so.commercial_partner_id IS NOT NULL
             GROUP BY so.commercial_partner_id, am.id, so.date_order
            """,
            tz=self._get_refresh_tz(company),
            factor=10**company.currency_id.decimal_places,
            company_id=company.id,
            scan_start=scan_start,
            analysis_date=analysis_date,
            order_at=SQL("so.date_order")
            if whole_scan
            else SQL("CASE WHEN so.date_order >= %s THEN so.date_order END", bounds["window_from"]),
            order_in_window=SQL("TRUE")
            if whole_scan
            else SQL("so.date_order >= %s", bounds["window_from"]),
            refund_in_window=SQL("TRUE")
            if whole_scan
            else SQL(
                "am.invoice_date >= %s AND so.date_order >= %s",
                window_start,
                bounds["window_from"],
            ),
            **bounds,
        )

    @api.model
    def _window_is_scan(self, company, analysis_date):
        """Whether the refresh scans only the window (the look-back covers both trend
        periods, the usual case): every purchase scanned then counts in R, F and M."""
        window_start, scan_start, __ = self._get_refresh_window(company, analysis_date)
        return scan_start == window_start

    @api.model
    def _get_category_lines_sql(self, company, analysis_date, partner_ids=None):
        """SQL of ``(partner_id, category_id, amount)``: the revenue of the window's
        purchases per customer and product category, as :meth:`_get_events_sql` counts it
        (each line rounded to the company currency, in its smallest unit: an integer); of
        the customers ``partner_ids`` only when given (a list of ids)."""
        window_start = self._get_refresh_window(company, analysis_date)[0]
        if company.crm_rfm_source == "invoices":
            return SQL(
                """
                SELECT am.commercial_partner_id AS partner_id,
                       pt.categ_id AS category_id,
                       -SUM((aml.balance * %(factor)s)::bigint) AS amount
                  FROM account_move am
                  JOIN account_move_line aml
                    ON aml.move_id = am.id
                   AND aml.display_type = 'product'
                  JOIN product_product pp ON pp.id = aml.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE am.company_id = %(company_id)s
                   AND am.move_type IN ('out_invoice', 'out_refund')
                   AND am.state = 'posted'
                   AND am.invoice_date BETWEEN %(window_start)s AND %(analysis_date)s
                   AND am.commercial_partner_id IS NOT NULL
                   AND %(partners)s
                 GROUP BY am.commercial_partner_id, pt.categ_id
                """,
                company_id=company.id,
                window_start=window_start,
                analysis_date=analysis_date,
                factor=10**company.currency_id.decimal_places,
                partners=SQL("TRUE")
                if partner_ids is None
                else SQL("am.commercial_partner_id = ANY(%s)", list(partner_ids)),
            )
        bounds = self._get_refresh_bounds(company, analysis_date)
        return SQL(
            """
            SELECT so.commercial_partner_id AS partner_id,
                   pt.categ_id AS category_id,
                   SUM((CASE WHEN so.currency_rate = 1 THEN sol.price_subtotal
                             ELSE sol.price_subtotal / COALESCE(NULLIF(so.currency_rate, 0), 1)
                        END * %(factor)s)::bigint) AS amount
              FROM sale_order so
              JOIN sale_order_line sol ON sol.order_id = so.id AND sol.display_type IS NULL
              JOIN product_product pp ON pp.id = sol.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE so.company_id = %(company_id)s
               AND so.state = 'sale'
               AND so.date_order >= %(window_from)s
               AND so.date_order < %(end)s
               AND so.commercial_partner_id IS NOT NULL
               AND %(partners)s
             GROUP BY so.commercial_partner_id, pt.categ_id
            """,
            company_id=company.id,
            window_from=bounds["window_from"],
            end=bounds["end"],
            factor=10**company.currency_id.decimal_places,
            partners=SQL("TRUE")
            if partner_ids is None
            else SQL("so.commercial_partner_id = ANY(%s)", list(partner_ids)),
        )

    @api.model
    def _quintile_score_sql(self, column, values):
        """SQL of the 1-5 score of ``agg.<column>`` among the ``n`` values of the customers,
        given the boundaries ``quintiles.<values>_<k>`` (k = 1..4, the m-th smallest value
        with ``m = ceil(k * (n - 1) / 5)``): the same as
        ``LEAST(5, 1 + FLOOR(PERCENT_RANK() OVER (ORDER BY column) * 5))``, without sorting
        the rows.

        The percent rank of a value is ``less / (n - 1)``, ``less`` the number of values
        smaller than it (0 when n = 1). The score exceeds ``k`` when
        ``5 * less >= k * (n - 1)``, i.e. ``less >= m``, i.e. the value is greater than the
        m-th smallest value: the score is 1 plus the number of the four boundaries the value
        is above. Exact: the comparisons are of integers and of the values themselves, and
        at a boundary the floating point percent rank is exactly k / 5, whose product by 5 is
        exactly k.
        """
        above = SQL(" + ").join(
            SQL(
                "(agg.%s > quintiles.%s)::int",
                SQL.identifier(column),
                SQL.identifier(f"{values}_{k}"),
            )
            for k in range(1, 5)
        )
        return SQL("(CASE WHEN quintiles.n = 1 THEN 1 ELSE 1 + %s END)", above)

    @api.model
    def _set_refresh_settings(self):
        """The session settings of the refresh, until the end of the transaction (or of
        the current savepoint)."""
        # the customers' aggregate and its sorts stay in memory instead of spilling to disk
        self.env.cr.execute(SQL("SET LOCAL work_mem = %s", REFRESH_WORK_MEM))
        # compiling the plans of these one-off queries costs more than it saves
        self.env.cr.execute(SQL("SET LOCAL jit = off"))

    @api.model
    def _refresh_company(self, company, analysis_date, full=False):
        """Refresh the rows of one company (see :meth:`_refresh`); returns their number.

        One statement recomputes every customer's purchases and scores and compares them
        with the rows: only rows that differ are upserted (their derived figures and
        segment computed then), rows of customers gone are deleted, and the changes of
        segment or scores are logged as snapshots. A second one rebuilds the top categories
        of the customers whose purchases changed (all with ``full``).
        """
        cr = self.env.cr
        bounds = self._get_refresh_bounds(company, analysis_date)
        full = full or company.crm_rfm_full_refresh
        self._set_refresh_settings()
        # what the purchases and the company's other customers decide; the other columns
        # follow from them
        base_columns = (
            "first_order_date",
            "last_order_date",
            "frequency",
            "monetary",
            "revenue_last_period",
            "revenue_previous_period",
            "r_score",
            "f_score",
            "m_score",
        )
        derived_columns = (
            "average_order_value",
            "mean_interval_days",
            "next_order_date",
            "trend_percent",
            "has_trend",
            "fm_score",
            "segment",
        )
        columns = base_columns + derived_columns

        def column_list(prefix, names):
            return SQL(", ").join(
                SQL("%s.%s", SQL.identifier(prefix), SQL.identifier(name)) for name in names
            )

        cr.execute(
            SQL(
                """
            WITH events AS (%(events)s),
            agg AS MATERIALIZED (
                SELECT partner_id,
                       (MIN(order_at) AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date
                           AS first_order_date,
                       (MAX(order_at) AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date
                           AS last_order_date,
                       COUNT(order_at) AS frequency,
                       COALESCE(SUM(units) %(in_window)s, 0)::bigint AS monetary_units,
                       COALESCE(SUM(units) FILTER (
                           WHERE event_at >= %(trend_from)s), 0) * %(unit)s
                           AS revenue_last_period,
                       COALESCE(SUM(units) FILTER (
                           WHERE event_at >= %(previous_from)s
                             AND event_at < %(trend_from)s), 0) * %(unit)s
                           AS revenue_previous_period
                  FROM events
                 GROUP BY partner_id
                HAVING COUNT(order_at) > 0
            ),
            sorted_values AS (
                -- each score's values in one sort of the values alone (sorting the whole
                -- rows three times for PERCENT_RANK() costs more)
                SELECT COUNT(*)::int AS n,
                       ARRAY_AGG(last_order_date ORDER BY last_order_date) AS dates,
                       ARRAY_AGG(frequency ORDER BY frequency) AS frequencies,
                       ARRAY_AGG(monetary_units ORDER BY monetary_units) AS amounts
                  FROM agg
            ),
            quintiles AS MATERIALIZED (
                -- their four boundaries: see _quintile_score_sql
                SELECT n, %(boundaries)s FROM sorted_values
            ),
            computed AS (
                -- the most recent last order scores best: the same ranks as the recency
                SELECT agg.partner_id, agg.first_order_date, agg.last_order_date,
                       agg.frequency, agg.monetary_units * %(unit)s AS monetary,
                       agg.revenue_last_period, agg.revenue_previous_period,
                       %(r_score)s AS r_score,
                       %(f_score)s AS f_score,
                       %(m_score)s AS m_score
                  FROM agg, quintiles
            ),
            diff AS MATERIALIZED (
                -- computed figures against the rows as they were before this statement
                -- (its writes are not seen): new, changed and gone customers; every row
                -- when the derived figures are to be checked too
                SELECT computed.*,
                       rfm.id AS rfm_id,
                       %(old_columns)s
                  FROM computed
                  FULL JOIN (
                        SELECT * FROM crm_customer_rfm WHERE company_id = %(company_id)s
                       ) rfm
                    ON rfm.partner_id = computed.partner_id
                 WHERE %(differs)s
            ),
            changed AS MATERIALIZED (
                SELECT *,
                       (old_first_order_date, old_last_order_date, old_frequency,
                        old_monetary)
                       IS DISTINCT FROM
                       (first_order_date, last_order_date, frequency, monetary)
                       AS purchases_changed
                  FROM (
                        SELECT *, %(segment)s AS segment
                          FROM (
                                SELECT *,
                                       ROUND(monetary / frequency, %(digits)s)
                                           AS average_order_value,
                                       last_order_date + ROUND(mean_interval_days)::int
                                           AS next_order_date,
                                       CASE WHEN revenue_previous_period > 0 THEN
                                           (revenue_last_period - revenue_previous_period)
                                           * 100.0 / revenue_previous_period
                                       END AS trend_percent,
                                       revenue_previous_period > 0 AS has_trend,
                                       (f_score + m_score + 1) / 2 AS fm_score  -- rounded up
                                  FROM (
                                        SELECT *,
                                               CASE WHEN frequency > 1 THEN
                                                   (last_order_date - first_order_date)::numeric
                                                   / (frequency - 1)
                                               END AS mean_interval_days
                                          FROM diff
                                         WHERE partner_id IS NOT NULL
                                       ) intervals
                               ) figures
                       ) segmented
                 WHERE rfm_id IS NULL
                    OR (%(new_values)s) IS DISTINCT FROM (%(old_values)s)
            ),
            updated AS (
                -- the rows that were there, by id: no conflict to check
                UPDATE crm_customer_rfm rfm
                   SET %(set_changed)s
                  FROM changed
                 WHERE rfm.id = changed.rfm_id
                   -- a few rows a day: looked up by id (the planner cannot tell how few
                   -- rows differ and would read the whole table)
                   AND rfm.id = ANY(ARRAY(SELECT rfm_id FROM changed))
                RETURNING rfm.partner_id
            ),
            inserted AS (
                -- new customers (a refresh running at the same time may have inserted
                -- them)
                INSERT INTO crm_customer_rfm (partner_id, company_id, %(columns)s, user_id)
                SELECT partner_id, %(company_id)s, %(columns)s,
                       (SELECT user_id FROM res_partner WHERE id = changed.partner_id)
                  FROM changed
                 WHERE rfm_id IS NULL
                ON CONFLICT (partner_id, company_id) DO UPDATE SET %(set_excluded)s
                RETURNING partner_id
            ),
            gone AS (
                DELETE FROM crm_customer_rfm rfm
                 USING diff
                 WHERE diff.partner_id IS NULL
                   AND rfm.id = diff.rfm_id
                RETURNING rfm.partner_id, rfm.segment
            ),
            logged AS (
                INSERT INTO crm_customer_rfm_snapshot (
                    refresh_date, partner_id, company_id, previous_segment, segment,
                    r_score, f_score, m_score, fm_score, frequency, monetary
                )
                SELECT %(analysis_date)s, partner_id, %(company_id)s, old_segment,
                       segment, r_score, f_score, m_score, fm_score, frequency, monetary
                  FROM changed
                 WHERE (old_segment, old_r_score, old_f_score, old_m_score, old_fm_score)
                       IS DISTINCT FROM (segment, r_score, f_score, m_score, fm_score)
                 UNION ALL
                SELECT %(analysis_date)s, partner_id, %(company_id)s, segment, 'gone',
                       NULL, NULL, NULL, NULL, NULL, NULL
                  FROM gone
                -- changed again the same day: the day's row shows the latest values
                ON CONFLICT (partner_id, company_id, refresh_date) DO UPDATE SET
                    segment = EXCLUDED.segment,
                    r_score = EXCLUDED.r_score,
                    f_score = EXCLUDED.f_score,
                    m_score = EXCLUDED.m_score,
                    fm_score = EXCLUDED.fm_score,
                    frequency = EXCLUDED.frequency,
                    monetary = EXCLUDED.monetary
            )
            SELECT (SELECT COUNT(*) FROM agg),
                   (SELECT COUNT(*) FROM updated),
                   (SELECT COUNT(*) FROM inserted),
                   (SELECT COUNT(*) FROM gone),
                   ARRAY(SELECT partner_id FROM changed WHERE purchases_changed)
            """,
                events=self._get_events_sql(company, analysis_date),
                # filtering every row costs: only when some rows are outside the window
                in_window=SQL("")
                if self._window_is_scan(company, analysis_date)
                else SQL("FILTER (WHERE in_window)"),
                tz=self._get_refresh_tz(company),
                trend_from=bounds["trend_from"],
                previous_from=bounds["previous_from"],
                digits=company.currency_id.decimal_places,
                segment=SEGMENT_CASE,
                boundaries=SQL(", ").join(
                    SQL(
                        "%s[((n - 1) * %s + 4) / 5] AS %s",
                        SQL.identifier(values),
                        k,
                        SQL.identifier(f"{values}_{k}"),
                    )
                    for values in ("dates", "frequencies", "amounts")
                    for k in range(1, 5)
                ),
                r_score=self._quintile_score_sql("last_order_date", "dates"),
                f_score=self._quintile_score_sql("frequency", "frequencies"),
                m_score=self._quintile_score_sql("monetary_units", "amounts"),
                # the amounts' smallest unit: the product has the currency's decimals
                unit=Decimal(1).scaleb(-company.currency_id.decimal_places),
                company_id=company.id,
                old_columns=SQL(", ").join(
                    SQL("rfm.%s AS %s", SQL.identifier(name), SQL.identifier(f"old_{name}"))
                    for name in columns
                ),
                # the daily refresh compares what decides the rest; with ``full`` the
                # derived figures are checked too (a currency's rounding or the segment
                # rules may have changed)
                differs=SQL("TRUE")
                if full
                else SQL(
                    "rfm.id IS NULL OR computed.partner_id IS NULL OR (%s) IS DISTINCT FROM (%s)",
                    column_list("rfm", base_columns),
                    column_list("computed", base_columns),
                ),
                new_values=SQL(", ").join(SQL.identifier(name) for name in columns),
                old_values=SQL(", ").join(SQL.identifier(f"old_{name}") for name in columns),
                columns=SQL(", ").join(SQL.identifier(name) for name in columns),
                set_changed=SQL(", ").join(
                    SQL("%s = changed.%s", SQL.identifier(name), SQL.identifier(name))
                    for name in columns
                ),
                set_excluded=SQL(", ").join(
                    SQL("%s = EXCLUDED.%s", SQL.identifier(name), SQL.identifier(name))
                    for name in columns
                ),
                analysis_date=analysis_date,
            )
        )
        count, updated, inserted, deleted, partner_ids = cr.fetchone()
        written = updated + inserted
        if full or len(partner_ids) > count / 5:
            # scanning the whole window beats looking up most customers one by one
            self._refresh_top_categories(company, analysis_date)
        elif partner_ids:
            self._refresh_top_categories(company, analysis_date, partner_ids)
        cr.execute(
            SQL(
                """
            UPDATE res_company
               SET crm_rfm_analysis_date = %(analysis_date)s, crm_rfm_full_refresh = FALSE
             WHERE id = %(company_id)s
               AND (crm_rfm_analysis_date IS DISTINCT FROM %(analysis_date)s
                    OR crm_rfm_full_refresh)
            """,
                analysis_date=analysis_date,
                company_id=company.id,
            )
        )
        _logger.info(
            "Purchase trends of company %s refreshed: %s customers, %s rows written, "
            "%s deleted, top categories of %s",
            company.id,
            count,
            written,
            deleted,
            "all" if full else len(partner_ids),
        )
        return count

    @api.model
    def _refresh_top_categories(self, company, analysis_date, partner_ids=None):
        """Rebuild the top categories (the three the customer spent most on) of
        ``company``'s rows, of the customers ``partner_ids`` only when given; only the
        changes are written (rows of deleted customers went with them)."""
        partners = (
            SQL("TRUE")
            if partner_ids is None
            else SQL("rfm.partner_id = ANY(%s)", list(partner_ids))
        )
        self.env.cr.execute(
            SQL(
                """
            WITH ranked AS (
                SELECT rfm_id, category_id
                  FROM (
                        SELECT rfm.id AS rfm_id,
                               lines.category_id,
                               ROW_NUMBER() OVER (
                                   PARTITION BY rfm.id
                                   ORDER BY lines.amount DESC, lines.category_id
                               ) AS position
                          FROM (%(lines)s) lines
                          JOIN crm_customer_rfm rfm
                            ON rfm.partner_id = lines.partner_id
                           AND rfm.company_id = %(company_id)s
                         WHERE lines.amount > 0
                           -- repeated on the rows: the planner then looks them up by
                           -- partner instead of hashing all of them
                           AND %(partners)s
                       ) positions
                 WHERE position <= 3
            ),
            current AS MATERIALIZED (
                SELECT rel.rfm_id, rel.category_id
                  FROM crm_customer_rfm_product_category_rel rel
                 WHERE %(rows)s
            ),
            -- the differences as set operations (hashed): with NOT EXISTS, the planner,
            -- trusting the statistics of an empty link table (a first refresh), would look
            -- for each new link by reading the table this statement is filling
            removed AS (
                DELETE FROM crm_customer_rfm_product_category_rel rel
                 USING (
                        SELECT rfm_id, category_id FROM current
                        EXCEPT
                        SELECT rfm_id, category_id FROM ranked
                       ) stale
                 WHERE rel.rfm_id = stale.rfm_id
                   AND rel.category_id = stale.category_id
            )
            INSERT INTO crm_customer_rfm_product_category_rel (rfm_id, category_id)
            SELECT rfm_id, category_id FROM ranked
            EXCEPT
            SELECT rfm_id, category_id FROM current
            """,
                lines=self._get_category_lines_sql(company, analysis_date, partner_ids),
                company_id=company.id,
                partners=partners,
                rows=SQL(
                    "rel.rfm_id IN (SELECT id FROM crm_customer_rfm WHERE company_id = %s)",
                    company.id,
                )
                if partner_ids is None
                # a few rows: their categories looked up by row (the planner would read
                # them all); not for all rows, a scan of an index for each of 100,000
                # values costs minutes
                else SQL(
                    """rel.rfm_id = ANY(ARRAY(
                        SELECT rfm.id
                          FROM crm_customer_rfm rfm
                         WHERE rfm.company_id = %s
                           AND %s
                       ))""",
                    company.id,
                    partners,
                ),
            )
        )
