from odoo import fields, models, tools
from odoo.tools import SQL


class ResPartnerUpcomingDate(models.Model):
    """Birthdays and important dates of contacts, with their next occurrence, read-only.

    Built by PostgreSQL from the contacts' birthdates and their important dates; the next
    occurrence of 29 February is 28 February in other years (PostgreSQL's date arithmetic).
    """

    _name = "res.partner.upcoming.date"
    _description = "Upcoming Birthday or Important Date"
    _auto = False
    _order = "next_date, partner_id"
    _rec_name = "label"
    _depends = {
        "res.partner": ["birthdate_date", "commercial_partner_id", "name", "user_id", "active"],
        "res.partner.important.date": ["date", "kind", "name", "partner_id", "year_known"],
    }

    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    commercial_partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    kind = fields.Selection(
        [
            ("birthday", "Birthday"),
            ("family_birthday", "Birthday of a family member"),
            ("wedding", "Wedding anniversary"),
            ("customer_since", "Customer since"),
            ("founding", "Company founding"),
            ("custom", "Other"),
        ],
        readonly=True,
    )
    label = fields.Char(readonly=True)
    date = fields.Date(string="Original Date", readonly=True)
    next_date = fields.Date(readonly=True)
    days_left = fields.Integer(string="In (days)", readonly=True)
    years = fields.Integer(
        string="Turning / Years", readonly=True, help="Age reached or years celebrated."
    )

    def _next_occurrence(self, column):
        """The next day (today included) the month and day of ``column`` come back."""
        elapsed = SQL("date_part('year', age(CURRENT_DATE, %s))::int", column)
        this_year = SQL("(%s + make_interval(years => %s))::date", column, elapsed)
        return SQL(
            "CASE WHEN %(this_year)s >= CURRENT_DATE THEN %(this_year)s "
            "ELSE (%(column)s + make_interval(years => %(elapsed)s + 1))::date END",
            this_year=this_year,
            column=column,
            elapsed=elapsed,
        )

    def _query(self):
        birth = SQL("p.birthdate_date")
        day = SQL("d.date")
        return SQL(
            """
            SELECT p.id * 2 AS id, p.id AS partner_id, p.commercial_partner_id,
                   COALESCE(p.user_id, cp.user_id) AS user_id,
                   'birthday' AS kind, p.name AS label, p.birthdate_date AS date,
                   %(birth_next)s AS next_date
              FROM res_partner p
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             WHERE p.birthdate_date IS NOT NULL AND p.active
            UNION ALL
            SELECT d.id * 2 + 1, p.id, p.commercial_partner_id,
                   COALESCE(p.user_id, cp.user_id),
                   d.kind,
                   -- the kind says the rest, in the reader's language
                   CASE WHEN d.kind = 'custom' THEN d.name ELSE member.name END,
                   CASE WHEN d.year_known THEN d.date END, %(day_next)s
              FROM res_partner_important_date d
              JOIN res_partner p ON p.id = d.partner_id
              LEFT JOIN res_partner_family_member member ON member.id = d.family_member_id
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
             WHERE p.active
            """,
            birth_next=self._next_occurrence(birth),
            day_next=self._next_occurrence(day),
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                    SELECT occasion.*,
                           occasion.next_date - CURRENT_DATE AS days_left,
                           date_part('year', occasion.next_date)::int
                             - date_part('year', occasion.date)::int AS years
                      FROM (%(query)s) occasion
                )
                """,
                table=SQL.identifier(self._table),
                query=self._query(),
            )
        )
