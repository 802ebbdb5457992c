from odoo import fields, models


class CrmSupportTag(models.Model):
    _name = "crm.support.tag"
    _description = "Help Desk Tag"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()

    _sql_constraints = [
        ("name_unique", "UNIQUE(name)", "A help desk tag with this name already exists."),
    ]
