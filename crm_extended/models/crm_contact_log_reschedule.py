from odoo import fields, models


class CrmContactLogReschedule(models.Model):
    _name = "crm.contact.log.reschedule"
    _description = "Contact Reschedule"
    _order = "create_date desc, id desc"

    log_id = fields.Many2one(
        "crm.contact.log", string="Contact", required=True, index=True, ondelete="cascade"
    )
    old_date = fields.Datetime(string="Planned On", readonly=True)
    new_date = fields.Datetime(string="Moved To", readonly=True)
    reason = fields.Char(readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Moved By", default=lambda self: self.env.user, readonly=True
    )
