from datetime import date, datetime

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import mute_logger

from .common import CrmExtendedCommon

# Friday 27 November 2026, 16:00 in Hanoi (UTC+7): one working hour left before the weekend.
FRIDAY_4PM = datetime(2026, 11, 27, 9, 0, 0)


@tagged("post_install", "-at_install")
class SupportTicketCommon(CrmExtendedCommon):
    """A help desk team working Monday to Friday, 8-12 and 13-17 Hanoi time.

    Targets for "Normal": first response in 4 working hours, resolution in 16; "Urgent":
    1 and 8. The care officer and the CRM manager are members. Products with 24 and 0
    months of warranty; an invoice of the first one to the Vietnamese customer, posted on
    1 March 2026.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ticket = cls.env["crm.support.ticket"]
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Giờ hành chính",
                "tz": "Asia/Ho_Chi_Minh",
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
        cls.team = cls.env["crm.support.team"].create(
            {
                "name": "Đội chăm sóc khách hàng",
                "sequence": 0,
                "resource_calendar_id": cls.calendar.id,
                "member_ids": [Command.set([cls.user_care.id, cls.user_crm_manager.id])],
                "sla_ids": [
                    Command.create({"priority": "1", "response_hours": 4, "resolution_hours": 16}),
                    Command.create({"priority": "3", "response_hours": 1, "resolution_hours": 8}),
                ],
            }
        )
        cls.stage_new = cls.env.ref("crm_extended.crm_support_stage_new")
        cls.stage_progress = cls.env.ref("crm_extended.crm_support_stage_in_progress")
        cls.stage_solved = cls.env.ref("crm_extended.crm_support_stage_solved")
        cls.purifier = cls._create_product("Máy lọc nước RO Karofi", warranty_months=24)
        cls.cartridge = cls._create_product("Lõi lọc số 1", price=150_000.0, warranty_months=0)
        cls.invoice = cls._post_invoice(cls.customer_vn, cls.purifier, date(2026, 3, 1))

    @classmethod
    def _post_invoice(cls, partner, product, invoice_date, move_type="out_invoice"):
        invoice = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": product.id, "quantity": 1, "price_unit": product.list_price}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _open(self, user=None, **values):
        ticket = (
            self.Ticket.with_user(user or self.user_care)
            .create(
                {
                    "name": "Máy lọc nước bị rò rỉ",
                    "partner_id": self.contact_vn.id,
                    "team_id": self.team.id,
                    **values,
                }
            )
            .sudo(False)
        )
        return ticket


class TestSupportTicket(SupportTicketCommon):
    def test_number_and_defaults(self):
        first = self._open()
        second = self._open(name="Không lên nguồn")
        self.assertRegex(first.number, r"^TK/\d{4}/\d{5}$")
        self.assertNotEqual(first.number, second.number)
        self.assertEqual(first.display_name, f"{first.number} Máy lọc nước bị rò rỉ")
        self.assertEqual(first.stage_id, self.stage_new, "tickets start in the first stage")
        self.assertEqual(first.commercial_partner_id, self.customer_vn)
        self.assertEqual(first.partner_email, self.contact_vn.email)
        self.assertEqual(first.partner_phone, "+84 912 345 678")
        self.assertIn(self.contact_vn, first.message_partner_ids, "the caller follows the ticket")
        # new tickets are spread over the members with the fewest open tickets
        self.assertEqual(len((first | second).user_id), 2)
        self.assertEqual(first.access_url, f"/my/tickets/{first.id}")

    def test_numbers_found_by_name_search(self):
        ticket = self._open()
        found = self.Ticket.with_user(self.user_care).name_search(ticket.number)
        self.assertEqual([ticket_id for ticket_id, _name in found], ticket.ids)

    def test_number_unique_per_company(self):
        ticket = self._open()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self._open(number=ticket.number)

    def test_closing_and_reopening_dates(self):
        with freeze_time(FRIDAY_4PM):
            ticket = self._open()
        with freeze_time(datetime(2026, 11, 30, 2, 0)):  # Monday 9:00 Hanoi
            ticket.stage_id = self.stage_solved
            self.assertTrue(ticket.is_closed)
            self.assertEqual(ticket.closed_date, datetime(2026, 11, 30, 2, 0))
            # Friday 16-17 and Monday 8-9: two working hours
            self.assertEqual(ticket.resolution_hours, 2.0)
        ticket.stage_id = self.stage_progress
        self.assertFalse(ticket.closed_date)
        self.assertFalse(ticket.resolution_hours)

    def test_mark_solved(self):
        ticket = self._open()
        ticket.with_user(self.user_care).action_close()
        self.assertEqual(ticket.stage_id, self.stage_solved)
        self.assertTrue(ticket.closed_date)

    def test_mark_solved_without_closing_stage(self):
        ticket = self._open()
        self.env["crm.support.stage"].search([("is_closed", "=", True)]).active = False
        with self.assertRaisesRegex(UserError, "No closing stage"):
            ticket.with_user(self.user_care).action_close()
        self.assertEqual(ticket.stage_id, self.stage_new, "nothing changed")


class TestWarranty(SupportTicketCommon):
    @freeze_time("2026-11-24")
    def test_warranty_from_the_invoice(self):
        ticket = self._open(product_id=self.purifier.id)
        self.assertEqual(ticket.invoice_id, self.invoice, "the invoice of the product is found")
        self.assertEqual(ticket.warranty_source_date, date(2026, 3, 1))
        self.assertEqual(ticket.warranty_end_date, date(2028, 3, 1))
        self.assertEqual(ticket.warranty_state, "under_warranty")
        self.assertIn(ticket, self.Ticket.search([("warranty_state", "=", "under_warranty")]))
        self.assertNotIn(ticket, self.Ticket.search([("warranty_state", "=", "expired")]))

    def test_warranty_expires(self):
        ticket = self._open(product_id=self.purifier.id)
        with freeze_time("2028-03-02"):
            ticket.invalidate_recordset(["warranty_state"])
            self.assertEqual(ticket.warranty_state, "expired")
            self.assertIn(ticket, self.Ticket.search([("warranty_state", "=", "expired")]))
            self.assertIn(ticket, self.Ticket.search([("warranty_state", "!=", "under_warranty")]))

    def test_product_without_warranty_is_expired_from_purchase(self):
        self._post_invoice(self.customer_vn, self.cartridge, date(2026, 10, 1))
        with freeze_time("2026-11-24"):
            ticket = self._open(product_id=self.cartridge.id)
            self.assertEqual(ticket.warranty_end_date, date(2026, 10, 1))
            self.assertEqual(ticket.warranty_state, "expired")

    def test_warranty_unknown_without_a_purchase(self):
        # the English customer never bought the purifier; an invoice of another customer
        # and a credit note do not count
        self._post_invoice(self.customer_en, self.purifier, date(2026, 5, 1), "out_refund")
        ticket = self._open(partner_id=self.customer_en.id, product_id=self.purifier.id)
        self.assertFalse(ticket.invoice_id)
        self.assertFalse(ticket.warranty_end_date)
        self.assertEqual(ticket.warranty_state, "unknown")
        self.assertIn(ticket, self.Ticket.search([("warranty_state", "=", "unknown")]))

    @freeze_time("2026-11-24")
    def test_the_tickets_invoice_wins_over_the_latest(self):
        latest = self._post_invoice(self.customer_vn, self.purifier, date(2024, 1, 10))
        ticket = self._open(product_id=self.purifier.id, invoice_id=latest.id)
        self.assertEqual(ticket.warranty_source_date, date(2024, 1, 10))
        self.assertEqual(ticket.warranty_state, "expired")

    def test_negative_warranty_refused(self):
        with (
            self.assertRaisesRegex(ValidationError, "cannot be negative"),
            self.env.cr.savepoint(),
        ):
            self.purifier.product_tmpl_id.warranty_months = -1
        self.purifier.product_tmpl_id.invalidate_recordset()
        self.assertEqual(self.purifier.product_tmpl_id.warranty_months, 24)


class TestServiceLevel(SupportTicketCommon):
    def _states(self):
        return {
            state: self.Ticket.search([("id", "in", self.ticket.ids), ("sla_state", "=", state)])
            for state in ("on_time", "at_risk", "breached")
        }

    def _assert_state(self, state):
        self.ticket.invalidate_recordset(["sla_state"])
        self.assertEqual(self.ticket.sla_state, state)
        found = {name for name, tickets in self._states().items() if tickets}
        self.assertEqual(found, {state}, "searching agrees with the computed state")

    def test_deadlines_across_a_weekend(self):
        with freeze_time(FRIDAY_4PM):
            self.ticket = self._open()
        # 4 working hours: Friday 16-17, then Monday 8-11 Hanoi = 04:00 UTC
        self.assertEqual(self.ticket.response_deadline, datetime(2026, 11, 30, 4, 0))
        # 16 working hours: Friday 1 h, Monday 8 h, Tuesday 7 h → Tuesday 16:00 Hanoi
        self.assertEqual(self.ticket.resolution_deadline, datetime(2026, 12, 1, 9, 0))
        # at risk after 75 %: 3 h → Monday 10:00 Hanoi
        self.assertEqual(self.ticket.response_risk_date, datetime(2026, 11, 30, 3, 0))
        with freeze_time(datetime(2026, 11, 28, 12, 0)):  # Saturday: the clock stands still
            self._assert_state("on_time")
        with freeze_time(datetime(2026, 11, 30, 3, 30)):  # Monday 10:30 Hanoi
            self._assert_state("at_risk")
        with freeze_time(datetime(2026, 11, 30, 4, 30)):  # Monday 11:30 Hanoi
            self._assert_state("breached")

    def test_first_response_stops_the_clock(self):
        with freeze_time(FRIDAY_4PM):
            self.ticket = self._open()
        with freeze_time(datetime(2026, 11, 30, 3, 45)):  # Monday 10:45 Hanoi
            self.ticket.with_user(self.user_care).message_post(
                body="Chào anh Đức, kỹ thuật viên sẽ gọi lại trong hôm nay.",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        self.assertEqual(self.ticket.first_response_date, datetime(2026, 11, 30, 3, 45))
        self.assertEqual(self.ticket.response_hours, 3.75)
        self.assertFalse(self.ticket.response_late)
        with freeze_time(datetime(2026, 11, 30, 9, 0)):  # Monday 16:00: resolution on track
            self._assert_state("on_time")
        with freeze_time(datetime(2026, 12, 1, 4, 30)):  # Tuesday 11:30: past 75 % of 16 h
            self._assert_state("at_risk")
        with freeze_time(datetime(2026, 12, 1, 10, 0)):  # Tuesday 17:00: past the deadline
            self._assert_state("breached")

    def test_notes_and_customer_messages_are_no_response(self):
        with freeze_time(FRIDAY_4PM):
            self.ticket = self._open()
            self.ticket.with_user(self.user_care).message_post(
                body="Đã kiểm tra bảo hành.", subtype_xmlid="mail.mt_note"
            )
            self.ticket.message_post(
                body="Khách gửi thêm ảnh.",
                author_id=self.contact_vn.id,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        self.assertFalse(self.ticket.first_response_date)

    def test_late_answer_stays_breached_after_closing(self):
        with freeze_time(FRIDAY_4PM):
            self.ticket = self._open(priority="3")
        # urgent: 1 working hour, answered on Monday at 9:00 Hanoi
        self.assertEqual(self.ticket.response_deadline, datetime(2026, 11, 27, 10, 0))
        with freeze_time(datetime(2026, 11, 30, 2, 0)):
            self.ticket.stage_id = self.stage_solved
            self.ticket.flush_recordset()
        self.assertTrue(self.ticket.response_late)
        self.assertFalse(self.ticket.resolution_late)
        with freeze_time(datetime(2026, 12, 20)):
            self._assert_state("breached")

    def test_kanban_progress_bar(self):
        with freeze_time(FRIDAY_4PM):
            self.ticket = self._open()
            late = self._open(priority="3")
        with freeze_time(datetime(2026, 11, 30, 3, 30)):  # Monday 10:30 Hanoi
            bars = self.Ticket.with_user(self.user_care).read_progress_bar(
                [("id", "in", (self.ticket | late).ids)],
                "stage_id",
                {
                    "field": "sla_state",
                    "colors": {"on_time": "success", "at_risk": "warning", "breached": "danger"},
                },
            )
        self.assertEqual(
            bars, {str(self.stage_new.id): {"on_time": 0, "at_risk": 1, "breached": 1}}
        )

    def test_priority_without_target_uses_the_lower_one(self):
        with freeze_time(FRIDAY_4PM):
            self.ticket = self._open(priority="2")
        self.assertEqual(self.ticket.response_deadline, datetime(2026, 11, 30, 4, 0))

    def test_team_without_targets(self):
        team = self.env["crm.support.team"].create({"name": "Showroom"})
        self.ticket = self._open(team_id=team.id)
        self.assertFalse(self.ticket.response_deadline)
        self._assert_state("on_time")

    def test_target_constraints(self):
        sla = self.team.sla_ids[:1]
        with self.assertRaisesRegex(ValidationError, "positive number of hours"):
            sla.response_hours = 0
        with self.assertRaisesRegex(ValidationError, "cannot be shorter"):
            sla.write({"response_hours": 10, "resolution_hours": 5})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.team.sla_ids = [
                Command.create({"priority": "1", "response_hours": 1, "resolution_hours": 2})
            ]

    def test_at_risk_percent_range(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.team.at_risk_percent = 150


class TestTicketMail(SupportTicketCommon):
    """Email intake, acknowledgement, stage emails and notifications, with tracking on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(
                cls.env.context,
                tracking_disable=False,
                mail_create_nolog=False,
                mail_notrack=False,
            )
        )
        cls.Ticket = cls.env["crm.support.ticket"]
        alias_domain = cls.env["mail.alias.domain"].create({"name": "hotro.example.vn"})
        cls.env.company.alias_domain_id = alias_domain
        cls.team.write({"alias_name": "baohanh", "alias_domain_id": alias_domain.id})

    def _flush_tracking(self):
        # stage emails are sent with the tracking, at commit time
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _customer_emails(self, ticket, partner):
        self._flush_tracking()
        return ticket.message_ids.filtered(
            lambda message: partner in message.notified_partner_ids
            and message.message_type != "user_notification"
        )

    def _email(self, subject, body, message_id, extra_headers=""):
        return (
            f"From: Nguyễn Văn Đức <{self.contact_vn.email}>\n"
            f"To: baohanh@hotro.example.vn\n"
            f"Subject: {subject}\n"
            f"Message-ID: {message_id}\n"
            f"{extra_headers}"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            f"{body}\n"
        )

    def test_email_creates_then_threads(self):
        raw = self._email(
            "Máy lọc nước kêu to", "Máy kêu to từ hôm qua.", "<first@donga.example.vn>"
        )
        ticket_id = self.env["mail.thread"].message_process(None, raw.encode())
        ticket = self.Ticket.browse(ticket_id)
        self.assertEqual(ticket.name, "Máy lọc nước kêu to")
        self.assertEqual(ticket.channel, "email")
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(ticket.partner_id, self.contact_vn, "the sender is a known contact")
        self.assertIn("Máy kêu to từ hôm qua.", ticket.description)
        acknowledgements = self._customer_emails(ticket, self.contact_vn)
        self.assertEqual(len(acknowledgements), 1, "one acknowledgement, with the number")
        self.assertIn(ticket.number, acknowledgements.subject)

        reply = self._email(
            f"Re: [{ticket.number}] Máy lọc nước kêu to",
            "Tôi gửi thêm video.",
            "<second@donga.example.vn>",
            "In-Reply-To: <first@donga.example.vn>\n",
        )
        count = self.Ticket.search_count([])
        self.assertEqual(self.env["mail.thread"].message_process(None, reply.encode()), ticket.id)
        self.assertEqual(self.Ticket.search_count([]), count, "a reply opens no new ticket")
        self.assertIn("Tôi gửi thêm video.", ticket.message_ids[0].body)

    def test_unknown_sender_keeps_the_address(self):
        raw = (
            "From: Lê Thị Hoa <hoa.le@khachmoi.example.vn>\nTo: baohanh@hotro.example.vn\n"
            "Subject: Hỏi về bảo hành\nMessage-ID: <new@khachmoi.example.vn>\n\nXin chào\n"
        )
        ticket = self.Ticket.browse(self.env["mail.thread"].message_process(None, raw.encode()))
        self.assertFalse(ticket.partner_id)
        self.assertEqual(ticket.partner_email, "hoa.le@khachmoi.example.vn")
        self.assertEqual(ticket.partner_name, "Lê Thị Hoa")

    def test_customer_reply_reopens_a_solved_ticket(self):
        raw = self._email("Không lên nguồn", "Máy không lên nguồn.", "<p1@donga.example.vn>")
        ticket = self.Ticket.browse(self.env["mail.thread"].message_process(None, raw.encode()))
        ticket.stage_id = self.stage_solved
        self._flush_tracking()
        reply = self._email(
            "Re: Không lên nguồn",
            "Lại hỏng rồi.",
            "<p2@donga.example.vn>",
            "In-Reply-To: <p1@donga.example.vn>\n",
        )
        self.env["mail.thread"].message_process(None, reply.encode())
        self.assertFalse(ticket.is_closed)
        self.assertEqual(ticket.stage_id, self.stage_progress)

    def test_solving_asks_for_a_rating(self):
        ticket = self._open()
        self._flush_tracking()
        ticket.stage_id = self.stage_progress
        self.assertEqual(
            len(self._customer_emails(ticket, self.contact_vn)),
            1,
            "only the acknowledgement: 'In Progress' does not notify",
        )
        ticket.stage_id = self.stage_solved
        emails = self._customer_emails(ticket, self.contact_vn)
        self.assertEqual(len(emails), 2)
        self.assertIn("/rate/", emails[0].body)
        self.assertTrue(ticket.rating_ids.filtered(lambda rating: rating.access_token))

    def test_assignee_notified(self):
        ticket = self._open()
        other = self.user_crm_manager if ticket.user_id == self.user_care else self.user_care
        ticket.user_id = other
        self.assertIn(other.partner_id, ticket.message_partner_ids)
        notified = self.env["mail.message"].search(
            [
                ("model", "=", ticket._name),
                ("res_id", "=", ticket.id),
                ("message_type", "=", "user_notification"),
                ("partner_ids", "in", other.partner_id.ids),
            ]
        )
        self.assertEqual(len(notified), 1)

    def test_mass_update_sends_no_storm(self):
        tickets = self.Ticket.create(
            [
                {
                    "name": f"Kiểm tra định kỳ {index}",
                    "partner_id": self.contact_vn.id,
                    "team_id": self.team.id,
                    "user_id": self.user_care.id,
                }
                for index in range(25)
            ]
        )
        tickets.write({"user_id": self.user_crm_manager.id})
        to_manager = self.env["mail.message"].search(
            [
                ("message_type", "=", "user_notification"),
                ("partner_ids", "in", self.user_crm_manager.partner_id.ids),
            ]
        )
        per_ticket = to_manager.filtered(lambda message: message.model == tickets._name)
        self.assertFalse(per_ticket, "no message per ticket")
        digest = to_manager.filtered(
            lambda message: message.subject == "Help desk tickets assigned to you"
        )
        self.assertEqual(len(digest), 1, "one digest")
        self.assertIn("25", digest.body)

        tickets.write({"stage_id": self.stage_solved.id})
        self._flush_tracking()
        rating_requests = self.env["mail.message"].search(
            [
                ("model", "=", tickets._name),
                ("res_id", "in", tickets.ids),
                ("body", "ilike", "/rate/"),
            ]
        )
        self.assertFalse(rating_requests, "a mass closing sends no rating requests")
        self.assertTrue(all(tickets.mapped("closed_date")), "but the tickets are closed")


class TestTicketFromContact(SupportTicketCommon):
    def test_contact_log_opens_a_prefilled_ticket(self):
        log = (
            self.env["crm.contact.log"]
            .with_user(self.user_salesman)
            .create(
                {
                    "name": "Khách báo máy lọc nước rò rỉ",
                    "partner_id": self.contact_vn.id,
                    "state": "done",
                    "date": datetime(2026, 11, 24, 2, 0),
                }
            )
        )
        action = log.action_create_ticket()
        self.assertEqual(action["res_model"], "crm.support.ticket")
        form = Form(self.Ticket.with_user(self.user_care).with_context(**action["context"]))
        ticket = form.save()
        self.assertEqual(ticket.partner_id, self.contact_vn)
        self.assertEqual(ticket.invoice_id, self.invoice, "the customer's last invoice")
        self.assertEqual(ticket.product_id, self.purifier, "the product with a warranty")
        self.assertEqual(ticket.name, "Khách báo máy lọc nước rò rỉ")
        self.assertEqual(log.ticket_id, ticket)
        self.assertEqual(ticket.contact_log_count, 1)
        # and back: a call logged from the ticket is about the ticket
        context = ticket.action_log_contact()["context"]
        self.assertEqual(context["default_ticket_id"], ticket.id)
        self.assertEqual(context["default_invoice_id"], self.invoice.id)


class TestTicketPerformance(SupportTicketCommon):
    def test_list_reads_in_constant_queries(self):
        fields_list = [
            "number",
            "name",
            "partner_id",
            "product_id",
            "team_id",
            "user_id",
            "stage_id",
            "sla_state",
            "resolution_deadline",
            "warranty_state",
            "priority",
        ]
        self.Ticket.create(
            [
                {
                    "name": f"Ticket {index}",
                    "partner_id": self.contact_vn.id,
                    "team_id": self.team.id,
                    "product_id": self.purifier.id,
                }
                for index in range(40)
            ]
        )
        Ticket = self.Ticket.with_user(self.user_care)

        def read(limit):
            self.env.invalidate_all()
            return Ticket.web_search_read(
                [("is_closed", "=", False)],
                {name: {} for name in fields_list},
                limit=limit,
            )

        read(5)  # warm the caches of the ORM and the access rules
        with self.assertQueryCount(__system__=12, ce_care=12):
            read(5)
        with self.assertQueryCount(__system__=12, ce_care=12):
            read(40)


class TestTicketBatch(SupportTicketCommon):
    def test_tickets_created_together_are_spread(self):
        tickets = self.Ticket.create(
            [
                {
                    "name": f"Bảo trì định kỳ {index}",
                    "partner_id": self.contact_vn.id,
                    "team_id": self.team.id,
                }
                for index in range(4)
            ]
        )
        loads = {user: len(group) for user, group in tickets.grouped("user_id").items()}
        self.assertEqual(loads, {self.user_care: 2, self.user_crm_manager: 2})
        self.assertEqual(tickets.stage_id, self.stage_new)
