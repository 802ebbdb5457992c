from odoo import fields, models


class CrmPaymentReminder(models.Model):
    _name = "crm.payment.reminder"
    _description = "Payment Reminder"

    name = fields.Char()
