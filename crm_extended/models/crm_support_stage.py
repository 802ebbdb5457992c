from odoo import fields, models


class CrmSupportStage(models.Model):
    _name = "crm.support.stage"
    _description = "Help Desk Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean(
        string="Folded in Kanban",
        help="Tickets in a folded stage are collapsed in the kanban view.",
    )
    is_closed = fields.Boolean(
        string="Closing Stage",
        help="Tickets reaching this stage are solved: the resolution time stops and the "
        "customer is asked to rate the service.",
    )
    notify_customer = fields.Boolean(
        help="Send the customer the stage's email when a ticket reaches this stage.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "crm.support.ticket")],
        help="Email sent to the customer when a ticket reaches this stage.",
    )
    team_ids = fields.Many2many(
        "crm.support.team",
        string="Teams",
        help="Teams using this stage. Leave empty to use it in every team.",
    )
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
