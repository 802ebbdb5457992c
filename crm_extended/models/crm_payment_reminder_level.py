from odoo import fields, models


class CrmPaymentReminderLevel(models.Model):
    _name = "crm.payment.reminder.level"
    _description = "Payment Reminder Level"

    name = fields.Char()
