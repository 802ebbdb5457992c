from odoo import fields, models


class CrmContactLogCategory(models.Model):
    _name = "crm.contact.log.category"
    _description = "Contact Category"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_uniq", "unique (name)", "A contact category with this name already exists."),
    ]
