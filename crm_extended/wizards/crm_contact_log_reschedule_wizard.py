from odoo import fields, models
from odoo.exceptions import UserError


class CrmContactLogRescheduleWizard(models.TransientModel):
    _name = "crm.contact.log.reschedule.wizard"
    _description = "Reschedule a Planned Contact"

    log_id = fields.Many2one("crm.contact.log", string="Contact", required=True)
    new_date = fields.Datetime(required=True)
    reason = fields.Char(required=True)

    def action_reschedule(self):
        self.ensure_one()
        if self.log_id.state not in ("planned", "missed"):
            raise UserError(self.env._("Only a planned or missed contact can be rescheduled."))
        if self.new_date == self.log_id.planned_date:
            raise UserError(self.env._("Choose a date other than the one already planned."))
        self.log_id.with_context(crm_contact_log_reschedule_reason=self.reason).write(
            {"planned_date": self.new_date}
        )
        return {"type": "ir.actions.act_window_close"}
