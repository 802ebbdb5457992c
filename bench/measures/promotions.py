"""Purchase trends and promotion plans: 100,000 customers, 1,000,000 order lines in 24 months.

The issue's promises: the purchase trends' full refresh is set-based SQL, within 3x of the time
PostgreSQL needs for the bare aggregate query; a plan's audience preview and the launch of a
50,000-member plan are measured.

- ``rfm_bare_aggregate``: the bare ``GROUP BY`` PostgreSQL cannot avoid for the trends: per
  commercial partner, count, sum, first and last date of the confirmed orders of the look-back
  window. The rows are totalled in the database rather than sent to Python; every aggregate
  is totalled, otherwise PostgreSQL would skip computing the unused ones.
- ``rfm_full_refresh``: ``crm.customer.rfm._refresh()`` on every company (scores, segments, top
  categories, trend, today's snapshot), rolled back after each run. Its ratio to the bare
  aggregate is printed on stderr (the promise: at most 3).
- ``audience_preview``: ``action_preview()`` of a plan whose rules select about 50,000 customers
  (the 54% who bought last), exclusions counted.
- ``plan_launch_50k``: ``action_launch()`` of that plan, approved, with a personal coupon per
  target member and the call channel (planned calls spread over the salespeople's capacity),
  timed once and rolled back.

The plans and the coupon program are created by the measurements, in their own transaction,
rolled back with it. When the database has no purchase trends yet (generated before them), they
are refreshed first, outside the timing.
"""

import sys
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from measurements import measurement

from odoo import fields
from odoo.tools import SQL

# the audience of the measured plan: the customers whose last order is among the most recent
# AUDIENCE_SHARE of them (54% of the 92,000 customers who bought in 24 months: 50,000)
AUDIENCE_SHARE = 0.54
HOLDOUT_PERCENT = 10
CALL_CAPACITY_PER_DAY = 400
REFRESH_RATIO_PROMISE = 3
_timings = {}


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _company(bench):
    return bench.env.company


def _window(bench):
    """(first, last) day of the company's look-back window, as the refresh uses it."""
    company = _company(bench)
    months = getattr(company, "crm_rfm_lookback_months", 24) or 24
    today = fields.Date.context_today(company)
    return today - relativedelta(months=months), today


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


def _ensure_trends(bench):
    """Fill the purchase trends when the database has none yet (not timed)."""
    trends = bench.env["crm.customer.rfm"]
    if not trends.search_count([("company_id", "=", _company(bench).id)], limit=1):
        log("no purchase trends in the database: refreshing them first")
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
    query = _bare_aggregate_query(bench)
    rows = _customers(bench)

    def run():
        bench.cr.execute(query)
        bench.cr.fetchone()

    result = bench.measure(run, rows=rows)
    _timings["rfm_bare_aggregate"] = result.server_ms
    return result


@measurement("rfm_full_refresh")
def rfm_full_refresh(bench):
    """Full refresh of the purchase trends (crm.customer.rfm._refresh()), rolled back."""
    trends = bench.env["crm.customer.rfm"]

    def run():
        trends._refresh()
        bench.env.flush_all()

    result = bench.measure(run, rows=_customers(bench), undo=True)
    bare = _timings.get("rfm_bare_aggregate")
    if bare is None:
        query = _bare_aggregate_query(bench)
        bare = bench.measure(lambda: bench.cr.execute(query), rows=0).server_ms
    ratio = result.server_ms / bare if bare else float("inf")
    log(
        f"rfm_full_refresh: {result.server_ms:.0f} ms = {ratio:.2f}x the bare aggregate "
        f"({bare:.0f} ms); promise: at most {REFRESH_RATIO_PROMISE}x"
    )
    return result


@measurement("audience_preview")
def audience_preview(bench):
    """Audience preview (count, exclusions, list) of a plan of ~50,000 customers."""
    plan = _measured_plan(bench)

    def run():
        plan.action_preview()
        bench.env.flush_all()

    return bench.measure(run, rows=_audience(plan), undo=True)


@measurement("plan_launch_50k")
def plan_launch_50k(bench):
    """Launch of an approved ~50,000-member plan (coupons, planned calls), once, rolled back."""
    plan = _measured_plan(bench, approved=True)

    def run():
        plan.action_launch()
        bench.env.flush_all()

    return bench.measure(run, rows=_audience(plan), undo=True, runs=1)
