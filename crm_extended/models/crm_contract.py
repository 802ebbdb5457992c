from odoo import fields, models


class CrmContract(models.Model):
    _name = "crm.contract"
    _description = "Contract"

    name = fields.Char()
