from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import format_date


class SaleOrder(models.Model):
    """Promotion plans on quotations: the programs of a plan only reward its target
    customers while it runs, a personal coupon only serves the customer it was given to,
    and the salesperson sees the customer's running promotions on the quotation."""

    _inherit = "sale.order"

    promotion_member_ids = fields.Many2many(
        "crm.promotion.member",
        string="Running Promotions",
        compute="_compute_promotion_member_ids",
        compute_sudo=True,
        help="The running promotion plans this customer is a target of.",
    )
    promotion_summary = fields.Html(
        compute="_compute_promotion_member_ids",
        compute_sudo=True,
        sanitize=True,
        help="The customer's running promotions, their offer, coupon code and end date.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("partner_id")
    def _compute_promotion_member_ids(self):
        """One search for all the orders: members of running plans, target group, of the
        orders' commercial partners (and of the orders' company)."""
        customers = self.partner_id.commercial_partner_id
        members_by_key = defaultdict(lambda: self.env["crm.promotion.member"])
        if customers:
            members = self.env["crm.promotion.member"].search(
                [
                    ("partner_id", "in", customers.ids),
                    ("group", "=", "target"),
                    ("plan_id.state", "=", "running"),
                ],
                order="id",
            )
            for member in members:
                members_by_key[member.partner_id.id, member.company_id.id] |= member
        for order in self:
            key = (order.partner_id.commercial_partner_id.id, order.company_id.id)
            order.promotion_member_ids = members_by_key[key]
            order.promotion_summary = (
                order._get_promotion_summary(members_by_key[key]) if members_by_key[key] else False
            )

    def _get_promotion_summary(self, members):
        """HTML lines, one per running promotion of the customer: plan, offer, coupon code
        and last day, in the user's language."""
        self.ensure_one()
        rows = Markup("").join(
            Markup("<li><strong>%s</strong>%s%s — %s</li>")
            % (
                member.plan_id.name,
                Markup(": %s") % member.plan_id.offer_summary
                if member.plan_id.offer_summary
                else "",
                Markup(" — %s <code>%s</code>") % (self.env._("coupon"), member.coupon_id.code)
                if member.coupon_id
                else "",
                self.env._("until %(date)s", date=format_date(self.env, member.plan_id.date_end)),
            )
            for member in members
        )
        return Markup("<ul class='mb-0'>%s</ul>") % rows

    # ------------------------------------------------------------
    # LOYALTY: restriction of promotion plans' programs to their members
    # ------------------------------------------------------------

    def _get_program_domain(self):
        # a plan's program only serves its target members, while the plan runs
        domain = super()._get_program_domain()
        return expression.AND(
            [domain, self.env["loyalty.program"]._get_crm_promotion_domain(self.partner_id)]
        )

    def _get_trigger_domain(self):
        domain = super()._get_trigger_domain()
        program_domain = self.env["loyalty.program"]._get_crm_promotion_domain(self.partner_id)
        rule_domain = [
            (f"program_id.{term[0]}", term[1], term[2]) if isinstance(term, tuple) else term
            for term in program_domain
        ]
        return expression.AND([domain, rule_domain])

    def _get_foreign_plan_coupons(self, coupons):
        """The coupons of ``coupons`` given by a promotion plan to another customer than the
        order's: a personal coupon is only valid on its customer's orders."""
        self.ensure_one()
        customer = self.partner_id.commercial_partner_id
        return coupons.sudo().filtered(
            lambda coupon: coupon.program_id.crm_promotion_plan_id
            and coupon.partner_id
            and coupon.partner_id.commercial_partner_id != customer
        )

    def _try_apply_code(self, code):
        coupon = self.env["loyalty.card"].sudo().search([("code", "=", code)], limit=1)
        if coupon and self._get_foreign_plan_coupons(coupon):
            return {
                "error": self.env._(
                    "The coupon %(code)s is personal: it was given to another customer and "
                    "can only be used on that customer's orders.",
                    code=code,
                )
            }
        return super()._try_apply_code(code)

    def _update_programs_and_rewards(self):
        # the customer of the order changed: coupons given to someone else are taken off
        foreign = self._get_foreign_plan_coupons(
            self.applied_coupon_ids | self.order_line.coupon_id
        )
        if foreign:
            lines = self.order_line.filtered(lambda line: line.coupon_id in foreign)
            self.write(
                {
                    "applied_coupon_ids": [Command.unlink(coupon.id) for coupon in foreign],
                    "order_line": [Command.delete(line.id) for line in lines],
                }
            )
        return super()._update_programs_and_rewards()

    def action_confirm(self):
        for order in self:
            foreign = order._get_foreign_plan_coupons(order.order_line.coupon_id)
            if foreign:
                raise UserError(
                    self.env._(
                        "The order %(order)s uses the coupon %(code)s, which was given to "
                        "another customer: remove its reward line before confirming.",
                        order=order.name,
                        code=foreign[0].code,
                    )
                )
        return super().action_confirm()
