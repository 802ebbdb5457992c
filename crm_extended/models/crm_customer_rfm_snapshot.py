from odoo import fields, models

from .crm_customer_rfm import SEGMENTS

# a snapshot's segment: a named segment, or "gone" when the customer left the purchase
# trends (no purchase in the look-back window any more)
SNAPSHOT_SEGMENTS = [*SEGMENTS, ("gone", "Gone")]


class CrmCustomerRfmSnapshot(models.Model):
    """The log of the changes of customers' purchase trends: one row each time a refresh
    finds a customer new (``previous_segment`` empty), in another segment or with other
    scores, or gone from the trends (``segment`` "gone", scores empty). The first refresh
    of a company logs every customer; a refresh that finds nothing changed logs nothing.
    The "Segment Migration" report pivots ``previous_segment`` against ``segment``.

    Written only by ``crm.customer.rfm._refresh``; a customer that changes twice the same
    day keeps one row for that day, with the latest values and the segment before the
    day."""

    _name = "crm.customer.rfm.snapshot"
    _description = "Customer Purchase Trends Change"
    _order = "refresh_date desc, id desc"
    _rec_name = "partner_id"
    # written only by the refresh, in SQL (see crm.customer.rfm)
    _log_access = False

    refresh_date = fields.Date(required=True, readonly=True, index=True)
    # partner_id: indexed by the unique (partner_id, company_id, refresh_date) constraint
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    currency_id = fields.Many2one(related="company_id.currency_id")
    previous_segment = fields.Selection(
        SNAPSHOT_SEGMENTS,
        readonly=True,
        help="Segment before this change; empty when the customer just appeared.",
    )
    segment = fields.Selection(SNAPSHOT_SEGMENTS, readonly=True)
    r_score = fields.Integer(readonly=True, aggregator="avg")
    f_score = fields.Integer(readonly=True, aggregator="avg")
    m_score = fields.Integer(readonly=True, aggregator="avg")
    fm_score = fields.Integer(readonly=True, aggregator="avg")
    frequency = fields.Integer(readonly=True)
    monetary = fields.Monetary(string="Revenue", readonly=True)

    _sql_constraints = [
        (
            "partner_company_date_uniq",
            "UNIQUE(partner_id, company_id, refresh_date)",
            "A customer has one purchase trends change per company and day.",
        ),
    ]
