import ast

from odoo import api, fields, models


class CrmSupportTeam(models.Model):
    _name = "crm.support.team"
    _description = "Help Desk Team"
    _inherit = ["mail.alias.mixin", "mail.thread"]
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Team Leader",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        tracking=True,
    )
    member_ids = fields.Many2many(
        "res.users",
        "crm_support_team_member_rel",
        "team_id",
        "user_id",
        string="Members",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Members see and work the team's tickets; new tickets are assigned among them.",
    )
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        required=True,
        default=lambda self: self.env.company.resource_calendar_id,
        check_company=True,
        help="Service level deadlines count only these working hours (and public holidays "
        "of the calendar).",
    )
    sla_ids = fields.One2many("crm.support.sla", "team_id", string="Service Level Targets")
    at_risk_percent = fields.Integer(
        string="At Risk After (%)",
        default=75,
        help="A ticket is at risk once this share of its target time has elapsed.",
    )
    ticket_ids = fields.One2many("crm.support.ticket", "team_id", string="Tickets")
    open_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    unassigned_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    breached_ticket_count = fields.Integer(compute="_compute_ticket_counts")

    _sql_constraints = [
        (
            "at_risk_percent_range",
            "CHECK(at_risk_percent > 0 AND at_risk_percent <= 100)",
            "The at-risk threshold is a percentage between 1 and 100.",
        ),
    ]

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_ticket_counts(self):
        Ticket = self.env["crm.support.ticket"]
        base = [("team_id", "in", self.ids), ("is_closed", "=", False)]
        open_counts = dict(Ticket._read_group(base, ["team_id"], ["__count"]))
        unassigned = dict(
            Ticket._read_group([*base, ("user_id", "=", False)], ["team_id"], ["__count"])
        )
        breached = dict(
            Ticket._read_group([*base, ("sla_state", "=", "breached")], ["team_id"], ["__count"])
        )
        for team in self:
            team.open_ticket_count = open_counts.get(team, 0)
            team.unassigned_ticket_count = unassigned.get(team, 0)
            team.breached_ticket_count = breached.get(team, 0)

    # ------------------------------------------------------------
    # MAIL GATEWAY
    # ------------------------------------------------------------

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("crm.support.ticket")
        if self.id:
            defaults = ast.literal_eval(self.alias_defaults or "{}")
            defaults["team_id"] = self.id
            values["alias_defaults"] = defaults
        return values

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_sla(self, priority):
        """The service level target of this team for ``priority``, or an empty recordset.

        A priority without its own target falls back on the nearest lower priority's, so a
        team may define targets for "Normal" only.
        """
        self.ensure_one()
        by_priority = {sla.priority: sla for sla in self.sla_ids}
        for level in range(int(priority or 0), -1, -1):
            if str(level) in by_priority:
                return by_priority[str(level)]
        # no target at or below this priority: the lowest one defined
        return self.sla_ids.sorted("priority")[:1]

    @api.model
    def _get_default_team(self):
        """The team a ticket without one goes to: the user's own team, else the first."""
        domain = [("company_id", "in", self.env.companies.ids)]
        return self.search([*domain, ("member_ids", "in", self.env.uid)], limit=1) or self.search(
            domain, limit=1
        )

    def _get_assignees(self, count=1):
        """``count`` members for new tickets, each the one with the fewest open tickets.

        The load is read once and counted up as tickets are handed out, so tickets created
        together are spread over the members too. Empty when the team has no members.
        """
        self.ensure_one()
        if not self.member_ids:
            return []
        load = dict(
            self.env["crm.support.ticket"]._read_group(
                [
                    ("team_id", "=", self.id),
                    ("is_closed", "=", False),
                    ("user_id", "in", self.member_ids.ids),
                ],
                ["user_id"],
                ["__count"],
            )
        )
        assignees = []
        for _index in range(count):
            user = min(self.member_ids, key=lambda member: (load.get(member, 0), member.id))
            load[user] = load.get(user, 0) + 1
            assignees.append(user)
        return assignees

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_support_ticket_action"
        )
        action["domain"] = [("team_id", "=", self.id)]
        action["context"] = {"default_team_id": self.id, "search_default_filter_open": 1}
        return action
