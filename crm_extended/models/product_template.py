from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    warranty_months = fields.Integer(
        help="Length of the warranty from the invoice (or delivery) date. "
        "0 means the product has no warranty.",
    )

    @api.constrains("warranty_months")
    def _check_warranty_months(self):
        if any(template.warranty_months < 0 for template in self):
            raise ValidationError(
                self.env._("The warranty length cannot be negative: enter 0 for no warranty.")
            )
