"""Contact management: the History tab, the customer's full history and the missed-contact job.

The whole partner form, History tab included, is measured by ``partner_form_largest`` and
``partner_form_smallest``. Its time also counts Odoo's own smart buttons (``total_invoiced``,
``credit``, ``days_sales_outstanding``, ``sale_order_count``), which grow with the invoices of
the customer whatever crm_extended does; ``partner_form_history_*`` read only the fields
crm_extended adds to the form (the History tab's first page of ``timeline_ids``,
``contact_log_count``, the last and next contact dates), to tell the two apart.
"""

from measurements import measurement
from webclient import form_fields_spec, list_fields_spec

from odoo import SUPERUSER_ID, fields
from odoo.tools import SQL

ADDON = "crm_extended"
# the page size and the count limit the web client's list view asks for
LIST_LIMIT = 80
LIST_COUNT_LIMIT = 10_001


def _open_history(bench, partner_id, rows):
    partners = bench.env["res.partner"]
    spec = {
        name: field_spec
        for name, field_spec in form_fields_spec(partners).items()
        if name in partners._fields and ADDON in (partners._fields[name]._modules or ())
    }
    partner = partners.browse(partner_id)
    return bench.measure(lambda: partner.web_read(spec), rows=rows)


@measurement("partner_form_history_largest")
def partner_form_history_largest(bench):
    """crm_extended's fields of the partner form (History tab ...), largest history."""
    partner_id, rows = bench.largest_customer()
    return _open_history(bench, partner_id, rows)


@measurement("partner_form_history_smallest")
def partner_form_history_smallest(bench):
    """crm_extended's fields of the partner form (History tab ...), history of ten rows."""
    partner_id, rows = bench.smallest_customer()
    return _open_history(bench, partner_id, rows)


@measurement("timeline_full_first_page")
def timeline_full_first_page(bench):
    """First page (80 rows) of the largest customer's "Full history" list, default order."""
    partner_id, rows = bench.largest_customer()
    timeline = bench.env["crm.customer.timeline"]
    spec, order = list_fields_spec(timeline)
    domain = [("commercial_partner_id", "=", partner_id)]
    return bench.measure(
        lambda: timeline.web_search_read(
            domain, spec, limit=LIST_LIMIT, order=order, count_limit=LIST_COUNT_LIMIT
        ),
        rows=rows,
    )


@measurement("missed_job")
def missed_job(bench):
    """One run of the hourly job marking forgotten planned contacts as missed (one batch).

    Runs as the scheduler does: as the job's user (OdooBot), flushed as its commit would be,
    then rolled back, so every timed run takes the same batch. ``rows`` is the job's backlog:
    planned contacts whose planned time passed more than the grace period ago.
    """
    cron_env = bench.env(user=SUPERUSER_ID, context={})
    logs = cron_env["crm.contact.log"]
    missed_before = fields.Datetime.now() - logs._missed_grace()
    bench.cr.execute(
        SQL(
            "SELECT count(*) FROM crm_contact_log"
            " WHERE state = 'planned' AND active AND planned_date < %s",
            missed_before,
        )
    )
    backlog = bench.cr.fetchone()[0]

    def run_job():
        logs._cron_mark_missed()
        cron_env.flush_all()

    return bench.measure(run_job, rows=backlog, undo=True)
