import ast
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

# why a candidate of the audience is left out (NULL reason = included)
EXCLUSION_REASONS = [
    ("company", "Other company"),
    ("do_not_contact", "Do not contact"),
    ("no_consent", "No marketing consent"),
    ("no_channel", "No reachable channel"),
]
CHANNEL_SELECTION = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("letter", "Letter"),
    ("call", "Phone Call"),
]
# the order in which a target member gets its channel: the first the plan uses that reaches
# the customer
CHANNEL_ORDER = ("email", "sms", "letter", "call")
MANAGER_GROUP = "sales_team.group_sale_manager"
# written by the workflow and the results refresh only
WORKFLOW_FIELDS = {
    "state",
    "approved_by_id",
    "approved_date",
    "launch_date",
    "results_date",
    "target_revenue_per_member",
    "control_revenue_per_member",
    "target_orders_per_member",
    "control_orders_per_member",
    "redemption_rate",
    "uplift_revenue",
    "discount_cost",
    "roi_percent",
}
# the audience, offer and channels: members are frozen from them
FROZEN_FIELDS = {
    "company_id",
    "date_start",
    "holdout_percent",
    "segment_ids",
    "category_bought_ids",
    "category_not_bought_ids",
    "revenue_min",
    "revenue_max",
    "last_order_after",
    "last_order_before",
    "tag_ids",
    "country_ids",
    "state_ids",
    "salesperson_ids",
    "audience_domain",
    "offer_type",
    "loyalty_program_id",
    "coupon_points",
    "use_email",
    "use_sms",
    "use_letter",
    "use_call",
}
# calls start at 9:00, one every 15 minutes: 36 end the working day at 18:00
MAX_CALLS_PER_DAY = 36


class CrmPromotionPlan(models.Model):
    """A promotion for the customers it fits, chosen from their purchase trends.

    Life cycle: a salesperson (or marketing) drafts the plan and previews its audience
    (:meth:`action_preview`); a sales manager approves it (:meth:`action_approve`) then
    launches it (:meth:`action_launch`), which freezes the audience into members — target
    members get the offer through one channel each, control members (``holdout_percent``)
    get nothing and measure what would have happened without the promotion. Results
    (:meth:`action_refresh_results`) compare the two groups during the period; once the
    plan is done they are frozen.

    Delivery (coupons, program restriction, emails, SMS, letters, calls) lives in
    ``crm_promotion_plan_delivery.py`` through :meth:`_launch_offer` and
    :meth:`_launch_channels`.
    """

    _name = "crm.promotion.plan"
    _description = "Promotion Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(required=True, tracking=True)
    objective = fields.Text(help="What the promotion should achieve, and for whom.")
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        required=True,
        tracking=True,
        index=True,
        check_company=True,
        domain="[('share', '=', False)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("approved", "Approved"),
            ("running", "In Progress"),
            ("done", "Finished"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
        group_expand=True,
    )
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    approved_date = fields.Datetime(readonly=True, copy=False)
    launch_date = fields.Datetime(readonly=True, copy=False)
    date_start = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    date_end = fields.Date(
        required=True,
        default=lambda self: fields.Date.context_today(self) + timedelta(days=30),
        tracking=True,
    )
    budget = fields.Monetary(
        tracking=True, help="What the promotion costs besides its discounts (mailing, calls...)."
    )

    # audience rules: every rule set narrows the audience, empty rules do not filter
    segment_ids = fields.Many2many(
        "crm.customer.segment",
        relation="crm_promotion_plan_segment_rel",
        column1="plan_id",
        column2="segment_id",
        string="Segments",
    )
    category_bought_ids = fields.Many2many(
        "product.category",
        relation="crm_promotion_plan_category_bought_rel",
        column1="plan_id",
        column2="category_id",
        string="Bought Categories",
        help="Customers who bought, on a confirmed order of the company, a product of one "
        "of these categories (or their sub-categories).",
    )
    category_not_bought_ids = fields.Many2many(
        "product.category",
        relation="crm_promotion_plan_category_not_bought_rel",
        column1="plan_id",
        column2="category_id",
        string="Categories Never Bought",
        help="Customers who never bought, on a confirmed order of the company, a product of "
        "these categories (or their sub-categories).",
    )
    revenue_min = fields.Monetary(
        string="Minimum Revenue", help="Revenue of the purchase trends; 0 = no minimum."
    )
    revenue_max = fields.Monetary(
        string="Maximum Revenue", help="Revenue of the purchase trends; 0 = no maximum."
    )
    last_order_after = fields.Date(help="Customers whose last order is on or after this date.")
    last_order_before = fields.Date(help="Customers whose last order is on or before this date.")
    tag_ids = fields.Many2many(
        "res.partner.category",
        relation="crm_promotion_plan_partner_category_rel",
        column1="plan_id",
        column2="category_id",
        string="Tags",
    )
    country_ids = fields.Many2many(
        "res.country",
        relation="crm_promotion_plan_country_rel",
        column1="plan_id",
        column2="country_id",
        string="Countries",
    )
    state_ids = fields.Many2many(
        "res.country.state",
        relation="crm_promotion_plan_country_state_rel",
        column1="plan_id",
        column2="state_id",
        string="States",
    )
    salesperson_ids = fields.Many2many(
        "res.users",
        relation="crm_promotion_plan_salesperson_rel",
        column1="plan_id",
        column2="user_id",
        string="Salespersons",
        help="Customers whose salesperson is one of these users.",
    )
    audience_domain = fields.Char(
        string="Other Conditions",
        default="[]",
        help="Any other condition on the customers, as a filter on contacts.",
    )
    holdout_percent = fields.Float(
        string="Control Group (%)",
        default=10.0,
        help="Share of the audience that gets nothing and serves as comparison (0 to 50%). "
        "It is drawn at launch, evenly in each segment.",
    )

    # offer
    offer_type = fields.Selection(
        [
            ("none", "No Offer"),
            ("program", "Promotion Program for Members"),
            ("coupon", "Personal Coupon per Member"),
        ],
        default="none",
        required=True,
        copy=False,  # the program belongs to one plan: a copy chooses its own offer
    )
    loyalty_program_id = fields.Many2one("loyalty.program", check_company=True, copy=False)
    coupon_points = fields.Float(default=1.0, help="Points loaded on each personal coupon.")

    # channels
    use_email = fields.Boolean(string="Email", default=True)
    use_sms = fields.Boolean(string="SMS")
    use_letter = fields.Boolean(string="Letter")
    use_call = fields.Boolean(string="Phone Call")
    sms_available = fields.Boolean(compute="_compute_sms_available")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain="[('model', '=', 'crm.promotion.member')]",
        default=lambda self: self._default_mail_template(),
    )
    sms_body = fields.Text(string="SMS Text")
    call_capacity_per_day = fields.Integer(
        default=20, help="Calls planned per salesperson and working day at most."
    )

    # members and counters
    member_ids = fields.One2many("crm.promotion.member", "plan_id", string="Members")
    member_count = fields.Integer(compute="_compute_counters")
    target_count = fields.Integer(compute="_compute_counters")
    control_count = fields.Integer(compute="_compute_counters")
    contacted_count = fields.Integer(compute="_compute_counters")
    redeemed_count = fields.Integer(compute="_compute_counters")

    # results: stored, written by action_refresh_results, frozen once the plan is done
    results_date = fields.Datetime(readonly=True, copy=False)
    target_revenue_per_member = fields.Monetary(readonly=True, copy=False)
    control_revenue_per_member = fields.Monetary(readonly=True, copy=False)
    target_orders_per_member = fields.Float(readonly=True, copy=False, digits=(16, 2))
    control_orders_per_member = fields.Float(readonly=True, copy=False, digits=(16, 2))
    redemption_rate = fields.Float(
        string="Redemption Rate (%)",
        readonly=True,
        copy=False,
        digits=(16, 2),
        help="Share of target members who used the offer.",
    )
    uplift_revenue = fields.Monetary(
        string="Incremental Revenue",
        readonly=True,
        copy=False,
        help="(Revenue per target member - revenue per control member) x target members.",
    )
    discount_cost = fields.Monetary(
        readonly=True, copy=False, help="Discounts of the plan's offer on confirmed orders."
    )
    roi_percent = fields.Float(
        string="ROI (%)",
        readonly=True,
        copy=False,
        digits=(16, 2),
        help="(Incremental revenue - discount cost - budget) / budget x 100, when a budget "
        "is set.",
    )

    # ------------------------------------------------------------
    # DEFAULTS & COMPUTES
    # ------------------------------------------------------------

    @api.model
    def _default_mail_template(self):
        return self.env.ref("crm_extended.mail_template_promotion_member", raise_if_not_found=False)

    def _compute_sms_available(self):
        self.sms_available = "sms.sms" in self.env

    def _compute_counters(self):
        stats = self._get_member_stats()
        for plan in self:
            plan_stats = stats.get(plan.id, {})
            plan.target_count = plan_stats.get("target_count", 0)
            plan.control_count = plan_stats.get("control_count", 0)
            plan.member_count = plan.target_count + plan.control_count
            plan.contacted_count = plan_stats.get("contacted_count", 0)
            plan.redeemed_count = plan_stats.get("redeemed_count", 0)

    def _get_member_stats(self):
        """{plan id: {target_count, control_count, contacted_count, redeemed_count,
        target_revenue, control_revenue, target_orders, control_orders, discount}} from
        one grouped query over the members of ``self``."""
        stats = {}
        if not self.ids:
            return stats
        groups = (
            self.env["crm.promotion.member"]
            .sudo()
            ._read_group(
                [("plan_id", "in", self.ids)],
                groupby=["plan_id", "group", "state", "redeemed"],
                aggregates=["__count", "revenue:sum", "order_count:sum", "discount_amount:sum"],
            )
        )
        for plan, group, state, redeemed, count, revenue, orders, discount in groups:
            plan_stats = stats.setdefault(
                plan.id,
                {
                    "target_count": 0,
                    "control_count": 0,
                    "contacted_count": 0,
                    "redeemed_count": 0,
                    "target_revenue": 0.0,
                    "control_revenue": 0.0,
                    "target_orders": 0,
                    "control_orders": 0,
                    "discount": 0.0,
                },
            )
            if group not in ("target", "control"):
                continue
            plan_stats[f"{group}_count"] += count
            plan_stats[f"{group}_revenue"] += revenue
            plan_stats[f"{group}_orders"] += orders
            plan_stats["discount"] += discount
            if state == "contacted":
                plan_stats["contacted_count"] += count
            if redeemed and group == "target":
                plan_stats["redeemed_count"] += count
        return stats

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for plan in self:
            if plan.date_start and plan.date_end and plan.date_end < plan.date_start:
                raise ValidationError(
                    self.env._(
                        "The promotion %(plan)s ends before it starts: set an end date on or "
                        "after the start date.",
                        plan=plan.name,
                    )
                )

    @api.constrains("holdout_percent")
    def _check_holdout_percent(self):
        for plan in self:
            if not 0 <= plan.holdout_percent <= 50:
                raise ValidationError(
                    self.env._(
                        "The control group of %(plan)s must be between 0%% and 50%% of the "
                        "audience.",
                        plan=plan.name,
                    )
                )

    @api.constrains("revenue_min", "revenue_max")
    def _check_revenue_range(self):
        for plan in self:
            if plan.revenue_min < 0 or plan.revenue_max < 0:
                raise ValidationError(
                    self.env._("The revenue range of %(plan)s cannot be negative.", plan=plan.name)
                )
            if plan.revenue_max and plan.revenue_min > plan.revenue_max:
                raise ValidationError(
                    self.env._(
                        "The minimum revenue of %(plan)s is above its maximum: lower the "
                        "minimum or raise the maximum (0 = no maximum).",
                        plan=plan.name,
                    )
                )

    @api.constrains("offer_type", "loyalty_program_id")
    def _check_offer(self):
        expected = {"program": "promotion", "coupon": "coupons"}
        program_types = dict(
            self.env["loyalty.program"]._fields["program_type"]._description_selection(self.env)
        )
        for plan in self:
            if plan.offer_type == "none":
                continue
            program = plan.loyalty_program_id
            if not program:
                raise ValidationError(
                    self.env._(
                        "Choose the loyalty program of the offer of %(plan)s, or set the "
                        "offer to none.",
                        plan=plan.name,
                    )
                )
            if program.program_type != expected[plan.offer_type]:
                raise ValidationError(
                    self.env._(
                        "The offer of %(plan)s needs a program of type %(type)s: "
                        "%(program)s is not one.",
                        plan=plan.name,
                        type=program_types.get(expected[plan.offer_type]),
                        program=program.display_name,
                    )
                )

    @api.constrains("audience_domain")
    def _check_audience_domain(self):
        for plan in self:
            plan._get_audience_domain()

    @api.constrains("call_capacity_per_day")
    def _check_call_capacity(self):
        for plan in self:
            if not 1 <= plan.call_capacity_per_day <= MAX_CALLS_PER_DAY:
                raise ValidationError(
                    self.env._(
                        "Plan between 1 and %(max)s calls per salesperson and day in "
                        "%(plan)s (one every 15 minutes from 9:00).",
                        max=MAX_CALLS_PER_DAY,
                        plan=plan.name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_write_values(vals, self.browse())
        return super().create(vals_list)

    def write(self, vals):
        self._check_write_values(vals, self)
        result = super().write(vals)
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            # record rules are checked before writing: the plan must still be the
            # salesperson's own draft afterwards
            self.check_access("write")
        return result

    def _check_write_values(self, vals, plans):
        """Refuse what only a sales manager or the workflow may change: the state, the
        approval and launch stamps and the results (salespeople would otherwise approve
        their own plans or forge results by a direct write); the audience, offer and
        channels once a plan left draft (members were frozen from them); SMS texts with
        code placeholders from users who may not write such templates."""
        if self.env.su:
            return
        manager = self.env.user.has_group(MANAGER_GROUP)
        workflow = set(vals) & WORKFLOW_FIELDS
        if workflow and not manager:
            raise AccessError(
                self.env._(
                    "Only a sales manager can approve, launch, close a promotion plan or "
                    "change its results (%(fields)s).",
                    fields=", ".join(sorted(workflow)),
                )
            )
        frozen = set(vals) & FROZEN_FIELDS
        if frozen and not self.env.context.get("crm_promotion_launch"):
            started = plans.filtered(lambda plan: plan.state != "draft")
            if started:
                raise UserError(
                    self.env._(
                        "The audience, offer and channels of %(plan)s are fixed once it is "
                        "approved: put it back to draft (before launch) or create a new plan.",
                        plan=started[0].name,
                    )
                )
        body = vals.get("sms_body")
        if (
            body
            and not self.env.user.has_group("mail.group_mail_template_editor")
            and self.env["mail.render.mixin"]._has_unsafe_expression_template_inline_template(
                body, "crm.promotion.member"
            )
        ):
            raise AccessError(
                self.env._(
                    "The SMS text uses placeholders only template editors may write: keep "
                    "to simple fields such as {{ object.partner_id.name }}."
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_launched(self):
        if any(plan.state in ("running", "done") for plan in self):
            raise UserError(
                self.env._(
                    "A launched promotion keeps its members and results: cancel it instead "
                    "of deleting it."
                )
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_preview(self):
        """Compute the audience now and open it: who is included, who is left out and why."""
        self.ensure_one()
        self.check_access("read")
        preview = self.env["crm.promotion.preview"]._create_for_plan(self)
        return preview._action_open()

    def action_approve(self):
        """A sales manager approves draft plans: they can then be launched."""
        self._check_manager(self.env._("approve a promotion plan"))
        if any(plan.state != "draft" for plan in self):
            raise UserError(self.env._("Only draft promotion plans can be approved."))
        for plan in self:
            if not any(plan[f"use_{channel}"] for channel in CHANNEL_ORDER):
                raise UserError(
                    self.env._(
                        "Choose at least one channel (email, SMS, letter or call) for "
                        "%(plan)s before approving it.",
                        plan=plan.name,
                    )
                )
        self.write(
            {
                "state": "approved",
                "approved_by_id": self.env.user.id,
                "approved_date": fields.Datetime.now(),
            }
        )
        return True

    def action_launch(self):
        """Freeze the audience of approved plans into members and deliver the offer.

        One ``INSERT … SELECT`` per plan: the included customers of :meth:`_get_audience_sql`
        become members with their segment, salesperson and channel; ``holdout_percent`` of
        them, drawn deterministically and evenly across segments, form the control group
        (no channel, no offer, never contacted). Then :meth:`_launch_offer` and
        :meth:`_launch_channels` act on the target members.
        """
        self._check_manager(self.env._("launch a promotion plan"))
        if any(plan.state != "approved" for plan in self):
            raise UserError(
                self.env._("Only approved promotion plans can be launched: approve them first.")
            )
        Member = self.env["crm.promotion.member"]
        for plan in self:
            counts = plan._insert_members()
            if not counts.get("target"):
                raise UserError(
                    self.env._(
                        "The audience of %(plan)s has no customer to reach: widen its rules "
                        "or its channels, then preview it again.",
                        plan=plan.name,
                    )
                )
            plan.write({"state": "running", "launch_date": fields.Datetime.now()})
            targets = Member.search([("plan_id", "=", plan.id), ("group", "=", "target")])
            plan._launch_offer(targets)
            plan._launch_channels(targets)
        return True

    def action_done(self):
        """Close running plans: their results are computed one last time, then frozen."""
        if any(plan.state != "running" for plan in self):
            raise UserError(self.env._("Only running promotion plans can be closed."))
        self.check_access("write")
        self.action_refresh_results()
        self.write({"state": "done"})
        return True

    def action_cancel(self):
        """Cancel plans that are not done. A running plan stops: its offer is no longer given
        (see the delivery), its members stay for the record."""
        if any(plan.state == "done" for plan in self):
            raise UserError(self.env._("A finished promotion plan cannot be cancelled."))
        self.check_access("write")
        self.write({"state": "cancelled"})
        return True

    def action_draft(self):
        """Back to draft: cancelled or approved plans that were never launched."""
        if any(plan.state not in ("approved", "cancelled") or plan.member_ids for plan in self):
            raise UserError(
                self.env._(
                    "Only approved or cancelled plans that were never launched go back to draft."
                )
            )
        self.check_access("write")
        self.write({"state": "draft", "approved_by_id": False, "approved_date": False})
        return True

    def action_refresh_results(self):
        """Recompute the members' orders, revenue, discounts and redemptions, then the plan's
        results. Plans that are done keep their frozen results."""
        self.check_access("read")
        # the figures are aggregates: salespeople who see none of the members refresh them too
        plans = self.filtered(
            lambda plan: plan.state in ("running", "cancelled") and plan.sudo().member_ids
        )
        if plans:
            plans._compute_results()
        return True

    def action_view_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_promotion_member_action"
        )
        domain = [("plan_id", "=", self.id)]
        extra = self.env.context.get("member_filter")
        if extra == "target":
            domain.append(("group", "=", "target"))
        elif extra == "control":
            domain.append(("group", "=", "control"))
        elif extra == "contacted":
            domain.append(("state", "=", "contacted"))
        elif extra == "redeemed":
            domain.append(("redeemed", "=", True))
        action.update({"domain": domain, "context": {"default_plan_id": self.id}})
        return action

    def action_print_results(self):
        self.ensure_one()
        return self.env.ref("crm_extended.action_report_promotion_results").report_action(self)

    @api.model
    def _cron_refresh_results(self):
        """Daily: refresh the results of running plans; close those whose period ended
        (their results are computed one last time and frozen)."""
        plans = self.search([("state", "=", "running")])
        today = fields.Date.context_today(self)
        ended = plans.filtered(lambda plan: plan.date_end < today)
        (plans - ended).action_refresh_results()
        ended.action_done()
        return plans

    # ------------------------------------------------------------
    # BUSINESS: audience
    # ------------------------------------------------------------

    def _check_manager(self, what):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only a sales manager can %(what)s: ask one to do it.",
                    what=what,
                )
            )
        self.check_access("write")

    def _get_audience_domain(self):
        """The ``audience_domain`` parsed into a domain on ``res.partner``; raises a
        ValidationError that says what is wrong when it is not a valid domain."""
        self.ensure_one()
        text = (self.audience_domain or "").strip() or "[]"
        try:
            domain = ast.literal_eval(text)
            if not isinstance(domain, list | tuple):
                raise ValueError(text)
            domain = list(domain)
            if domain:
                # validates the field names and operators
                self.env["res.partner"]._where_calc(domain)
        except Exception as error:
            raise ValidationError(
                self.env._(
                    "The other conditions of %(plan)s are not a valid contact filter "
                    "(%(error)s): fix them with the filter editor.",
                    plan=self.name,
                    error=str(error),
                )
            ) from error
        return domain

    def _get_category_ids(self, categories):
        """The ids of ``categories`` and all their sub-categories."""
        if not categories:
            return ()
        return tuple(
            self.env["product.category"]
            .sudo()
            .with_context(active_test=False)
            ._search([("id", "child_of", categories.ids)])
        )

    def _get_audience_sql(self):
        """The audience of the plan, decided in one set-based query.

        Candidates are the customers (commercial partners) with purchase trends in the plan's
        company (``crm_customer_rfm``) that match every audience rule. The query returns one
        row per candidate with these columns:

        - ``partner_id``;
        - ``reason``: NULL when the customer is included, else why it is left out:
          ``company`` (the customer belongs to another company), ``do_not_contact``,
          ``no_consent`` (a channel of the plan would reach them but they did not accept
          marketing), ``no_channel`` (no channel of the plan reaches them);
        - ``channel``: for included customers, the first channel of the plan that reaches
          them in the order email (email + consent), SMS (mobile or phone + consent, only
          when SMS is installed), letter (street + city + consent), call (anyone);
        - ``segment``: the purchase-trend segment;
        - ``user_id``: the customer's salesperson if an active internal user of the plan's
          company, else the plan's responsible.

        The personal fields (consent, do not contact) are read in SQL: salespeople who may
        not see them still get a correct audience.
        """
        self.ensure_one()
        self.env["crm.customer.rfm"].flush_model()
        self.env["res.partner"].flush_model()
        self.env["sale.order"].flush_model(["state", "company_id", "commercial_partner_id"])
        self.env["sale.order.line"].flush_model(["order_id", "product_id"])
        company_id = self.company_id.id
        conditions = [SQL("rfm.company_id = %s", company_id), SQL("p.active")]
        if self.segment_ids:
            conditions.append(SQL("rfm.segment IN %s", tuple(self.segment_ids.mapped("key"))))
        if self.revenue_min:
            conditions.append(SQL("rfm.monetary >= %s", self.revenue_min))
        if self.revenue_max:
            conditions.append(SQL("rfm.monetary <= %s", self.revenue_max))
        if self.last_order_after:
            conditions.append(SQL("rfm.last_order_date >= %s", self.last_order_after))
        if self.last_order_before:
            conditions.append(SQL("rfm.last_order_date <= %s", self.last_order_before))
        if self.country_ids:
            conditions.append(SQL("p.country_id IN %s", tuple(self.country_ids.ids)))
        if self.state_ids:
            conditions.append(SQL("p.state_id IN %s", tuple(self.state_ids.ids)))
        if self.salesperson_ids:
            conditions.append(SQL("p.user_id IN %s", tuple(self.salesperson_ids.ids)))
        if self.tag_ids:
            conditions.append(
                SQL(
                    """EXISTS (
                        SELECT 1 FROM res_partner_res_partner_category_rel tag
                         WHERE tag.partner_id = p.id AND tag.category_id IN %s)""",
                    tuple(self.tag_ids.ids),
                )
            )
        for categories, operator in (
            (self.category_bought_ids, SQL("IN")),
            (self.category_not_bought_ids, SQL("NOT IN")),
        ):
            if not categories:
                continue
            conditions.append(
                SQL(
                    """rfm.partner_id %s (
                        SELECT so.commercial_partner_id
                          FROM sale_order so
                          JOIN sale_order_line sol ON sol.order_id = so.id
                          JOIN product_product pp ON pp.id = sol.product_id
                          JOIN product_template pt ON pt.id = pp.product_tmpl_id
                         WHERE so.state = 'sale'
                           AND so.company_id = %s
                           AND so.commercial_partner_id IS NOT NULL
                           AND pt.categ_id IN %s)""",
                    operator,
                    company_id,
                    self._get_category_ids(categories),
                )
            )
        domain = self._get_audience_domain()
        if domain:
            query = self.env["res.partner"].with_context(active_test=False)._search(domain)
            conditions.append(SQL("p.id IN %s", query.subselect()))

        use_sms = self.use_sms and "sms.sms" in self.env
        return SQL(
            """
            SELECT partner_id,
                   reason,
                   CASE WHEN reason IS NOT NULL THEN NULL
                        WHEN consent AND email_ok THEN 'email'
                        WHEN consent AND sms_ok THEN 'sms'
                        WHEN consent AND letter_ok THEN 'letter'
                        WHEN %(use_call)s THEN 'call'
                   END AS channel,
                   segment,
                   user_id
              FROM (
                SELECT *,
                       CASE WHEN partner_company_id IS NOT NULL
                                 AND partner_company_id != %(company_id)s THEN 'company'
                            WHEN do_not_contact THEN 'do_not_contact'
                            WHEN consent AND (email_ok OR sms_ok OR letter_ok) THEN NULL
                            WHEN %(use_call)s THEN NULL
                            WHEN email_ok OR sms_ok OR letter_ok THEN 'no_consent'
                            ELSE 'no_channel'
                       END AS reason
                  FROM (
                    SELECT rfm.partner_id,
                           rfm.segment,
                           p.company_id AS partner_company_id,
                           COALESCE(seller.id, %(plan_user_id)s) AS user_id,
                           COALESCE(p.do_not_contact, FALSE) AS do_not_contact,
                           COALESCE(p.marketing_consent, FALSE) AS consent,
                           %(use_email)s AND COALESCE(p.email, '') != '' AS email_ok,
                           %(use_sms)s AND (COALESCE(p.mobile, '') != ''
                                            OR COALESCE(p.phone, '') != '') AS sms_ok,
                           %(use_letter)s AND COALESCE(p.street, '') != ''
                                          AND COALESCE(p.city, '') != '' AS letter_ok
                      FROM crm_customer_rfm rfm
                      JOIN res_partner p ON p.id = rfm.partner_id
                      -- the customer's salesperson takes the call if they still work in
                      -- the plan's company, else the plan's responsible does
                      LEFT JOIN (
                        SELECT u.id
                          FROM res_users u
                          JOIN res_company_users_rel cu ON cu.user_id = u.id
                         WHERE u.active AND NOT u.share AND cu.cid = %(company_id)s
                      ) seller ON seller.id = p.user_id
                     WHERE %(conditions)s
                  ) candidate
              ) decided
            """,
            use_call=bool(self.use_call),
            use_email=bool(self.use_email),
            use_sms=bool(use_sms),
            use_letter=bool(self.use_letter),
            company_id=company_id,
            plan_user_id=self.user_id.id or self.env.user.id,
            conditions=SQL(" AND ").join(conditions),
        )

    def _insert_members(self):
        """Insert the included customers of the audience as members of the plan, in one
        query; returns {group: count}.

        The control group is drawn by systematic sampling over the customers ordered by
        segment then by a hash of (plan, customer): a customer of rank r (1..n) is control
        when round(r x p) > round((r - 1) x p), p = holdout / 100. The total is exactly
        round(n x p), and each segment gets its share give or take one member. Running it
        again for the same plan and audience draws the same customers.
        """
        self.ensure_one()
        holdout = round(self.holdout_percent, 4) / 100.0
        rows = self.env.execute_query(
            SQL(
                """
                WITH ranked AS (
                    SELECT audience.*,
                           row_number() OVER (
                               ORDER BY segment NULLS LAST,
                                        md5(%(plan_id)s::text || '-' || partner_id::text),
                                        partner_id
                           ) AS rank
                      FROM (%(audience)s) audience
                     WHERE reason IS NULL
                ), inserted AS (
                    INSERT INTO crm_promotion_member (
                        plan_id, partner_id, company_id, user_id, "group", segment, channel,
                        state, redeemed, order_count, revenue, discount_amount,
                        create_uid, create_date, write_uid, write_date
                    )
                    SELECT %(plan_id)s, partner_id, %(company_id)s, user_id,
                           grp, segment,
                           CASE WHEN grp = 'target' THEN channel END,
                           'pending', FALSE, 0, 0, 0,
                           %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
                      FROM (
                        SELECT ranked.*,
                               CASE WHEN floor(rank * %(holdout)s::numeric + 0.5)
                                         > floor((rank - 1) * %(holdout)s::numeric + 0.5)
                                    THEN 'control' ELSE 'target'
                               END AS grp
                          FROM ranked
                      ) drawn
                    ON CONFLICT (plan_id, partner_id) DO NOTHING
                    RETURNING "group"
                )
                SELECT "group", count(*) FROM inserted GROUP BY "group"
                """,
                plan_id=self.id,
                company_id=self.company_id.id,
                audience=self._get_audience_sql(),
                holdout=holdout,
                uid=self.env.uid,
            )
        )
        self.env["crm.promotion.member"].invalidate_model()
        self.invalidate_recordset(["member_ids"])
        return dict(rows)

    # ------------------------------------------------------------
    # BUSINESS: delivery hooks (implemented in crm_promotion_plan_delivery.py)
    # ------------------------------------------------------------

    def _launch_offer(self, targets):
        """Give the offer to ``targets`` (target members of this plan, just launched):
        personal coupons or the members-only program. Does nothing here; the delivery
        extends it."""
        self.ensure_one()

    def _launch_channels(self, targets):
        """Reach ``targets`` (target members of this plan, just launched) through their
        channel: queue emails and SMS, prepare letters, plan calls. Does nothing here; the
        delivery extends it."""
        self.ensure_one()

    # ------------------------------------------------------------
    # BUSINESS: results
    # ------------------------------------------------------------

    def _compute_results(self):
        """Update the members' figures in one set-based query per plan, then the plan's
        results from one grouped read.

        For each member, over the confirmed orders of its customer in the plan's company
        dated within the period (``date_start`` 00:00 to ``date_end`` 24:00 in the company's
        timezone, as the purchase trends count days):

        - ``order_count``: number of orders;
        - ``discount_amount``: minus the subtotal of the order lines of the plan's offer
          (lines of the member's coupon, or rewards of the plan's program), in company
          currency;
        - ``revenue``: untaxed amount of the orders in company currency, *before* those
          discounts — so the uplift compares what customers bought, and the discounts are
          counted once, as a cost, in the ROI;
        - ``redeemed`` / ``redeemed_date``: the offer was used on one of them (first date).
        """
        Member = self.env["crm.promotion.member"]
        Member.flush_model()
        self.env["sale.order"].flush_model(
            [
                "state",
                "company_id",
                "commercial_partner_id",
                "date_order",
                "amount_untaxed",
                "currency_rate",
            ]
        )
        self.env["sale.order.line"].flush_model(
            ["order_id", "price_subtotal", "reward_id", "coupon_id"]
        )
        self.env["loyalty.reward"].flush_model(["program_id"])
        for plan in self:
            digits = plan.currency_id.decimal_places
            start, end = plan._get_period_bounds()
            self.env.cr.execute(
                SQL(
                    """
                    WITH orders AS (
                        SELECT m.id AS member_id,
                               so.date_order,
                               COALESCE(NULLIF(so.currency_rate, 0), 1) AS rate,
                               so.amount_untaxed,
                               offer.discount,
                               offer.lines
                          FROM crm_promotion_member m
                          JOIN sale_order so
                            ON so.commercial_partner_id = m.partner_id
                           AND so.company_id = m.company_id
                           AND so.state = 'sale'
                           AND so.date_order >= %(start)s
                           AND so.date_order < %(end)s
                          LEFT JOIN LATERAL (
                            SELECT COALESCE(SUM(-sol.price_subtotal), 0) AS discount,
                                   count(sol.id) AS lines
                              FROM sale_order_line sol
                              LEFT JOIN loyalty_reward reward ON reward.id = sol.reward_id
                             WHERE sol.order_id = so.id
                               AND ((m.coupon_id IS NOT NULL AND sol.coupon_id = m.coupon_id)
                                    OR reward.program_id = %(program_id)s)
                          ) offer ON TRUE
                         WHERE m.plan_id = %(plan_id)s
                    ), totals AS (
                        SELECT member_id,
                               count(*) AS order_count,
                               SUM(ROUND((amount_untaxed + discount) / rate, %(digits)s))
                                   AS revenue,
                               SUM(ROUND(discount / rate, %(digits)s)) AS discount_amount,
                               MIN(date_order) FILTER (WHERE lines > 0) AS redeemed_date
                          FROM orders
                         GROUP BY member_id
                    )
                    UPDATE crm_promotion_member m
                       SET order_count = COALESCE(totals.order_count, 0),
                           revenue = COALESCE(totals.revenue, 0),
                           discount_amount = COALESCE(totals.discount_amount, 0),
                           redeemed = totals.redeemed_date IS NOT NULL,
                           redeemed_date = totals.redeemed_date,
                           write_date = NOW() AT TIME ZONE 'UTC',
                           write_uid = %(uid)s
                      FROM crm_promotion_member member
                      LEFT JOIN totals ON totals.member_id = member.id
                     WHERE m.id = member.id
                       AND member.plan_id = %(plan_id)s
                    """,
                    plan_id=plan.id,
                    program_id=plan.loyalty_program_id.id or None,
                    start=start,
                    end=end,
                    digits=digits,
                    uid=self.env.uid,
                )
            )
        Member.invalidate_model(
            ["order_count", "revenue", "discount_amount", "redeemed", "redeemed_date"]
        )
        stats = self._get_member_stats()
        now = fields.Datetime.now()
        for plan in self:
            plan_stats = stats.get(plan.id, {})
            plan.sudo().write(plan._prepare_results_values(plan_stats, now))

    def _get_period_bounds(self):
        """The plan's period as UTC datetimes ``[start, end)``: from ``date_start`` 00:00 to
        the day after ``date_end`` 00:00, in the company's timezone."""
        self.ensure_one()
        zone = pytz.timezone(self.company_id.partner_id.tz or "UTC")

        def to_utc(day):
            local = zone.localize(datetime.combine(day, time.min))
            return local.astimezone(pytz.utc).replace(tzinfo=None)

        return to_utc(self.date_start), to_utc(self.date_end + timedelta(days=1))

    def _prepare_results_values(self, stats, now):
        """The plan's result fields from its member ``stats`` (see _get_member_stats)."""
        self.ensure_one()
        target = stats.get("target_count", 0)
        control = stats.get("control_count", 0)
        target_revenue = stats.get("target_revenue", 0.0) / target if target else 0.0
        control_revenue = stats.get("control_revenue", 0.0) / control if control else 0.0
        # without a control group nothing tells what the members would have bought anyway:
        # no uplift is claimed
        uplift = (
            self.currency_id.round((target_revenue - control_revenue) * target) if control else 0.0
        )
        discount = self.currency_id.round(stats.get("discount", 0.0))
        roi = (uplift - discount - self.budget) / self.budget * 100 if self.budget > 0 else 0.0
        return {
            "results_date": now,
            "target_revenue_per_member": target_revenue,
            "control_revenue_per_member": control_revenue,
            "target_orders_per_member": stats.get("target_orders", 0) / target if target else 0.0,
            "control_orders_per_member": (
                stats.get("control_orders", 0) / control if control else 0.0
            ),
            "redemption_rate": stats.get("redeemed_count", 0) / target * 100 if target else 0.0,
            "uplift_revenue": uplift,
            "discount_cost": discount,
            "roi_percent": roi,
        }
