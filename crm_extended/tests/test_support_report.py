from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, freeze_time, tagged

from .common import CrmExtendedCommon

# Monday 23 November 2026; the teams' calendar works 8-12 and 13-17 UTC, Monday to Friday.
MONDAY = datetime(2026, 11, 23)
# When the analysis is read: Wednesday 25 November 2026, 12:00 UTC.
NOW = datetime(2026, 11, 25, 12, 0)


def at(day, hour, minute=0):
    """``day`` days after Monday 23 November 2026, at ``hour``:``minute`` UTC."""
    return MONDAY.replace(day=MONDAY.day + day, hour=hour, minute=minute)


@tagged("post_install", "-at_install")
class SupportReportCommon(CrmExtendedCommon):
    """Two help desk teams and five tickets whose figures are worked out by hand.

    Both teams work 8-12 and 13-17 UTC on weekdays, with one target for every priority:
    first response within 4 working hours, resolution within 16. Team A (care officer) and
    team B (CRM manager). Read at Wednesday 12:00 (``NOW``):

    ========  ========  ============  ==========  ==========  =========  ==========
    ticket    category  opened        answered    solved      response   resolution
    ========  ========  ============  ==========  ==========  =========  ==========
    a1        warranty  Mon 08:00     Mon 10:00   Mon 15:00   2 h ok     6 h ok
    a2        warranty  Mon 09:00     Mon 16:00   Tue 11:00   6 h late   10 h ok
    a3        how_to    Tue 08:00     -           -           late       (pending)
    b1        how_to    Mon 08:00     Mon 08:30   Wed 10:00   0.5 h ok   18 h late
    b2        billing   Wed 11:00     -           -           (pending)  (pending)
    ========  ========  ============  ==========  ==========  =========  ==========

    a3's first-response deadline (Tue 12:00) has passed unanswered: late although open.
    a1 is rated 5 by the customer, b1 3.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ticket = cls.env["crm.support.ticket"]
        cls.Report = cls.env["crm.support.ticket.report"]
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Office hours UTC",
                "tz": "UTC",
                "company_id": False,
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"{day} {period}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                            "day_period": period,
                        }
                    )
                    for day in range(5)
                    for start, end, period in ((8, 12, "morning"), (13, 17, "afternoon"))
                ],
            }
        )
        cls.team_a = cls._create_team("Đội bảo hành A", cls.user_care)
        cls.team_b = cls._create_team("Đội hỗ trợ B", cls.user_crm_manager)
        cls.stage_solved = cls.env.ref("crm_extended.crm_support_stage_solved")
        cls.purifier = cls._create_product("Máy lọc nước RO")
        cls.air_conditioner = cls._create_product("Điều hòa Inverter")

        cls.a1 = cls._ticket(cls.team_a, "warranty", at(0, 8), at(0, 10), at(0, 15))
        cls.a2 = cls._ticket(cls.team_a, "warranty", at(0, 9), at(0, 16), at(1, 11))
        cls.a3 = cls._ticket(cls.team_a, "how_to", at(1, 8), product=cls.air_conditioner)
        cls.b1 = cls._ticket(
            cls.team_b,
            "how_to",
            at(0, 8),
            at(0, 8, 30),
            at(2, 10),
            partner=cls.customer_en,
            product=cls.air_conditioner,
        )
        cls.b2 = cls._ticket(cls.team_b, "billing", at(2, 11), partner=cls.customer_en)
        cls.tickets = cls.a1 | cls.a2 | cls.a3 | cls.b1 | cls.b2
        for ticket, rate in ((cls.a1, 5), (cls.b1, 3)):
            ticket.rating_apply(rate, token=ticket._rating_get_access_token())

    @classmethod
    def _create_team(cls, name, member):
        return cls.env["crm.support.team"].create(
            {
                "name": name,
                "resource_calendar_id": cls.calendar.id,
                "member_ids": [Command.set(member.ids)],
                "sla_ids": [
                    Command.create({"priority": "0", "response_hours": 4, "resolution_hours": 16})
                ],
            }
        )

    @classmethod
    def _ticket(
        cls, team, category, opened, answered=None, solved=None, partner=None, product=None
    ):
        """A ticket opened, answered and solved at these times, as the ORM records them."""
        with freeze_time(opened):
            ticket = cls.Ticket.create(
                {
                    "name": f"{category} {opened:%a %H:%M}",
                    "partner_id": (partner or cls.contact_vn).id,
                    "team_id": team.id,
                    "category": category,
                    "product_id": (product or cls.purifier).id,
                }
            )
        if answered:
            ticket.first_response_date = answered
        if solved:
            with freeze_time(solved):
                ticket.stage_id = cls.stage_solved
                ticket.flush_recordset()  # the closing date is computed now
        return ticket


class TestSupportReport(SupportReportCommon):
    def _figures(self, groupby, user=None):
        report = self.Report.with_user(user or self.user_crm_manager)
        with freeze_time(NOW):
            groups = report._read_group(
                [("ticket_id", "in", self.tickets.ids)],
                [groupby],
                [
                    "nbr:sum",
                    "response_hours:avg",
                    "resolution_hours:avg",
                    "response_on_time:avg",
                    "resolution_on_time:avg",
                    "response_breached:sum",
                    "resolution_breached:sum",
                    "sla_breached:sum",
                    "rating_last_value:avg",
                ],
            )
        names = (
            "count response_hours resolution_hours response_on_time resolution_on_time "
            "response_breached resolution_breached sla_breached rating"
        ).split()
        return {group: dict(zip(names, values, strict=True)) for group, *values in groups}

    def test_hand_made_tickets_are_as_expected(self):
        """The fixture's working hours are the ones worked out by hand in its docstring."""
        self.assertEqual(
            [(ticket.response_hours, ticket.resolution_hours) for ticket in self.tickets],
            [(2.0, 6.0), (6.0, 10.0), (0.0, 0.0), (0.5, 18.0), (0.0, 0.0)],
        )
        with freeze_time(NOW):
            self.assertEqual(
                self.tickets.mapped("sla_state"),
                ["on_time", "breached", "breached", "breached", "on_time"],
            )

    def test_figures_per_team(self):
        figures = self._figures("team_id")
        self.assertEqual(
            figures[self.team_a],
            {
                "count": 3,
                # a3 is not answered yet: it does not pull the average down
                "response_hours": 4.0,
                "resolution_hours": 8.0,
                # a1 on time, a2 answered late, a3 past its deadline unanswered
                "response_on_time": 100 / 3,
                # a3 is still within its resolution target: not counted
                "resolution_on_time": 100.0,
                "response_breached": 2,
                "resolution_breached": 0,
                "sla_breached": 2,
                "rating": 5.0,
            },
        )
        self.assertEqual(
            figures[self.team_b],
            {
                "count": 2,
                "response_hours": 0.5,
                "resolution_hours": 18.0,
                # b2 opened an hour ago: neither on time nor late yet
                "response_on_time": 100.0,
                "resolution_on_time": 0.0,
                "response_breached": 0,
                "resolution_breached": 1,
                "sla_breached": 1,
                "rating": 3.0,
            },
        )

    def test_figures_per_category_and_state(self):
        by_category = self._figures("category")
        self.assertEqual(
            {category: values["count"] for category, values in by_category.items()},
            {"warranty": 2, "how_to": 2, "billing": 1},
        )
        self.assertEqual(by_category["warranty"]["resolution_hours"], 8.0)
        self.assertEqual(by_category["how_to"]["resolution_hours"], 18.0)
        by_state = self._figures("is_closed")
        self.assertEqual(by_state[True]["count"], 3)
        self.assertEqual(by_state[False]["count"], 2)
        by_product = self._figures("product_id")
        self.assertEqual(by_product[self.purifier]["count"], 3)
        self.assertEqual(by_product[self.air_conditioner]["count"], 2)

    def test_breached_matches_ticket_service_level(self):
        """A row counts as breached exactly when its ticket's service level says so."""
        with freeze_time(NOW):
            rows = self.Report.search([("ticket_id", "in", self.tickets.ids)])
            breached = {row.ticket_id for row in rows if row.sla_breached}
            self.assertEqual(
                breached,
                set(self.tickets.filtered(lambda ticket: ticket.sla_state == "breached")),
            )
            self.assertEqual(
                self.Report.search(
                    [("sla_breached", "=", 1), ("ticket_id", "in", self.tickets.ids)]
                ).ticket_id,
                self.Ticket.search(
                    [("sla_state", "=", "breached"), ("id", "in", self.tickets.ids)]
                ),
            )

    def test_report_follows_ticket_changes_in_transaction(self):
        """The report flushes the tickets before reading: no stale figures."""
        self.b2.first_response_date = at(2, 11, 30)
        self.assertEqual(self._figures("team_id")[self.team_b]["response_hours"], 0.5)
        with freeze_time(at(2, 12)):
            self.b2.stage_id = self.stage_solved
            self.b2.flush_recordset()
        self.assertEqual(self._figures("team_id")[self.team_b]["resolution_hours"], 9.5)

    def test_rows_open_their_ticket(self):
        row = self.Report.search([("ticket_id", "=", self.a1.id)])
        self.assertEqual((row.number, row.name), (self.a1.number, self.a1.name))
        action = row.action_open_ticket()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("crm.support.ticket", self.a1.id)
        )


@tagged("post_install", "-at_install")
class TestSupportTimeline(SupportReportCommon):
    """Tickets in the customer's history (``crm.customer.timeline``, History tab)."""

    def _ticket_rows(self, customer):
        return self.env["crm.customer.timeline"].search(
            [("commercial_partner_id", "=", customer.id), ("event_type", "=", "ticket")]
        )

    def test_history_shows_the_customers_tickets_only(self):
        rows = self._ticket_rows(self.customer_vn)
        # newest first, by the date the customer reached us
        self.assertEqual(rows.mapped("res_id"), (self.a3 | self.a2 | self.a1).ids)
        self.assertEqual(
            self._ticket_rows(self.customer_en).mapped("res_id"), (self.b2 | self.b1).ids
        )
        row = rows.filtered(lambda row: row.res_id == self.a1.id)
        self.assertRecordValues(
            row,
            [
                {
                    "reference": f"{self.a1.number} {self.a1.name}",
                    "date": self.a1.open_date,
                    "partner_id": self.contact_vn.id,
                    "support_team_id": self.team_a.id,
                    "ticket_stage_id": self.stage_solved.id,
                    "user_id": self.a1.user_id.id,
                    "channel": "phone",
                    "amount": 0.0,
                    "res_model": "crm.support.ticket",
                }
            ],
        )
        action = row.action_open_source()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("crm.support.ticket", self.a1.id)
        )

    def test_history_tab_filters_tickets(self):
        partner_form = Form(self.customer_vn)
        partner_form.timeline_event_type = "ticket"
        rows = self.env["crm.customer.timeline"].browse(partner_form.timeline_ids.ids)
        self.assertEqual(set(rows.mapped("res_id")), set((self.a1 | self.a2 | self.a3).ids))
        self.assertEqual(set(rows.mapped("event_type")), {"ticket"})
        tab = self.customer_en.timeline_ids.filtered(lambda row: row.event_type == "ticket")
        self.assertEqual(set(tab.mapped("res_id")), set((self.b1 | self.b2).ids))

    def test_archived_and_moved_tickets(self):
        self.a3.active = False
        self.a2.partner_id = self.customer_en
        self.assertEqual(self._ticket_rows(self.customer_vn).mapped("res_id"), self.a1.ids)
        self.assertIn(self.a2.id, self._ticket_rows(self.customer_en).mapped("res_id"))


@tagged("post_install", "-at_install")
class TestSupportReportSecurity(SupportReportCommon):
    def _visible(self, user, **context):
        report = self.Report.with_user(user).with_context(**context)
        return report.search([("ticket_id", "in", self.tickets.ids)]).ticket_id

    def test_care_officer_sees_own_teams_only(self):
        self.assertEqual(self._visible(self.user_care), self.a1 | self.a2 | self.a3)
        self.assertEqual(self._visible(self.user_crm_manager), self.tickets)

    def test_users_without_care_role_refused(self):
        for user in (self.user_salesman, self.user_billing, self.user_portal):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Report.with_user(user).search([])

    def test_other_company_tickets_hidden(self):
        other = self.env["res.company"].create({"name": "Công ty Bảo hành Miền Nam"})
        team = self.env["crm.support.team"].create(
            {
                "name": "Đội miền Nam",
                "company_id": other.id,
                "resource_calendar_id": self.calendar.id,
            }
        )
        ticket = self.Ticket.create(
            {
                "name": "Máy lọc nước không lên nguồn",
                "partner_id": self.customer_vn.id,
                "team_id": team.id,
                "company_id": other.id,
            }
        )
        self.tickets |= ticket
        self.assertNotIn(ticket, self._visible(self.user_crm_manager))
        self.user_crm_manager.company_ids = [Command.link(other.id)]
        both = (self.env.company | other).ids
        self.assertIn(ticket, self._visible(self.user_crm_manager, allowed_company_ids=both))


@tagged("post_install", "-at_install")
class TestSupportReportPerformance(SupportReportCommon):
    def test_grouped_read_query_count(self):
        """The pivot's grouped read costs the same with two teams or five."""
        report = self.Report.with_user(self.user_crm_manager)
        args = (
            [],
            ["team_id", "nbr", "response_hours", "resolution_on_time", "rating_last_value"],
            ["team_id"],
        )
        report.read_group(*args, lazy=False)  # warm the access rules' caches
        self.env.invalidate_all()
        with self.assertQueryCount(4):
            groups = report.read_group(*args, lazy=False)
        counts = {group["team_id"][0]: group["nbr"] for group in groups if group["team_id"]}
        self.assertEqual((counts[self.team_a.id], counts[self.team_b.id]), (3, 2))
        for index in range(3):
            team = self._create_team(f"Đội {index}", self.user_crm_manager)
            for category in ("warranty", "how_to"):
                self._ticket(team, category, at(1, 9))
        self.env.invalidate_all()
        with self.assertQueryCount(4):
            more_groups = report.read_group(*args, lazy=False)
        self.assertEqual(len(more_groups), len(groups) + 3)
