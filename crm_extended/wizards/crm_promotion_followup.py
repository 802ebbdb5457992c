from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmPromotionFollowup(models.TransientModel):
    """Follow-up call list of a promotion plan: the target members contacted at least
    ``days`` days ago who did not use the offer get a planned call for their salesperson,
    spread over working days within the plan's daily call capacity."""

    _name = "crm.promotion.followup"
    _description = "Promotion Follow-up Call List"

    plan_id = fields.Many2one("crm.promotion.plan", required=True, ondelete="cascade")
    days = fields.Integer(
        string="Days Since Contact",
        default=7,
        required=True,
        help="Call the customers contacted at least this many days ago who did not use the "
        "offer yet.",
    )
    start_date = fields.Date(
        string="First Call On",
        required=True,
        default=lambda self: fields.Date.context_today(self) + timedelta(days=1),
    )
    member_count = fields.Integer(
        string="Customers to Call",
        compute="_compute_member_count",
        help="Target members contacted that long ago, not redeemed, without a call "
        "already planned.",
    )

    @api.constrains("days")
    def _check_days(self):
        for wizard in self:
            if wizard.days < 0:
                raise ValidationError(
                    self.env._("Give a number of days since the contact of 0 or more.")
                )

    @api.depends("plan_id", "days")
    def _compute_member_count(self):
        for wizard in self:
            wizard.member_count = (
                self.env["crm.promotion.member"].sudo().search_count(wizard._get_member_domain())
                if wizard.plan_id
                else 0
            )

    def _get_member_domain(self):
        """Members to call back: target members of the plan contacted ``days`` days ago or
        earlier, who did not redeem the offer, without a call still planned."""
        self.ensure_one()
        # the end of that day where the user is (contact dates are stored in UTC)
        day = fields.Date.context_today(self) - timedelta(days=max(self.days, 0))
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        limit = (
            tz.localize(datetime.combine(day, time.max)).astimezone(pytz.utc).replace(tzinfo=None)
        )
        return [
            ("plan_id", "=", self.plan_id.id),
            ("group", "=", "target"),
            ("state", "=", "contacted"),
            ("contacted_date", "<=", limit),
            ("redeemed", "=", False),
            "|",
            ("contact_log_id", "=", False),
            ("contact_log_id.state", "!=", "planned"),
        ]

    def action_create_calls(self):
        """Refresh the plan's results (who redeemed), then plan the calls."""
        self.ensure_one()
        plan = self.plan_id
        plan._check_manager(self.env._("plan follow-up calls"))
        if plan.state != "running":
            raise UserError(
                self.env._(
                    "Follow-up calls are planned for a running promotion: %(plan)s is not "
                    "running.",
                    plan=plan.name,
                )
            )
        plan.action_refresh_results()
        members = (
            self.env["crm.promotion.member"]
            .sudo()
            .search(self._get_member_domain(), order="user_id, id")
        )
        if not members:
            raise UserError(
                self.env._(
                    "No customer of %(plan)s to call back: nobody contacted %(days)s days ago "
                    "or more is still without using the offer.",
                    plan=plan.name,
                    days=self.days,
                )
            )
        # who is not to be contacted any more is left out
        excluded = {
            member_id
            for member_id, reason in plan._check_reachable(members).items()
            if reason == "do_not_contact"
        }
        members = members.filtered(lambda member: member.id not in excluded)
        logs = plan._plan_calls(members, max(self.start_date, fields.Date.context_today(self)))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Follow-up Calls"),
            "res_model": "crm.contact.log",
            "view_mode": "list,form",
            "domain": [("id", "in", logs.ids)],
        }
