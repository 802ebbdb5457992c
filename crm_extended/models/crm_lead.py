from odoo import fields, models


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "crm.contact.log.document.mixin"]
    _contact_log_field = "lead_id"

    contact_log_ids = fields.One2many("crm.contact.log", "lead_id", string="Contact Logs")
