from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .test_support_ticket import SupportTicketCommon


@tagged("post_install", "-at_install")
class TestSupportTicketSecurity(SupportTicketCommon):
    """Who sees and edits which tickets: teams, salespeople, portal and companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_team = cls.env["crm.support.team"].create(
            {"name": "Bảo hành điều hòa", "member_ids": [Command.set(cls.user_sale_manager.ids)]}
        )
        cls.care_other = new_test_user(
            cls.env,
            login="ce_care_other",
            groups="base.group_user,crm_extended.group_care_officer",
            name="Phan Thanh Bình",
            email="ce_care_other@example.com",
        )
        cls.other_team.member_ids = [Command.link(cls.care_other.id)]
        Ticket = cls.Ticket.with_context(mail_create_nosubscribe=True)
        cls.ticket_team = Ticket.create(
            {"name": "Rò rỉ nước", "partner_id": cls.contact_vn.id, "team_id": cls.team.id}
        )
        cls.ticket_other_team = Ticket.create(
            {
                "name": "Điều hòa không lạnh",
                "partner_id": cls.customer_en.id,
                "team_id": cls.other_team.id,
                "user_id": cls.user_sale_manager.id,
            }
        )
        cls.ticket_no_team = Ticket.create(
            {"name": "Hỏi đáp chung", "partner_id": cls.customer_en.id}
        )
        cls.ticket_no_team.team_id = False
        cls.all_tickets = cls.ticket_team | cls.ticket_other_team | cls.ticket_no_team

    def _visible(self, user):
        return self.Ticket.with_user(user).search([("id", "in", self.all_tickets.ids)])

    def test_care_officer_sees_own_teams_tickets(self):
        self.assertEqual(self._visible(self.user_care), self.ticket_team | self.ticket_no_team)
        with self.assertRaises(AccessError):
            self.ticket_other_team.with_user(self.user_care).read(["name"])
        with self.assertRaises(AccessError):
            self.ticket_other_team.with_user(self.user_care).write({"priority": "3"})
        self.ticket_team.with_user(self.user_care).write({"priority": "3"})
        self.assertEqual(self.ticket_team.priority, "3")

    def test_care_officer_cannot_delete(self):
        with self.assertRaises(AccessError):
            self.ticket_team.with_user(self.user_care).unlink()
        self.assertTrue(self.ticket_team.exists())

    def test_manager_sees_all(self):
        self.assertEqual(self._visible(self.user_crm_manager), self.all_tickets)
        self.ticket_other_team.with_user(self.user_crm_manager).unlink()
        self.assertFalse(self.ticket_other_team.exists())

    def test_salesperson_reads_own_customers_tickets_only(self):
        self.assertFalse(self._visible(self.user_salesman))
        self.customer_vn.user_id = self.user_salesman
        self.assertEqual(self._visible(self.user_salesman), self.ticket_team)
        with self.assertRaises(AccessError):
            self.ticket_team.with_user(self.user_salesman).write({"priority": "0"})
        # a salesperson may open a ticket for a customer, and then reads it
        ticket = self.Ticket.with_user(self.user_salesman).create(
            {"name": "Khách báo lỗi", "partner_id": self.customer_en.id, "team_id": self.team.id}
        )
        self.assertEqual(ticket.with_user(self.user_salesman).name, "Khách báo lỗi")

    def test_internal_user_without_crm_role(self):
        with self.assertRaises(AccessError):
            self.Ticket.with_user(self.user_billing).search([])
        with self.assertRaises(AccessError):
            self.Ticket.with_user(self.user_privacy).create({"name": "Không được phép"})

    def test_portal_reads_only_own_company_tickets(self):
        visible = self._visible(self.user_portal)
        self.assertEqual(visible, self.ticket_team)
        with self.assertRaises(AccessError):
            self.ticket_other_team.with_user(self.user_portal).read(["name"])
        with self.assertRaises(AccessError):
            self.ticket_team.with_user(self.user_portal).write({"name": "Đổi tiêu đề"})
        with self.assertRaises(AccessError):
            self.Ticket.with_user(self.user_portal).create(
                {"name": "Tạo trực tiếp", "partner_id": self.contact_vn.id}
            )

    def test_other_company_invisible(self):
        company_2 = self.env["res.company"].create({"name": "Chi nhánh Cần Thơ"})
        team_2 = self.env["crm.support.team"].create(
            {
                "name": "Hỗ trợ Cần Thơ",
                "company_id": company_2.id,
                "member_ids": [Command.link(self.user_crm_manager.id)],
                "resource_calendar_id": company_2.resource_calendar_id.id,
            }
        )
        self.user_crm_manager.company_ids = [Command.link(company_2.id)]
        ticket_2 = self.Ticket.create(
            {"name": "Máy không chạy", "team_id": team_2.id, "partner_id": self.customer_en.id}
        )
        self.assertEqual(ticket_2.company_id, company_2)
        # a manager working in the first company only does not see the branch's tickets
        Ticket = self.Ticket.with_user(self.user_crm_manager).with_context(
            allowed_company_ids=[self.env.company.id]
        )
        self.assertFalse(Ticket.search([("id", "=", ticket_2.id)]))
        self.assertEqual(
            Ticket.with_context(allowed_company_ids=[company_2.id]).search(
                [("id", "=", ticket_2.id)]
            ),
            ticket_2,
        )
        with self.assertRaises(AccessError):
            ticket_2.with_user(self.user_care).read(["name"])

    def test_configuration_reserved_to_managers(self):
        with self.assertRaises(AccessError):
            self.team.with_user(self.user_care).write({"name": "Đổi tên"})
        with self.assertRaises(AccessError):
            self.stage_new.with_user(self.user_care).write({"is_closed": True})
        with self.assertRaises(AccessError):
            self.team.sla_ids[:1].with_user(self.user_care).write({"response_hours": 100})
        self.team.with_user(self.user_crm_manager).write({"name": "Đội CSKH"})
        self.assertEqual(self.team.name, "Đội CSKH")

    def test_history_shows_only_readable_tickets(self):
        Timeline = self.env["crm.customer.timeline"]
        self.env.flush_all()

        def tickets_in_history(user, customer):
            return Timeline.with_user(user).search(
                [("event_type", "=", "ticket"), ("commercial_partner_id", "=", customer.id)]
            )

        self.assertFalse(tickets_in_history(self.user_salesman, self.customer_vn))
        self.customer_vn.user_id = self.user_salesman
        self.assertEqual(len(tickets_in_history(self.user_salesman, self.customer_vn)), 1)
        # another team's ticket stays out of a care officer's history, a team-less one is in
        self.assertEqual(len(tickets_in_history(self.user_care, self.customer_en)), 1)
        self.assertEqual(len(tickets_in_history(self.user_crm_manager, self.customer_en)), 2)
