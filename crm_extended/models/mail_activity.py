from odoo import models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # Completing the activity of a planned contact holds the contact: one source of truth.
        self._linked_contact_logs()._mark_done_from_activity()
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)

    def unlink(self):
        if not self.env.context.get("crm_contact_log_sync"):
            # the salesperson cancelled the activity of a planned contact
            logs = self._linked_contact_logs()
            if logs:
                logs.with_context(crm_contact_log_sync=True).write(
                    {"state": "cancelled", "planned_activity_id": False}
                )
        return super().unlink()

    def _linked_contact_logs(self):
        """The planned or missed contacts whose activity is in ``self``."""
        ids = [act.res_id for act in self if act.res_model == "crm.contact.log"]
        if not ids:
            return self.env["crm.contact.log"]
        return (
            self.env["crm.contact.log"]
            .sudo()
            .search(
                [
                    ("id", "in", ids),
                    ("planned_activity_id", "in", self.ids),
                    ("state", "in", ("planned", "missed")),
                ]
            )
        )
