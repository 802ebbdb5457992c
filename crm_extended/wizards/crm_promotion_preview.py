from odoo import api, fields, models
from odoo.tools import SQL

from ..models.crm_customer_rfm import SEGMENTS
from ..models.crm_promotion_plan import CHANNEL_SELECTION, EXCLUSION_REASONS


class CrmPromotionPreview(models.TransientModel):
    """The audience of a promotion plan as it is now: who would be a member, through which
    channel, and who is left out and why — each exclusion counted. Filled in SQL from
    ``crm.promotion.plan._get_audience_sql`` (see :meth:`_create_for_plan`)."""

    _name = "crm.promotion.preview"
    _description = "Promotion Audience Preview"

    plan_id = fields.Many2one("crm.promotion.plan", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="plan_id.company_id")
    line_ids = fields.One2many(
        "crm.promotion.preview.line", "preview_id", string="Customers", readonly=True
    )
    included_line_ids = fields.One2many(
        "crm.promotion.preview.line",
        "preview_id",
        domain=[("left_out", "=", False)],
        readonly=True,
    )
    excluded_line_ids = fields.One2many(
        "crm.promotion.preview.line",
        "preview_id",
        domain=[("left_out", "=", True)],
        readonly=True,
    )
    candidate_count = fields.Integer(string="Matching Customers", readonly=True)
    included_count = fields.Integer(string="Audience", readonly=True)
    excluded_count = fields.Integer(string="Left Out", readonly=True)
    target_count = fields.Integer(
        string="Target Group", readonly=True, help="Members who will get the offer."
    )
    control_count = fields.Integer(
        string="Control Group", readonly=True, help="Members who will get nothing."
    )
    company_excluded_count = fields.Integer(string="Other Company", readonly=True)
    do_not_contact_count = fields.Integer(string="Do Not Contact", readonly=True)
    no_consent_count = fields.Integer(string="No Marketing Consent", readonly=True)
    no_channel_count = fields.Integer(string="No Reachable Channel", readonly=True)
    email_count = fields.Integer(string="By Email", readonly=True)
    sms_count = fields.Integer(string="By SMS", readonly=True)
    letter_count = fields.Integer(string="By Letter", readonly=True)
    call_count = fields.Integer(string="By Phone", readonly=True)

    @api.depends("plan_id")
    def _compute_display_name(self):
        for preview in self:
            preview.display_name = self.env._(
                "Audience of %(plan)s", plan=preview.plan_id.name or ""
            )

    def _create_for_plan(self, plan):
        """A preview of ``plan``'s audience: its lines inserted by one ``INSERT … SELECT``
        from the audience query, its counters from one grouped query over them."""
        preview = self.create({"plan_id": plan.id})
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_promotion_preview_line (
                    preview_id, partner_id, left_out, reason, channel, segment,
                    create_uid, create_date, write_uid, write_date
                )
                SELECT %(preview_id)s, partner_id, reason IS NOT NULL, reason, channel, segment,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                  FROM (%(audience)s) audience
                """,
                preview_id=preview.id,
                audience=plan._get_audience_sql(),
                uid=self.env.uid,
            )
        )
        preview.invalidate_recordset(["line_ids", "included_line_ids", "excluded_line_ids"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT reason, channel, count(*)
                  FROM crm_promotion_preview_line
                 WHERE preview_id = %s
                 GROUP BY reason, channel
                """,
                preview.id,
            )
        )
        values = dict.fromkeys(
            [
                "candidate_count",
                "included_count",
                "excluded_count",
                "company_excluded_count",
                "do_not_contact_count",
                "no_consent_count",
                "no_channel_count",
                "email_count",
                "sms_count",
                "letter_count",
                "call_count",
            ],
            0,
        )
        for reason, channel, count in rows:
            values["candidate_count"] += count
            if reason:
                values["excluded_count"] += count
                key = "company_excluded_count" if reason == "company" else f"{reason}_count"
                values[key] += count
            else:
                values["included_count"] += count
                values[f"{channel}_count"] += count
        # the same rounding as the launch (crm.promotion.plan._insert_members)
        control = int(values["included_count"] * round(plan.holdout_percent, 4) / 100.0 + 0.5)
        values.update(control_count=control, target_count=values["included_count"] - control)
        preview.write(values)
        return preview

    def _action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Audience of %(plan)s", plan=self.plan_id.name),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_refresh(self):
        self.ensure_one()
        return self.plan_id.action_preview()

    def action_open_plan(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.promotion.plan",
            "res_id": self.plan_id.id,
            "view_mode": "form",
            "target": "current",
        }


class CrmPromotionPreviewLine(models.TransientModel):
    _name = "crm.promotion.preview.line"
    _description = "Promotion Audience Preview Line"
    _order = "left_out desc, id"

    preview_id = fields.Many2one(
        "crm.promotion.preview", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, ondelete="cascade"
    )
    left_out = fields.Boolean(readonly=True)
    # why a customer is left out tells whether they refused contact or marketing: personal
    # data, shown only to the people allowed to see it (the counts are for everyone)
    reason = fields.Selection(
        EXCLUSION_REASONS,
        string="Left Out Because",
        groups="crm_extended.group_personal_details",
    )
    channel = fields.Selection(CHANNEL_SELECTION)
    segment = fields.Selection(SEGMENTS)
