from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .test_promotion_plan import PromotionCommon


@tagged("post_install", "-at_install")
class TestPromotionSecurity(PromotionCommon):
    """Who may see and change plans and members — and what they may not.

    ``plan_own`` is the salesman's draft, ``plan_other`` another salesperson's draft,
    ``plan_running`` a running plan of the sales manager with three members: the salesman's
    customer, the other salesperson's customer, and one of the second company's plan.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman_other = new_test_user(
            cls.env,
            login="ce_km_salesman_other",
            groups="sales_team.group_sale_salesman",
            name="Trần Quốc Bảo",
            email="ce_km_salesman_other@example.com",
        )
        cls.cust_no_consent.user_id = cls.user_salesman_other
        cls.plan_own = cls.Plan.create(cls._plan_values(user_id=cls.user_salesman.id))
        cls.plan_other = cls.Plan.create(cls._plan_values(user_id=cls.user_salesman_other.id))
        cls.plan_running = cls.Plan.create(
            cls._plan_values(name="KM Đang chạy", user_id=cls.user_sale_manager.id)
        )
        cls.plan_running.state = "running"
        cls.plan_company_2 = cls.Plan.create(
            cls._plan_values(
                name="KM Công ty hai",
                company_id=cls.company_2.id,
                user_id=cls.user_salesman.id,
            )
        )
        Member = cls.env["crm.promotion.member"]
        cls.member_mine, cls.member_other = Member.create(
            [
                {
                    "plan_id": cls.plan_running.id,
                    "partner_id": partner.id,
                    "company_id": cls.company.id,
                    "user_id": partner.user_id.id,
                }
                for partner in (cls.cust_email, cls.cust_no_consent)
            ]
        )
        cls.member_company_2 = Member.create(
            {
                "plan_id": cls.plan_company_2.id,
                "partner_id": cls.cust_foreign.id,
                "company_id": cls.company_2.id,
                "user_id": cls.user_salesman.id,
            }
        )

    def test_salesman_reads_plans_of_current_company(self):
        Plan = (
            self.env["crm.promotion.plan"]
            .with_user(self.user_salesman)
            .with_context(allowed_company_ids=self.company.ids)
        )
        plans = self.plan_own | self.plan_other | self.plan_running | self.plan_company_2
        self.assertEqual(
            Plan.search([("id", "in", plans.ids)]),
            self.plan_own | self.plan_other | self.plan_running,
        )
        with self.assertRaises(AccessError):
            self.plan_company_2.with_user(self.user_salesman).with_context(
                allowed_company_ids=self.company.ids
            ).read(["name"])
        # with the second company active, they see its plans
        both = Plan.with_context(allowed_company_ids=[self.company.id, self.company_2.id])
        self.assertIn(self.plan_company_2, both.search([("id", "in", plans.ids)]))

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_salesman_changes_own_drafts_only(self):
        self.plan_own.with_user(self.user_salesman).write({"objective": "Khách mới"})
        self.assertEqual(self.plan_own.objective, "Khách mới")
        with self.assertRaises(AccessError):
            self.plan_other.with_user(self.user_salesman).write({"objective": "Không"})
        with self.assertRaises(AccessError):
            self.plan_running.with_user(self.user_salesman).write({"objective": "Không"})
        self.plan_own.state = "approved"
        with self.assertRaises(AccessError):
            self.plan_own.with_user(self.user_salesman).write({"objective": "Không"})
        with self.assertRaises(AccessError):
            self.plan_own.with_user(self.user_salesman).action_cancel()
        # nor create a plan for someone else, nor delete one of theirs or an approved one
        with self.assertRaises(AccessError):
            self.env["crm.promotion.plan"].with_user(self.user_salesman).create(
                self._plan_values(user_id=self.user_salesman_other.id)
            )
        with self.assertRaises(AccessError):
            self.plan_other.with_user(self.user_salesman).unlink()
        with self.assertRaises(AccessError):
            self.plan_own.with_user(self.user_salesman).unlink()
        self.assertTrue(self.plan_own.exists())
        # their own draft: deleted
        draft = (
            self.env["crm.promotion.plan"]
            .with_user(self.user_salesman)
            .create(self._plan_values(user_id=self.user_salesman.id))
        )
        draft.unlink()
        self.assertFalse(draft.exists())

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_salesman_cannot_approve_launch_or_close(self):
        plan = self.plan_own.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            plan.action_approve()
        self.plan_own.state = "approved"
        with self.assertRaises(AccessError):
            plan.action_launch()
        with self.assertRaises(AccessError):
            self.plan_running.with_user(self.user_salesman).action_done()
        self.assertEqual(self.plan_own.state, "approved")

    def test_manager_changes_every_plan(self):
        for plan in (self.plan_own, self.plan_other, self.plan_running):
            plan.with_user(self.user_sale_manager).write({"budget": 1_000})
            self.assertEqual(plan.budget, 1_000)
        self.plan_other.with_user(self.user_sale_manager).action_approve()
        self.assertEqual(self.plan_other.state, "approved")

    def test_salesman_sees_members_of_own_customers_or_plans(self):
        Member = (
            self.env["crm.promotion.member"]
            .with_user(self.user_salesman)
            .with_context(allowed_company_ids=self.company.ids)
        )
        all_members = self.member_mine | self.member_other | self.member_company_2
        self.assertEqual(Member.search([("id", "in", all_members.ids)]), self.member_mine)
        with self.assertRaises(AccessError):
            self.member_other.with_user(self.user_salesman).read(["revenue"])
        # the responsible of a plan sees all its members
        self.plan_running.user_id = self.user_salesman
        self.assertEqual(
            Member.search([("id", "in", all_members.ids)]), self.member_mine | self.member_other
        )
        # the other company's members only with that company active
        both = Member.with_context(allowed_company_ids=[self.company.id, self.company_2.id])
        self.assertIn(self.member_company_2, both.search([("id", "in", all_members.ids)]))
        # the plan's counters count every member, whoever looks
        self.assertEqual(self.plan_running.with_user(self.user_salesman).member_count, 2)

    def test_salesman_cannot_change_members(self):
        member = self.member_mine.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            member.write({"state": "contacted"})
        with self.assertRaises(AccessError):
            self.env["crm.promotion.member"].with_user(self.user_salesman).create(
                {
                    "plan_id": self.plan_own.id,
                    "partner_id": self.cust_letter.id,
                    "company_id": self.company.id,
                }
            )
        with self.assertRaises(AccessError):
            member.unlink()

    def test_manager_sees_all_members(self):
        Member = self.env["crm.promotion.member"].with_user(self.user_sale_manager)
        self.assertEqual(
            Member.search([("plan_id", "=", self.plan_running.id)]),
            self.member_mine | self.member_other,
        )

    def test_segments_read_only_for_salesman(self):
        segment = self.env.ref("crm_extended.crm_customer_segment_loyal")
        self.assertTrue(segment.with_user(self.user_salesman).name)
        with self.assertRaises(AccessError):
            segment.with_user(self.user_salesman).write({"name": "Không"})
        segment.with_user(self.user_sale_manager).write({"description": "Khách trung thành"})

    def test_preview_as_salesman_reads_personal_fields_in_sql(self):
        """The salesman may not read consent or do-not-contact, yet the preview counts them."""
        self.assertFalse(self.user_salesman.has_group("crm_extended.group_personal_details"))
        plan = self.plan_own.with_user(self.user_salesman)
        plan.write({"tag_ids": [Command.clear()]})
        action = plan.action_preview()
        preview = (
            self.env["crm.promotion.preview"].with_user(self.user_salesman).browse(action["res_id"])
        )
        self.assertEqual(preview.do_not_contact_count, 1)
        self.assertEqual(preview.no_consent_count, 1)

    def test_salesman_cannot_write_workflow_or_results(self):
        """Approval and results change only through the managers' buttons: a direct write
        (RPC) of the state, the approver or the results is refused, even on one's own
        draft; nor can a salesperson hand their draft to someone else."""
        plan = self.plan_own.with_user(self.user_salesman)
        for values in (
            {"state": "approved", "approved_by_id": self.user_sale_manager.id},
            {"state": "done"},
            {"uplift_revenue": 1_000_000, "roi_percent": 999},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                plan.write(values)
        self.assertEqual(self.plan_own.state, "draft")
        self.assertFalse(self.plan_own.uplift_revenue)
        with mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            plan.write({"user_id": self.user_salesman_other.id})
        self.assertEqual(self.plan_own.user_id, self.user_salesman)

    def test_sms_text_without_code_placeholders(self):
        """SMS texts are rendered when the plan is delivered: salespeople may use simple
        placeholders, not code (which would run with the sender's rights)."""
        plan = self.plan_own.with_user(self.user_salesman)
        plan.write({"sms_body": "Chào {{ object.partner_id.name }}, mã của bạn: xyz"})
        with self.assertRaises(AccessError):
            plan.write({"sms_body": "{{ object.env['ir.config_parameter'].get_param('x') }}"})
        self.assertIn("object.partner_id.name", self.plan_own.sms_body)

    def test_audience_and_offer_fixed_after_approval(self):
        """Members are frozen from the audience, offer and channels: once approved they no
        longer change, the name, objective, budget and end date still may."""
        plan = self.plan_other.with_user(self.user_sale_manager)
        plan.action_approve()
        with self.assertRaises(UserError):
            plan.write({"holdout_percent": 30})
        with self.assertRaises(UserError):
            plan.write({"segment_ids": [Command.clear()]})
        plan.write({"budget": 5_000_000, "objective": "Mở rộng"})
        self.assertEqual(self.plan_other.budget, 5_000_000)
        self.assertEqual(self.plan_other.holdout_percent, 10)

    def test_call_capacity_within_the_working_day(self):
        with self.assertRaises(ValidationError):
            self.plan_own.write({"call_capacity_per_day": 37})
        self.plan_own.write({"call_capacity_per_day": 36})

    def test_preview_reasons_are_personal_details(self):
        """Why a customer is left out (refused contact, no consent) is personal data: the
        salesman sees the counts and who is left out, not why."""
        plan = self.plan_own.with_user(self.user_salesman)
        plan.write({"tag_ids": [Command.clear()]})
        action = plan.action_preview()
        preview = (
            self.env["crm.promotion.preview"].with_user(self.user_salesman).browse(action["res_id"])
        )
        self.assertTrue(preview.excluded_line_ids)
        with self.assertRaises(AccessError):
            preview.excluded_line_ids.mapped("reason")
        self.assertLessEqual(
            {"do_not_contact", "no_consent"},
            set(preview.sudo().excluded_line_ids.mapped("reason")),
        )
