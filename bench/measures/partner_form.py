"""Opening a customer's form: the largest history against the smallest.

The product promises that a customer with a huge history opens as fast as one with a few rows.
Both measurements replay what the web client asks when it opens the partner form: ``web_read``
with the specification built from the form view (see ``webclient.py``), smart button counters
included since they are fields of the form. The view itself is loaded once, outside the timing:
the web client caches it.
"""

from measurements import measurement
from webclient import form_fields_spec


def _open_partner_form(bench, partner_id, rows):
    partners = bench.env["res.partner"]
    spec = form_fields_spec(partners)
    partner = partners.browse(partner_id)
    return bench.measure(lambda: partner.web_read(spec), rows=rows)


@measurement("partner_form_largest")
def partner_form_largest(bench):
    """Partner form of the customer with the largest history (orders + invoices)."""
    partner_id, rows = bench.largest_customer()
    return _open_partner_form(bench, partner_id, rows)


@measurement("partner_form_smallest")
def partner_form_smallest(bench):
    """Partner form of the customer with the smallest non-empty history."""
    partner_id, rows = bench.smallest_customer()
    return _open_partner_form(bench, partner_id, rows)
