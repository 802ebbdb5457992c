from odoo import fields, models


class CrmSalesScriptObjection(models.Model):
    """An objection a customer may raise, with the answer the script recommends."""

    _name = "crm.sales.script.objection"
    _description = "Sales Script Objection"
    _order = "script_id, sequence, id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(string="Objection", required=True)
    answer = fields.Html(sanitize=True)
    sequence = fields.Integer(default=10)
    script_id = fields.Many2one("crm.sales.script", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="script_id.company_id", store=True, index=True)
