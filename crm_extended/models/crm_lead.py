from odoo import fields, models


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "crm.contact.log.document.mixin"]
    _contact_log_field = "lead_id"

    contact_log_ids = fields.One2many("crm.contact.log", "lead_id", string="Contact Logs")
    lead_source_id = fields.Many2one(
        "crm.lead.source",
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        tracking=True,
        help="The external source the lead came from: webhook, file import or email alias.",
    )
    product_interest = fields.Char(help="The product the contact asked about, as they wrote it.")

    def _merge_get_fields(self):
        # merged leads keep where they came from and what they asked for
        return [*super()._merge_get_fields(), "lead_source_id", "product_interest"]
