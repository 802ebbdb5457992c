from odoo import api, fields, models


class CrmContactLogDocumentMixin(models.AbstractModel):
    """A business document (order, invoice, opportunity) contacts can be about.

    Inheriting models set ``_contact_log_field`` to the ``crm.contact.log`` field pointing at
    them; they get a counter for their smart button and actions to list and log contacts,
    prefilled with the document and its customer.
    """

    _name = "crm.contact.log.document.mixin"
    _description = "Document with Contact Logs"
    _contact_log_field = None

    contact_log_count = fields.Integer(
        string="Contacts",
        compute="_compute_contact_log_count",
        compute_sudo=False,
        groups="crm_extended.group_contact_user",
    )

    @api.depends_context("uid")
    def _compute_contact_log_count(self):
        counts = dict(
            self.env["crm.contact.log"]._read_group(
                [(self._contact_log_field, "in", self.ids)], [self._contact_log_field], ["__count"]
            )
        )
        for document in self:
            document.contact_log_count = counts.get(document._origin, 0)

    def _contact_log_partner(self):
        """The customer a contact about this document is held with."""
        self.ensure_one()
        return self.partner_id

    def _contact_log_defaults(self):
        self.ensure_one()
        partner = self._contact_log_partner()
        return {
            "default_partner_id": partner.id,
            f"default_{self._contact_log_field}": self.id,
            "default_company_id": self.company_id.id,
        }

    def action_log_contact(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log a Contact"),
            "res_model": "crm.contact.log",
            "view_mode": "form",
            "views": [(self.env.ref("crm_extended.crm_contact_log_view_form_quick").id, "form")],
            "target": "new",
            "context": {
                **self._contact_log_defaults(),
                "default_state": "done",
                "default_date": fields.Datetime.now(),
            },
        }

    def action_view_contact_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_contact_log_action"
        )
        action["domain"] = [(self._contact_log_field, "=", self.id)]
        action["context"] = self._contact_log_defaults()
        return action
