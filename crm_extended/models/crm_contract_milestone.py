from odoo import fields, models


class CrmContractMilestone(models.Model):
    _name = "crm.contract.milestone"
    _description = "Contract Invoicing Milestone"

    name = fields.Char()
