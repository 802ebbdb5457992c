from odoo import api, fields, models

from .crm_customer_rfm import SEGMENTS
from .crm_promotion_plan import CHANNEL_SELECTION


class CrmPromotionMember(models.Model):
    """A customer of a launched promotion plan, frozen at launch.

    Target members get the offer through ``channel``; control members (``group`` =
    ``control``) get nothing, stay ``pending`` and measure what customers do without the
    promotion. Orders, revenue, discounts and redemption are set in SQL by
    ``crm.promotion.plan._compute_results``.
    """

    _name = "crm.promotion.member"
    _description = "Promotion Plan Member"
    _order = "plan_id desc, id"
    _check_company_auto = True
    _rec_name = "partner_id"

    plan_id = fields.Many2one(
        "crm.promotion.plan", required=True, ondelete="cascade", index=True, readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        readonly=True,
        help="The customer's salesperson at launch (else the plan's responsible).",
    )
    plan_state = fields.Selection(related="plan_id.state", string="Plan Status")
    group = fields.Selection(
        [("target", "Target"), ("control", "Control")],
        required=True,
        default="target",
        readonly=True,
        index=True,
    )
    segment = fields.Selection(SEGMENTS, readonly=True)
    channel = fields.Selection(CHANNEL_SELECTION, readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("contacted", "Contacted"), ("failed", "Failed")],
        default="pending",
        required=True,
        index=True,
    )
    contacted_date = fields.Datetime()
    # why a delivery failed tells whether the customer refused contact or marketing
    failure_reason = fields.Char(groups="crm_extended.group_personal_details")
    coupon_id = fields.Many2one("loyalty.card", readonly=True, index="btree_not_null")
    coupon_code = fields.Char(related="coupon_id.code")
    contact_log_id = fields.Many2one(
        "crm.contact.log", string="Planned Call", readonly=True, index="btree_not_null"
    )
    redeemed = fields.Boolean(readonly=True)
    redeemed_date = fields.Datetime(readonly=True)
    order_count = fields.Integer(string="Orders", readonly=True)
    revenue = fields.Monetary(
        readonly=True,
        help="Untaxed amount of the customer's confirmed orders in the plan period, before "
        "the plan's discounts, in company currency.",
    )
    discount_amount = fields.Monetary(
        string="Discount",
        readonly=True,
        help="Discounts of the plan's offer on those orders, in company currency.",
    )

    _sql_constraints = [
        (
            "plan_partner_unique",
            "UNIQUE(plan_id, partner_id)",
            "A customer is a member of a promotion plan only once.",
        ),
    ]

    @api.depends("partner_id", "plan_id")
    def _compute_display_name(self):
        for member in self:
            member.display_name = f"{member.plan_id.name} - {member.partner_id.display_name}"

    @api.model
    def mail_allowed_qweb_expressions(self):
        # what a promotion's SMS text may show when a salesperson (not a template editor)
        # writes it
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.coupon_code",
            "object.plan_id.name",
            "object.plan_id.date_end",
        )
