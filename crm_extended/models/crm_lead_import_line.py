from odoo import api, fields, models

from .crm_lead_import import INTAKE_KEYS


class CrmLeadImportLine(models.Model):
    """What became of one row of an imported file: the lead created, the open lead it was
    merged into, or why it was rejected (see ``crm.lead.source._intake_leads``)."""

    _name = "crm.lead.import.line"
    _description = "Lead Import Row"
    _order = "import_id desc, row_number"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    import_id = fields.Many2one("crm.lead.import", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="import_id.company_id", store=True, index=True)
    source_id = fields.Many2one(related="import_id.source_id")
    row_number = fields.Integer(string="Row", readonly=True, aggregator=None)
    values = fields.Json(string="Received Values", readonly=True)
    values_text = fields.Text(string="Received", compute="_compute_values_text")
    name = fields.Char(string="Contact", readonly=True)
    email = fields.Char(readonly=True)
    phone = fields.Char(readonly=True)
    status = fields.Selection(
        [("created", "Created"), ("merged", "Merged"), ("rejected", "Rejected")],
        required=True,
        readonly=True,
        index=True,
    )
    lead_id = fields.Many2one("crm.lead", readonly=True, ondelete="set null")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    match = fields.Selection(
        [("email", "Email"), ("phone", "Phone"), ("vat", "Tax ID")],
        string="Matched By",
        readonly=True,
    )
    error_field = fields.Selection(INTAKE_KEYS, string="Field at Fault", readonly=True)
    reason = fields.Char(readonly=True)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("values")
    def _compute_values_text(self):
        labels = dict(self._fields["error_field"]._description_selection(self.env))
        for line in self:
            line.values_text = "\n".join(
                f"{labels.get(key, key)}: {value}"
                for key, value in (line.values or {}).items()
                if value
            )
