from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged, users

from .test_payment_reminder import PaymentReminderCommon, day


@tagged("post_install", "-at_install")
class TestPaymentPromise(PaymentReminderCommon):
    """Promises to pay: what they accept, the contact they log, how they end; disputes."""

    def _promise(self, **values):
        return self.Promise.create(
            {
                "partner_id": self.contact_vn.id,
                "invoice_ids": [Command.set(self.invoice.ids)],
                "date_promised": day(10),
                "amount": 4_500_000,
                **values,
            }
        )

    # ------------------------------------------------------------
    # Recording a promise
    # ------------------------------------------------------------

    @users("ce_salesman")
    @freeze_time(day(2))
    def test_record_logs_a_contact(self):
        """A salesperson records a promise their customer made on the phone: it is in the
        customer's history as a held payment contact."""
        promise = self.env["crm.payment.promise"].create(
            {
                "partner_id": self.contact_vn.id,
                "invoice_ids": [Command.set(self.invoice.ids)],
                "date_promised": day(10),
                "amount": 4_500_000,
                "note": "Chị Hà hứa chuyển khoản trước ngày 10",
            }
        )
        self.assertRecordValues(
            promise,
            [
                {
                    "state": "open",
                    "commercial_partner_id": self.customer_vn.id,
                    "user_id": self.user_salesman.id,
                    "currency_id": self.invoice.currency_id.id,
                    "is_pending": True,
                    "company_id": self.company.id,
                }
            ],
        )
        log = promise.contact_log_id
        self.assertRecordValues(
            log,
            [
                {
                    "state": "done",
                    "channel": "phone",
                    "direction": "inbound",
                    "partner_id": self.contact_vn.id,
                    "invoice_id": self.invoice.id,
                    "user_id": self.user_salesman.id,
                }
            ],
        )
        self.assertEqual(log.category_ids, self.category_payment)
        self.assertIn("Chị Hà", str(log.content))
        self.assertTrue(self.invoice.payment_promise_pending)
        self.assertEqual(self.invoice.payment_promise_date, day(10))
        self.assertEqual(
            self.env["crm.payment.promise"].search([("is_pending", "=", True)]), promise
        )

    @freeze_time(day(2))
    def test_record_from_invoice_and_partner(self):
        """ "Record a Promise" on the invoice or the customer opens the dialog prefilled with
        the invoice (or all the customer's overdue invoices) and the amount due."""
        other = self._invoice(self.customer_vn, 1_000_000)
        not_due = self._invoice(self.customer_vn, 2_000_000, due=day(20))
        action = self.invoice.action_record_payment_promise()
        self.assertEqual(action["res_model"], "crm.payment.promise")
        form = Form(self.Promise.with_context(**action["context"]), view=action["views"][0][0])
        form.date_promised = day(9)
        promise = form.save()
        self.assertEqual(promise.invoice_ids, self.invoice)
        self.assertEqual(promise.amount, 4_500_000)
        self.assertTrue(promise.contact_log_id)

        action = self.customer_vn.action_record_payment_promise()
        context = action["context"]
        invoices = self.env["account.move"].browse(context["default_invoice_ids"][0][2])
        self.assertEqual(invoices, self.invoice | other)
        self.assertNotIn(not_due, invoices)
        self.assertEqual(context["default_amount"], 5_500_000)

    # ------------------------------------------------------------
    # Bad input
    # ------------------------------------------------------------

    @freeze_time(day(2))
    def test_date_in_the_past_refused(self):
        with self.assertRaisesRegex(ValidationError, "already past"):
            self._promise(date_promised=day(1))
        promise = self._promise(date_promised=day(2))
        with self.assertRaisesRegex(ValidationError, "already past"):
            promise.date_promised = day(-5)

    @freeze_time(day(2))
    def test_amount_must_be_positive(self):
        for amount in (0.0, -100.0):
            with self.assertRaisesRegex(ValidationError, "more than zero"):
                self._promise(amount=amount)

    @freeze_time(day(2))
    def test_invoices_of_another_customer_refused(self):
        foreign = self._invoice(self.customer_en, 300)
        with self.assertRaisesRegex(ValidationError, "belongs to Harbour Trading"):
            self._promise(invoice_ids=[Command.set((self.invoice | foreign).ids)])
        with self.assertRaisesRegex(ValidationError, "Choose the invoices"):
            self._promise(invoice_ids=[])

    @freeze_time(day(2))
    def test_paid_or_draft_invoice_refused(self):
        draft = self._invoice(self.customer_vn, 300, post=False)
        with self.assertRaisesRegex(ValidationError, "not an open customer invoice"):
            self._promise(invoice_ids=[Command.set(draft.ids)])
        self._pay(self.invoice)
        with self.assertRaisesRegex(ValidationError, "not an open customer invoice"):
            self._promise()
        with self.assertRaisesRegex(UserError, "already paid"):
            self.invoice.action_record_payment_promise()

    # ------------------------------------------------------------
    # How a promise ends
    # ------------------------------------------------------------

    def test_kept_broken_and_reopened(self):
        second = self._invoice(self.customer_vn, 1_000_000)
        with freeze_time(day(2)):
            kept = self._promise()
            broken = self._promise(invoice_ids=[Command.set(second.ids)], amount=1_000_000)
        with freeze_time(day(5)):
            self._pay(self.invoice)
            self.assertEqual(self.Promise._update_promise_states(day(5)), (kept, self.Promise))
        self.assertEqual(kept.state, "kept")
        self.assertEqual(broken.state, "open")
        with freeze_time(day(11)):
            self.assertEqual(self.Promise._update_promise_states(day(11)), (self.Promise, broken))
            self.assertEqual(broken.state, "broken")
            self.assertFalse(second.payment_promise_pending)
            # a broken promise renegotiated: reopened with a new date
            broken.date_promised = day(20)
            broken.action_reopen()
            self.assertEqual(broken.state, "open")
            self.assertTrue(second.payment_promise_pending)
            broken.action_cancel()
            self.assertEqual(broken.state, "cancelled")
            self.assertFalse(second.payment_promise_pending)

    def test_partial_payment_does_not_keep(self):
        with freeze_time(day(2)):
            promise = self._promise()
        with freeze_time(day(5)):
            self._pay(self.invoice, amount=1_000_000)
            self.Promise._update_promise_states(day(5))
        self.assertEqual(promise.state, "open")
        self.assertAlmostEqual(promise.amount_residual, 3_500_000)

    # ------------------------------------------------------------
    # Disputes
    # ------------------------------------------------------------

    @users("ce_billing")
    def test_dispute_wizard(self):
        """A billing user flags an invoice as disputed with the reason (tracked), then settles
        the dispute."""
        invoice = self.invoice.with_env(self.env)
        action = invoice.action_open_dispute_wizard()
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        self.assertTrue(wizard.disputed)
        wizard.reason = "Khách báo thiếu 2 lõi lọc"
        wizard.save().action_confirm()
        self.assertTrue(invoice.payment_disputed)
        self.assertEqual(invoice.payment_dispute_reason, "Khách báo thiếu 2 lõi lọc")
        disputed = self.env["account.move"].search([("payment_disputed", "=", True)])
        self.assertIn(invoice, disputed)

        action = invoice.action_open_dispute_wizard()
        wizard = Form(self.env[action["res_model"]].with_context(**action["context"]))
        self.assertFalse(wizard.disputed)
        wizard.reason = "Đã giao bù"
        wizard.save().action_confirm()
        self.assertFalse(invoice.payment_disputed)
        self.assertFalse(invoice.payment_dispute_reason)

    def test_dispute_needs_a_reason(self):
        with self.assertRaisesRegex(UserError, "Say why"):
            self.invoice._set_payment_dispute(True, "")
        draft = self._invoice(self.customer_vn, 300, post=False)
        with self.assertRaisesRegex(UserError, "Only posted customer invoices"):
            draft.action_open_dispute_wizard()

    def test_dispute_is_tracked(self):
        # records created in the same transaction are not tracked: close the setup's first
        self.env.flush_all()
        self.env.cr.precommit.run()
        invoice = self.invoice.with_context(tracking_disable=False, mail_notrack=False)
        invoice._set_payment_dispute(True, "Sai đơn giá")
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = invoice.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("payment_disputed", tracked)
        self.assertIn("payment_dispute_reason", tracked)
