from datetime import date, timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import format_amount, mute_logger

from .common import CrmExtendedCommon

# Invoices fall due on Saturday 31 January 2026; "day N" is N days later.
DUE = date(2026, 1, 31)


def day(n):
    return DUE + timedelta(days=n)


@tagged("post_install", "-at_install")
class PaymentReminderCommon(CrmExtendedCommon):
    """Overdue invoices of the Vietnamese customer, reminded at the default levels.

    The main company keeps its default levels (friendly email at 3 days, firm email and a
    planned call at 15, letter and manager notice at 30) and 7 days between reminders. The
    customer's salesperson is the salesman, whose team leader is the sales manager; its
    invoices go to its accounting contact. ``invoice`` (4,500,000 USD... in the company
    currency) falls due on 31 January 2026.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Reminder = cls.env["crm.payment.reminder"]
        cls.Promise = cls.env["crm.payment.promise"]
        cls.company.crm_payment_reminder_interval = 7
        cls.level_friendly = cls.env.ref("crm_extended.crm_payment_reminder_level_friendly")
        cls.level_firm = cls.env.ref("crm_extended.crm_payment_reminder_level_firm")
        cls.level_letter = cls.env.ref("crm_extended.crm_payment_reminder_level_letter")
        # the test database may have other levels of its own: only the defaults count here
        cls.env["crm.payment.reminder.level"].search(
            [
                ("company_id", "=", cls.company.id),
                ("id", "not in", (cls.level_friendly | cls.level_firm | cls.level_letter).ids),
            ]
        ).active = False
        cls.category_payment = cls.env.ref("crm_extended.crm_contact_log_category_payment")
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Kinh doanh miền Bắc",
                "user_id": cls.user_sale_manager.id,
                "member_ids": [Command.link(cls.user_salesman.id)],
            }
        )
        cls.customer_vn.user_id = cls.user_salesman
        cls.accounting_vn = cls.env["res.partner"].create(
            {
                "name": "Phòng Kế toán Đông Á",
                "parent_id": cls.customer_vn.id,
                "type": "invoice",
                "email": "ketoan@donga.example.vn",
            }
        )
        cls.customer_en.user_id = cls.user_salesman
        cls.invoice = cls._invoice(cls.customer_vn, 4_500_000)

    @classmethod
    def _invoice(cls, partner, amount, due=DUE, currency=None, payment_term=None, post=True):
        values = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": date(2026, 1, 1),
            "invoice_line_ids": [
                Command.create(
                    {"name": "Máy lọc nước RO", "quantity": 1, "price_unit": amount, "tax_ids": []}
                )
            ],
        }
        if payment_term:
            values["invoice_payment_term_id"] = payment_term.id
        else:
            values["invoice_date_due"] = due
        if currency:
            values["currency_id"] = currency.id
        move = cls.env["account.move"].create(values)
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, amount=None, when=None):
        values = {"amount": amount} if amount else {}
        if when:
            values["payment_date"] = when
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create(values)._create_payments()

    def _run(self, when, partners=None):
        """Run the daily job on ``when``; return the reminders of ``partners`` (our two
        customers by default) it made."""
        partners = partners or (self.customer_vn | self.customer_en)
        with freeze_time(when):
            reminders = self.Reminder._cron_send_reminders()
        return reminders.filtered(lambda r: r.partner_id in partners)

    def _plan(self, when, partners=None, **kwargs):
        partners = partners or (self.customer_vn | self.customer_en)
        with freeze_time(when):
            return {
                entry.partner_id: entry
                for entry in self.Reminder._get_reminder_plan(
                    today=when, companies=self.company, partners=partners, **kwargs
                )
            }

    def _mails(self, reminders):
        """The emails of ``reminders`` to their customers (not the notices to managers)."""
        return self.env["mail.mail"].search(
            [
                ("model", "=", "crm.payment.reminder"),
                ("res_id", "in", reminders.ids),
                ("recipient_ids.commercial_partner_id", "in", reminders.partner_id.ids),
            ]
        )


@tagged("post_install", "-at_install")
class TestPaymentReminder(PaymentReminderCommon):
    # ------------------------------------------------------------
    # Levels over time
    # ------------------------------------------------------------

    def test_levels_over_simulated_dates(self):
        """Day 2: nothing. Day 4: friendly email. Day 16: firm email and a call planned for
        the salesperson. Day 31: letter (PDF) and a to-do for the team leader."""
        self.assertFalse(self._run(day(2)))

        friendly = self._run(day(4))
        self.assertEqual(len(friendly), 1)
        self.assertRecordValues(
            friendly,
            [
                {
                    "partner_id": self.customer_vn.id,
                    "recipient_id": self.accounting_vn.id,
                    "level_id": self.level_friendly.id,
                    "channel": "email",
                    "state": "sent",
                    "date": day(4),
                    "days_overdue": 4,
                    "user_id": self.user_salesman.id,
                }
            ],
        )
        self.assertEqual(friendly.invoice_ids, self.invoice)
        mail = self._mails(friendly)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.accounting_vn)
        self.assertEqual(mail.state, "outgoing", "queued: the mail queue sends it")
        self.assertEqual(friendly.mail_message_id, mail.mail_message_id)
        self.assertIn(self.invoice.name, str(mail.body_html))
        self.assertFalse(friendly.call_log_id, "no call at the first level")
        item = self.invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertEqual(item.payment_reminder_level_id, self.level_friendly)
        self.assertEqual(item.payment_reminder_date, day(4))

        firm = self._run(day(16))
        self.assertRecordValues(
            firm, [{"level_id": self.level_firm.id, "channel": "email", "state": "sent"}]
        )
        call = firm.call_log_id
        self.assertRecordValues(
            call,
            [
                {
                    "state": "planned",
                    "channel": "phone",
                    "user_id": self.user_salesman.id,
                    "partner_id": self.customer_vn.id,
                    "invoice_id": self.invoice.id,
                }
            ],
        )
        self.assertEqual(call.category_ids, self.category_payment)
        self.assertEqual(call.planned_activity_id.user_id, self.user_salesman)

        letter = self._run(day(31))
        self.assertRecordValues(
            letter,
            [
                {
                    "level_id": self.level_letter.id,
                    "channel": "letter",
                    "state": "to_print",
                    "manager_user_id": self.user_sale_manager.id,
                }
            ],
        )
        # the PDF is rendered by the letters job, which the reminder job woke up
        letters_cron = self.env.ref("crm_extended.ir_cron_payment_reminder_letters")
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", letters_cron.id)]),
            "the letters job is called at once",
        )
        self.assertFalse(letter.attachment_id)
        self.assertIn(letter, self.Reminder._cron_prepare_letters())
        self.assertTrue(letter.attachment_id)
        self.assertFalse(self.Reminder._cron_prepare_letters(), "rendered once")
        self.assertEqual(
            (letter.attachment_id.res_model, letter.attachment_id.res_id),
            ("crm.payment.reminder", letter.id),
        )
        self.assertIn(self.invoice.name, letter.attachment_id.raw.decode())
        self.assertFalse(self._mails(letter), "a letter is not emailed")
        self.assertEqual(letter.contact_log_id.attachment_ids, letter.attachment_id)
        notice = self.env["mail.message"].search(
            [
                ("model", "=", "crm.payment.reminder"),
                ("partner_ids", "in", self.user_sale_manager.partner_id.ids),
            ]
        )
        self.assertEqual(len(notice), 1, "the team leader is told, once")
        self.assertIn(letter.name, str(notice.body))
        self.assertIn(self.customer_vn.name, str(notice.body))
        letter.action_mark_sent()
        self.assertEqual(letter.state, "sent")

        # the highest level is reached: nothing more, ever, for this invoice
        self.assertFalse(self._run(day(60)))

    def test_contact_log_in_history(self):
        """The reminder is a held contact in the customer's history: channel, category,
        customer, invoice, salesperson, and its content lists the invoice."""
        reminder = self._run(day(4))
        log = reminder.contact_log_id
        self.assertRecordValues(
            log,
            [
                {
                    "state": "done",
                    "channel": "email",
                    "partner_id": self.customer_vn.id,
                    "commercial_partner_id": self.customer_vn.id,
                    "invoice_id": self.invoice.id,
                    "user_id": self.user_salesman.id,
                    "company_id": self.company.id,
                    "direction": "outbound",
                }
            ],
        )
        self.assertEqual(log.category_ids, self.category_payment)
        self.assertIn(self.invoice.name, str(log.content))
        self.assertIn(reminder.name, log.name)
        # the salesperson sees it among their contacts
        self.assertIn(log, self.env["crm.contact.log"].with_user(self.user_salesman).search([]))

    def test_highest_new_level_sent(self):
        """An invoice 20 days overdue never reminded gets the firm level at once, and its
        friendly level is never sent afterwards."""
        reminder = self._run(day(20))
        self.assertEqual(reminder.level_id, self.level_firm)
        self.assertFalse(self._run(day(27)))

    # ------------------------------------------------------------
    # Never twice, and not too often
    # ------------------------------------------------------------

    def test_no_duplicate_level(self):
        """Run twice the same day: one reminder. The next days: nothing new to send."""
        first = self._run(day(4))
        self.assertEqual(len(first), 1)
        self.assertFalse(self._run(day(4)))
        self.assertFalse(self._run(day(5)))
        self.assertEqual(self.Reminder.search_count([("partner_id", "=", self.customer_vn.id)]), 1)

    def test_interval_respected(self):
        """A second invoice reaching the friendly level 3 days after the first reminder waits
        for the 7 days of interval, then both are listed in one reminder."""
        self._run(day(4))
        second = self._invoice(self.customer_vn, 1_000_000, due=day(4))
        plan = self._plan(day(7))
        self.assertEqual(plan[self.customer_vn.id].skip_reason, "interval")
        self.assertEqual(plan[self.customer_vn.id].level_id, self.level_friendly.id)
        self.assertFalse(self._run(day(7)))

        reminder = self._run(day(11))
        self.assertEqual(reminder.level_id, self.level_friendly)
        self.assertEqual(reminder.invoice_ids, self.invoice | second)
        # the older invoice keeps its level: it was already reminded at it
        self.assertEqual(
            {line.name: line.level_id for line in reminder.line_ids},
            {self.invoice.name: self.level_friendly, second.name: self.level_friendly},
        )

    def test_send_now_bypasses_interval(self):
        """ "Send Reminder Now" sends what the job would, without waiting for the interval,
        and says why when there is nothing to send."""
        self._run(day(4))
        second = self._invoice(self.customer_vn, 1_000_000, due=day(1))
        with freeze_time(day(5)):
            reminders = self.Reminder.with_user(self.user_billing)._send_now(self.contact_vn)
            self.assertEqual(reminders.invoice_ids, self.invoice | second)
            self.assertTrue(reminders.manual)
            with self.assertRaisesRegex(UserError, "nothing to remind"):
                self.Reminder.with_user(self.user_billing)._send_now(self.customer_vn)

    # ------------------------------------------------------------
    # Disputes, promises, do not contact, blocked
    # ------------------------------------------------------------

    def test_dispute_skipped_then_resumed(self):
        self.invoice._set_payment_dispute(True, "Thiếu 2 lõi lọc khi giao hàng")
        self.assertEqual(self._plan(day(4))[self.customer_vn.id].skip_reason, "dispute")
        self.assertFalse(self._run(day(4)))
        self.invoice._set_payment_dispute(False, "Đã giao bù lõi lọc")
        reminder = self._run(day(5))
        self.assertEqual(reminder.level_id, self.level_friendly)

    def test_disputed_invoice_left_out(self):
        """Of two overdue invoices, the disputed one is left out of the message."""
        disputed = self._invoice(self.customer_vn, 2_000_000)
        disputed._set_payment_dispute(True, "Sai đơn giá")
        reminder = self._run(day(4))
        self.assertEqual(reminder.invoice_ids, self.invoice)
        self.assertNotIn(disputed.name, str(self._mails(reminder).body_html))

    def test_promise_pauses_then_broken_resumes(self):
        with freeze_time(day(2)):
            promise = self.Promise.create(
                {
                    "partner_id": self.contact_vn.id,
                    "invoice_ids": [Command.set(self.invoice.ids)],
                    "date_promised": day(10),
                    "amount": 4_500_000,
                }
            )
        self.assertEqual(self._plan(day(4))[self.customer_vn.id].skip_reason, "promise")
        self.assertFalse(self._run(day(4)))
        self.assertFalse(self._run(day(10)), "the promised day itself is still pending")
        self.assertEqual(promise.state, "open")
        reminder = self._run(day(11))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(reminder.level_id, self.level_friendly)

    def test_promise_kept_when_paid(self):
        with freeze_time(day(2)):
            promise = self.Promise.create(
                {
                    "partner_id": self.customer_vn.id,
                    "invoice_ids": [Command.set(self.invoice.ids)],
                    "date_promised": day(10),
                    "amount": 4_500_000,
                }
            )
        with freeze_time(day(8)):
            self._pay(self.invoice)
        self.assertFalse(self._run(day(11)))
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.date_closed, day(11))

    def test_do_not_contact_and_blocked_skipped(self):
        self._invoice(self.customer_en, 300)
        self.customer_vn.sudo().do_not_contact = True
        self.customer_en.payment_reminder_blocked = True
        plan = self._plan(day(4))
        self.assertEqual(plan[self.customer_vn.id].skip_reason, "do_not_contact")
        self.assertEqual(plan[self.customer_en.id].skip_reason, "blocked")
        self.assertFalse(self._run(day(4)))
        self.customer_en.payment_reminder_blocked = False
        self.assertEqual(self._run(day(4)).partner_id, self.customer_en)

    # ------------------------------------------------------------
    # The message
    # ------------------------------------------------------------

    def test_grouped_message_with_totals_per_currency(self):
        """Two invoices in the company currency and one in euros: one email listing the
        three, with a total per currency."""
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": eur.id, "name": "2026-01-01", "rate": 0.9, "company_id": False}
        )
        second = self._invoice(self.customer_vn, 1_500_000)
        in_euros = self._invoice(self.customer_vn, 800, currency=eur)
        reminder = self._run(day(4))
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.invoice_ids, self.invoice | second | in_euros)
        totals = dict(reminder._get_currency_totals())
        self.assertAlmostEqual(totals[self.company.currency_id], 6_000_000)
        self.assertAlmostEqual(totals[eur], 800)
        mail = self._mails(reminder)
        self.assertEqual(len(mail), 1)
        body = str(mail.body_html)
        for invoice in self.invoice | second | in_euros:
            self.assertIn(invoice.name, body)
        # one total per currency, in the customer's language
        lang_env = self.env(context={"lang": self.accounting_vn.lang})
        self.assertIn(format_amount(lang_env, 6_000_000, self.company.currency_id), body)
        self.assertEqual(body.count(format_amount(lang_env, 800, eur)), 2, "line and total")
        self.assertIn(reminder.name, mail.subject)
        self.assertIn("+", reminder.amount_summary)

    def test_contract_in_message(self):
        """Each listed invoice shows the contract it belongs to: in the email, the reminder
        lines, the letter and the statement of account."""
        contract = self.env["crm.contract"].create(
            {"title": "Bảo trì máy lọc nước 2026", "partner_id": self.customer_vn.id}
        )
        self.invoice.contract_id = contract
        reminder = self._run(day(4))
        self.assertEqual(reminder.line_ids.contract_id, contract)
        self.assertIn(contract.name, str(self._mails(reminder).body_html))
        self.assertIn(contract.name, str(reminder.contact_log_id.content))
        with freeze_time(day(4)):
            data = self.customer_vn._get_statement_data()
        self.assertEqual(data["lines"][0]["contract"], contract)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("crm_extended.action_report_payment_reminder_letter", reminder.ids)[
                0
            ]
            .decode()
        )
        self.assertIn(contract.name, html)

    def test_installments(self):
        """An invoice paid 50% at once and 50% at 60 days: only the overdue installment is
        reminded."""
        term = self.env["account.payment.term"].create(
            {
                "name": "50% ngay, 50% sau 60 ngày",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 60}),
                ],
            }
        )
        invoice = self._invoice(self.customer_en, 1_000, payment_term=term)
        items = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertEqual(len(items), 2)
        first = items.filtered(lambda line: line.date_maturity == date(2026, 1, 1))
        # 1 January + 4 days: the first installment is overdue, the second is not due
        reminder = self._run(date(2026, 1, 5), partners=self.customer_en)
        self.assertEqual(len(reminder.line_ids), 1)
        self.assertEqual(reminder.line_ids.move_line_id, first)
        self.assertAlmostEqual(reminder.line_ids.amount_residual, 500)
        self.assertEqual((items - first).payment_reminder_level_id.ids, [])
        # the second installment, overdue in its turn, gets its own friendly reminder
        reminder = self._run(date(2026, 3, 7), partners=self.customer_en)
        self.assertEqual(reminder.level_id, self.level_letter, "the first one is 65 days late")
        self.assertEqual(len(reminder.line_ids), 2)

    def test_no_email_falls_back_to_letter(self):
        """A customer without any email address gets a letter instead of the email."""
        self.customer_en.email = False
        self._invoice(self.customer_en, 300)
        reminder = self._run(day(4), partners=self.customer_en)
        self.assertRecordValues(reminder, [{"channel": "letter", "state": "to_print"}])
        self.Reminder._cron_prepare_letters()
        self.assertTrue(reminder.attachment_id)
        self.assertEqual(reminder.contact_log_id.channel, "letter")
        self.assertEqual(reminder.contact_log_id.attachment_ids, reminder.attachment_id)

    # ------------------------------------------------------------
    # Robustness and scale
    # ------------------------------------------------------------

    def test_failing_customer_does_not_stop_the_run(self):
        self._invoice(self.customer_en, 300)
        Reminder = type(self.Reminder)
        original = Reminder._prepare_contact_log_values

        def failing(reminder, *args, **kwargs):
            if reminder.partner_id == self.customer_vn:
                raise ValueError("Mẫu thư bị lỗi")
            return original(reminder, *args, **kwargs)

        with (
            patch.object(Reminder, "_prepare_contact_log_values", failing),
            mute_logger("odoo.addons.crm_extended.models.crm_payment_reminder"),
        ):
            reminders = self._run(day(4))
        failed = reminders.filtered(lambda r: r.partner_id == self.customer_vn)
        sent = reminders - failed
        self.assertRecordValues(failed, [{"state": "failed", "level_id": self.level_friendly.id}])
        self.assertIn("Mẫu thư bị lỗi", failed.error)
        self.assertEqual(failed.invoice_ids, self.invoice, "what it was about is kept")
        self.assertFalse(self._mails(failed), "nothing of the failed attempt is left")
        self.assertRecordValues(sent, [{"partner_id": self.customer_en.id, "state": "sent"}])
        # the failed customer is tried again the next run
        item = self.invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertFalse(item.payment_reminder_level_id)
        self.assertEqual(self._run(day(5)).partner_id, self.customer_vn)

    def test_stale_plan_does_not_send_twice(self):
        """A plan made before another transaction reminded the customer, or before an invoice
        was paid, is brought up to date when sent: no level twice, no paid invoice listed."""
        paid = self._invoice(self.customer_vn, 1_000_000)
        self._invoice(self.customer_en, 300)
        with freeze_time(day(4)):
            plan = self.Reminder._get_reminder_plan(
                today=day(4), companies=self.company, partners=self.customer_vn | self.customer_en
            )
            self.assertEqual(len(plan), 2)
            self.Reminder._send_now(self.customer_en)
            self._pay(paid)
            reminders = self.Reminder._send_plan(plan, today=day(4))
        self.assertEqual(reminders.partner_id, self.customer_vn, "customer_en already reminded")
        self.assertEqual(reminders.invoice_ids, self.invoice, "the paid invoice is left out")
        self.assertEqual(self.Reminder.search_count([("partner_id", "=", self.customer_en.id)]), 1)

    def test_plan_query_count_does_not_grow(self):
        """The plan costs the same few queries for 2 customers with 2 invoices as for 10
        customers with 30 invoices."""
        few = self.env["res.partner"].create(
            [{"name": f"Khách hàng {i}", "is_company": True} for i in range(2)]
        )
        many = self.env["res.partner"].create(
            [{"name": f"Khách hàng lớn {i}", "is_company": True} for i in range(10)]
        )
        for partner in few:
            self._invoice(partner, 100)
        for partner in many:
            for amount in (100, 200, 300):
                self._invoice(partner, amount)

        def count(partners):
            self.env.invalidate_all()
            self.env.cr.flush()
            before = self.env.cr.sql_log_count
            with freeze_time(day(4)):
                plan = self.Reminder._get_reminder_plan(
                    today=day(4), companies=self.company, partners=partners
                )
            return self.env.cr.sql_log_count - before, plan

        few_count, few_plan = count(few)
        many_count, many_plan = count(many)
        self.assertEqual(len(few_plan), 2)
        self.assertEqual(len(many_plan), 10)
        self.assertEqual(sum(len(entry.items) for entry in many_plan), 30)
        self.assertEqual(few_count, many_count)
        self.env.invalidate_all()
        with freeze_time(day(4)), self.assertQueryCount(6):
            self.Reminder._get_reminder_plan(today=day(4), companies=self.company, partners=many)

    # ------------------------------------------------------------
    # Preview and statement
    # ------------------------------------------------------------

    def test_preview_matches_the_job(self):
        self._invoice(self.customer_en, 300)
        disputed = self._invoice(self.customer_en, 500)
        disputed._set_payment_dispute(True, "Hàng lỗi")
        blocked = self.env["res.partner"].create(
            {"name": "Công ty Bị Chặn", "is_company": True, "payment_reminder_blocked": True}
        )
        self._invoice(blocked, 700)
        with freeze_time(day(4)):
            preview = self.env["crm.payment.reminder.preview"].with_user(self.user_billing)
            action = preview.action_open()
            preview = preview.browse(action["res_id"])
            lines = {line.partner_id: line for line in preview.line_ids}
        self.assertEqual(lines[self.customer_vn].level_id, self.level_friendly)
        self.assertFalse(lines[self.customer_vn].skip_reason)
        self.assertEqual(lines[self.customer_en].invoice_count, 1)
        self.assertIn(disputed.name, lines[self.customer_en].excluded_invoices)
        self.assertEqual(lines[blocked].skip_reason, "blocked")
        self.assertFalse(
            self.Reminder.search([("partner_id", "in", [p.id for p in lines])]),
            "the preview sends nothing",
        )

        reminders = self._run(day(4), partners=self.customer_vn | self.customer_en | blocked)
        to_send = {partner for partner, line in lines.items() if not line.skip_reason}
        self.assertEqual(set(reminders.partner_id), to_send & set(reminders.partner_id))
        self.assertEqual(
            set(reminders.partner_id), {self.customer_vn, self.customer_en}, "blocked skipped"
        )
        for reminder in reminders:
            self.assertEqual(reminder.level_id, lines[reminder.partner_id].level_id)

    def test_preview_send_now(self):
        with freeze_time(day(4)):
            preview = self.env["crm.payment.reminder.preview"].with_user(self.user_billing)
            preview = preview.browse(preview.action_open()["res_id"])
            line = preview.line_ids.filtered(lambda line: line.partner_id == self.customer_vn)
            action = line.action_send_now()
        reminder = self.Reminder.browse(action["res_id"])
        self.assertEqual(reminder.partner_id, self.customer_vn)
        self.assertEqual(reminder.state, "sent")

    def test_statement_of_account(self):
        second = self._invoice(self.customer_vn, 1_000_000, due=day(40))
        self._pay(self.invoice, amount=500_000)
        with freeze_time(day(35)):
            data = self.customer_vn._get_statement_data()
            html = (
                self.env["ir.actions.report"]
                ._render_qweb_html(
                    "crm_extended.action_report_statement_of_account", self.contact_vn.ids
                )[0]
                .decode()
            )
        buckets = {line["name"]: line["bucket"] for line in data["lines"]}
        self.assertEqual(buckets, {self.invoice.name: "31_60", second.name: "current"})
        self.assertEqual(len(data["totals"]), 1)
        self.assertAlmostEqual(data["totals"][0]["total"], 5_000_000)
        self.assertAlmostEqual(data["totals"][0]["31_60"], 4_000_000)
        self.assertIn(self.invoice.name, html)
        self.assertIn(second.name, html)
        self.assertIn(self.customer_vn.name, html)

    def test_statement_of_account_pdf(self):
        """A real PDF, when wkhtmltopdf can run here."""
        Report = self.env["ir.actions.report"]
        if Report.get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not usable")
        content, kind = Report.with_context(force_report_rendering=True)._render_qweb_pdf(
            "crm_extended.action_report_statement_of_account", self.customer_vn.ids
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(content.startswith(b"%PDF"))

    def test_letters_rendered_as_pdf(self):
        """Real PDFs, one per letter, when wkhtmltopdf can run here; sending one customer's
        reminder by hand renders its letter at once."""
        Report = self.env["ir.actions.report"]
        if Report.get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not usable")
        self.customer_en.email = False
        self._invoice(self.customer_en, 300)
        self._run(day(31))
        letters = self.Reminder.search(
            [("partner_id", "in", (self.customer_vn | self.customer_en).ids)]
        )
        self.assertEqual(set(letters.mapped("channel")), {"letter"})
        self.Reminder.with_context(force_report_rendering=True)._cron_prepare_letters()
        for letter in letters:
            self.assertEqual(letter.attachment_id.mimetype, "application/pdf")
            self.assertTrue(letter.attachment_id.raw.startswith(b"%PDF"))
        self.assertNotEqual(*letters.attachment_id.mapped("checksum"))

        second = self._invoice(self.customer_vn, 1_000_000, due=day(1))
        with freeze_time(day(32)):
            reminder = self.Reminder._send_now(self.customer_vn)
        self.assertEqual(reminder.level_id, self.level_letter)
        self.assertIn(second, reminder.invoice_ids)
        self.assertTrue(reminder.attachment_id, "rendered at once for the accountant")

    # ------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------

    def test_level_constraints(self):
        Level = self.env["crm.payment.reminder.level"]
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            Level.create({"name": "Quá sớm", "days": -1, "channel": "letter"})
        with self.assertRaisesRegex(ValidationError, "email template"):
            Level.create({"name": "Không mẫu", "days": 45, "channel": "email"})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            Level.create({"name": "Trùng", "days": 15, "channel": "letter"})

    def test_default_levels_for_new_company(self):
        company = self.env["res.company"].create({"name": "Công ty Con"})
        levels = self.env["crm.payment.reminder.level"]._get_or_create_default_levels(company)
        self.assertEqual(levels.mapped("days"), [3, 15, 30])
        self.assertEqual(levels.mapped("channel"), ["email", "email", "letter"])
        self.assertEqual(levels.company_id, company)
        again = self.env["crm.payment.reminder.level"]._get_or_create_default_levels(company)
        self.assertEqual(again, levels, "created once")
