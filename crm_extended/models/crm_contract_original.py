from odoo import fields, models


class CrmContractOriginal(models.Model):
    _name = "crm.contract.original"
    _description = "Signed Original of a Contract"

    name = fields.Char()
