from odoo import fields, models


class CrmContractLine(models.Model):
    _name = "crm.contract.line"
    _description = "Contract Line"

    name = fields.Char()
