from odoo import fields, models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.contact.log.document.mixin"]
    _contact_log_field = "invoice_id"

    # the customer history filters invoices by customer company
    commercial_partner_id = fields.Many2one(index=True)
    contact_log_ids = fields.One2many("crm.contact.log", "invoice_id", string="Contact Logs")
