from odoo import fields, models


class ResPartnerHobby(models.Model):
    _name = "res.partner.hobby"
    _description = "Hobby or Interest"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_uniq", "unique (name)", "A hobby with this name already exists."),
    ]
