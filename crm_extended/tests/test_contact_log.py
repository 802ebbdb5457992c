from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common import CrmExtendedCommon

NOW = datetime(2026, 11, 24, 9, 0, 0)


@tagged("post_install", "-at_install")
class ContactLogCommon(CrmExtendedCommon):
    """Contact logs of the salesperson with the Vietnamese customer, on fixed dates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Log = cls.env["crm.contact.log"]
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Kinh doanh miền Bắc",
                "user_id": cls.user_sale_manager.id,
                "member_ids": [Command.link(cls.user_salesman.id)],
            }
        )
        cls.category_payment = cls.env.ref("crm_extended.crm_contact_log_category_payment")
        cls.outcome_reached = cls.env.ref("crm_extended.crm_contact_log_outcome_reached")
        cls.env["ir.config_parameter"].sudo().set_param(
            "crm_extended.contact_log_missed_grace_hours", 24
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "crm_extended.contact_log_missed_manager_hours", 48
        )

    def _plan(self, planned_date, partner=None, **values):
        return (
            self.Log.with_user(self.user_salesman)
            .create(
                {
                    "name": "Gọi xác nhận lịch giao hàng",
                    "partner_id": (partner or self.contact_vn).id,
                    "planned_date": planned_date,
                    **values,
                }
            )
            .sudo(False)
        )

    def _log(self, date, partner=None, **values):
        return self._plan(False, partner, state="done", date=date, **values)


class TestContactLog(ContactLogCommon):
    def test_planned_contact_is_an_activity(self):
        """Planning puts an activity on the salesperson's list; holding the contact closes it."""
        log = self._plan(NOW + timedelta(days=1))
        self.assertEqual(log.state, "planned")
        self.assertEqual(log.team_id, self.team, "the team comes from the salesperson")
        activity = log.planned_activity_id
        self.assertEqual(activity.user_id, self.user_salesman)
        self.assertEqual(activity.date_deadline, (NOW + timedelta(days=1)).date())
        self.assertEqual(activity.activity_type_id.res_model, "crm.contact.log")

        log.action_done()
        self.assertEqual(log.state, "done")
        self.assertTrue(log.date)
        self.assertFalse(activity.exists(), "the activity is completed with the contact")
        # what was planned stays
        self.assertEqual(log.planned_date, NOW + timedelta(days=1))
        self.assertEqual(log.duration, log.planned_duration)

    def test_planned_contacts_inserted_as_computed(self):
        """Planned contacts created together are inserted with the values their computes
        and their activity's give (customer company, sort date, result, done date, time
        zone): recomputing them changes nothing."""
        self.user_salesman.tz = "Asia/Ho_Chi_Minh"
        logs = self.Log.with_user(self.user_salesman).create(
            [
                {
                    "name": "Gọi giới thiệu khuyến mãi",
                    "partner_id": partner.id,
                    "planned_date": NOW + timedelta(days=days),
                }
                for days, partner in enumerate((self.contact_vn, self.customer_en), 1)
            ]
        )
        self.env.flush_all()
        fnames = ["commercial_partner_id", "sort_date", "planned_result"]
        inserted = logs.sudo().read(fnames)
        activities = logs.sudo().planned_activity_id
        self.assertEqual(len(activities), 2)
        self.assertEqual(activities.mapped("user_tz"), ["Asia/Ho_Chi_Minh"] * 2)
        self.assertEqual(activities.mapped("date_done"), [False, False])
        self.assertEqual(logs[0].commercial_partner_id, self.customer_vn)
        self.assertEqual(logs[1].commercial_partner_id, self.customer_en)
        self.assertEqual(logs.mapped("sort_date"), logs.mapped("planned_date"))
        self.assertEqual(logs.mapped("planned_result"), [False, False])
        for fname in fnames:
            self.env.add_to_compute(logs._fields[fname], logs)
        logs._recompute_recordset(fnames)
        self.env.flush_all()
        logs.invalidate_recordset(fnames)
        self.assertEqual(logs.sudo().read(fnames), inserted)
        self.assertEqual(self.customer_vn.next_contact_date, NOW + timedelta(days=1))

    def test_activity_done_holds_the_contact(self):
        """Completing the activity from the systray marks the contact held."""
        log = self._plan(NOW)
        log.planned_activity_id.with_user(self.user_salesman).action_feedback("Đã gọi")
        self.assertEqual(log.state, "done")
        self.assertTrue(log.date)
        self.assertFalse(log.planned_activity_id)

    def test_activity_cancelled_cancels_the_contact(self):
        log = self._plan(NOW)
        log.planned_activity_id.with_user(self.user_salesman).unlink()
        self.assertEqual(log.state, "cancelled")
        log.action_reset_planned()
        self.assertEqual(log.state, "planned")
        self.assertTrue(log.planned_activity_id, "planned again, on the list again")

    def test_cancel_removes_activity(self):
        log = self._plan(NOW)
        activity = log.planned_activity_id
        log.action_cancel()
        self.assertEqual(log.state, "cancelled")
        self.assertFalse(activity.exists())

    def test_log_held_contact_with_followup(self):
        """A held contact can plan the next one in the same form."""
        with freeze_time(NOW):
            form = Form(
                self.Log.with_user(self.user_salesman).with_context(
                    default_partner_id=self.contact_vn.id,
                    default_state="done",
                    default_date=fields.Datetime.now(),
                ),
                view="crm_extended.crm_contact_log_view_form_quick",
            )
            form.name = "Khách hỏi giá bảo trì"
            form.channel = "phone"
            form.outcome_id = self.outcome_reached
            form.category_ids.add(self.category_payment)
            form.followup_date = NOW + timedelta(days=3)
            log = form.save()
        self.assertEqual(log.state, "done")
        self.assertEqual(log.date, NOW)
        followup = log.followup_log_id
        self.assertEqual(followup.state, "planned")
        self.assertEqual(followup.planned_date, NOW + timedelta(days=3))
        self.assertEqual(followup.partner_id, self.contact_vn)
        self.assertEqual(followup.previous_log_id, log)
        self.assertEqual(followup.category_ids, self.category_payment)
        self.assertTrue(followup.planned_activity_id)
        # saving again does not plan a second follow-up
        log.content = "<p>Báo giá gửi qua email</p>"
        self.assertEqual(self.Log.search_count([("previous_log_id", "=", log.id)]), 1)

    def test_reschedule_keeps_history(self):
        log = self._plan(NOW)
        wizard = (
            self.env["crm.contact.log.reschedule.wizard"]
            .with_user(self.user_salesman)
            .create(
                {
                    "log_id": log.id,
                    "new_date": NOW + timedelta(days=7),
                    "reason": "Khách đi công tác",
                }
            )
        )
        wizard.action_reschedule()
        self.assertEqual(log.planned_date, NOW + timedelta(days=7))
        self.assertEqual(log.reschedule_count, 1)
        history = log.reschedule_ids
        self.assertEqual(
            (history.old_date, history.new_date, history.reason, history.user_id),
            (NOW, NOW + timedelta(days=7), "Khách đi công tác", self.user_salesman),
        )
        self.assertEqual(log.planned_activity_id.date_deadline, (NOW + timedelta(days=7)).date())
        with self.assertRaises(UserError):
            self.env["crm.contact.log.reschedule.wizard"].create(
                {"log_id": log.id, "new_date": log.planned_date, "reason": "x"}
            ).action_reschedule()

    def test_reschedule_missed_plans_again(self):
        log = self._plan(NOW - timedelta(days=3))
        with freeze_time(NOW):
            self.Log._cron_mark_missed()
        self.assertEqual(log.state, "missed")
        log.with_context(crm_contact_log_reschedule_reason="Gọi lại").planned_date = NOW
        self.assertEqual(log.state, "planned")
        self.assertFalse(log.missed_date)
        self.assertEqual(log.reschedule_ids.reason, "Gọi lại")

    def test_planned_result(self):
        """Planned contacts are measured: held on time (within the grace), late, or missed."""
        on_time = self._plan(NOW)
        on_time.write({"state": "done", "date": NOW + timedelta(hours=5)})
        late = self._plan(NOW)
        late.write({"state": "done", "date": NOW + timedelta(hours=30)})
        unplanned = self._log(NOW)
        self.assertEqual(on_time.planned_result, "on_time")
        self.assertEqual(late.planned_result, "late")
        self.assertEqual(unplanned.planned_result, "unplanned")

    def test_manager_deletes_planned_contact(self):
        log = self._plan(NOW)
        activity = log.planned_activity_id
        log.with_user(self.user_sale_manager).unlink()
        self.assertFalse(log.exists())
        self.assertFalse(activity.exists())

    def test_archive_planned_contact_keeps_it_planned(self):
        log = self._plan(NOW + timedelta(days=1))
        log.action_archive()
        self.assertEqual(log.state, "planned")
        self.assertFalse(log.planned_activity_id)
        log.action_unarchive()
        self.assertEqual(log.state, "planned")
        self.assertTrue(log.planned_activity_id, "back on the salesperson's list")

    def test_team_of_the_contact_company(self):
        """A salesperson whose team belongs to another company logs a contact without a team
        rather than an error."""
        other = self.env["res.company"].create({"name": "Chi nhánh Huế"})
        self.team.company_id = self.env.company
        self.user_salesman.company_ids = [Command.link(other.id)]
        partner = self.env["res.partner"].create({"name": "Khách Huế", "company_id": other.id})
        log = self.Log.create(
            {
                "name": "Gọi khách Huế",
                "partner_id": partner.id,
                "company_id": other.id,
                "user_id": self.user_salesman.id,
                "state": "done",
                "date": NOW,
            }
        )
        self.assertFalse(log.team_id)

    def test_team_leader_reads_team_contacts(self):
        log = self._log(NOW)
        leader = self.env["res.users"].create(
            {
                "name": "Trưởng nhóm",
                "login": "ce_leader",
                "groups_id": [Command.link(self.env.ref("crm_extended.group_contact_user").id)],
            }
        )
        self.team.user_id = leader
        self.assertIn(log, self.Log.with_user(leader).search([("id", "=", log.id)]))

    def test_archive_instead_of_delete(self):
        log = self._log(NOW)
        with self.assertRaises(Exception):  # noqa: B017 - AccessError from the ACL
            log.with_user(self.user_salesman).unlink()
        log.with_user(self.user_salesman).action_archive()
        self.assertFalse(log.active)
        self.assertTrue(log.exists())


@tagged("post_install", "-at_install")
class TestContactLogConstraints(ContactLogCommon):
    """Bad input is refused with a clear message and saves nothing."""

    def assertRefused(self, values, message_part, exception=ValidationError):
        count = self.Log.search_count([])
        with self.assertRaises(exception) as caught:
            with self.env.cr.savepoint():
                self.Log.create(
                    {"name": "Sai", "partner_id": self.contact_vn.id, "state": "done", **values}
                )
        self.assertIn(message_part, str(caught.exception))
        self.assertEqual(self.Log.search_count([]), count, "nothing saved")

    def test_negative_durations(self):
        self.assertRefused({"date": NOW, "duration": -1}, "cannot be negative")
        self.assertRefused({"date": NOW, "planned_duration": -0.5}, "cannot be negative")

    def test_done_without_date(self):
        log = self._log(NOW)
        with self.assertRaises(ValidationError) as caught:
            log.write({"date": False})
        self.assertIn("needs its date", str(caught.exception))

    def test_planned_without_date(self):
        with self.assertRaises(ValidationError):
            self.Log.create({"name": "x", "partner_id": self.contact_vn.id, "state": "planned"})

    def test_invoice_of_another_customer(self):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer_en.id,
                "invoice_line_ids": [Command.create({"name": "Tư vấn", "price_unit": 100})],
            }
        )
        self.assertRefused(
            {"date": NOW, "invoice_id": invoice.id}, "belongs to Harbour Trading Pte Ltd"
        )
        vendor_bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.contact_vn.id,
                "invoice_date": NOW.date(),
                "invoice_line_ids": [Command.create({"name": "Vật tư", "price_unit": 50})],
            }
        )
        self.assertRefused({"date": NOW, "invoice_id": vendor_bill.id}, "is not a customer invoice")

    def test_order_of_another_customer(self):
        order = self.env["sale.order"].create({"partner_id": self.customer_en.id})
        self.assertRefused({"date": NOW, "sale_order_id": order.id}, "belongs to Harbour")

    def test_partner_of_another_company(self):
        other = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        partner = self.env["res.partner"].create({"name": "Khách riêng", "company_id": other.id})
        self.assertRefused({"date": NOW, "partner_id": partner.id}, "", UserError)

    def test_settings_negative_delays(self):
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"crm_extended_missed_grace_hours": -1})


@tagged("post_install", "-at_install")
class TestMissedContacts(ContactLogCommon):
    def _notifications(self, log, partner):
        """Missed-contact notices ``partner`` received that list ``log``."""
        return self.env["mail.message"].search(
            [
                ("partner_ids", "in", partner.ids),
                ("message_type", "=", "user_notification"),
                ("body", "ilike", log.name),
            ]
        )

    def test_missed_job(self):
        """Past the grace period a planned contact is missed and its salesperson told; after the
        second delay the team leader is told; running the job again changes nothing."""
        late = self._plan(NOW - timedelta(hours=30), name="Gọi khách quá hạn")
        within_grace = self._plan(NOW - timedelta(hours=2), name="Gọi khách còn hạn")
        held = self._plan(NOW - timedelta(hours=30))
        held.action_done()

        with freeze_time(NOW):
            self.Log._cron_mark_missed()
            self.Log._cron_mark_missed()
        self.assertEqual(late.state, "missed")
        self.assertEqual(late.missed_date, NOW)
        self.assertEqual(within_grace.state, "planned")
        self.assertEqual(held.state, "done")
        self.assertEqual(late.planned_result, "missed")
        self.assertEqual(len(self._notifications(late, self.user_salesman.partner_id)), 1)
        self.assertFalse(self._notifications(late, self.user_sale_manager.partner_id))
        self.assertTrue(late.planned_activity_id, "still on the list: it must still be done")

        # the team leader hears of it once the second delay has passed, once
        with freeze_time(NOW + timedelta(hours=49)):
            self.Log._cron_mark_missed()
            self.Log._cron_mark_missed()
        self.assertTrue(late.manager_notified)
        self.assertEqual(len(self._notifications(late, self.user_sale_manager.partner_id)), 1)
        self.assertEqual(len(self._notifications(late, self.user_salesman.partner_id)), 1)
        self.assertEqual(within_grace.state, "missed")

    def test_missed_then_held(self):
        log = self._plan(NOW - timedelta(days=2))
        with freeze_time(NOW):
            self.Log._cron_mark_missed()
        log.action_done()
        self.assertEqual(log.state, "done")
        self.assertEqual(log.planned_result, "late")


@tagged("post_install", "-at_install")
class TestPartnerContacts(ContactLogCommon):
    def test_counters_roll_up(self):
        """The company counts its contact persons' contacts; the person only its own."""
        self._log(NOW, self.contact_vn)
        self._log(NOW, self.customer_vn)
        self._plan(NOW + timedelta(days=2), self.contact_vn)
        self.assertEqual(self.customer_vn.contact_log_count, 3)
        self.assertEqual(self.contact_vn.contact_log_count, 2)
        self.assertEqual(self.customer_en.contact_log_count, 0)
        action = self.customer_vn.action_view_contact_logs()
        self.assertEqual(self.Log.search_count(action["domain"]), 3)

    def test_last_and_next_contact_dates(self):
        self._log(NOW - timedelta(days=120), self.contact_vn)
        self.assertEqual(self.customer_vn.last_contact_date, NOW - timedelta(days=120))
        self.assertEqual(self.contact_vn.last_contact_date, NOW - timedelta(days=120))
        self.assertFalse(self.customer_vn.next_contact_date)

        not_contacted = [
            "|",
            ("last_contact_date", "=", False),
            ("last_contact_date", "<", NOW - timedelta(days=90)),
        ]
        self.assertIn(self.customer_vn, self.env["res.partner"].search(not_contacted))

        self._log(NOW - timedelta(days=5), self.customer_vn)
        soon = self._plan(NOW + timedelta(days=2))
        later = self._plan(NOW + timedelta(days=9))
        self.assertEqual(self.customer_vn.last_contact_date, NOW - timedelta(days=5))
        self.assertEqual(self.customer_vn.next_contact_date, soon.planned_date)
        self.assertNotIn(self.customer_vn, self.env["res.partner"].search(not_contacted))
        soon.action_cancel()
        self.assertEqual(self.customer_vn.next_contact_date, later.planned_date)

    def test_contact_dates_as_the_grouped_definition(self):
        """The dates computed in one query are those of the two grouped reads of the active
        contacts they replace: last held date, earliest planned or missed date; cancelled
        and archived contacts do not count."""
        self._log(NOW - timedelta(days=40), self.contact_vn)
        self._log(NOW - timedelta(days=3), self.customer_vn).sudo().action_archive()
        self._log(NOW - timedelta(days=10), self.customer_vn)
        self._plan(NOW - timedelta(days=2)).sudo().write({"state": "missed"})
        self._plan(NOW + timedelta(days=4))
        self._plan(NOW - timedelta(days=6)).action_cancel()
        self._plan(NOW - timedelta(days=8), self.customer_vn).sudo().action_archive()
        self._plan(NOW + timedelta(days=1), self.customer_en).action_cancel()
        partners = self.customer_vn | self.contact_vn | self.customer_en
        partners.invalidate_recordset(["last_contact_date", "next_contact_date"])
        partners._compute_contact_dates()
        logs = self.env["crm.contact.log"].sudo()
        customers = partners.commercial_partner_id.ids
        last = dict(
            logs._read_group(
                [("commercial_partner_id", "in", customers), ("state", "=", "done")],
                ["commercial_partner_id"],
                ["date:max"],
            )
        )
        upcoming = dict(
            logs._read_group(
                [
                    ("commercial_partner_id", "in", customers),
                    ("state", "in", ("planned", "missed")),
                ],
                ["commercial_partner_id"],
                ["planned_date:min"],
            )
        )
        for partner in partners:
            customer = partner.commercial_partner_id
            self.assertEqual(partner.last_contact_date, last.get(customer, False))
            self.assertEqual(partner.next_contact_date, upcoming.get(customer, False))
        self.assertEqual(self.contact_vn.last_contact_date, NOW - timedelta(days=10))
        self.assertEqual(self.contact_vn.next_contact_date, NOW - timedelta(days=2))
        self.assertFalse(self.customer_en.last_contact_date)
        self.assertFalse(self.customer_en.next_contact_date)

    def test_quick_log_from_partner(self):
        action = self.customer_vn.with_user(self.user_salesman).action_log_contact()
        self.assertEqual(action["target"], "new")
        self.assertEqual(action["context"]["default_partner_id"], self.customer_vn.id)
        self.assertEqual(action["context"]["default_state"], "done")
        plan = self.customer_vn.action_plan_contact()
        self.assertEqual(plan["context"]["default_state"], "planned")


@tagged("post_install", "-at_install")
class TestDocumentsContacts(ContactLogCommon):
    def test_sale_order_invoice_lead(self):
        product = self._create_product()
        order = self.env["sale.order"].create(
            {"partner_id": self.contact_vn.id, "order_line": self._command_lines([(product, 1)])}
        )
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        lead = self.env["crm.lead"].create(
            {
                "name": "Dự án lọc nước nhà máy",
                "partner_id": self.customer_vn.id,
                "type": "opportunity",
            }
        )
        for document, field in (
            (order, "sale_order_id"),
            (invoice, "invoice_id"),
            (lead, "lead_id"),
        ):
            action = document.action_log_contact()
            context = action["context"]
            self.assertEqual(context[f"default_{field}"], document.id)
            self.assertEqual(context["default_partner_id"], document.partner_id.id)
            self.Log.with_context(**context).create({"name": f"Về {document.display_name}"})
            self.assertEqual(document.contact_log_count, 1)
            view = document.action_view_contact_logs()
            self.assertEqual(self.Log.search(view["domain"])[field], document)


@tagged("post_install", "-at_install")
class TestCustomerTimeline(ContactLogCommon):
    def test_timeline_content(self):
        """Contacts, confirmed orders, posted invoices and credit notes, payments and emails of
        the customer and its contact persons, newest first; drafts and notes left out."""
        product = self._create_product(price=1000.0, taxes_id=False)
        self._log(NOW - timedelta(days=10), self.contact_vn, name="Gọi giới thiệu sản phẩm")
        self._plan(NOW + timedelta(days=1), name="Hẹn gặp trực tiếp")
        cancelled = self._plan(NOW + timedelta(days=2), name="Đã hủy")
        cancelled.action_cancel()
        order = self.env["sale.order"].create(
            {
                "partner_id": self.contact_vn.id,
                "date_order": NOW - timedelta(days=9),
                "order_line": self._command_lines([(product, 2)]),
            }
        )
        order.action_confirm()
        order.date_order = NOW - timedelta(days=9)  # confirming dates it today
        quotation = self.env["sale.order"].create({"partner_id": self.customer_vn.id})
        invoice = order._create_invoices()
        invoice.invoice_date = (NOW - timedelta(days=8)).date()
        invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": (NOW - timedelta(days=3)).date()})._create_payments()
        refund = invoice._reverse_moves(
            [{"invoice_date": (NOW - timedelta(days=2)).date(), "ref": "Hàng lỗi"}]
        )
        refund.action_post()
        self.customer_vn.message_post(
            body="Xin báo giá thêm", subject="Hỏi báo giá", message_type="email"
        ).date = NOW - timedelta(hours=1)
        self.customer_vn.message_post(body="ghi chú nội bộ", subtype_xmlid="mail.mt_note")
        self._log(NOW, self.customer_en, name="Khác khách hàng")

        rows = self.env["crm.customer.timeline"].search(
            [("commercial_partner_id", "=", self.customer_vn.id)]
        )
        events = [(row.event_type, row.reference) for row in rows]
        by_type = {row.event_type: row for row in rows}
        self.assertTrue(by_type["payment"].reference)
        self.assertEqual(
            events,
            [
                ("contact_log", "Hẹn gặp trực tiếp"),
                ("email", "Hỏi báo giá"),
                ("credit_note", refund.name),
                ("payment", by_type["payment"].reference),
                ("invoice", invoice.name),
                ("sale_order", order.name),
                ("contact_log", "Gọi giới thiệu sản phẩm"),
            ],
        )
        self.assertNotIn(quotation.name, [ref for __, ref in events])
        self.assertEqual(by_type["sale_order"].amount, 2000.0)
        self.assertEqual(by_type["invoice"].amount, 2000.0)
        self.assertEqual(by_type["credit_note"].amount, -2000.0)
        self.assertEqual(by_type["payment"].amount, 2000.0)
        self.assertEqual(by_type["sale_order"].partner_id, self.contact_vn)
        self.assertEqual(by_type["invoice"].payment_state, invoice.payment_state)

        # the partner's History tab shows the same rows, filterable by kind
        self.assertEqual(self.contact_vn.timeline_ids, rows)
        partner_form = Form(self.customer_vn)
        partner_form.timeline_event_type = "contact_log"
        self.assertEqual(len(partner_form.timeline_ids), 2)

        # each row opens its source
        action = by_type["invoice"].action_open_source()
        self.assertEqual((action["res_model"], action["res_id"]), ("account.move", invoice.id))
        action = by_type["email"].action_open_source()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("res.partner", self.customer_vn.id)
        )


@tagged("post_install", "-at_install")
class TestContactLogPerformance(ContactLogCommon):
    """Counters and the first page of the history cost the same for a big and a small
    customer."""

    def _queries(self, function):
        self.env.invalidate_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        function()
        return self.env.cr.sql_log_count - before

    def _open_partner(self, partner):
        partner.with_user(self.user_sale_manager).web_read(
            {
                "contact_log_count": {},
                "last_contact_date": {},
                "next_contact_date": {},
                "timeline_ids": {
                    "fields": {"date": {}, "event_type": {}, "reference": {}, "amount": {}},
                    "limit": 20,
                    "order": "date desc, id desc",
                },
            }
        )

    def test_partner_form_queries_constant(self):
        small = self.customer_en
        big = self.customer_vn
        self._log(NOW, small)
        self.Log.create(
            [
                {
                    "name": f"Cuộc gọi {i}",
                    "partner_id": self.contact_vn.id,
                    "state": "done",
                    "date": NOW - timedelta(hours=i),
                    "user_id": self.user_salesman.id,
                }
                for i in range(60)
            ]
        )
        self._open_partner(small)  # warm the caches of views and rules
        self._open_partner(big)
        queries_small = self._queries(lambda: self._open_partner(small))
        queries_big = self._queries(lambda: self._open_partner(big))
        self.assertEqual(queries_big, queries_small)
        with self.assertQueryCount(queries_small):
            self.env.invalidate_all()
            self._open_partner(big)

    def test_counters_in_list_one_query(self):
        """A list of partners computes all their counters in a constant number of queries."""
        partners = self.env["res.partner"].create(
            [{"name": f"Khách {i}", "is_company": True} for i in range(20)]
        )
        self.Log.create(
            [{"name": "x", "partner_id": p.id, "state": "done", "date": NOW} for p in partners]
        )
        partners.invalidate_recordset()
        self.env.cr.flush()
        with self.assertQueryCount(3):
            self.assertEqual(partners.mapped("contact_log_count"), [1] * 20)


@tagged("post_install", "-at_install")
class TestContactReports(ContactLogCommon):
    def test_report_figures(self):
        """Managers read contacts per salesperson and week, average duration, and the share of
        planned contacts held on time or missed, from grouped queries."""
        # Monday and Tuesday: the same week whether the user's weeks start on Sunday or Monday
        on_time = self._plan(NOW - timedelta(days=1))
        on_time.write({"state": "done", "date": NOW - timedelta(days=1), "duration": 0.5})
        self._log(NOW - timedelta(hours=2), duration=1.5)
        self._plan(NOW - timedelta(days=5))
        with freeze_time(NOW):
            self.Log._cron_mark_missed()
        domain = [("commercial_partner_id", "=", self.customer_vn.id)]
        Log = self.Log.with_user(self.user_sale_manager)
        by_result = dict(Log._read_group(domain, ["planned_result"], ["__count"]))
        self.assertEqual(by_result, {"on_time": 1, "unplanned": 1, "missed": 1})
        [(user, week, count, duration)] = Log._read_group(
            [*domain, ("state", "=", "done")],
            ["user_id", "sort_date:week"],
            ["__count", "duration:avg"],
        )
        self.assertEqual((user, count, duration), (self.user_salesman, 2, 1.0))
        self.assertTrue(week)
        action = self.env.ref("crm_extended.crm_contact_log_action_report_planned")
        self.assertEqual(action.res_model, "crm.contact.log")

    def test_settings_store_delays(self):
        self.env["res.config.settings"].create(
            {"crm_extended_missed_grace_hours": 4, "crm_extended_missed_manager_hours": 8}
        ).execute()
        self.assertEqual(self.Log._missed_grace(), timedelta(hours=4))
        self.assertEqual(self.Log._manager_delay(), timedelta(hours=8))
