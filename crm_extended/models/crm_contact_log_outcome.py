from odoo import fields, models


class CrmContactLogOutcome(models.Model):
    _name = "crm.contact.log.outcome"
    _description = "Contact Outcome"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    reached = fields.Boolean(
        string="Customer Reached",
        default=True,
        help="The customer was actually reached (counts as a held conversation in reports).",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_uniq", "unique (name)", "A contact outcome with this name already exists."),
    ]
