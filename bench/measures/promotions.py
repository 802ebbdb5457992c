"""Purchase trends and promotion plans: 100,000 customers, 1,000,000 order lines in 24 months.

The issue's promises: the purchase trends' full refresh is set-based SQL, within 3x of the time
PostgreSQL needs for the bare aggregate query; a plan's audience preview and the launch of a
50,000-member plan are measured.

- ``rfm_bare_aggregate``: the bare ``GROUP BY`` PostgreSQL cannot avoid for the trends: per
  commercial partner, count, sum, first and last date of the confirmed orders of the look-back
  window. The rows are totalled in the database rather than sent to Python; every aggregate
  is totalled, otherwise PostgreSQL would skip computing the unused ones. It runs with the
  settings the refresh gives itself (``work_mem``, no JIT): with the default 4 MB of
  ``work_mem`` the aggregate spills to disk and takes about a third longer, which would
  flatter the ratio.
- ``rfm_bare_lines``: the bare ``GROUP BY`` customer and product category of the revenue of the
  order lines of the same orders (what the top categories need), the same way.
- ``rfm_refresh_daily``: the next daily ``crm.customer.rfm._refresh()`` of the company (every
  customer's figures, scores and segment recomputed from all the orders of the window; rows,
  the top categories of the customers whose purchases changed and change log written where
  they changed): the day after the company's last refresh (the generator's, committed), with
  300 new orders of that day, rolled back after each run. Its ratio to the bare aggregate
  (over the same window) is printed on stderr (the promise: at most 3).
- ``rfm_refresh_full``: the same day's refresh as the "Refresh" button runs it (``full``):
  every column of every row compared, every customer's top categories recomputed from the
  lines; its ratio to both bare aggregates (orders and lines) printed.
- ``rfm_refresh_first``: the company's first refresh (its rows deleted before each run):
  every row, top category and change-log row written; its ratio to both printed too.
- ``audience_preview``: ``action_preview()`` of a plan whose rules select about 50,000 customers
  (the 54% who bought last), exclusions counted.
- ``plan_launch_50k``: ``action_launch()`` of that plan, approved, with a personal coupon per
  target member and the call channel (planned calls spread over the salespeople's capacity),
  timed once and rolled back.

The plans and the coupon program are created by the measurements, in their own transaction,
rolled back with it. When the database has no purchase trends yet (generated before them), they
are refreshed first, outside the timing.
"""

import logging
import time
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from measurements import Result, measurement

from odoo import fields
from odoo.tools import SQL

# the audience of the measured plan: the customers whose last order is among the most recent
# AUDIENCE_SHARE of them (54% of the 92,000 customers who bought in 24 months: 50,000)
AUDIENCE_SHARE = 0.54
HOLDOUT_PERCENT = 10
# the most a plan allows (one call every 15 minutes from 9:00 to 18:00)
CALL_CAPACITY_PER_DAY = 36
REFRESH_RATIO_PROMISE = 3
# new orders of the day in the daily refresh (one per customer)
DAILY_ORDERS = 300
_timings = {}

# the bench runs Odoo with --log-level=warn: these lines (ratio to the promise, untimed
# preparation) are meant to be read
_logger = logging.getLogger(__name__)
_logger.setLevel(logging.INFO)


def _company(bench):
    return bench.env.company


def _daily_date(bench):
    """Analysis date of the measured daily refresh: the day after the company's last refresh
    (the generator's), today when there was none."""
    company = _company(bench)
    last = company.crm_rfm_analysis_date
    return last + timedelta(days=1) if last else fields.Date.context_today(company)


def _window(bench):
    """(first, last) day of the company's look-back window, as the daily refresh uses it."""
    company = _company(bench)
    months = company.crm_rfm_lookback_months or 24
    day = _daily_date(bench)
    return day - relativedelta(months=months), day


def _bare_aggregate_query(bench):
    first, last = _window(bench)
    return SQL(
        """
        SELECT count(*), sum(orders), sum(revenue), min(first_order), max(last_order)
          FROM (
            SELECT commercial_partner_id, count(*) AS orders,
                   sum(amount_untaxed / NULLIF(currency_rate, 0)) AS revenue,
                   min(date_order) AS first_order, max(date_order) AS last_order
              FROM sale_order
             WHERE state = 'sale' AND company_id = %(company)s
               AND date_order >= %(first)s AND date_order < %(after)s
             GROUP BY commercial_partner_id
        ) AS customers
        """,
        company=_company(bench).id,
        first=first,
        after=last + timedelta(days=1),
    )


def _bare_lines_query(bench):
    first, last = _window(bench)
    return SQL(
        """
        SELECT count(*), sum(revenue)
          FROM (
            SELECT so.commercial_partner_id, pt.categ_id,
                   sum(sol.price_subtotal / NULLIF(so.currency_rate, 0)) AS revenue
              FROM sale_order so
              JOIN sale_order_line sol ON sol.order_id = so.id
              JOIN product_product pp ON pp.id = sol.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE so.state = 'sale' AND so.company_id = %(company)s
               AND so.date_order >= %(first)s AND so.date_order < %(after)s
             GROUP BY so.commercial_partner_id, pt.categ_id
        ) AS categories
        """,
        company=_company(bench).id,
        first=first,
        after=last + timedelta(days=1),
    )


def _ensure_trends(bench):
    """Fill the purchase trends when the database has none yet (not timed)."""
    trends = bench.env["crm.customer.rfm"]
    if not trends.search_count([("company_id", "=", _company(bench).id)], limit=1):
        _logger.info("no purchase trends in the database: refreshing them first")
        trends._refresh()
        bench.env.flush_all()
        bench.env.invalidate_all()


def _customers(bench):
    bench.cr.execute(_bare_aggregate_query(bench))
    return bench.cr.fetchone()[0]


def _measured_plan(bench, approved=False):
    """A plan whose audience is ~50,000 customers, with coupons and calls (not committed)."""
    env = bench.env
    _ensure_trends(bench)
    company = _company(bench)
    env.cr.execute(
        SQL(
            """
            SELECT percentile_disc(%(share)s) WITHIN GROUP (ORDER BY last_order_date)
              FROM crm_customer_rfm WHERE company_id = %(company)s
            """,
            share=1 - AUDIENCE_SHARE,
            company=company.id,
        )
    )
    last_order_after = env.cr.fetchone()[0]
    today = fields.Date.context_today(company)
    program = env["loyalty.program"].create(
        {
            "name": "Phiếu giảm giá khách hàng thân thiết (bench)",
            "program_type": "coupons",
            "company_id": company.id,
        }
    )
    plan = env["crm.promotion.plan"].create(
        {
            "name": "Tri ân khách hàng mua gần đây (bench)",
            "company_id": company.id,
            "date_start": today,
            "date_end": today + timedelta(days=30),
            "budget": 50_000,
            "last_order_after": last_order_after,
            "holdout_percent": HOLDOUT_PERCENT,
            "offer_type": "coupon",
            "loyalty_program_id": program.id,
            "coupon_points": 1,
            "use_email": False,
            "use_sms": False,
            "use_letter": False,
            "use_call": True,
            "call_capacity_per_day": CALL_CAPACITY_PER_DAY,
        }
    )
    if approved:
        plan.action_approve()
    env.flush_all()
    return plan


def _audience(plan):
    """Number of customers the plan's rules select, exclusions included."""
    plan.env.cr.execute(SQL("SELECT count(*) FROM (%s) AS audience", plan._get_audience_sql()))
    return plan.env.cr.fetchone()[0]


@measurement("rfm_bare_aggregate")
def rfm_bare_aggregate(bench):
    """The bare GROUP BY of the purchase trends over the orders of the look-back window."""
    return _measure_bare(bench, "rfm_bare_aggregate", _bare_aggregate_query(bench))


@measurement("rfm_bare_lines")
def rfm_bare_lines(bench):
    """The bare GROUP BY (customer, product category) over the order lines of the window."""
    return _measure_bare(bench, "rfm_bare_lines", _bare_lines_query(bench))


def _measure_bare(bench, name, query):
    """Time ``query`` (one row of totals) with the refresh's settings."""
    rows = _customers(bench)

    def run():
        bench.cr.execute(query)
        bench.cr.fetchone()

    savepoint = bench.cr.savepoint()
    bench.env["crm.customer.rfm"]._set_refresh_settings()
    result = bench.measure(run, rows=rows)
    savepoint.close(rollback=True)
    _timings[name] = result.server_ms
    return result


def _measure_after(bench, setup, func, rows):
    """Like ``bench.measure(func, rows, undo=True)``, with ``setup()`` run before each
    call in its savepoint, outside the timing."""
    best = None
    for run in range(bench.runs + 1):  # the first one warms up
        bench.env.invalidate_all()
        savepoint = bench.cr.savepoint()
        setup()
        bench.env.flush_all()
        queries_before = bench.cr.sql_log_count
        started = time.perf_counter()
        func()
        elapsed = time.perf_counter() - started
        queries = bench.cr.sql_log_count - queries_before
        savepoint.close(rollback=True)
        bench.env.invalidate_all(flush=False)
        if run and (best is None or elapsed < best[0]):
            best = (elapsed, queries)
    return Result(server_ms=round(best[0] * 1000, 1), queries=best[1], rows=rows)


def _log_ratio(bench, name, result, lines=False):
    """Log the ratio of ``result`` to the bare aggregate of the orders, plus the one of the
    order lines when ``lines`` (a refresh that recomputes every customer's top categories
    needs both)."""
    baselines = {"rfm_bare_aggregate": rfm_bare_aggregate}
    if lines:
        baselines["rfm_bare_lines"] = rfm_bare_lines
    bare = 0
    for baseline, measure in baselines.items():
        if baseline not in _timings:
            measure(bench)
        bare += _timings[baseline]
    ratio = result.server_ms / bare if bare else float("inf")
    _logger.info(
        "%s: %.0f ms = %.2fx the bare aggregate%s (%.0f ms); promise: at most %sx",
        name,
        result.server_ms,
        ratio,
        "s of the orders and of the lines" if lines else "",
        bare,
        REFRESH_RATIO_PROMISE,
    )


@measurement("rfm_refresh_first")
def rfm_refresh_first(bench):
    """First refresh of the company's purchase trends: its rows, their top categories and
    its change log deleted first (not timed), then ``_refresh()``, every row written;
    rolled back."""
    trends = bench.env["crm.customer.rfm"]
    company = _company(bench)

    def setup():
        for table in ("crm_customer_rfm", "crm_customer_rfm_snapshot"):
            bench.cr.execute(
                SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(table), company.id)
            )

    def run():
        trends._refresh(company)
        bench.env.flush_all()

    result = _measure_after(bench, setup, run, rows=_customers(bench))
    _log_ratio(bench, "rfm_refresh_first", result, lines=True)
    return result


@measurement("rfm_refresh_daily")
def rfm_refresh_daily(bench):
    """The next daily refresh: the trends as the company's last refresh (the generator's)
    committed them, DAILY_ORDERS new confirmed orders dated the day after, copies of orders of
    as many customers (not timed), then ``_refresh()`` of that day; rolled back.
    """
    return _measure_next_day(bench, "rfm_refresh_daily")


@measurement("rfm_refresh_full")
def rfm_refresh_full(bench):
    """Like ``rfm_refresh_daily``, the refresh of the "Refresh" button (``full``): every
    column of every row compared and every customer's top categories recomputed from the
    order lines of the window."""
    return _measure_next_day(bench, "rfm_refresh_full", full=True)


def _measure_next_day(bench, name, full=False):
    """The refresh of the day after the company's last one, with DAILY_ORDERS new orders
    that day (see rfm_refresh_daily).

    The previous refresh is not redone in the measured transaction: rows written earlier in
    the same transaction make PostgreSQL check every foreign key of the rows updated again,
    and the day's change log would conflict with itself, which a real daily run never does.
    """
    trends = bench.env["crm.customer.rfm"]
    company = _company(bench)
    _ensure_trends(bench)
    day = _daily_date(bench)
    bench.cr.execute(
        SQL(
            """
            SELECT column_name FROM information_schema.columns
             WHERE table_name = 'sale_order' AND column_name NOT IN ('id', 'date_order')
            """
        )
    )
    order_columns = SQL(", ").join(SQL.identifier(name) for (name,) in bench.cr.fetchall())
    bench.cr.execute(
        SQL(
            """
            SELECT column_name FROM information_schema.columns
             WHERE table_name = 'sale_order_line' AND column_name NOT IN ('id', 'order_id')
            """
        )
    )
    line_columns = SQL(", ").join(SQL.identifier(name) for (name,) in bench.cr.fetchall())

    def setup():
        bench.cr.execute(
            SQL(
                """
                CREATE TEMP TABLE bench_daily_orders ON COMMIT DROP AS
                SELECT DISTINCT ON (commercial_partner_id) id AS bench_source_id,
                       nextval('sale_order_id_seq') AS bench_id
                  FROM sale_order
                 WHERE company_id = %(company)s AND state = 'sale'
                 ORDER BY commercial_partner_id, id
                 LIMIT %(count)s;
                INSERT INTO sale_order (id, date_order, %(order_columns)s)
                SELECT daily.bench_id, %(when)s, %(order_columns)s
                  FROM bench_daily_orders daily
                  JOIN sale_order so ON so.id = daily.bench_source_id;
                INSERT INTO sale_order_line (order_id, %(line_columns)s)
                SELECT daily.bench_id, %(line_columns)s
                  FROM bench_daily_orders daily
                  JOIN sale_order_line sol ON sol.order_id = daily.bench_source_id;
                DROP TABLE bench_daily_orders;
                -- an upgrade of the module asks for a full refresh: measured on its own
                UPDATE res_company SET crm_rfm_full_refresh = FALSE WHERE id = %(company)s;
                """,
                company=company.id,
                count=DAILY_ORDERS,
                when=datetime.combine(day, datetime.min.time()) + timedelta(hours=2),
                order_columns=order_columns,
                line_columns=line_columns,
            )
        )

    def run():
        trends._refresh(company, analysis_date=day, full=full)
        bench.env.flush_all()

    result = _measure_after(bench, setup, run, rows=DAILY_ORDERS)
    _log_ratio(bench, name, result, lines=full)
    return result


@measurement("audience_preview")
def audience_preview(bench):
    """Audience preview (count, exclusions, list) of a plan of ~50,000 customers."""
    plan = _measured_plan(bench)

    def run():
        plan.action_preview()
        bench.env.flush_all()

    return bench.measure(run, rows=_audience(plan), undo=True)


def _ensure_followers(bench):
    """Give the generated contact logs their salesperson as follower, as creating them in Odoo
    does, when the database has (almost) no followers (not timed, rolled back with the
    measurement). Without them the follower table looks empty to PostgreSQL when it first
    checks a follower's foreign key in the session, keeps that plan (a sequential scan), and
    the launch spends tens of seconds checking the followers of its planned calls, which a
    database of real use (a follower per contact at least) never does."""
    bench.cr.execute(SQL("SELECT count(*) FROM mail_followers"))
    [followers] = bench.cr.fetchone()
    bench.cr.execute(SQL("SELECT count(*) FROM crm_contact_log"))
    [logs] = bench.cr.fetchone()
    if followers >= logs:
        return
    _logger.info("%s followers for %s contact logs: following the logs first", followers, logs)
    default = bench.env["mail.message.subtype"].default_subtypes("crm.contact.log")[0]
    bench.cr.execute(
        SQL(
            """
            WITH new AS (
                INSERT INTO mail_followers (res_model, res_id, partner_id)
                SELECT 'crm.contact.log', log.id, users.partner_id
                  FROM crm_contact_log log
                  JOIN res_users users ON users.id = log.user_id
                ON CONFLICT (res_model, res_id, partner_id) DO NOTHING
             RETURNING id
            )
            INSERT INTO mail_followers_mail_message_subtype_rel
                   (mail_followers_id, mail_message_subtype_id)
            SELECT new.id, subtype.id FROM new, unnest(%s::int[]) AS subtype(id)
            """,
            default.ids,
        )
    )
    # as the statistics of a database of real use: the follower queries get index plans
    bench.cr.execute(SQL("ANALYZE mail_followers, mail_followers_mail_message_subtype_rel"))


@measurement("plan_launch_50k")
def plan_launch_50k(bench):
    """Launch of an approved ~50,000-member plan (coupons, planned calls), once, rolled back;
    the generated contact logs followed by their salesperson first (see _ensure_followers)."""
    _ensure_followers(bench)
    plan = _measured_plan(bench, approved=True)

    def run():
        plan.action_launch()
        bench.env.flush_all()

    return bench.measure(run, rows=_audience(plan), undo=True, runs=1)
