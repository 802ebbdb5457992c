from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_promotion_offer import TODAY, PromotionDeliveryCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPromotionDelivery(PromotionDeliveryCommon):
    def _mails(self, members):
        return self.env["mail.mail"].search(
            [("model", "=", "crm.promotion.member"), ("res_id", "in", members.ids)]
        )

    # ------------------------------------------------------------
    # emails and SMS
    # ------------------------------------------------------------

    def test_emails_queued_by_the_job(self):
        plan = self._create_plan()
        members = self._launch(
            plan,
            [(self.customer_a, "email"), (self.customer_b, "email")],
            controls=[self.customer_c],
        )
        self.assertFalse(self._mails(members), "the job queues the emails, not the launch")
        handled = self.env["crm.promotion.plan"]._cron_deliver()
        self.assertEqual(handled, 2)
        mails = self._mails(members)
        self.assertEqual(len(mails), 2)
        for member in members:
            mail = mails.filtered(lambda m, member=member: m.res_id == member.id)
            self.assertEqual(mail.state, "outgoing", "queued, sent by the mail queue")
            self.assertEqual(mail.recipient_ids, member.partner_id)
            self.assertIn(member.coupon_id.code, str(mail.body_html))
            self.assertIn(member.partner_id.name, str(mail.body_html))
            self.assertEqual(member.state, "contacted")
            self.assertEqual(member.contacted_date, datetime(2026, 3, 4))
        control = plan.member_ids.filtered(lambda m: m.group == "control")
        self.assertFalse(self._mails(control), "the control group is never contacted")
        self.assertEqual(control.state, "pending")

        # run twice: nothing sent again
        self.assertEqual(self.env["crm.promotion.plan"]._cron_deliver(), 0)
        self.assertEqual(len(self._mails(members)), 2)

    def test_emails_in_batches_constant_queries(self):
        """The job renders a batch of emails at once: the query count grows far slower
        than the members (no query per member in our code)."""
        Partner = self.env["res.partner"]
        counts = []
        for size in (5, 25):
            partners = Partner.create(
                [
                    {
                        "name": f"KM lô {size}-{i}",
                        "email": f"p3.batch{size}.{i}@x.example",
                        "marketing_consent": True,
                    }
                    for i in range(size)
                ]
            )
            plan = self._create_plan(
                name=f"KM batch {size}",
                offer_type="none",
                loyalty_program_id=False,
            )
            members = self._launch(plan, [(partner, "email") for partner in partners])
            self.env.flush_all()
            self.env.invalidate_all()
            queries = self.cr.sql_log_count
            plan.sudo()._deliver_batch(members)
            self.env.flush_all()
            counts.append(self.cr.sql_log_count - queries)
            self.assertEqual(len(self._mails(members)), size)
        # rendering and mail creation cost a few queries per mail in Odoo itself
        self.assertLess(counts[1], counts[0] * 5)

    def test_consent_checked_again_at_sending(self):
        plan = self._create_plan()
        members = self._launch(
            plan,
            [(self.customer_a, "email"), (self.customer_b, "email"), (self.customer_c, "email")],
        )
        # since the launch: A withdrew consent, B asked not to be contacted
        self.customer_a.marketing_consent = False
        self.customer_b.do_not_contact = True
        self.env["crm.promotion.plan"]._cron_deliver()
        member_a, member_b, member_c = members
        self.assertEqual(member_a.state, "failed")
        self.assertTrue(member_a.failure_reason)
        self.assertEqual(member_b.state, "failed")
        self.assertNotEqual(member_a.failure_reason, member_b.failure_reason)
        self.assertEqual(member_c.state, "contacted")
        self.assertEqual(self._mails(members).mapped("res_id"), member_c.ids)

    def test_sms_queued(self):
        self.assertIn("sms.sms", self.env, "the SMS app is installed with crm")
        plan = self._create_plan(use_sms=True)
        member = self._launch(plan, [(self.customer_a, "sms")])
        self.env["crm.promotion.plan"]._cron_deliver()
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer_a.id)])
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.number, self.customer_a.mobile)
        self.assertIn(member.coupon_id.code, sms.body)
        self.assertEqual(member.state, "contacted")

    def test_sms_custom_text(self):
        plan = self._create_plan(
            use_sms=True, sms_body="Xin chào {{ object.partner_id.name }}: {{ object.coupon_code }}"
        )
        member = self._launch(plan, [(self.customer_a, "sms")])
        plan.with_user(self.user_sale_manager).action_deliver_now()
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer_a.id)])
        self.assertEqual(sms.body, f"Xin chào {self.customer_a.name}: {member.coupon_id.code}")

    def test_deliver_now_sale_manager_only(self):
        plan = self._create_plan()
        members = self._launch(plan, [(self.customer_a, "email")])
        with self.assertRaises(UserError):
            plan.with_user(self.user_salesman).action_deliver_now()
        self.assertEqual(members.state, "pending")
        plan.with_user(self.user_sale_manager).action_deliver_now()
        self.assertEqual(members.state, "contacted")

    def test_delivery_only_for_running_plans(self):
        plan = self._create_plan()
        members = self._launch(plan, [(self.customer_a, "email")])
        plan.sudo().write({"state": "cancelled"})
        self.assertEqual(self.env["crm.promotion.plan"]._cron_deliver(), 0)
        self.assertEqual(members.state, "pending")
        with self.assertRaises(UserError):
            plan.with_user(self.user_sale_manager).action_deliver_now()

    def test_template_in_customer_language(self):
        template = self.env.ref("crm_extended.mail_template_promotion_member")
        self.assertEqual(template.model, "crm.promotion.member")
        plan = self._create_plan()
        self.assertEqual(plan.mail_template_id, template, "the addon's template by default")
        member = self._launch(plan, [(self.customer_a, "email")])
        lang = template._render_lang(member.ids)[member.id]
        self.assertEqual(lang, self.customer_a.lang)

    # ------------------------------------------------------------
    # letters
    # ------------------------------------------------------------

    def test_print_letters(self):
        plan = self._create_plan(use_letter=True)
        members = self._launch(plan, [(self.customer_a, "letter"), (self.customer_b, "email")])
        letter_member = members[0]
        with self.assertRaises(UserError):
            plan.with_user(self.user_salesman).action_print_letters()
        action = plan.with_user(self.user_sale_manager).action_print_letters()
        self.assertEqual(action["report_name"], "crm_extended.report_promotion_letter")
        self.assertEqual(action["context"]["active_ids"], letter_member.ids)
        self.assertEqual(letter_member.state, "contacted")
        self.assertEqual(members[1].state, "pending", "emails go through the job")
        html, __ = self.env["ir.actions.report"]._render_qweb_html(
            "crm_extended.report_promotion_letter", letter_member.ids
        )
        html = html.decode()
        self.assertIn(letter_member.coupon_id.code, html)
        self.assertIn(self.customer_a.name, html)

    def test_letter_not_printed_after_consent_withdrawn(self):
        plan = self._create_plan(use_letter=True)
        members = self._launch(plan, [(self.customer_a, "letter"), (self.customer_b, "letter")])
        self.customer_b.do_not_contact = True
        action = plan.with_user(self.user_sale_manager).action_print_letters()
        self.assertEqual(action["context"]["active_ids"], members[0].ids)
        self.assertEqual(members.mapped("state"), ["contacted", "failed"])
        self.customer_a.marketing_consent = False
        members[0].state = "pending"
        with self.assertRaises(UserError):
            plan.with_user(self.user_sale_manager).action_print_letters()

    def test_print_letters_needs_letter_members(self):
        plan = self._create_plan()
        self._launch(plan, [(self.customer_a, "email")])
        with self.assertRaises(UserError):
            plan.with_user(self.user_sale_manager).action_print_letters()

    # ------------------------------------------------------------
    # calls
    # ------------------------------------------------------------

    def _call_partners(self, count):
        return self.env["res.partner"].create(
            [{"name": f"KM gọi {i}", "phone": f"+84 28 3000 {i:04d}"} for i in range(count)]
        )

    @freeze_time("2026-03-06")  # a Friday
    def test_calls_spread_by_capacity_on_working_days(self):
        self.user_salesman.tz = "Asia/Ho_Chi_Minh"
        plan = self._create_plan(
            date_start=date(2026, 3, 6),
            use_call=True,
            use_email=False,
            call_capacity_per_day=2,
        )
        partners = self._call_partners(5)
        members = self._launch(plan, [(partner, "call") for partner in partners])
        logs = members.contact_log_id
        category = self.env.ref("crm_extended.crm_contact_log_category_promotion")
        self.assertEqual(len(logs), 5, "one planned call per member")
        for member in members:
            log = member.contact_log_id
            self.assertEqual(log.partner_id, member.partner_id)
            self.assertEqual(log.user_id, self.user_salesman)
            self.assertEqual(log.channel, "phone")
            self.assertEqual(log.state, "planned")
            self.assertIn(category, log.category_ids)
        # 9:00 in Hồ Chí Minh City = 2:00 UTC: two on Friday, (weekend skipped) two on
        # Monday, one on Tuesday
        self.assertEqual(
            logs.sorted("planned_date").mapped("planned_date"),
            [
                datetime(2026, 3, 6, 2, 0),
                datetime(2026, 3, 6, 2, 15),
                datetime(2026, 3, 9, 2, 0),
                datetime(2026, 3, 9, 2, 15),
                datetime(2026, 3, 10, 2, 0),
            ],
        )
        self.assertEqual(members.mapped("state"), ["pending"] * 5)

    def test_call_held_contacts_the_member(self):
        plan = self._create_plan(use_call=True, use_email=False)
        member = self._launch(plan, [(self.customer_a, "call")])
        self.assertEqual(member.state, "pending")
        member.contact_log_id.action_done()
        self.env["crm.promotion.plan"]._cron_deliver()
        self.assertEqual(member.state, "contacted")
        self.assertEqual(member.contacted_date, member.contact_log_id.date)

    @freeze_time("2026-03-06")
    def test_calls_capacity_per_person(self):
        plan = self._create_plan(
            date_start=date(2026, 3, 6), use_call=True, use_email=False, call_capacity_per_day=1
        )
        self.user_sale_manager.tz = self.user_salesman.tz = "UTC"
        partners = self._call_partners(2)
        members_1 = self._launch(plan, [(partners[0], "call")], user=self.user_salesman)
        Member = self.env["crm.promotion.member"].sudo()
        member_2 = Member.create(
            {
                "plan_id": plan.id,
                "partner_id": partners[1].id,
                "company_id": self.company.id,
                "user_id": self.user_sale_manager.id,
                "group": "target",
                "channel": "call",
            }
        )
        plan._plan_calls(member_2, date(2026, 3, 6))
        # each person has their own capacity: both calls on the first day
        self.assertEqual(
            members_1.contact_log_id.planned_date.date(),
            member_2.contact_log_id.planned_date.date(),
        )

    def test_launch_queries_do_not_grow_with_members(self):
        """Giving the offer and planning the calls of 25 members costs the queries of 5:
        coupons, contact logs, their activities and the members' links are written set by
        set (the launch of a 50,000-member plan depends on it)."""
        counts = {}
        for size in (5, 25):
            plan = self._create_plan(
                name=f"KM calls {size}",
                use_call=True,
                use_email=False,
                loyalty_program_id=self.coupon_program.copy().id,
            )
            plan.sudo().write({"state": "running"})
            members = (
                self.env["crm.promotion.member"]
                .sudo()
                .create(
                    [
                        {
                            "plan_id": plan.id,
                            "partner_id": partner.id,
                            "company_id": self.company.id,
                            "user_id": self.user_salesman.id,
                            "group": "target",
                            "channel": "call",
                        }
                        for partner in self._call_partners(size)
                    ]
                )
            )
            plan = plan.with_user(self.user_sale_manager)
            self.env.flush_all()
            self.env.invalidate_all()
            queries = self.cr.sql_log_count
            plan._launch_offer(members)
            plan._launch_channels(members)
            self.env.flush_all()
            counts[size] = self.cr.sql_log_count - queries
            self.assertEqual(len(members.contact_log_id), size)
            self.assertEqual(len(members.coupon_id), size)
        self.assertEqual(counts[25], counts[5], f"launch queries for 5 and 25 members: {counts}")

    def test_planned_call_like_a_contact_planned_by_hand(self):
        """A call planned by the launch has what a contact planned by hand has: the
        salesperson's team, an activity on their list, them as follower."""
        team = (
            self.env["crm.team"]
            .sudo()
            .create(
                {
                    "name": "KM team",
                    "company_id": self.company.id,
                    "member_ids": [self.user_salesman.id],
                }
            )
        )
        plan = self._create_plan(use_call=True, use_email=False)
        member = self._launch(plan, [(self.customer_a, "call")])
        log = member.contact_log_id
        by_hand = (
            self.env["crm.contact.log"]
            .with_user(self.user_salesman)
            .create(
                {
                    "name": "Gọi tay",
                    "partner_id": self.customer_a.id,
                    "company_id": self.company.id,
                    "user_id": self.user_salesman.id,
                    "state": "planned",
                    "planned_date": log.planned_date,
                }
            )
        )
        self.assertEqual(log.team_id, team)
        self.assertEqual(log.team_id, by_hand.team_id)
        activity = log.planned_activity_id
        self.assertTrue(activity)
        self.assertEqual(activity, log.activity_ids)
        self.assertEqual(
            (activity.res_model, activity.user_id, activity.date_deadline, activity.summary),
            ("crm.contact.log", self.user_salesman, log.planned_date.date(), log.name),
        )
        self.assertEqual(by_hand.planned_activity_id.activity_type_id, activity.activity_type_id)
        self.assertIn(self.user_salesman.partner_id, log.message_partner_ids)
        # held from the activity, as by hand
        activity.action_done()
        self.assertEqual(log.state, "done")

    # ------------------------------------------------------------
    # follow-up
    # ------------------------------------------------------------

    def test_followup_calls_for_members_not_redeemed(self):
        plan = self._create_plan()
        members = self._launch(
            plan,
            [(self.customer_a, "email"), (self.customer_b, "email"), (self.customer_c, "email")],
        )
        member_a, member_b, member_c = members
        self.env["crm.promotion.plan"]._cron_deliver()
        # A used the coupon on a confirmed order; C was contacted again two days ago
        member_c.contacted_date = datetime(2026, 3, 10, 10, 0)
        order = self._order(self.customer_a)
        status = order._try_apply_code(member_a.coupon_id.code)
        coupon, rewards = next(iter(status.items()))
        order._apply_program_reward(rewards, coupon)
        order.action_confirm()

        with freeze_time("2026-03-12"):
            wizard = (
                self.env["crm.promotion.followup"]
                .with_user(self.user_sale_manager)
                .create({"plan_id": plan.id, "days": 7, "start_date": date(2026, 3, 13)})
            )
            action = wizard.action_create_calls()
        self.assertTrue(member_a.redeemed, "the results were refreshed first")
        self.assertFalse(member_a.contact_log_id)
        self.assertFalse(member_c.contact_log_id, "contacted less than 7 days ago")
        log = member_b.contact_log_id
        self.assertTrue(log)
        self.assertEqual(log.state, "planned")
        self.assertEqual(log.planned_date.date(), date(2026, 3, 13))
        self.assertEqual(action["domain"], [("id", "in", log.ids)])

        # asked again: B's call is still planned, nobody new to call
        with freeze_time("2026-03-12"), self.assertRaises(UserError):
            self.env["crm.promotion.followup"].with_user(self.user_sale_manager).create(
                {"plan_id": plan.id, "days": 7}
            ).action_create_calls()

    def test_followup_cut_off_in_user_time_zone(self):
        """ "Contacted N days ago or earlier" counts the days where the user is: a customer
        contacted late in the evening of the cut-off day (Vietnam time, the afternoon in
        UTC) is called back, one contacted after that midnight is not yet."""
        plan = self._create_plan()
        member_b, member_c = self._launch(
            plan, [(self.customer_b, "email"), (self.customer_c, "email")]
        )
        self.env["crm.promotion.plan"]._cron_deliver()
        # 2026-03-05 23:30 and 2026-03-06 00:30 in Ho Chi Minh City (UTC+7)
        member_b.contacted_date = datetime(2026, 3, 5, 16, 30)
        member_c.contacted_date = datetime(2026, 3, 5, 17, 30)
        self.user_sale_manager.tz = "Asia/Ho_Chi_Minh"
        with freeze_time("2026-03-12 03:00"):  # 10:00 in Vietnam: the cut-off day is the 5th
            wizard = (
                self.env["crm.promotion.followup"]
                .with_user(self.user_sale_manager)
                .create({"plan_id": plan.id, "days": 7})
            )
            to_call = self.env["crm.promotion.member"].search(wizard._get_member_domain())
        self.assertIn(member_b, to_call)
        self.assertNotIn(member_c, to_call)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPromotionLaunch(PromotionDeliveryCommon):
    """The delivery through the real launch: purchase trends refreshed from orders, the
    plan's audience frozen by ``action_launch``, then the offer and channels."""

    def test_launch_gives_coupons_and_calls_to_targets_only(self):
        no_consent = self.env["res.partner"].create(
            {
                "name": "Tiệm Điện Tử Không Đồng Ý KMT",
                "is_company": True,
                "phone": "+84 28 3999 0001",
                "user_id": self.user_salesman.id,
            }
        )
        customers = self.customer_a | self.customer_b | self.customer_c | no_consent
        for partner in customers:
            order = self._order(partner, user=self.user_sale_manager)
            order.action_confirm()
            order.date_order = datetime(2026, 2, 1, 10, 0)
        self.env["crm.customer.rfm"]._refresh(companies=self.company, analysis_date=TODAY)

        plan = self._create_plan(
            use_email=True,
            use_call=True,
            holdout_percent=25,
            audience_domain=str([("id", "in", customers.ids)]),
        ).with_user(self.user_sale_manager)
        plan.action_approve()
        plan.action_launch()
        self.assertEqual(plan.state, "running")

        targets = plan.member_ids.filtered(lambda m: m.group == "target")
        control = plan.member_ids - targets
        self.assertEqual(len(targets), 3)
        self.assertEqual(len(control), 1)
        self.assertEqual(len(targets.coupon_id), 3, "one personal coupon per target member")
        for member in targets:
            self.assertEqual(member.coupon_id.partner_id, member.partner_id)
        self.assertFalse(control.coupon_id)
        self.assertFalse(control.contact_log_id)
        self.assertFalse(control.channel)
        calls = targets.filtered(lambda m: m.channel == "call")
        if no_consent in targets.partner_id:
            self.assertEqual(calls.partner_id, no_consent, "no consent: called, not mailed")
            self.assertEqual(calls.contact_log_id.state, "planned")
        self.assertFalse((targets - calls).contact_log_id)

        self.env["crm.promotion.plan"]._cron_deliver()
        mailed = targets.filtered(lambda m: m.channel == "email")
        self.assertEqual(set(mailed.mapped("state")), {"contacted"})
        self.assertEqual(len(self._mails(plan.member_ids)), len(mailed))
        self.assertEqual(control.state, "pending")

    def _mails(self, members):
        return self.env["mail.mail"].search(
            [("model", "=", "crm.promotion.member"), ("res_id", "in", members.ids)]
        )
