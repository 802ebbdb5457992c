from odoo import models
from odoo.tools import SQL


class CrmLeadReportMixin(models.AbstractModel):
    """What the SQL reports on leads (by source, by sales script) agree on: when a lead is won,
    when it is lost, which leads count at all, and how a row opens its lead.

    The reports select from ``crm_lead l LEFT JOIN crm_stage stage ON stage.id = l.stage_id``.
    """

    _name = "crm.lead.report.mixin"
    _description = "Report on Leads"

    def _lead_won_sql(self):
        return SQL("(l.active AND COALESCE(stage.is_won, FALSE))")

    def _lead_lost_sql(self):
        # Odoo archives lost leads with a probability of 0
        return SQL("(NOT l.active AND COALESCE(l.probability, 0) = 0)")

    def _lead_counted_sql(self):
        # archived leads that are not lost (merged into another one) are not counted
        return SQL("(l.active OR COALESCE(l.probability, 0) = 0)")

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
