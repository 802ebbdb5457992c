from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .test_payment_reminder import PaymentReminderCommon, day


@tagged("post_install", "-at_install")
class TestPaymentReminderSecurity(PaymentReminderCommon):
    """Who may see and do what with reminders, levels and promises — and what they may not.

    The salesman's customer is the Vietnamese one; the English customer belongs to another
    salesperson. Both were reminded on day 4 and made a promise.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman_other = new_test_user(
            cls.env,
            login="ce_salesman_other",
            groups="sales_team.group_sale_salesman",
            name="Trần Quốc Bảo",
            email="ce_salesman_other@example.com",
        )
        cls.customer_en.user_id = cls.user_salesman_other
        cls.invoice_en = cls._invoice(cls.customer_en, 300)
        with freeze_time(day(4)):
            reminders = cls.Reminder._cron_send_reminders()
        cls.reminder_vn = reminders.filtered(lambda r: r.partner_id == cls.customer_vn)
        cls.reminder_en = reminders.filtered(lambda r: r.partner_id == cls.customer_en)
        with freeze_time(day(5)):
            cls.promise_vn = cls.Promise.create(
                {
                    "partner_id": cls.customer_vn.id,
                    "invoice_ids": [Command.set(cls.invoice.ids)],
                    "date_promised": day(12),
                    "amount": 4_500_000,
                }
            )
            cls.promise_en = cls.Promise.create(
                {
                    "partner_id": cls.customer_en.id,
                    "invoice_ids": [Command.set(cls.invoice_en.ids)],
                    "date_promised": day(12),
                    "amount": 300,
                }
            )

    def test_setup(self):
        self.assertEqual(len(self.reminder_vn), 1)
        self.assertEqual(len(self.reminder_en), 1)

    # ------------------------------------------------------------
    # Salespeople: their customers only
    # ------------------------------------------------------------

    def test_salesman_reads_own_customers_reminders_only(self):
        Reminder = self.env["crm.payment.reminder"].with_user(self.user_salesman)
        visible = Reminder.search([("partner_id", "in", (self.customer_vn | self.customer_en).ids)])
        self.assertEqual(visible, self.reminder_vn)
        self.assertEqual(
            self.reminder_vn.with_user(self.user_salesman).line_ids.name, self.invoice.name
        )
        with self.assertRaises(AccessError):
            self.reminder_en.with_user(self.user_salesman).read(["name"])
        with self.assertRaises(AccessError):
            self.reminder_en.line_ids.with_user(self.user_salesman).read(["amount_residual"])
        # the partner's counter counts only what they may see
        self.assertEqual(self.customer_vn.with_user(self.user_salesman).payment_reminder_count, 1)
        self.assertEqual(self.customer_en.with_user(self.user_salesman).payment_reminder_count, 0)

    def test_salesman_cannot_change_or_send_reminders(self):
        reminder = self.reminder_vn.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            reminder.write({"state": "cancelled"})
        with self.assertRaises(AccessError), freeze_time(day(20)):
            self.env["crm.payment.reminder"].with_user(self.user_salesman)._send_now(
                self.customer_vn
            )
        with self.assertRaises(AccessError):
            self.env["crm.payment.reminder.preview"].with_user(self.user_salesman).create({})

    def test_salesman_promises(self):
        """Salespeople see their customers' promises and those they recorded, and may record
        promises; not the other salespeople's customers' promises."""
        Promise = self.env["crm.payment.promise"].with_user(self.user_salesman)
        mine = Promise.search([("id", "in", (self.promise_vn | self.promise_en).ids)])
        self.assertEqual(mine, self.promise_vn)
        with self.assertRaises(AccessError):
            self.promise_en.with_user(self.user_salesman).read(["amount"])
        with self.assertRaises(AccessError):
            self.promise_en.with_user(self.user_salesman).write({"note": "x"})
        with self.assertRaises(AccessError):
            self.promise_vn.with_user(self.user_salesman).unlink()
        # from their customer's form, prefilled with the overdue invoices
        with freeze_time(day(5)):
            action = self.customer_vn.with_user(self.user_salesman).action_record_payment_promise()
        self.assertEqual(action["context"]["default_invoice_ids"][0][2], self.invoice.ids)
        # a promise they recorded stays theirs when the customer changes hands
        with freeze_time(day(5)):
            recorded = Promise.create(
                {
                    "partner_id": self.contact_vn.id,
                    "invoice_ids": [Command.set(self.invoice.ids)],
                    "date_promised": day(20),
                    "amount": 100,
                }
            )
        self.customer_vn.user_id = self.user_salesman_other
        self.assertEqual(Promise.search([("id", "in", (self.promise_vn | recorded).ids)]), recorded)

    # ------------------------------------------------------------
    # Accountants
    # ------------------------------------------------------------

    def test_billing_user(self):
        """Billing users see every reminder and send them, but do not configure levels and
        do not delete reminders."""
        Reminder = self.env["crm.payment.reminder"].with_user(self.user_billing)
        self.assertEqual(
            Reminder.search([("id", "in", (self.reminder_vn | self.reminder_en).ids)]),
            self.reminder_vn | self.reminder_en,
        )
        Level = self.env["crm.payment.reminder.level"].with_user(self.user_billing)
        self.assertTrue(Level.search([]))
        with self.assertRaises(AccessError):
            Level.create({"name": "Gọi điện", "days": 45, "channel": "phone"})
        with self.assertRaises(AccessError):
            self.level_friendly.with_user(self.user_billing).write({"days": 5})
        with self.assertRaises(AccessError):
            self.reminder_vn.with_user(self.user_billing).unlink()

    def test_account_manager_configures_levels(self):
        manager = new_test_user(
            self.env,
            login="ce_account_manager",
            groups="account.group_account_manager",
            name="Đặng Thu Trang",
        )
        level = (
            self.env["crm.payment.reminder.level"]
            .with_user(manager)
            .create({"name": "Gọi điện", "days": 45, "channel": "phone"})
        )
        self.assertEqual(level.company_id, self.company)

    def test_auditor_reads_only(self):
        auditor = self.user_auditor
        self.assertEqual(
            self.env["crm.payment.reminder"]
            .with_user(auditor)
            .search([("id", "in", (self.reminder_vn | self.reminder_en).ids)]),
            self.reminder_vn | self.reminder_en,
        )
        self.assertTrue(self.promise_en.with_user(auditor).amount)
        with self.assertRaises(AccessError):
            self.reminder_vn.with_user(auditor).write({"state": "cancelled"})
        with self.assertRaises(AccessError):
            self.reminder_vn.with_user(auditor).action_mark_sent()
        with self.assertRaises(AccessError):
            self.promise_vn.with_user(auditor).write({"note": "x"})
        with self.assertRaises(AccessError), freeze_time(day(5)):
            self.env["crm.payment.promise"].with_user(auditor).create(
                {
                    "partner_id": self.customer_vn.id,
                    "invoice_ids": [Command.set(self.invoice.ids)],
                    "date_promised": day(9),
                    "amount": 1,
                }
            )
        with self.assertRaises(AccessError):
            self.level_friendly.with_user(auditor).write({"days": 5})
        with self.assertRaises(AccessError), freeze_time(day(20)):
            self.env["crm.payment.reminder"].with_user(auditor)._send_now(self.customer_vn)

    def test_care_officer_opens_invoices(self):
        """Care officers read invoices (after-sales): the invoice form's dispute and promise
        bits do not need any reminder right."""
        invoice = self.invoice.with_user(self.user_care)
        self.invoice._set_payment_dispute(True, "Thiếu hàng")
        invoice.invalidate_recordset()
        with freeze_time(day(6)):
            values = invoice.read(
                ["payment_disputed", "payment_dispute_reason", "payment_promise_pending"]
            )[0]
        self.assertTrue(values["payment_disputed"])
        self.assertTrue(values["payment_promise_pending"])
        form = invoice.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("action_view_payment_promises", form)
        with self.assertRaises(AccessError):
            self.promise_vn.with_user(self.user_care).read(["amount"])

    def test_portal_sees_nothing(self):
        for record in (self.reminder_vn, self.promise_vn, self.level_friendly):
            with self.assertRaises(AccessError):
                record.with_user(self.user_portal).read(["display_name"])

    # ------------------------------------------------------------
    # Companies
    # ------------------------------------------------------------

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_other_company_invisible(self):
        other = self.env["res.company"].create({"name": "Công ty Phía Nam"})
        levels = self.env["crm.payment.reminder.level"]._get_or_create_default_levels(other)
        customer = self.env["res.partner"].create(
            {"name": "Khách phía Nam", "company_id": other.id}
        )
        reminder = self.env["crm.payment.reminder"].create(
            {"partner_id": customer.id, "company_id": other.id, "level_id": levels[0].id}
        )
        for user in (self.user_billing, self.user_auditor):
            self.assertFalse(
                self.env["crm.payment.reminder.level"]
                .with_user(user)
                .search([("company_id", "=", other.id)])
            )
            self.assertNotIn(reminder, self.env["crm.payment.reminder"].with_user(user).search([]))
            with self.assertRaises(AccessError):
                reminder.with_user(user).read(["name"])
        # allowed in the other company, the billing user sees it there
        self.user_billing.company_ids |= other
        visible = (
            self.env["crm.payment.reminder"]
            .with_user(self.user_billing)
            .with_context(allowed_company_ids=[other.id])
            .search([("id", "=", reminder.id)])
        )
        self.assertEqual(visible, reminder)
