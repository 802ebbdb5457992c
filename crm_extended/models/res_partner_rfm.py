from odoo import api, fields, models
from odoo.exceptions import UserError

from .crm_customer_rfm import SEGMENTS

SALESMAN = "sales_team.group_sale_salesman"


class ResPartner(models.Model):
    """The purchase trends of a customer in the current company, on the partner: its
    contacts show those of their commercial partner."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    crm_rfm_ids = fields.One2many(
        "crm.customer.rfm", "partner_id", string="Purchase Trends (All Companies)", groups=SALESMAN
    )
    rfm_id = fields.Many2one(
        "crm.customer.rfm",
        string="Purchase Trends",
        compute="_compute_rfm_id",
        search="_search_rfm_id",
        groups=SALESMAN,
        help="The purchase trends of the customer in the current company.",
    )
    rfm_segment = fields.Selection(
        SEGMENTS,
        string="Customer Segment",
        compute="_compute_rfm_id",
        search="_search_rfm_segment",
        groups=SALESMAN,
    )
    rfm_currency_id = fields.Many2one(
        related="rfm_id.currency_id", string="Purchase Trends Currency", groups=SALESMAN
    )
    rfm_r_score = fields.Integer(related="rfm_id.r_score", groups=SALESMAN)
    rfm_f_score = fields.Integer(related="rfm_id.f_score", groups=SALESMAN)
    rfm_m_score = fields.Integer(related="rfm_id.m_score", groups=SALESMAN)
    rfm_recency_days = fields.Integer(related="rfm_id.recency_days", groups=SALESMAN)
    rfm_frequency = fields.Integer(related="rfm_id.frequency", groups=SALESMAN)
    rfm_monetary = fields.Monetary(
        related="rfm_id.monetary", currency_field="rfm_currency_id", groups=SALESMAN
    )
    rfm_average_order_value = fields.Monetary(
        related="rfm_id.average_order_value", currency_field="rfm_currency_id", groups=SALESMAN
    )
    rfm_last_order_date = fields.Date(related="rfm_id.last_order_date", groups=SALESMAN)
    rfm_next_order_date = fields.Date(related="rfm_id.next_order_date", groups=SALESMAN)
    rfm_trend_percent = fields.Float(related="rfm_id.trend_percent", groups=SALESMAN)
    rfm_has_trend = fields.Boolean(related="rfm_id.has_trend", groups=SALESMAN)
    rfm_top_category_ids = fields.Many2many(related="rfm_id.top_category_ids", groups=SALESMAN)

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_rfm_id(self):
        """One read for the whole batch: the rows of their commercial partners in the
        current company."""
        customers = self.commercial_partner_id
        rfms = (
            self.env["crm.customer.rfm"]
            .sudo()
            .search_fetch(
                [
                    ("partner_id", "in", customers.ids),
                    ("company_id", "=", self.env.company.id),
                ],
                ["partner_id", "segment"],
            )
        )
        by_customer = {rfm.partner_id.id: rfm for rfm in rfms}
        for partner in self:
            rfm = by_customer.get(partner.commercial_partner_id.id)
            partner.rfm_id = rfm.id if rfm else False
            partner.rfm_segment = rfm.segment if rfm else False

    def _search_rfm_id(self, operator, value):
        """Customers (and their contacts) by their purchase trends rows."""
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Search purchase trends with “is” or “is in” only."))
        ids = value if isinstance(value, list | tuple | set) else [value]
        ids = [rfm_id for rfm_id in ids if rfm_id]
        domain = [("commercial_partner_id.crm_rfm_ids", "any", [("id", "in", ids)])]
        return ["!", *domain] if operator in ("!=", "not in") else domain

    def _search_rfm_segment(self, operator, value):
        """Customers (and their contacts) by segment in the current company; ``False``
        stands for customers without purchases in the look-back window."""
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Search customers by segment with “is” or “is in” only."))
        values = value if isinstance(value, list | tuple | set) else [value]
        keys = [key for key in values if key]
        company_domain = [("company_id", "=", self.env.company.id)]
        domain = []
        if keys:
            domain = [
                (
                    "commercial_partner_id.crm_rfm_ids",
                    "any",
                    [*company_domain, ("segment", "in", keys)],
                )
            ]
        if len(keys) < len(values):  # False among the values: no row at all
            no_row = [("commercial_partner_id.crm_rfm_ids", "not any", company_domain)]
            domain = ["|", *domain, *no_row] if domain else no_row
        if not domain:
            domain = [(0, "=", 1)]
        if operator in ("!=", "not in"):
            domain = ["!", *domain]
        return domain

    def action_open_rfm_snapshots(self):
        self.ensure_one()
        if not self.rfm_id:
            raise UserError(self.env._("This customer has no purchase trends yet."))
        return self.rfm_id.action_open_snapshots()
