from datetime import date, datetime

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged, users
from odoo.tools import SQL, mute_logger

from .common import CrmExtendedCommon

TODAY = date(2026, 3, 2)


class PromotionCommon(CrmExtendedCommon):
    """Customers with hand-made purchase trends, and a helper to draft plans.

    The purchase trends of the main company are replaced by ours (``_set_rfm``) so the demo
    customers never enter an audience. Customers (commercial partners, all of the
    salesman unless said otherwise):

        cust_email      email + marketing consent            champions
        cust_no_consent email, no consent                    loyal
        cust_dnc        email + consent but do not contact   champions
        cust_bare       consent but no email nor address     lost
        cust_letter     street + city + consent, no email    at_risk
        cust_foreign    restricted to another company        champions
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Plan = cls.env["crm.promotion.plan"]
        cls.company_2 = cls.env["res.company"].create({"name": "Công ty Khuyến Mãi Hai"})
        cls.user_salesman.write({"company_ids": [Command.link(cls.company_2.id)]})
        cls.user_sale_manager.write({"company_ids": [Command.link(cls.company_2.id)]})
        cls.env.cr.execute(
            SQL("DELETE FROM crm_customer_rfm WHERE company_id = %s", cls.company.id)
        )
        cls.env["crm.customer.rfm"].invalidate_model()

        def customer(name, **values):
            return cls.env["res.partner"].create(
                {"name": name, "is_company": True, "user_id": cls.user_salesman.id, **values}
            )

        cls.cust_email = customer(
            "KM Cửa hàng Ánh Dương",
            email="anhduong@km.example.vn",
            marketing_consent=True,
            country_id=cls.env.ref("base.vn").id,
        )
        cls.cust_no_consent = customer("KM Nhà sách Bình Minh", email="binhminh@km.example.vn")
        cls.cust_dnc = customer(
            "KM Quán Cà phê Chiều",
            email="chieu@km.example.vn",
            marketing_consent=True,
            do_not_contact=True,
        )
        cls.cust_bare = customer("KM Tạp hóa Đồng Quê", marketing_consent=True)
        cls.cust_letter = customer(
            "KM Tiệm Vải Hoa Sen",
            street="12 Lê Lợi",
            city="Huế",
            marketing_consent=True,
            user_id=False,
        )
        cls.cust_foreign = customer(
            "KM Siêu thị Phương Nam",
            email="phuongnam@km.example.vn",
            marketing_consent=True,
            company_id=cls.company_2.id,
        )
        cls._set_rfm(cls.cust_email, "champions", 9_000_000, date(2026, 2, 20))
        cls._set_rfm(cls.cust_no_consent, "loyal", 5_000_000, date(2026, 1, 10))
        cls._set_rfm(cls.cust_dnc, "champions", 8_000_000, date(2026, 2, 25))
        cls._set_rfm(cls.cust_bare, "lost", 300_000, date(2024, 6, 1))
        cls._set_rfm(cls.cust_letter, "at_risk", 2_000_000, date(2025, 5, 1))
        cls._set_rfm(cls.cust_foreign, "champions", 7_000_000, date(2026, 2, 1))

    @classmethod
    def _set_rfm(cls, partner, segment, monetary, last_order_date, company=None):
        """Purchase trends of ``partner`` as the refresh would have written them."""
        cls.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_customer_rfm (partner_id, company_id, segment, monetary,
                                              last_order_date, frequency)
                VALUES (%s, %s, %s, %s, %s, 1)
                """,
                partner.id,
                (company or cls.company).id,
                segment,
                monetary,
                last_order_date,
            )
        )

    @classmethod
    def _plan_values(cls, **values):
        return {
            "name": "Khuyến mãi mùa xuân",
            "date_start": date(2026, 3, 1),
            "date_end": date(2026, 3, 31),
            "use_email": True,
            **values,
        }

    def _audience(self, plan):
        """{partner: (reason, channel)} of the plan's audience query."""
        rows = self.env.execute_query(plan._get_audience_sql())
        return {self.env["res.partner"].browse(row[0]): (row[1], row[2]) for row in rows}

    def _launch(self, plan):
        plan.with_user(self.user_sale_manager).action_approve()
        plan.with_user(self.user_sale_manager).action_launch()
        return plan


@tagged("post_install", "-at_install")
class TestPromotionAudience(PromotionCommon):
    def test_calls_go_to_a_salesperson_who_still_works_here(self):
        """The customer's salesperson takes the member unless archived or not of the plan's
        company; then the plan's responsible does."""
        plan = self.Plan.create(self._plan_values(user_id=self.user_sale_manager.id))

        def user_of(partner):
            rows = self.env.execute_query(plan._get_audience_sql())
            return {row[0]: row[4] for row in rows}[partner.id]

        self.assertEqual(user_of(self.cust_email), self.user_salesman.id)
        self.user_salesman.active = False
        self.assertEqual(user_of(self.cust_email), self.user_sale_manager.id)

    @users("ce_salesman")
    def test_audience_reasons_email_only(self):
        """Email only: consent and an address decide; each exclusion has its reason."""
        plan = self.env["crm.promotion.plan"].create(self._plan_values())
        audience = self._audience(plan)
        self.assertEqual(
            audience,
            {
                self.cust_email: (None, "email"),
                self.cust_no_consent: ("no_consent", None),
                self.cust_dnc: ("do_not_contact", None),
                self.cust_bare: ("no_channel", None),
                self.cust_letter: ("no_channel", None),
                self.cust_foreign: ("company", None),
            },
        )

    @users("ce_salesman")
    def test_audience_channels_in_order(self):
        """Each customer gets the first channel of the plan that reaches them; calls reach
        anyone who may be contacted, consent or not."""
        plan = self.env["crm.promotion.plan"].create(
            self._plan_values(use_letter=True, use_call=True)
        )
        audience = self._audience(plan)
        self.assertEqual(audience[self.cust_email], (None, "email"))
        self.assertEqual(audience[self.cust_letter], (None, "letter"))
        self.assertEqual(audience[self.cust_no_consent], (None, "call"))
        self.assertEqual(audience[self.cust_bare], (None, "call"))
        self.assertEqual(audience[self.cust_dnc], ("do_not_contact", None))
        self.assertEqual(audience[self.cust_foreign], ("company", None))

    @users("ce_salesman")
    def test_audience_letter_needs_consent(self):
        self.cust_letter.sudo().marketing_consent = False
        plan = self.env["crm.promotion.plan"].create(
            self._plan_values(use_email=False, use_letter=True)
        )
        audience = self._audience(plan)
        self.assertEqual(audience[self.cust_letter], ("no_consent", None))
        self.assertEqual(audience[self.cust_email], ("no_channel", None))

    @users("ce_salesman")
    def test_preview_counts_and_lists(self):
        plan = self.env["crm.promotion.plan"].create(self._plan_values(holdout_percent=0))
        action = plan.action_preview()
        preview = self.env["crm.promotion.preview"].browse(action["res_id"])
        self.assertEqual(action["res_model"], "crm.promotion.preview")
        self.assertRecordValues(
            preview,
            [
                {
                    "candidate_count": 6,
                    "included_count": 1,
                    "excluded_count": 5,
                    "do_not_contact_count": 1,
                    "no_consent_count": 1,
                    "no_channel_count": 2,
                    "company_excluded_count": 1,
                    "email_count": 1,
                    "target_count": 1,
                    "control_count": 0,
                }
            ],
        )
        self.assertEqual(preview.included_line_ids.partner_id, self.cust_email)
        self.assertEqual(
            # why they are left out is personal data: read here with the rights of the system
            set(preview.sudo().excluded_line_ids.mapped("reason")),
            {"do_not_contact", "no_consent", "no_channel", "company"},
        )

    def test_audience_rules(self):
        """Every rule narrows the audience; empty rules do not filter."""
        Plan = self.Plan
        tag = self.env["res.partner.category"].create({"name": "KM Khách VIP"})
        self.cust_letter.category_id = tag
        segment = self.env.ref("crm_extended.crm_customer_segment_champions")
        champions = self.cust_email | self.cust_dnc | self.cust_foreign
        of_salesman = champions - self.cust_foreign | self.cust_no_consent | self.cust_bare
        rules = [
            ({"segment_ids": [Command.set(segment.ids)]}, champions),
            (
                {"revenue_min": 2_000_000, "revenue_max": 5_000_000},
                self.cust_no_consent | self.cust_letter,
            ),
            ({"last_order_after": date(2026, 2, 1)}, champions),
            ({"last_order_before": date(2025, 6, 1)}, self.cust_bare | self.cust_letter),
            ({"tag_ids": [Command.set(tag.ids)]}, self.cust_letter),
            ({"country_ids": [Command.set(self.env.ref("base.vn").ids)]}, self.cust_email),
            (
                {"salesperson_ids": [Command.set(self.user_salesman.ids)]},
                of_salesman | self.cust_foreign,
            ),
            ({"audience_domain": "[('name', 'ilike', 'Hoa Sen')]"}, self.cust_letter),
        ]
        for values, expected in rules:
            with self.subTest(rule=list(values)):
                plan = Plan.create(self._plan_values(**values))
                self.assertEqual(self.env["res.partner"].union(*self._audience(plan)), expected)

    def test_audience_categories_bought(self):
        parent = self.env["product.category"].create({"name": "KM Đồ gia dụng"})
        child = self.env["product.category"].create({"name": "KM Nồi cơm", "parent_id": parent.id})
        other = self.env["product.category"].create({"name": "KM Văn phòng phẩm"})
        rice_cooker = self._create_product("KM Nồi cơm điện", 1_200_000, categ_id=child.id)
        pen = self._create_product("KM Bút bi", 10_000, categ_id=other.id)
        for customer, product, confirm in (
            (self.cust_email, rice_cooker, True),
            (self.cust_no_consent, rice_cooker, False),  # quotation: not bought
            (self.cust_bare, pen, True),
        ):
            order = self.env["sale.order"].create(
                {"partner_id": customer.id, "order_line": self._command_lines([(product, 1)])}
            )
            if confirm:
                order.action_confirm()
        bought = self.Plan.create(self._plan_values(category_bought_ids=[Command.set(parent.ids)]))
        self.assertEqual(self.env["res.partner"].union(*self._audience(bought)), self.cust_email)
        not_bought = self.Plan.create(
            self._plan_values(category_not_bought_ids=[Command.set(parent.ids)])
        )
        self.assertEqual(
            self.env["res.partner"].union(*self._audience(not_bought)),
            self.cust_no_consent
            | self.cust_dnc
            | self.cust_bare
            | self.cust_letter
            | self.cust_foreign,
        )

    def test_audience_other_company_plan(self):
        """A plan of the second company looks only at the purchase trends of that company."""
        self._set_rfm(self.cust_foreign, "loyal", 1_000_000, date(2026, 2, 1), self.company_2)
        plan = self.Plan.create(self._plan_values(company_id=self.company_2.id))
        self.assertEqual(self._audience(plan), {self.cust_foreign: (None, "email")})

    @users("ce_salesman")
    def test_preview_query_count(self):
        """The preview costs the same number of queries for 6 or 36 candidates."""
        plan = self.env["crm.promotion.plan"].create(self._plan_values())
        plan.action_preview()  # warm the caches
        with self.assertQueryCount(ce_salesman=9):
            plan.action_preview()
        self.env.invalidate_all()
        partners = (
            self.env["res.partner"]
            .sudo()
            .create(
                [
                    {
                        "name": f"KM Khách {i}",
                        "email": f"khach{i}@km.example.vn",
                        "is_company": True,
                    }
                    for i in range(30)
                ]
            )
        )
        for partner in partners:
            self._set_rfm(partner, "new", 100_000, date(2026, 2, 1))
        plan.action_preview()
        with self.assertQueryCount(ce_salesman=9):
            action = plan.action_preview()
        preview = self.env["crm.promotion.preview"].browse(action["res_id"])
        self.assertEqual(preview.candidate_count, 36)


@tagged("post_install", "-at_install")
class TestPromotionPlanFlow(PromotionCommon):
    def test_constraints(self):
        Plan = self.Plan
        cases = [
            {"date_start": date(2026, 3, 10), "date_end": date(2026, 3, 9)},
            {"holdout_percent": -1},
            {"holdout_percent": 50.5},
            {"revenue_min": 2_000, "revenue_max": 1_000},
            {"revenue_min": -1},
            {"audience_domain": "[('no_such_field', '=', 1)]"},
            {"audience_domain": "not a domain"},
            {"offer_type": "coupon"},
            {"call_capacity_per_day": 0},
        ]
        for values in cases:
            with (
                self.subTest(values=values),
                self.assertRaises(ValidationError),
                self.cr.savepoint(),
            ):
                Plan.create(self._plan_values(**values))
        # the limits themselves are fine
        Plan.create(self._plan_values(holdout_percent=50, revenue_min=1_000, revenue_max=1_000))
        Plan.create(self._plan_values(holdout_percent=0, date_end=date(2026, 3, 1)))

    def test_offer_needs_program_of_its_type(self):
        promotion = self.env["loyalty.program"].create(
            {"name": "KM Giảm 10%", "program_type": "promotion"}
        )
        coupons = self.env["loyalty.program"].create(
            {"name": "KM Phiếu giảm giá", "program_type": "coupons"}
        )
        for offer_type, program in (("coupon", promotion), ("program", coupons)):
            with self.subTest(offer_type=offer_type), self.assertRaises(ValidationError):
                with self.cr.savepoint():
                    self.Plan.create(
                        self._plan_values(offer_type=offer_type, loyalty_program_id=program.id)
                    )
        self.Plan.create(self._plan_values(offer_type="coupon", loyalty_program_id=coupons.id))
        self.Plan.create(self._plan_values(offer_type="program", loyalty_program_id=promotion.id))

    @mute_logger("odoo.models.unlink")
    def test_salesman_drafts_manager_approves_and_launches(self):
        plan = self.Plan.with_user(self.user_salesman).create(
            self._plan_values(use_letter=True, use_call=True, holdout_percent=0)
        )
        self.assertEqual(plan.user_id, self.user_salesman)
        plan.write({"objective": "Bán thêm nồi cơm"})  # own draft: allowed
        with self.assertRaises(AccessError):
            plan.action_approve()
        with self.assertRaises(AccessError):
            plan.with_user(self.user_salesman).action_launch()
        as_manager = plan.with_user(self.user_sale_manager)
        with self.assertRaises(UserError):
            as_manager.action_launch()  # not approved yet
        as_manager.action_approve()
        self.assertRecordValues(
            plan, [{"state": "approved", "approved_by_id": self.user_sale_manager.id}]
        )
        with self.assertRaises(AccessError):
            plan.with_user(self.user_salesman).write({"name": "Đổi tên"})
        with self.assertRaises(AccessError):
            plan.with_user(self.user_salesman).action_launch()
        as_manager.action_launch()
        self.assertEqual(plan.state, "running")
        members = plan.member_ids
        self.assertEqual(
            members.partner_id,
            self.cust_email | self.cust_no_consent | self.cust_bare | self.cust_letter,
        )
        by_partner = {member.partner_id: member for member in members}
        self.assertRecordValues(
            by_partner[self.cust_email],
            [
                {
                    "group": "target",
                    "channel": "email",
                    "segment": "champions",
                    "user_id": self.user_salesman.id,
                    "company_id": self.company.id,
                }
            ],
        )
        # no salesperson on the customer: the plan's responsible
        self.assertEqual(by_partner[self.cust_letter].user_id, self.user_salesman)
        self.assertEqual(by_partner[self.cust_letter].channel, "letter")
        self.assertEqual(by_partner[self.cust_no_consent].channel, "call")
        self.assertEqual(plan.target_count, 4)
        self.assertEqual(plan.control_count, 0)
        with self.assertRaises(UserError):
            as_manager.action_launch()  # only once
        with self.assertRaises(UserError), self.cr.savepoint():
            plan.unlink()

    def test_copy_is_a_draft_without_offer(self):
        program = self.env["loyalty.program"].create(
            {"name": "KM Giảm 5%", "program_type": "promotion"}
        )
        plan = self._launch(
            self.Plan.create(self._plan_values(offer_type="program", loyalty_program_id=program.id))
        )
        copy = plan.copy()
        self.assertRecordValues(
            copy,
            [
                {
                    "state": "draft",
                    "offer_type": "none",
                    "loyalty_program_id": False,
                    "approved_by_id": False,
                    "member_count": 0,
                    "use_email": True,
                }
            ],
        )

    def test_approve_needs_a_channel(self):
        plan = self.Plan.create(self._plan_values(use_email=False))
        with self.assertRaises(UserError):
            plan.with_user(self.user_sale_manager).action_approve()

    def test_launch_needs_a_target(self):
        segment = self.env.ref("crm_extended.crm_customer_segment_new")
        plan = self.Plan.create(self._plan_values(segment_ids=[Command.set(segment.ids)]))
        plan.with_user(self.user_sale_manager).action_approve()
        with self.assertRaises(UserError):
            plan.with_user(self.user_sale_manager).action_launch()
        self.assertEqual(plan.state, "approved")
        self.assertFalse(plan.member_ids)

    def test_holdout_stratified_and_deterministic(self):
        """10% of 40 customers (25 loyal, 15 new): exactly 4 control members, about
        their share of each segment, the same ones on a second draw."""
        self.env.cr.execute(
            SQL("DELETE FROM crm_customer_rfm WHERE company_id = %s", self.company.id)
        )
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"KM Khách hàng {i}",
                    "is_company": True,
                    "email": f"kh{i}@km.example.vn",
                    "marketing_consent": True,
                }
                for i in range(40)
            ]
        )
        for i, partner in enumerate(partners):
            self._set_rfm(partner, "loyal" if i < 25 else "new", 1_000_000, date(2026, 2, 1))
        plan = self._launch(self.Plan.create(self._plan_values(holdout_percent=10)))
        control = plan.member_ids.filtered(lambda m: m.group == "control")
        self.assertEqual(len(plan.member_ids), 40)
        self.assertEqual(len(control), 4)
        loyal = len(control.filtered(lambda m: m.segment == "loyal"))
        self.assertIn(loyal, (2, 3))  # 2.5 ± 1
        self.assertIn(4 - loyal, (1, 2))  # 1.5 ± 1
        self.assertFalse(any(control.mapped("channel")))
        self.assertEqual(set(control.mapped("state")), {"pending"})
        self.assertEqual(set((plan.member_ids - control).mapped("channel")), {"email"})
        # the draw depends only on the plan and the customers
        drawn = control.partner_id
        self.env.cr.execute(SQL("DELETE FROM crm_promotion_member WHERE plan_id = %s", plan.id))
        plan._insert_members()
        self.assertEqual(plan.member_ids.filtered(lambda m: m.group == "control").partner_id, drawn)

    def test_holdout_rounding(self):
        for count, percent, expected in ((7, 10, 1), (3, 50, 2), (9, 0, 0), (5, 50, 3)):
            with self.subTest(count=count, percent=percent):
                self.env.cr.execute(
                    SQL("DELETE FROM crm_customer_rfm WHERE company_id = %s", self.company.id)
                )
                partners = self.env["res.partner"].create(
                    [
                        {
                            "name": f"KM Làm tròn {count}-{i}",
                            "is_company": True,
                            "email": f"lt{count}{i}@km.example.vn",
                            "marketing_consent": True,
                        }
                        for i in range(count)
                    ]
                )
                for partner in partners:
                    self._set_rfm(partner, "loyal", 1_000_000, date(2026, 2, 1))
                plan = self.Plan.create(self._plan_values(holdout_percent=percent))
                self.assertEqual(plan._insert_members().get("control", 0), expected)

    def test_launch_query_count(self):
        """Launching 3 or 33 customers costs the same number of queries (after a first
        launch that fills the caches)."""
        counts = []
        for size in (2, 3, 33):
            self.env.cr.execute(
                SQL("DELETE FROM crm_customer_rfm WHERE company_id = %s", self.company.id)
            )
            partners = self.env["res.partner"].create(
                [
                    {
                        "name": f"KM Ra mắt {size}-{i}",
                        "is_company": True,
                        "street": f"{i} Trần Phú",
                        "city": "Đà Nẵng",
                        "marketing_consent": True,
                    }
                    for i in range(size)
                ]
            )
            for partner in partners:
                self._set_rfm(partner, "loyal", 1_000_000, date(2026, 2, 1))
            plan = self.Plan.create(self._plan_values(use_email=False, use_letter=True))
            plan.with_user(self.user_sale_manager).action_approve()
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            plan.with_user(self.user_sale_manager).action_launch()
            self.env.flush_all()
            counts.append(self.cr.sql_log_count - before)
            self.assertEqual(len(plan.member_ids), size)
        self.assertEqual(counts[1], counts[2], "the launch must not query per member")

    def test_cancel_and_back_to_draft(self):
        plan = self.Plan.create(self._plan_values())
        plan.with_user(self.user_sale_manager).action_approve()
        plan.with_user(self.user_sale_manager).action_cancel()
        self.assertEqual(plan.state, "cancelled")
        plan.with_user(self.user_sale_manager).action_draft()
        self.assertRecordValues(plan, [{"state": "draft", "approved_by_id": False}])


@tagged("post_install", "-at_install")
class TestPromotionResults(PromotionCommon):
    """Uplift from known orders: two target members, one control member.

    In March 2026 (Vietnam time, the company's): target A orders 1,000,000 then 500,000
    with a 100,000 discount of the plan's program on the last evening (and an order on the
    evening of February 28 that does not count); target B orders nothing; control C orders
    600,000 (and cancels another order).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "Asia/Ho_Chi_Minh"  # UTC+7
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "KM Giảm giá mùa xuân",
                "program_type": "promotion",
                "reward_ids": [Command.create({"reward_type": "discount", "discount": 10})],
            }
        )
        cls.product = cls._create_product("KM Máy xay sinh tố", 1_000_000)
        cls.plan = cls.Plan.create(
            cls._plan_values(budget=50_000, offer_type="program", loyalty_program_id=cls.program.id)
        )
        cls.plan.write({"state": "running"})
        cls.Member = cls.env["crm.promotion.member"]
        cls.member_a, cls.member_b, cls.member_c = cls.Member.create(
            [
                {
                    "plan_id": cls.plan.id,
                    "partner_id": partner.id,
                    "company_id": cls.company.id,
                    "group": group,
                    "user_id": cls.user_salesman.id,
                }
                for partner, group in (
                    (cls.cust_email, "target"),
                    (cls.cust_no_consent, "target"),
                    (cls.cust_bare, "control"),
                )
            ]
        )
        cls._order(cls.cust_email, 1_000_000, datetime(2026, 3, 5, 10))
        # 23:30 on March 31 and 23:00 on February 28, Vietnam time
        cls._order(cls.cust_email, 500_000, datetime(2026, 3, 31, 16, 30), discount=100_000)
        cls._order(cls.cust_email, 700_000, datetime(2026, 2, 28, 16))
        cls._order(cls.cust_bare, 600_000, datetime(2026, 3, 10, 9))
        cls._order(cls.cust_bare, 900_000, datetime(2026, 3, 11, 9), cancel=True)

    @classmethod
    def _order(cls, partner, amount, when, discount=0.0, cancel=False):
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "product_uom_qty": 1,
                            "price_unit": amount,
                            "tax_id": False,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        if discount:
            reward = cls.program.reward_ids
            cls.env["sale.order.line"].create(
                {
                    "order_id": order.id,
                    "product_id": reward.discount_line_product_id.id,
                    "reward_id": reward.id,
                    "reward_identifier_code": "km-spring",
                    "name": "KM Giảm giá",
                    "product_uom_qty": 1,
                    "price_unit": -discount,
                    "tax_id": False,
                }
            )
        if cancel:
            order._action_cancel()
        order.date_order = when
        return order

    def test_results(self):
        self.plan.action_refresh_results()
        self.assertRecordValues(
            self.member_a | self.member_b | self.member_c,
            [
                {
                    "order_count": 2,
                    "revenue": 1_500_000,
                    "discount_amount": 100_000,
                    "redeemed": True,
                },
                {"order_count": 0, "revenue": 0, "discount_amount": 0, "redeemed": False},
                {"order_count": 1, "revenue": 600_000, "discount_amount": 0, "redeemed": False},
            ],
        )
        self.assertEqual(self.member_a.redeemed_date, datetime(2026, 3, 31, 16, 30))
        self.assertRecordValues(
            self.plan,
            [
                {
                    "target_revenue_per_member": 750_000,
                    "control_revenue_per_member": 600_000,
                    "target_orders_per_member": 1.0,
                    "control_orders_per_member": 1.0,
                    "redemption_rate": 50.0,
                    "uplift_revenue": 300_000,  # (750,000 - 600,000) x 2
                    "discount_cost": 100_000,
                    "roi_percent": 300.0,  # (300,000 - 100,000 - 50,000) / 50,000
                    "redeemed_count": 1,
                }
            ],
        )

    def test_results_frozen_when_done(self):
        with freeze_time("2026-04-02"):
            self.plan.with_user(self.user_sale_manager).action_done()
        self.assertEqual(self.plan.state, "done")
        self.assertEqual(self.plan.uplift_revenue, 300_000)
        self._order(self.cust_no_consent, 2_000_000, datetime(2026, 3, 20))
        self.plan.action_refresh_results()
        self.env["crm.promotion.plan"]._cron_refresh_results()
        self.assertEqual(self.plan.uplift_revenue, 300_000)
        self.assertEqual(self.member_b.revenue, 0)
        report = self.env["ir.actions.report"]._render_qweb_html(
            "crm_extended.action_report_promotion_results", self.plan.ids
        )[0]
        self.assertIn(self.plan.name, report.decode())

    def test_cron_refreshes_running_plans(self):
        with freeze_time("2026-03-20"):
            self.env["crm.promotion.plan"]._cron_refresh_results()
        self.assertEqual(self.plan.state, "running")
        self.assertTrue(self.plan.results_date)
        self.assertEqual(self.member_c.revenue, 600_000)

    def test_cron_closes_plans_whose_period_ended(self):
        """After its last day a plan is closed by the job, its results frozen."""
        with freeze_time("2026-04-01"):
            self.env["crm.promotion.plan"]._cron_refresh_results()
        self.assertEqual(self.plan.state, "done")
        self.assertEqual(self.plan.uplift_revenue, 300_000)

    def test_no_uplift_without_control_group(self):
        """Without control members nothing says what the targets would have bought anyway:
        no incremental revenue is claimed."""
        self.member_c.unlink()
        self.plan.action_refresh_results()
        self.assertEqual(self.plan.control_count, 0)
        self.assertEqual(self.plan.target_revenue_per_member, 750_000)
        self.assertEqual(self.plan.uplift_revenue, 0)

    def test_results_in_company_currency(self):
        """An order in another currency counts at its rate."""
        eur = self.env.ref("base.EUR")
        eur.active = True
        pricelist = self.env["product.pricelist"].create({"name": "KM EUR", "currency_id": eur.id})
        order = self.env["sale.order"].create(
            {
                "partner_id": self.cust_no_consent.id,
                "pricelist_id": pricelist.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 1,
                            "price_unit": 100,
                            "tax_id": False,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        order.date_order = datetime(2026, 3, 15)
        order.currency_rate = 0.00004  # 1 EUR = 25,000 of the company currency
        self.plan.action_refresh_results()
        self.assertEqual(self.member_b.revenue, 2_500_000)  # 100 / 0.00004
