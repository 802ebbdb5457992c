from odoo import fields, models
from odoo.tools import SQL

from ..models.crm_support_sla import PRIORITIES
from ..models.crm_support_ticket import CATEGORIES, CHANNELS, WARRANTY_STATES

# Service-level measures are 100 (on time) or 0 (late) per ticket, so that their average is
# the share of tickets on time, in percent.
ON_TIME = 100.0


class CrmSupportTicketReport(models.Model):
    """Help desk analysis: one row per ticket, read-only, computed by PostgreSQL.

    The hours and the deadlines are the ones stored on the ticket (working hours of the
    team's calendar), so the analysis agrees with the tickets to the minute. Measures that
    are not decided yet (a ticket still waiting for its first answer before its deadline)
    are NULL, so averages only count the tickets they apply to.
    """

    _name = "crm.support.ticket.report"
    _description = "Help Desk Analysis"
    _auto = False
    _order = "open_date desc, id desc"
    _rec_name = "number"
    # flushed before the report is read, so it sees what the transaction just wrote
    _depends = {
        "crm.support.ticket": [
            "active",
            "category",
            "channel",
            "closed_date",
            "commercial_partner_id",
            "company_id",
            "create_date",
            "first_response_date",
            "is_closed",
            "name",
            "number",
            "open_date",
            "partner_id",
            "priority",
            "product_id",
            "rating_last_value",
            "resolution_deadline",
            "resolution_hours",
            "resolution_late",
            "response_deadline",
            "response_hours",
            "response_late",
            "stage_id",
            "team_id",
            "user_id",
            "warranty_end_date",
        ],
        "product.product": ["product_tmpl_id"],
        "product.template": ["categ_id"],
    }

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    ticket_id = fields.Many2one("crm.support.ticket", readonly=True)
    number = fields.Char(string="Ticket Number", readonly=True)
    name = fields.Char(string="Subject", readonly=True)
    create_date = fields.Datetime(string="Created On", readonly=True)
    open_date = fields.Datetime(
        string="Opened On",
        readonly=True,
        help="When the customer reached us: the service level clocks start here.",
    )
    closed_date = fields.Datetime(string="Solved On", readonly=True)
    team_id = fields.Many2one("crm.support.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned to", readonly=True)
    stage_id = fields.Many2one("crm.support.stage", readonly=True)
    is_closed = fields.Boolean(string="Solved", readonly=True)
    category = fields.Selection(CATEGORIES, readonly=True)
    priority = fields.Selection(PRIORITIES, readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    warranty_state = fields.Selection(WARRANTY_STATES, string="Warranty", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    product_categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    commercial_partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    # measures
    nbr = fields.Integer(string="# Tickets", readonly=True, aggregator="sum")
    response_hours = fields.Float(
        string="Hours to First Response",
        readonly=True,
        aggregator="avg",
        help="Working hours of the team's calendar between the creation and the first answer "
        "(tickets answered or solved only).",
    )
    resolution_hours = fields.Float(
        string="Hours to Resolution",
        readonly=True,
        aggregator="avg",
        help="Working hours of the team's calendar between the creation and the closing "
        "(solved tickets only).",
    )
    response_on_time = fields.Float(
        string="First Response On Time (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the tickets answered within their first-response target, among those "
        "answered or past their target.",
    )
    resolution_on_time = fields.Float(
        string="Resolution On Time (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the tickets solved within their resolution target, among those solved "
        "or past their target.",
    )
    response_breached = fields.Integer(
        string="# First Response Late",
        readonly=True,
        aggregator="sum",
        help="Tickets answered after their first-response target, or still waiting past it.",
    )
    resolution_breached = fields.Integer(
        string="# Resolution Late",
        readonly=True,
        aggregator="sum",
        help="Tickets solved after their resolution target, or still open past it.",
    )
    sla_breached = fields.Integer(
        string="# Service Level Breached",
        readonly=True,
        aggregator="sum",
        help="Tickets late on their first response or on their resolution.",
    )
    rating_last_value = fields.Float(
        string="Customer Rating",
        readonly=True,
        aggregator="avg",
        help="The customer's last rating of the ticket (1 to 5); unrated tickets are left out.",
    )

    # ------------------------------------------------------------
    # QUERY
    # ------------------------------------------------------------

    @property
    def _table_query(self):
        return SQL(
            "SELECT %s FROM %s WHERE %s",
            self._select(),
            self._from(),
            self._where(),
        )

    def _select(self):
        """The report's columns; sub-modules may add theirs with ``SQL("%s, ...", super())``."""
        # the ORM's clock, not the database's: the same "now" as the tickets' service level
        now = SQL("%s::timestamp", fields.Datetime.now())
        today = SQL("%s::date", fields.Date.context_today(self))
        responded = SQL("COALESCE(t.first_response_date, t.closed_date)")
        response_late = SQL(
            "(COALESCE(t.response_late, FALSE)"
            " OR (%(responded)s IS NULL AND t.response_deadline <= %(now)s))",
            responded=responded,
            now=now,
        )
        resolution_late = SQL(
            "(COALESCE(t.resolution_late, FALSE)"
            " OR (t.closed_date IS NULL AND t.resolution_deadline <= %s))",
            now,
        )
        return SQL(
            """
            t.id AS id,
            t.id AS ticket_id,
            t.number,
            t.name,
            t.create_date,
            t.open_date,
            t.closed_date,
            t.team_id,
            t.user_id,
            t.stage_id,
            COALESCE(t.is_closed, FALSE) AS is_closed,
            t.category,
            t.priority,
            t.channel,
            CASE WHEN t.warranty_end_date IS NULL THEN 'unknown'
                 WHEN t.warranty_end_date >= %(today)s THEN 'under_warranty'
                 ELSE 'expired' END AS warranty_state,
            t.product_id,
            tmpl.categ_id AS product_categ_id,
            t.partner_id,
            t.commercial_partner_id,
            t.company_id,
            1 AS nbr,
            CASE WHEN %(responded)s IS NOT NULL THEN t.response_hours END AS response_hours,
            CASE WHEN t.closed_date IS NOT NULL THEN t.resolution_hours END AS resolution_hours,
            CASE WHEN t.response_deadline IS NULL THEN NULL
                 WHEN %(response_late)s THEN 0.0
                 WHEN %(responded)s IS NOT NULL THEN %(on_time)s
            END AS response_on_time,
            CASE WHEN t.resolution_deadline IS NULL THEN NULL
                 WHEN %(resolution_late)s THEN 0.0
                 WHEN t.closed_date IS NOT NULL THEN %(on_time)s
            END AS resolution_on_time,
            CASE WHEN %(response_late)s THEN 1 ELSE 0 END AS response_breached,
            CASE WHEN %(resolution_late)s THEN 1 ELSE 0 END AS resolution_breached,
            CASE WHEN %(response_late)s OR %(resolution_late)s THEN 1 ELSE 0 END AS sla_breached,
            NULLIF(t.rating_last_value, 0) AS rating_last_value
            """,
            today=today,
            responded=responded,
            response_late=response_late,
            resolution_late=resolution_late,
            on_time=ON_TIME,
        )

    def _from(self):
        return SQL(
            """
            crm_support_ticket t
            LEFT JOIN product_product product ON product.id = t.product_id
            LEFT JOIN product_template tmpl ON tmpl.id = product.product_tmpl_id
            """
        )

    def _where(self):
        return SQL("t.active")

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_ticket(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.support.ticket",
            "res_id": self.ticket_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
