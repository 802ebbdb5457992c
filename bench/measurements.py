"""Registry of the named measurements, and the tools they share.

A measurement is a function that receives a :class:`Bench` and returns a :class:`Result`. It is
registered under a unique name with the :func:`measurement` decorator, in a module of the
``measures/`` folder (bench.py imports all of them)::

    from measurements import measurement

    @measurement("timeline_largest")
    def timeline_largest(bench):
        partner_id, rows = bench.largest_customer()
        timeline = bench.env["crm.customer.timeline"]
        domain = [("partner_id", "=", partner_id)]
        return bench.measure(lambda: timeline.web_search_read(domain, {"date": {}}), rows=rows)

The function's docstring is its description in ``bench.py --list``. Each measurement runs in its
own transaction, rolled back afterwards, as the admin user (uid 2) with the context the web client
sends.
"""

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass

from odoo import api
from odoo.tools import SQL

ADMIN_UID = 2
DEFAULT_RUNS = 5
# the smallest customer compared with the largest has at least this many rows of history
SMALL_HISTORY_ROWS = 10

MEASUREMENTS = {}


@dataclass(frozen=True)
class Measurement:
    name: str
    func: Callable
    doc: str


@dataclass(frozen=True)
class Result:
    server_ms: float
    queries: int
    rows: int


def measurement(name):
    """Register the decorated function as the measurement ``name``."""

    def register(func):
        if name in MEASUREMENTS:
            raise ValueError(f"the measurement {name!r} is registered twice")
        MEASUREMENTS[name] = Measurement(name, func, inspect.getdoc(func) or "")
        return func

    return register


class Bench:
    """What a measurement works with: an environment, a timer and the remarkable customers."""

    def __init__(self, cr, runs=DEFAULT_RUNS):
        self.cr = cr
        self.runs = runs
        env = api.Environment(cr, ADMIN_UID, {})
        context = dict(env["res.users"].context_get())
        context.update(allowed_company_ids=env.user.company_ids.ids, bin_size=True)
        self.env = env(context=context)
        self._history = None

    def measure(self, func, rows, undo=False, runs=None):
        """Time ``func()``: one warm-up call, then the best of ``runs`` calls.

        The record cache is emptied before every call (``env.invalidate_all()``), as each request
        of a server starts with an empty one; the registry caches (views, access rights) stay
        warm, as on a server that has been running. The query count is the one of the fastest
        run (it is the same for every run unless the code is non-deterministic).

        With ``undo``, every call runs in a savepoint rolled back after it (outside the timing),
        so that each call of an operation that changes data (a scheduled job) starts from the
        same data. ``func`` should then end with ``env.flush_all()``, as a commit would.

        With ``runs``, that many timed runs and no warm-up call: a job run of minutes on the
        whole database is timed once, cold.
        """
        best = None
        runs, warm_up = (self.runs, 1) if runs is None else (runs, 0)
        for run in range(runs + warm_up):
            self.env.invalidate_all()
            savepoint = self.cr.savepoint() if undo else None
            queries_before = self.cr.sql_log_count
            started = time.perf_counter()
            func()
            elapsed = time.perf_counter() - started
            queries = self.cr.sql_log_count - queries_before
            if savepoint:
                savepoint.close(rollback=True)
                self.env.invalidate_all(flush=False)
            if run >= warm_up and (best is None or elapsed < best[0]):
                best = (elapsed, queries)
        return Result(server_ms=round(best[0] * 1000, 1), queries=best[1], rows=rows)

    # ------------------------------------------------------------------------------------
    # customers with the largest and the smallest history
    # ------------------------------------------------------------------------------------
    def history_sizes_query(self):
        """One row (commercial_partner_id, rows) per customer that has a history.

        A customer's history: its sales orders (placed by it or by one of its contacts), its
        posted customer invoices and credit notes, its contact logs (cancelled and archived
        ones excluded, as in the History tab) and its help desk tickets (archived ones
        excluded). Capabilities that add history (contracts) extend this query.
        """
        return SQL(
            """
            SELECT cp, sum(n)::int AS rows
              FROM (
                SELECT p.commercial_partner_id AS cp, count(*) AS n
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                 GROUP BY p.commercial_partner_id
                 UNION ALL
                SELECT commercial_partner_id, count(*)
                  FROM account_move
                 WHERE move_type IN ('out_invoice', 'out_refund') AND state = 'posted'
                 GROUP BY commercial_partner_id
                 UNION ALL
                SELECT commercial_partner_id, count(*)
                  FROM crm_contact_log
                 WHERE active AND state != 'cancelled'
                 GROUP BY commercial_partner_id
                 UNION ALL
                SELECT commercial_partner_id, count(*)
                  FROM crm_support_ticket
                 WHERE active
                 GROUP BY commercial_partner_id
              ) AS history
             GROUP BY cp
            """
        )

    def _history_extremes(self):
        if self._history is None:
            self.cr.execute(
                SQL(
                    """
                    WITH sizes AS (%s)
                    (SELECT cp, rows FROM sizes ORDER BY rows DESC, cp LIMIT 1)
                    UNION ALL
                    (SELECT cp, rows FROM sizes WHERE rows >= %s ORDER BY rows ASC, cp LIMIT 1)
                    """,
                    self.history_sizes_query(),
                    SMALL_HISTORY_ROWS,
                )
            )
            found = self.cr.fetchall()
            if len(found) != 2:
                raise RuntimeError(
                    "no customer has a history of ten rows: was the database generated?"
                )
            self._history = found
        return self._history

    def largest_customer(self):
        """(partner id, history rows) of the customer with the largest history."""
        return tuple(self._history_extremes()[0])

    def smallest_customer(self):
        """(partner id, history rows) of the customer with the smallest history of at least
        ``SMALL_HISTORY_ROWS`` (10) rows: the reference of the promise "a customer with a huge
        history opens as fast as one with ten rows"."""
        return tuple(self._history_extremes()[1])
