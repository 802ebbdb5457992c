"""Contracts and payment reminders: 20,000 customers with 200,000 open invoices at scale 1.

The issue's promises: the reminder job's full run and the "Contracts and Receivables" list are
measured, with no query per invoice or per contract; contract totals come from grouped queries.

- ``reminder_plan``: who would be reminded of what at which level, and who is skipped and why
  (the accountants' preview; the first step of the job).
- ``reminder_job_full_run``: the daily job on the whole database (every customer due a
  reminder: emails queued, letters left to print, calls planned, contacts logged), timed once
  and rolled back.
- ``receivables_list``: the "Contracts and Receivables" list as the web client loads it (its
  default filter: an amount due), first page of 80, counted up to 10,001 rows.
- ``contract_payment_refresh``: one batch (1,000 contracts) of the daily job refreshing the
  contracts' payment status (overdue, due soon) as days pass, none refreshed yet that day.
- ``contract_payment_figures_all``: the stored totals of every contract in force (all 20,000
  generated ones) recomputed at once, as after a change touching all of them.
"""

from measurements import measurement
from webclient import list_fields_spec

LIST_LIMIT = 80
LIST_COUNT_LIMIT = 10_001
AMOUNT_DUE = [("amount_residual", ">", 0)]


def _open_invoices(bench):
    bench.cr.execute(
        "SELECT count(*) FROM account_move WHERE move_type = 'out_invoice' AND state = 'posted'"
        " AND payment_state IN ('not_paid', 'partial')"
    )
    return bench.cr.fetchone()[0]


@measurement("reminder_plan")
def reminder_plan(bench):
    """Preview of the next reminder run over every open invoice (nothing sent)."""
    reminders = bench.env["crm.payment.reminder"]
    return bench.measure(lambda: reminders._get_reminder_plan(), rows=_open_invoices(bench))


@measurement("reminder_job_full_run")
def reminder_job_full_run(bench):
    """The daily reminder job on every customer, timed once and rolled back."""
    reminders = bench.env["crm.payment.reminder"]

    def run():
        reminders._cron_send_reminders()
        bench.env.flush_all()

    return bench.measure(run, rows=_open_invoices(bench), undo=True, runs=1)


@measurement("receivables_list")
def receivables_list(bench):
    """The "Contracts and Receivables" list, first page of 80 with its count."""
    action = bench.env.ref("crm_extended.crm_contract_receivable_action")
    view = action.view_ids.filtered(lambda v: v.view_mode == "list").view_id
    contracts = bench.env["crm.contract"]
    spec, order = list_fields_spec(contracts, view.id)
    rows = contracts.search_count(AMOUNT_DUE)
    return bench.measure(
        lambda: contracts.web_search_read(
            AMOUNT_DUE, spec, limit=LIST_LIMIT, order=order or None, count_limit=LIST_COUNT_LIMIT
        ),
        rows=rows,
    )


@measurement("contract_payment_refresh")
def contract_payment_refresh(bench):
    """One batch of the daily refresh of contracts' payment status (all due a refresh)."""
    contracts = bench.env["crm.contract"]
    # as on the morning after: no contract refreshed today yet (rolled back with the rest)
    bench.cr.execute("UPDATE crm_contract SET payment_refresh_date = NULL")

    def run():
        contracts._cron_refresh_payment_status()
        bench.env.flush_all()

    return bench.measure(run, rows=contracts.search_count([]), undo=True)


@measurement("contract_payment_figures_all")
def contract_payment_figures_all(bench):
    """Stored payment totals and status of every contract in force recomputed at once."""
    contracts = bench.env["crm.contract"].search([("state", "in", ("active", "expiring"))])

    def run():
        contracts._refresh_payment_status()
        bench.env.flush_all()

    return bench.measure(run, rows=len(contracts), undo=True)
