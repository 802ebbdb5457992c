from odoo import fields, models
from odoo.exceptions import UserError


class CrmCustomerSegment(models.Model):
    """A purchase-trend segment (``crm.customer.rfm.segment`` keys), as a record so promotion
    plans can pick segments with tags. The records come with the module, one per key; only
    their name, sequence and description are meant to be edited.
    """

    _name = "crm.customer.segment"
    _description = "Customer Segment"
    _order = "sequence, id"

    key = fields.Char(
        required=True,
        readonly=True,
        help="The segment key of the purchase trends (champions, loyal, ...).",
    )
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    color = fields.Integer()
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("key_unique", "UNIQUE(key)", "Each purchase-trend segment exists only once."),
    ]

    def write(self, vals):
        # the purchase trends, the plans' audience rules and the partner search know the
        # segments by their key
        if "key" in vals and any(segment.key != vals["key"] for segment in self):
            raise UserError(
                self.env._(
                    "The key of a customer segment cannot be changed: the purchase trends "
                    "know the segments by it. Rename the segment instead."
                )
            )
        return super().write(vals)
