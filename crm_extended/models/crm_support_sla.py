from odoo import api, fields, models
from odoo.exceptions import ValidationError

PRIORITIES = [
    ("0", "Low"),
    ("1", "Normal"),
    ("2", "High"),
    ("3", "Urgent"),
]


class CrmSupportSla(models.Model):
    _name = "crm.support.sla"
    _description = "Help Desk Service Level Target"
    _order = "team_id, priority desc"

    team_id = fields.Many2one("crm.support.team", required=True, ondelete="cascade", index=True)
    priority = fields.Selection(PRIORITIES, required=True, default="1")
    response_hours = fields.Float(
        string="First Response (working hours)",
        required=True,
        help="Working hours of the team's calendar within which the customer gets a first "
        "answer from the team.",
    )
    resolution_hours = fields.Float(
        string="Resolution (working hours)",
        required=True,
        help="Working hours of the team's calendar within which the ticket is solved.",
    )

    _sql_constraints = [
        (
            "team_priority_unique",
            "UNIQUE(team_id, priority)",
            "A team has one service level target per priority.",
        ),
    ]

    @api.constrains("response_hours", "resolution_hours")
    def _check_hours(self):
        for sla in self:
            if sla.response_hours <= 0 or sla.resolution_hours <= 0:
                raise ValidationError(
                    self.env._("Service level targets must be a positive number of hours.")
                )
            if sla.resolution_hours < sla.response_hours:
                raise ValidationError(
                    self.env._(
                        "The resolution target (%(resolution)s h) cannot be shorter than the "
                        "first response target (%(response)s h).",
                        resolution=sla.resolution_hours,
                        response=sla.response_hours,
                    )
                )
