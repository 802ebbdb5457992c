from odoo import fields, models

from .crm_customer_rfm import SEGMENTS


class CrmCustomerRfmSnapshot(models.Model):
    """The purchase trends of a customer as one refresh found them: one row per customer,
    company and refresh date, so segment migrations can be followed over time. Written only
    by ``crm.customer.rfm._refresh`` (a second refresh the same day replaces that day's
    rows)."""

    _name = "crm.customer.rfm.snapshot"
    _description = "Customer Purchase Trends Snapshot"
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
    segment = fields.Selection(SEGMENTS, readonly=True)
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
            "A customer has one purchase trends snapshot per company and day.",
        ),
    ]
