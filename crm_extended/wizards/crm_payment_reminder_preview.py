from odoo import fields, models


class CrmPaymentReminderPreview(models.TransientModel):
    _name = "crm.payment.reminder.preview"
    _description = "Preview of the Next Payment Reminder Run"

    name = fields.Char()
