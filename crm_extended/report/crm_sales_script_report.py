from odoo import fields, models
from odoo.tools import SQL

# The win measure is 100 (won) or 0 (lost) per closed opportunity and empty for an open one,
# so that its average over any group is the share of won among the closed opportunities.
WON = 100.0


class CrmSalesScriptReport(models.Model):
    """Win rate of opportunities by the sales script used on them: one row per opportunity
    that used a script, lost ones included.

    Read-only, computed by PostgreSQL. The revenue won is the expected revenue of the won
    opportunities, in the company's currency.
    """

    _name = "crm.sales.script.report"
    _inherit = ["crm.lead.report.mixin"]
    _description = "Win Rate by Sales Script"
    _auto = False
    _order = "create_date desc, id desc"
    _rec_name = "name"
    # flushed before the report is read, so it sees what the transaction just wrote
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "create_date",
            "date_closed",
            "expected_revenue",
            "name",
            "partner_id",
            "probability",
            "sales_script_id",
            "stage_id",
            "team_id",
            "type",
            "user_id",
        ],
        "crm.stage": ["is_won"],
    }

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    name = fields.Char(string="Title", readonly=True)
    sales_script_id = fields.Many2one("crm.sales.script", readonly=True)
    create_date = fields.Datetime(string="Created On", readonly=True)
    date_closed = fields.Datetime(string="Closed On", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    result = fields.Selection([("open", "Open"), ("won", "Won"), ("lost", "Lost")], readonly=True)
    # measures
    nbr = fields.Integer(string="# Opportunities", readonly=True, aggregator="sum")
    nbr_won = fields.Integer(string="# Won", readonly=True, aggregator="sum")
    nbr_lost = fields.Integer(string="# Lost", readonly=True, aggregator="sum")
    win_rate = fields.Float(
        string="Win Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the won opportunities among the closed ones (won or lost).",
    )
    won_revenue = fields.Float(
        string="Revenue Won",
        readonly=True,
        aggregator="sum",
        help="Expected revenue of the won opportunities, in the company's currency.",
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
            l.sales_script_id,
            l.create_date,
            l.date_closed,
            l.stage_id,
            l.team_id,
            l.user_id,
            l.partner_id,
            l.company_id,
            CASE WHEN %(won)s THEN 'won' WHEN %(lost)s THEN 'lost' ELSE 'open' END AS result,
            1 AS nbr,
            CASE WHEN %(won)s THEN 1 ELSE 0 END AS nbr_won,
            CASE WHEN %(lost)s THEN 1 ELSE 0 END AS nbr_lost,
            CASE WHEN %(won)s THEN %(rate)s WHEN %(lost)s THEN 0.0 END AS win_rate,
            CASE WHEN %(won)s THEN COALESCE(l.expected_revenue, 0.0) ELSE 0.0 END
                AS won_revenue
            """,
            won=won,
            lost=lost,
            rate=WON,
        )

    def _from(self):
        return SQL("crm_lead l LEFT JOIN crm_stage stage ON stage.id = l.stage_id")

    def _where(self):
        return SQL(
            "l.sales_script_id IS NOT NULL AND l.type = 'opportunity' AND %s",
            self._lead_counted_sql(),
        )
