from odoo import api, fields, models


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

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """Leads created from the emails sent to a sales team's alias carry the email source
        tied to that team (``crm.lead.source`` of kind ``email``), if there is one."""
        values = dict(custom_values or {})
        if not values.get("lead_source_id"):
            team_id = values.get("team_id") or self.env.context.get("default_team_id")
            source = self.env["crm.lead.source"]._get_email_source(team_id)
            if source:
                values.update(source._prepare_email_lead_values(values))
        return super().message_new(msg_dict, custom_values=values)
