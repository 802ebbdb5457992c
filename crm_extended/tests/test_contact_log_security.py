from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import CrmExtendedCommon

PLANNED = datetime(2025, 3, 10, 9, 0)


@tagged("post_install", "-at_install")
class TestContactLogSecurity(CrmExtendedCommon):
    """Who sees and changes which contact logs, and which history rows.

    Fixtures, on top of the common ones:
        team_hanoi     user_salesman and user_mate (same sales team)
        team_saigon    user_rival (another sales team)
        log_own        planned by user_salesman with contact_vn
        log_mate       planned by user_mate with customer_vn
        log_rival      planned by user_rival with contact_vn
    All three logs belong to the customer company customer_vn.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_mate = new_test_user(
            cls.env,
            login="ce_sec_mate",
            groups="sales_team.group_sale_salesman",
            name="Bùi Thanh Hương",
        )
        cls.user_rival = new_test_user(
            cls.env,
            login="ce_sec_rival",
            groups="sales_team.group_sale_salesman",
            name="Đặng Văn Khoa",
        )
        cls.team_hanoi = cls.env["crm.team"].create(
            {
                "name": "Kinh doanh Hà Nội",
                "member_ids": [Command.link(cls.user_salesman.id), Command.link(cls.user_mate.id)],
            }
        )
        cls.team_saigon = cls.env["crm.team"].create(
            {"name": "Kinh doanh Sài Gòn", "member_ids": [Command.link(cls.user_rival.id)]}
        )
        Log = cls.env["crm.contact.log"]
        cls.log_own = Log.create(
            {
                "name": "Gọi lại báo giá máy lọc nước",
                "partner_id": cls.contact_vn.id,
                "user_id": cls.user_salesman.id,
                "planned_date": PLANNED,
            }
        )
        cls.log_mate = Log.create(
            {
                "name": "Hẹn gặp giám đốc mua hàng",
                "partner_id": cls.customer_vn.id,
                "user_id": cls.user_mate.id,
                "channel": "meeting",
                "planned_date": PLANNED,
            }
        )
        cls.log_rival = Log.create(
            {
                "name": "Chào gói bảo trì",
                "partner_id": cls.contact_vn.id,
                "user_id": cls.user_rival.id,
                "planned_date": PLANNED,
            }
        )
        cls.all_logs = cls.log_own | cls.log_mate | cls.log_rival

    def _visible_logs(self, user):
        return self.env["crm.contact.log"].with_user(user).search([("id", "in", self.all_logs.ids)])

    def test_fixtures(self):
        """Each log carries its salesperson's team: the rules below rely on it."""
        self.assertEqual(self.user_salesman.crm_team_ids, self.team_hanoi)
        self.assertEqual(self.user_rival.crm_team_ids, self.team_saigon)
        self.assertEqual(self.log_own.team_id, self.team_hanoi)
        self.assertEqual(self.log_mate.team_id, self.team_hanoi)
        self.assertEqual(self.log_rival.team_id, self.team_saigon)
        self.assertEqual(self.all_logs.commercial_partner_id, self.customer_vn)

    # ------------------------------------------------------------
    # SALESPEOPLE
    # ------------------------------------------------------------

    def test_salesman_reads_own_and_team_logs(self):
        """A salesperson sees their own and their team's logs, never another team's."""
        self.assertEqual(self._visible_logs(self.user_salesman), self.log_own | self.log_mate)
        Log = self.env["crm.contact.log"].with_user(self.user_salesman)
        self.assertEqual(
            Log.browse(self.log_mate.id).read(["name"])[0]["name"], "Hẹn gặp giám đốc mua hàng"
        )
        self.assertEqual(Log.search_count([("partner_id", "child_of", self.customer_vn.id)]), 2)
        with self.assertRaises(AccessError):
            Log.browse(self.log_rival.id).read(["name"])
        # and the other way round: the rival sees their own log only
        self.assertEqual(self._visible_logs(self.user_rival), self.log_rival)

    def test_salesman_writes_own_logs_only(self):
        """A salesperson edits their own logs; a teammate's log is read-only, a rival's hidden."""
        self.log_own.with_user(self.user_salesman).write({"channel": "visit"})
        self.assertEqual(self.log_own.channel, "visit")
        for log in (self.log_mate, self.log_rival):
            with self.assertRaises(AccessError):
                log.with_user(self.user_salesman).write({"channel": "visit"})
            with self.assertRaises(AccessError):
                log.with_user(self.user_salesman).action_cancel()
            self.assertEqual(log.channel, "phone" if log == self.log_rival else "meeting")
            self.assertEqual(log.state, "planned")

    def test_salesman_creates_own_logs_only(self):
        """A salesperson logs contacts in their own name, not in a colleague's."""
        Log = self.env["crm.contact.log"].with_user(self.user_salesman)
        log = Log.create(
            {
                "name": "Xác nhận lịch giao hàng",
                "partner_id": self.contact_vn.id,
                "state": "done",
                "date": PLANNED,
            }
        )
        self.assertEqual(log.user_id, self.user_salesman)
        self.assertEqual(log.team_id, self.team_hanoi)
        for colleague in (self.user_mate, self.user_rival):
            with self.assertRaises(AccessError):
                Log.create(
                    {
                        "name": "Liên hệ thay đồng nghiệp",
                        "partner_id": self.contact_vn.id,
                        "user_id": colleague.id,
                        "planned_date": PLANNED,
                    }
                )
        logs = self.env["crm.contact.log"].search([("partner_id", "=", self.contact_vn.id)])
        self.assertEqual(logs.user_id, self.user_salesman | self.user_rival)

    def test_salesman_archives_instead_of_deleting(self):
        """Nobody below manager deletes a log, not even their own: they archive it."""
        for log in (self.log_own, self.log_mate, self.log_rival):
            with self.assertRaises(AccessError):
                log.with_user(self.user_salesman).unlink()
        self.assertEqual(self.all_logs.exists(), self.all_logs)

        self.log_own.with_user(self.user_salesman).action_archive()
        self.assertFalse(self.log_own.active)
        self.assertEqual(self._visible_logs(self.user_salesman), self.log_mate)
        archived = (
            self.env["crm.contact.log"]
            .with_user(self.user_salesman)
            .with_context(active_test=False)
            .search([("id", "in", self.all_logs.ids)])
        )
        self.assertEqual(archived, self.log_own | self.log_mate)
        with self.assertRaises(AccessError):
            self.log_mate.with_user(self.user_salesman).action_archive()
        self.assertTrue(self.log_mate.active)

    # ------------------------------------------------------------
    # CARE OFFICERS AND MANAGERS
    # ------------------------------------------------------------

    def test_care_officer_reads_all_edits_own(self):
        """Care officers read every log but edit only the ones in their own name."""
        self.assertEqual(self._visible_logs(self.user_care), self.all_logs)
        Log = self.env["crm.contact.log"].with_user(self.user_care)
        self.assertEqual(
            Log.browse(self.log_rival.id).read(["name"])[0]["name"], "Chào gói bảo trì"
        )
        for log in self.all_logs:
            with self.assertRaises(AccessError):
                log.with_user(self.user_care).write({"channel": "email"})
        self.assertEqual(set(self.all_logs.mapped("channel")), {"phone", "meeting"})

        with self.assertRaises(AccessError):
            Log.create(
                {
                    "name": "Khiếu nại giao hàng chậm",
                    "partner_id": self.contact_vn.id,
                    "user_id": self.user_rival.id,
                    "planned_date": PLANNED,
                }
            )
        own = Log.create(
            {
                "name": "Khiếu nại giao hàng chậm",
                "partner_id": self.contact_vn.id,
                "state": "done",
                "date": PLANNED,
            }
        )
        own.write({"direction": "inbound"})
        self.assertEqual(own.direction, "inbound")
        self.assertEqual(own.user_id, self.user_care)
        with self.assertRaises(AccessError):
            own.unlink()

    def test_managers_see_edit_and_delete_all(self):
        """CRM managers, and sales managers through them, see, edit and delete every log."""
        for manager in (self.user_crm_manager, self.user_sale_manager):
            with self.subTest(manager=manager.login):
                logs = self._visible_logs(manager)
                self.assertEqual(logs, self.all_logs)
                logs.write({"channel": "email"})
                self.assertEqual(set(self.all_logs.mapped("channel")), {"email"})
                self.all_logs.write({"channel": "phone"})
        # a manager hands a contact over, and logs one in a salesperson's name
        Log = self.env["crm.contact.log"].with_user(self.user_crm_manager)
        Log.browse(self.log_rival.id).write({"user_id": self.user_mate.id})
        self.assertEqual(self.log_rival.team_id, self.team_hanoi)
        log = Log.create(
            {
                "name": "Bàn giao khách hàng",
                "partner_id": self.customer_vn.id,
                "user_id": self.user_rival.id,
                "planned_date": PLANNED,
            }
        )
        self.assertEqual(log.team_id, self.team_saigon)
        (log | self.log_rival).with_user(self.user_sale_manager).unlink()
        self.log_mate.with_user(self.user_crm_manager).unlink()
        self.assertEqual(self.all_logs.exists(), self.log_own)

    # ------------------------------------------------------------
    # MULTI-COMPANY
    # ------------------------------------------------------------

    def test_other_company_logs_invisible(self):
        """A log of a company the user may not work in is hidden, even their own, even to a
        manager."""
        company_2 = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        customer_2 = self.env["res.partner"].create(
            {"name": "Công ty CP Miền Trung", "is_company": True, "company_id": company_2.id}
        )
        Log = self.env["crm.contact.log"]
        logs_2 = Log.create(
            [
                {
                    "name": "Khảo sát chi nhánh",
                    "partner_id": partner.id,
                    "user_id": self.user_salesman.id,
                    "team_id": False,
                    "company_id": company_2.id,
                    "planned_date": PLANNED,
                }
                for partner in (customer_2, self.customer_en)
            ]
        )
        self.assertEqual(logs_2.company_id, company_2)
        user_both = new_test_user(
            self.env,
            login="ce_sec_both",
            groups="base.group_user,crm_extended.group_crm_manager",
            company_id=self.company.id,
            company_ids=[Command.set([self.company.id, company_2.id])],
        )
        domain = [("id", "in", logs_2.ids)]
        self.assertEqual(Log.with_user(user_both).search(domain), logs_2)
        Timeline = self.env["crm.customer.timeline"]
        timeline_domain = [("event_type", "=", "contact_log"), ("res_id", "in", logs_2.ids)]
        self.assertEqual(len(Timeline.with_user(user_both).search(timeline_domain)), 2)
        for user in (self.user_salesman, self.user_crm_manager, self.user_care):
            with self.subTest(user=user.login):
                self.assertNotIn(company_2, user.company_ids)
                self.assertFalse(Log.with_user(user).search(domain))
                self.assertFalse(Timeline.with_user(user).search(timeline_domain))
                for log in logs_2:
                    with self.assertRaises(AccessError):
                        log.with_user(user).read(["name"])
                with self.assertRaises(AccessError):
                    logs_2[1].with_user(user).write({"channel": "email"})

    # ------------------------------------------------------------
    # USERS WITHOUT A CRM ROLE
    # ------------------------------------------------------------

    def test_portal_user_no_access(self):
        """Portal users reach neither the logs nor the customer history, not even their own."""
        self.log_own.partner_id = self.user_portal.partner_id
        for model in ("crm.contact.log", "crm.customer.timeline"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.user_portal).search([], limit=1)
        Log = self.env["crm.contact.log"].with_user(self.user_portal)
        with self.assertRaises(AccessError):
            Log.browse(self.log_own.id).read(["name"])
        with self.assertRaises(AccessError):
            Log.create(
                {
                    "name": "Yêu cầu gọi lại",
                    "partner_id": self.contact_vn.id,
                    "state": "done",
                    "date": PLANNED,
                }
            )
        row = self.env["crm.customer.timeline"].search(
            [("event_type", "=", "contact_log"), ("res_id", "=", self.log_own.id)]
        )
        self.assertEqual(len(row), 1)
        with self.assertRaises(AccessError):
            row.with_user(self.user_portal).read(["reference"])

    def test_accountants_no_access(self):
        """Billing users and auditors see no log and no history, yet still open a customer:
        the contact fields are left out of their forms instead of failing."""
        hidden_fields = ("contact_log_count", "timeline_ids", "timeline_event_type")
        for user in (self.user_billing, self.user_auditor):
            with self.subTest(user=user.login):
                for model in ("crm.contact.log", "crm.customer.timeline"):
                    with self.assertRaises(AccessError):
                        self.env[model].with_user(user).search([], limit=1)
                with self.assertRaises(AccessError):
                    self.log_own.with_user(user).read(["name"])

                partner = self.customer_vn.with_user(user)
                self.assertEqual(partner.read(["name"])[0]["name"], self.customer_vn.name)
                for fname in hidden_fields:
                    with self.assertRaises(AccessError):
                        partner.read([fname])
                self.assertFalse(set(hidden_fields) & set(partner.fields_get()))

                # the partner form, as the web client loads it
                views = partner.get_views([(False, "form")])
                form_fields = views["models"]["res.partner"]["fields"]
                self.assertFalse(set(hidden_fields) & set(form_fields))
                self.assertNotIn("action_log_contact", views["views"]["form"]["arch"])
                values = partner.web_read({fname: {} for fname in form_fields})
                self.assertEqual(values[0]["name"], self.customer_vn.name)

    # ------------------------------------------------------------
    # CUSTOMER HISTORY
    # ------------------------------------------------------------

    def _sell_and_invoice_as_rival(self):
        """A confirmed order and its posted invoice for customer_vn, by the other team."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.contact_vn.id,
                "user_id": self.user_rival.id,
                "team_id": self.team_saigon.id,
                "order_line": self._command_lines([(self._create_product(), 1)]),
            }
        )
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        self.env.flush_all()
        return order, invoice

    def _history(self, user):
        rows = (
            self.env["crm.customer.timeline"]
            .with_user(user)
            .search([("commercial_partner_id", "=", self.customer_vn.id)])
        )
        return {(row.event_type, row.res_id) for row in rows}

    def test_timeline_hides_other_team_contacts(self):
        """The history shows a salesperson every order and invoice of the customer, but only
        the contacts of their own team."""
        order, invoice = self._sell_and_invoice_as_rival()
        documents = {("sale_order", order.id), ("invoice", invoice.id)}
        own_team = {("contact_log", log.id) for log in self.log_own | self.log_mate}
        rival = {("contact_log", self.log_rival.id)}

        self.assertEqual(self._history(self.user_salesman), documents | own_team)
        self.assertEqual(self._history(self.user_rival), documents | rival)
        for user in (self.user_care, self.user_crm_manager):
            self.assertEqual(self._history(user), documents | own_team | rival)

        # the History tab of the customer form obeys the same rules
        self.env.invalidate_all()
        history = self.customer_vn.with_user(self.user_salesman).timeline_ids
        self.assertEqual({(row.event_type, row.res_id) for row in history}, documents | own_team)
        self.env.invalidate_all()
        history = self.contact_vn.with_user(self.user_care).timeline_ids
        self.assertEqual(
            {(row.event_type, row.res_id) for row in history}, documents | own_team | rival
        )

    def test_contact_count_counts_visible_logs(self):
        """The Contacts smart button counts the logs the user may open, company-wide."""
        expected = [
            (self.user_salesman, self.customer_vn, 2),
            (self.user_salesman, self.contact_vn, 1),
            (self.user_mate, self.customer_vn, 2),
            (self.user_rival, self.customer_vn, 1),
            (self.user_rival, self.contact_vn, 1),
            (self.user_care, self.customer_vn, 3),
            (self.user_sale_manager, self.contact_vn, 2),
        ]
        for user, partner, count in expected:
            with self.subTest(user=user.login, partner=partner.name):
                self.env.invalidate_all()
                self.assertEqual(partner.with_user(user).contact_log_count, count)

    def test_reschedule_history_follows_the_contact(self):
        """A salesperson reads the reschedules of their own and team's contacts only, and cannot
        add one to a contact they may not edit."""
        Reschedule = self.env["crm.contact.log.reschedule"]
        for log in self.all_logs:
            log.with_context(crm_contact_log_reschedule_reason="Khách bận").planned_date = (
                log.planned_date + timedelta(days=1)
            )
        self.env.invalidate_all()
        visible = Reschedule.with_user(self.user_salesman).search(
            [("log_id", "in", self.all_logs.ids)]
        )
        self.assertEqual(visible.log_id, self.log_own | self.log_mate)
        with self.assertRaises(AccessError):
            Reschedule.with_user(self.user_salesman).create(
                {"log_id": self.log_rival.id, "reason": "giả mạo"}
            )
        with self.assertRaises(AccessError):
            Reschedule.with_user(self.user_salesman).create(
                {"log_id": self.log_mate.id, "reason": "giả mạo"}
            )
        self.assertEqual(
            Reschedule.with_user(self.user_care)
            .search([("log_id", "in", self.all_logs.ids)])
            .log_id,
            self.all_logs,
        )
