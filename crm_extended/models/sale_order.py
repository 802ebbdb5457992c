from odoo import fields, models


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "crm.contact.log.document.mixin"]
    _contact_log_field = "sale_order_id"

    contact_log_ids = fields.One2many("crm.contact.log", "sale_order_id", string="Contact Logs")
