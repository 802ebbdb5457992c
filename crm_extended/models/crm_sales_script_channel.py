from odoo import fields, models

from .crm_contact_log import CHANNELS


class CrmSalesScriptChannel(models.Model):
    """A contact channel a sales script is written for (phone, meeting, visit ...).

    One record per channel of the contact log (``CHANNELS``), shipped as data: it exists so a
    script can name several channels, which a selection field cannot.
    """

    _name = "crm.sales.script.channel"
    _description = "Sales Script Channel"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Selection(CHANNELS, required=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [
        ("code_uniq", "unique (code)", "There is already a channel with this code."),
    ]
