from odoo import fields, models
from odoo.tools import SQL

# Conversion measures are 100 (converted) or 0 per lead, so that their average is the share
# of the source's leads converted, in percent.
CONVERTED = 100.0


class CrmLeadSourceReport(models.Model):
    """Leads by source: one row per lead that came from a lead source, lost ones included.

    Read-only, computed by PostgreSQL. Averaged per source, team or month, the rates give the
    conversion of the source's leads to opportunities and to won deals; the won revenue is the
    expected revenue of the won ones, in the company's currency.
    """

    _name = "crm.lead.source.report"
    _inherit = ["crm.lead.report.mixin"]
    _description = "Leads by Source"
    _auto = False
    _order = "create_date desc, id desc"
    _rec_name = "name"
    # flushed before the report is read, so it sees what the transaction just wrote
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "country_id",
            "create_date",
            "date_closed",
            "date_conversion",
            "expected_revenue",
            "lead_source_id",
            "name",
            "partner_id",
            "probability",
            "stage_id",
            "team_id",
            "type",
            "user_id",
        ],
        "crm.lead.source": ["kind"],
        "crm.stage": ["is_won"],
    }

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    lead_id = fields.Many2one("crm.lead", readonly=True)
    name = fields.Char(string="Title", readonly=True)
    lead_source_id = fields.Many2one("crm.lead.source", readonly=True)
    source_kind = fields.Selection(
        [("webhook", "Webhook"), ("file", "File Import"), ("email", "Email")],
        readonly=True,
    )
    create_date = fields.Datetime(string="Received On", readonly=True)
    date_conversion = fields.Datetime(string="Converted On", readonly=True)
    date_closed = fields.Datetime(string="Closed On", readonly=True)
    type = fields.Selection([("lead", "Lead"), ("opportunity", "Opportunity")], readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    is_won = fields.Boolean(string="Won", readonly=True)
    is_lost = fields.Boolean(string="Lost", readonly=True)
    # measures
    nbr = fields.Integer(string="# Leads", readonly=True, aggregator="sum")
    nbr_opportunities = fields.Integer(string="# Opportunities", readonly=True, aggregator="sum")
    nbr_won = fields.Integer(string="# Won", readonly=True, aggregator="sum")
    opportunity_rate = fields.Float(
        string="Converted to Opportunity (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the leads that became opportunities.",
    )
    won_rate = fields.Float(
        string="Won (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the leads won.",
    )
    won_revenue = fields.Float(
        string="Revenue Won",
        readonly=True,
        aggregator="sum",
        help="Expected revenue of the won leads, in the company's currency.",
    )
    expected_revenue = fields.Float(
        string="Open Pipeline",
        readonly=True,
        aggregator="sum",
        help="Expected revenue of the leads neither won nor lost.",
    )

    # ------------------------------------------------------------
    # QUERY
    # ------------------------------------------------------------

    @property
    def _table_query(self):
        return SQL("SELECT %s FROM %s WHERE %s", self._select(), self._from(), self._where())

    def _select(self):
        """The report's columns; sub-modules may add theirs with ``SQL("%s, ...", super())``."""
        won = self._lead_won_sql()
        lost = self._lead_lost_sql()
        return SQL(
            """
            l.id AS id,
            l.id AS lead_id,
            l.name,
            l.lead_source_id,
            source.kind AS source_kind,
            l.create_date,
            l.date_conversion,
            l.date_closed,
            l.type,
            l.stage_id,
            l.team_id,
            l.user_id,
            l.partner_id,
            l.country_id,
            l.company_id,
            %(won)s AS is_won,
            %(lost)s AS is_lost,
            1 AS nbr,
            CASE WHEN l.type = 'opportunity' THEN 1 ELSE 0 END AS nbr_opportunities,
            CASE WHEN %(won)s THEN 1 ELSE 0 END AS nbr_won,
            CASE WHEN l.type = 'opportunity' THEN %(converted)s ELSE 0.0 END AS opportunity_rate,
            CASE WHEN %(won)s THEN %(converted)s ELSE 0.0 END AS won_rate,
            CASE WHEN %(won)s THEN COALESCE(l.expected_revenue, 0.0) ELSE 0.0 END
                AS won_revenue,
            CASE WHEN %(won)s OR %(lost)s THEN 0.0 ELSE COALESCE(l.expected_revenue, 0.0) END
                AS expected_revenue
            """,
            won=won,
            lost=lost,
            converted=CONVERTED,
        )

    def _from(self):
        return SQL(
            """
            crm_lead l
            JOIN crm_lead_source source ON source.id = l.lead_source_id
            LEFT JOIN crm_stage stage ON stage.id = l.stage_id
            """
        )

    def _where(self):
        # lost leads count as received: archived leads that are not lost (merged, spam) not
        return self._lead_counted_sql()
