from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CrmExtendedCommon

TODAY = date(2026, 3, 4)  # a Wednesday


class PromotionDeliveryCommon(CrmExtendedCommon):
    """A running promotion plan of the main company, built directly (not from the audience):
    four customers of our own, two loyalty programs (a members-only promotion, a personal
    coupon program), and :meth:`_launch` which freezes members and calls the delivery hooks
    exactly as ``action_launch`` does.

    Customers (all accept marketing, English, with email, mobile and address):
        customer_a, customer_b  target members
        customer_c              control member
        outsider                not a member
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls._create_product(
            "Bình lọc KMT khuyến mãi", price=1_000_000.0, taxes_id=False
        )
        Partner = cls.env["res.partner"]

        def customer(name, suffix):
            return Partner.create(
                {
                    "name": name,
                    "is_company": True,
                    "email": f"p3.{suffix}@khachhang.example.vn",
                    "mobile": f"+84 901 333 00{len(suffix)}",
                    "street": "12 Lê Lợi",
                    "city": "Huế",
                    "lang": "en_US",
                    "marketing_consent": True,
                    "user_id": cls.user_salesman.id,
                }
            )

        cls.customer_a = customer("Cửa hàng An Phú KMT", "a")
        cls.customer_b = customer("Đại lý Bình Minh KMT", "bb")
        cls.customer_c = customer("Nhà sách Cẩm Tú KMT", "ccc")
        cls.outsider = customer("Công ty Ngoại Lai KMT", "dddd")

        Program = cls.env["loyalty.program"]
        cls.promo_program = Program.create(
            {
                "name": "KM members promotion",
                "program_type": "promotion",
                "trigger": "auto",
                "applies_on": "current",
                "company_id": cls.company.id,
                "rule_ids": [
                    Command.create(
                        {
                            "reward_point_mode": "order",
                            "reward_point_amount": 1,
                            "minimum_amount": 0,
                            "minimum_qty": 0,
                        }
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "percent",
                            "discount_applicability": "order",
                            "required_points": 1,
                        }
                    )
                ],
            }
        )
        cls.coupon_program = Program.create(
            {
                "name": "KM personal coupons",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
                "company_id": cls.company.id,
                "rule_ids": [
                    Command.create(
                        {"reward_point_mode": "order", "reward_point_amount": 1, "minimum_qty": 0}
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 15,
                            "discount_mode": "percent",
                            "discount_applicability": "order",
                            "required_points": 1,
                        }
                    )
                ],
            }
        )

    @classmethod
    def _create_plan(cls, **values):
        return (
            cls.env["crm.promotion.plan"]
            .with_user(cls.user_sale_manager)
            .create(
                {
                    "name": "Tri ân khách hàng KMT",
                    "date_start": TODAY,
                    "date_end": TODAY + timedelta(days=30),
                    "offer_type": "coupon",
                    "loyalty_program_id": cls.coupon_program.id,
                    "coupon_points": 1,
                    "use_email": True,
                    "holdout_percent": 10,
                    **values,
                }
            )
        )

    @classmethod
    def _launch(cls, plan, targets, controls=(), user=None):
        """Make ``plan`` running with these members and run the launch hooks.

        :param targets: list of (partner, channel)
        :param controls: partners of the control group
        :return: the target members
        """
        plan.sudo().write({"state": "running"})
        Member = cls.env["crm.promotion.member"].sudo()
        user = user or cls.user_salesman
        Member.create(
            [
                {
                    "plan_id": plan.id,
                    "partner_id": partner.id,
                    "company_id": plan.company_id.id,
                    "user_id": user.id,
                    "group": "control",
                    "segment": "loyal",
                }
                for partner in controls
            ]
        )
        members = Member.create(
            [
                {
                    "plan_id": plan.id,
                    "partner_id": partner.id,
                    "company_id": plan.company_id.id,
                    "user_id": user.id,
                    "group": "target",
                    "segment": "loyal",
                    "channel": channel,
                }
                for partner, channel in targets
            ]
        )
        plan = plan.with_user(cls.user_sale_manager)
        plan._launch_offer(members)
        plan._launch_channels(members)
        return members

    def _order(self, partner, user=None):
        return (
            self.env["sale.order"]
            .with_user(user or self.user_salesman)
            .create(
                {
                    "partner_id": partner.id,
                    "order_line": self._command_lines([(self.product, 2)]),
                }
            )
        )

    def _reward_lines(self, order):
        return order.order_line.filtered("reward_id")


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPromotionOffer(PromotionDeliveryCommon):
    # ------------------------------------------------------------
    # personal coupons
    # ------------------------------------------------------------

    def test_coupons_one_per_target_member(self):
        plan = self._create_plan(coupon_points=2)
        members = self._launch(
            plan,
            [(self.customer_a, "email"), (self.customer_b, "email")],
            controls=[self.customer_c],
        )
        coupons = members.coupon_id
        self.assertEqual(len(coupons), 2)
        for member in members:
            coupon = member.coupon_id
            self.assertEqual(coupon.partner_id, member.partner_id)
            self.assertEqual(coupon.program_id, self.coupon_program)
            self.assertEqual(coupon.points, 2)
            self.assertEqual(coupon.expiration_date, plan.date_end)
            self.assertEqual(coupon.company_id, self.company)
            self.assertEqual(member.coupon_code, coupon.code)
        self.assertEqual(len(set(coupons.mapped("code"))), 2)
        control = plan.member_ids.filtered(lambda m: m.group == "control")
        self.assertFalse(control.coupon_id, "the control group gets nothing")
        self.assertEqual(self.coupon_program.crm_promotion_plan_id, plan)
        # the loyalty app's own coupon email is not sent: the plan's channels deliver it
        self.assertFalse(
            self.env["mail.mail"].search(
                [("model", "=", "loyalty.card"), ("res_id", "in", coupons.ids)]
            )
        )

    def test_coupon_creation_is_set_based(self):
        """Coupons are inserted in one statement per batch: the query count does not grow
        with the number of members."""
        Partner = self.env["res.partner"]
        few = Partner.create(
            [{"name": f"KM ít {i}", "email": f"p3.few{i}@x.example"} for i in range(3)]
        )
        many = Partner.create(
            [{"name": f"KM nhiều {i}", "email": f"p3.many{i}@x.example"} for i in range(30)]
        )
        Member = self.env["crm.promotion.member"].sudo()
        counts = []
        warm_up = Partner.create({"name": "KM warm-up", "email": "p3.warm@x.example"})
        for partners in (warm_up, few, many):
            plan = self._create_plan(
                loyalty_program_id=self.env["loyalty.program"]
                .create({"name": f"KM coupons {len(partners)}", "program_type": "coupons"})
                .id
            )
            plan.sudo().write({"state": "running"})
            members = Member.create(
                [
                    {
                        "plan_id": plan.id,
                        "partner_id": partner.id,
                        "company_id": self.company.id,
                        "group": "target",
                        "channel": "email",
                    }
                    for partner in partners
                ]
            )
            self.env.flush_all()
            self.env.invalidate_all()
            queries = self.cr.sql_log_count
            plan._create_coupons(members)
            counts.append(self.cr.sql_log_count - queries)
            self.assertEqual(len(members.coupon_id), len(partners))
        self.assertEqual(counts[1], counts[2])

    def test_coupon_bound_to_its_customer(self):
        plan = self._create_plan()
        member_a = self._launch(plan, [(self.customer_a, "email")])
        code = member_a.coupon_id.code

        # typed on another customer's order: refused with a clear message
        order = self._order(self.outsider)
        status = order._try_apply_code(code)
        self.assertIn("error", status)
        self.assertIn(code, status["error"])
        self.assertFalse(self._reward_lines(order))

        # on the customer's own order: the reward applies
        own = self._order(self.customer_a)
        status = own._try_apply_code(code)
        self.assertNotIn("error", status)
        coupon, rewards = next(iter(status.items()))
        self.assertEqual(coupon, member_a.coupon_id)
        own._apply_program_reward(rewards, coupon)
        lines = self._reward_lines(own)
        self.assertEqual(len(lines), 1)
        self.assertAlmostEqual(lines.price_subtotal, -300_000.0)

    def test_coupon_dropped_when_order_changes_customer(self):
        plan = self._create_plan()
        member_a = self._launch(plan, [(self.customer_a, "email"), (self.customer_b, "email")])
        order = self._order(self.customer_a)
        status = order._try_apply_code(member_a[0].coupon_id.code)
        coupon, rewards = next(iter(status.items()))
        order._apply_program_reward(rewards, coupon)
        self.assertTrue(self._reward_lines(order))

        # moved to customer B (also a member): A's personal coupon cannot follow
        order.partner_id = self.customer_b
        with self.assertRaises(UserError):
            order.action_confirm()
        order._update_programs_and_rewards()
        self.assertFalse(self._reward_lines(order))
        self.assertNotIn(coupon, order.applied_coupon_ids)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_coupon_of_plan_not_running_is_refused(self):
        plan = self._create_plan()
        member_a = self._launch(plan, [(self.customer_a, "email")])
        plan.sudo().write({"state": "done"})
        order = self._order(self.customer_a)
        status = order._try_apply_code(member_a.coupon_id.code)
        self.assertIn("error", status)

    # ------------------------------------------------------------
    # members-only promotion program
    # ------------------------------------------------------------

    def test_program_rewards_target_members_only(self):
        plan = self._create_plan(offer_type="program", loyalty_program_id=self.promo_program.id)
        self._launch(plan, [(self.customer_a, "call")], controls=[self.customer_c])
        self.assertEqual(self.promo_program.crm_promotion_plan_id, plan)

        for partner, rewarded in (
            (self.customer_a, True),
            (self.customer_c, False),  # the control group never gets the reward
            (self.outsider, False),
        ):
            order = self._order(partner)
            order._update_programs_and_rewards()
            claimable = order._get_claimable_rewards()
            self.assertEqual(
                bool(claimable),
                rewarded,
                f"{partner.name} should {'' if rewarded else 'not '}get the reward",
            )
            if rewarded:
                coupon, rewards = next(iter(claimable.items()))
                order._apply_program_reward(rewards, coupon)
                self.assertAlmostEqual(self._reward_lines(order).price_subtotal, -200_000.0)

    def test_program_stops_when_plan_ends(self):
        plan = self._create_plan(offer_type="program", loyalty_program_id=self.promo_program.id)
        self._launch(plan, [(self.customer_a, "call")])
        order = self._order(self.customer_a)
        order._update_programs_and_rewards()
        self.assertTrue(order._get_claimable_rewards())

        plan.sudo().write({"state": "done"})
        later = self._order(self.customer_a)
        later._update_programs_and_rewards()
        self.assertFalse(later._get_claimable_rewards())
        # the quotation made during the plan loses the program on its next update
        order._update_programs_and_rewards()
        self.assertNotIn(self.promo_program, order._get_applied_programs())

    def test_program_of_another_plan_is_refused(self):
        plan = self._create_plan(offer_type="program", loyalty_program_id=self.promo_program.id)
        self._launch(plan, [(self.customer_a, "call")])
        other = self._create_plan(
            name="Kế hoạch khác KMT",
            offer_type="program",
            loyalty_program_id=self.promo_program.id,
        )
        with self.assertRaises(UserError):
            self._launch(other, [(self.customer_b, "call")])
        # once the first plan is over, its program can serve a new plan
        plan.sudo().write({"state": "done"})
        other.sudo().write({"state": "approved"})
        self._launch(other, [(self.customer_b, "call")])
        self.assertEqual(self.promo_program.crm_promotion_plan_id, other)

    def test_program_of_running_plan_cannot_be_archived(self):
        plan = self._create_plan(offer_type="program", loyalty_program_id=self.promo_program.id)
        self._launch(plan, [(self.customer_a, "call")])
        with self.assertRaises(UserError):
            self.promo_program.action_archive()

    # ------------------------------------------------------------
    # salesperson view on the quotation
    # ------------------------------------------------------------

    def test_quotation_shows_running_promotions(self):
        plan = self._create_plan()
        member_a = self._launch(plan, [(self.customer_a, "email")], controls=[self.customer_c])
        order_a = self._order(self.customer_a)
        order_c = self._order(self.customer_c)
        order_out = self._order(self.outsider)
        self.assertEqual(order_a.promotion_member_ids, member_a)
        summary = str(order_a.promotion_summary)
        self.assertIn(plan.name, summary)
        self.assertIn(member_a.coupon_id.code, summary)
        self.assertFalse(order_c.promotion_member_ids, "control members are not told")
        self.assertFalse(order_c.promotion_summary)
        self.assertFalse(order_out.promotion_member_ids)

        plan.sudo().write({"state": "done"})
        order_a.invalidate_recordset(["promotion_member_ids", "promotion_summary"])
        self.assertFalse(order_a.promotion_member_ids)

    def test_quotation_of_another_company_shows_nothing(self):
        plan = self._create_plan()
        self._launch(plan, [(self.customer_a, "email")])
        other_company = self.env["res.company"].create({"name": "Công ty con KMT"})
        order = (
            self.env["sale.order"]
            .with_company(other_company)
            .create(
                {
                    "partner_id": self.customer_a.id,
                    "company_id": other_company.id,
                    "order_line": self._command_lines([(self.product, 1)]),
                }
            )
        )
        self.assertFalse(order.promotion_member_ids)
        self.assertFalse(order.promotion_summary)

    def test_quotation_banner_one_query_for_a_batch(self):
        plan = self._create_plan()
        self._launch(plan, [(self.customer_a, "email"), (self.customer_b, "email")])
        orders = self.env["sale.order"]
        for partner in (self.customer_a, self.customer_b, self.customer_c, self.outsider) * 3:
            orders |= self._order(partner)
        counts = []
        for batch in (orders[:4], orders):
            lang = self.env["res.lang"].get_installed()[0][0]
            batch = batch.with_user(self.user_salesman).with_context(lang=lang)
            self.env.flush_all()
            self.env.invalidate_all()
            batch.fetch(["partner_id", "company_id"])
            batch.partner_id.fetch(["commercial_partner_id"])
            queries = self.cr.sql_log_count
            batch.mapped("promotion_summary")
            counts.append(self.cr.sql_log_count - queries)
        self.assertEqual(counts[0], counts[1], "one search for all the orders")
