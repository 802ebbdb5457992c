from datetime import date
from unittest.mock import patch

import psycopg2.errors

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from .test_contract import ContractCase


@tagged("post_install", "-at_install")
class TestContractInvoicing(ContractCase):
    """Invoices beside contracts: the invoicing plans and their daily job, invoices from sales
    orders, and the contract's payment figures and status over simulated dates.

    The contracts run from 2025-01-01 to 2025-12-31 and bill 2 x 1,000,000 + 10 % tax, so
    each full invoice is 2,200,000.
    """

    def _run_invoicing(self, day):
        with freeze_time(day):
            return self.env["crm.contract"]._cron_create_invoices()

    def _posted_invoice(self, contract, day):
        """Invoice what is due on ``day`` and post it."""
        with freeze_time(day):
            invoices = contract._create_due_invoices()
            invoices.action_post()
        return invoices

    def _pay(self, invoice, amount, day):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": amount, "payment_date": day})._create_payments()

    def _figures(self, contract, day):
        """The contract's payment figures as computed on ``day``."""
        with freeze_time(day):
            contract._refresh_payment_status()
            return {
                "amount_invoiced": contract.amount_invoiced,
                "amount_paid": contract.amount_paid,
                "amount_residual": contract.amount_residual,
                "amount_overdue": contract.amount_overdue,
                "payment_status": contract.payment_status,
            }

    # ------------------------------------------------------------
    # recurring
    # ------------------------------------------------------------

    def test_recurring_job_run_twice_never_bills_a_period_twice(self):
        contract = self._active_contract(invoicing_kind="recurring", recurring_interval="monthly")
        self.assertEqual(contract.recurring_next_date, date(2025, 1, 1))

        self._run_invoicing("2025-01-01")
        self._run_invoicing("2025-01-01")
        self.assertEqual(len(contract.invoice_ids), 1)

        # the job did not run for two months: it catches up, once
        self._run_invoicing("2025-03-15")
        self._run_invoicing("2025-03-15")
        invoices = contract.invoice_ids.sorted("contract_period_start")
        expected = [
            {
                "contract_id": contract.id,
                "partner_id": self.customer_vn.id,
                "move_type": "out_invoice",
                "state": "draft",
                "invoice_date": start,
                "contract_period_start": start,
                "contract_period_end": end,
                "amount_total": 2_200_000.0,
                "invoice_origin": contract.name,
                "invoice_user_id": self.user_salesman.id,
            }
            for start, end in [
                (date(2025, 1, 1), date(2025, 1, 31)),
                (date(2025, 2, 1), date(2025, 2, 28)),
                (date(2025, 3, 1), date(2025, 3, 31)),
            ]
        ]
        self.assertRecordValues(invoices, expected)
        self.assertEqual(contract.recurring_next_date, date(2025, 4, 1))
        # each line says which period it bills, under the contract line's description
        description, period = invoices[1].invoice_line_ids.name.split("\n")
        self.assertEqual(description, contract.line_ids.name)
        self.assertTrue(period)

        # a next date moved back by hand does not bill a period again
        contract.recurring_next_date = date(2025, 2, 1)
        self._run_invoicing("2025-03-20")
        self.assertEqual(len(contract.invoice_ids), 3)
        self.assertEqual(contract.recurring_next_date, date(2025, 4, 1))

        # and the database refuses a second invoice of a period even bypassing the checks
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
        ):
            invoices[0].copy(
                {"contract_id": contract.id, "contract_period_start": date(2025, 1, 1)}
            )
            self.env.flush_all()

        # the last period ends with the contract, then nothing more is billed
        self._run_invoicing("2026-02-01")
        self.assertEqual(len(contract.invoice_ids), 12)
        self.assertEqual(
            contract.invoice_ids.sorted("contract_period_start")[-1].contract_period_end,
            date(2025, 12, 31),
        )
        self.assertFalse(contract.recurring_next_date)

    def test_posted_when_the_company_says_so(self):
        self.company.crm_contract_invoice_post = True
        contract = self._active_contract(
            invoicing_kind="recurring",
            recurring_interval="quarterly",
            payment_term_id=self.payment_30.id,
        )
        self._run_invoicing("2025-01-01")
        self.assertRecordValues(
            contract.invoice_ids,
            [
                {
                    "state": "posted",
                    "contract_period_end": date(2025, 3, 31),
                    "invoice_date_due": date(2025, 1, 31),
                    "amount_total": 2_200_000.0,
                }
            ],
        )
        self.assertNotEqual(contract.invoice_ids.name, "/")

    def test_create_due_invoices_button(self):
        contract = self._active_contract(invoicing_kind="recurring", recurring_interval="yearly")
        with freeze_time("2025-01-01"):
            action = contract.action_create_due_invoices()
            self.assertEqual(action["res_id"], contract.invoice_ids.id)
            with self.assertRefused(UserError, "Nothing is due today"):
                contract.action_create_due_invoices()
        self.assertEqual(contract.invoice_ids.contract_period_end, date(2025, 12, 31))
        draft = self._contract(invoicing_kind="recurring")
        with self.assertRefused(UserError, "not in force"):
            draft.action_create_due_invoices()

    # ------------------------------------------------------------
    # milestones
    # ------------------------------------------------------------

    def test_milestones_invoicing(self):
        contract = self._active_contract(
            invoicing_kind="milestone",
            milestone_ids=[
                Command.create({"name": "Tạm ứng", "date": date(2025, 1, 1), "percent": 30.0}),
                Command.create(
                    {
                        "name": "Nghiệm thu",
                        "date": date(2025, 6, 30),
                        "value_type": "amount",
                        "amount_fixed": 1_540_000.0,
                    }
                ),
            ],
        )
        advance, acceptance = contract.milestone_ids
        self.assertEqual(advance.amount, 660_000.0)

        self._run_invoicing("2025-01-01")
        self._run_invoicing("2025-03-01")
        self.assertRecordValues(
            contract.invoice_ids,
            [
                {
                    "amount_untaxed": 600_000.0,
                    "amount_total": 660_000.0,
                    "invoice_date": date(2025, 1, 1),
                }
            ],
        )
        self.assertRecordValues(
            contract.invoice_ids.invoice_line_ids, [{"tax_ids": self.tax_10.ids, "quantity": 1.0}]
        )
        self.assertEqual((advance.state, acceptance.state), ("invoiced", "to_invoice"))
        self.assertEqual(advance.invoice_id, contract.invoice_ids)

        self._run_invoicing("2025-07-01")
        self.assertEqual(acceptance.state, "invoiced")
        self.assertEqual(acceptance.invoice_id.amount_total, 1_540_000.0)
        self.assertEqual(len(contract.invoice_ids), 2)

        # a cancelled milestone invoice is billed again by the next run
        acceptance.invoice_id.button_cancel()
        self.assertEqual(acceptance.state, "to_invoice")
        self._run_invoicing("2025-07-02")
        self.assertEqual(acceptance.state, "invoiced")
        self.assertEqual(len(contract.invoice_ids), 3)

    # ------------------------------------------------------------
    # failures
    # ------------------------------------------------------------

    def test_failing_contract_does_not_stop_the_others(self):
        failing = self._active_contract(invoicing_kind="recurring", recurring_interval="monthly")
        healthy = self._active_contract(
            partner=self.customer_en, invoicing_kind="recurring", recurring_interval="monthly"
        )
        Contract = type(failing)
        prepare = Contract._prepare_period_invoice_values

        def prepare_or_fail(contract, start, end):
            if contract == failing:
                raise UserError(self.env._("Khách hàng chưa có mã số thuế"))
            return prepare(contract, start, end)

        with patch.object(Contract, "_prepare_period_invoice_values", prepare_or_fail):
            self._run_invoicing("2025-01-01")
            self.assertEqual(len(healthy.invoice_ids), 1)
            self.assertFalse(failing.invoice_ids)
            self.assertEqual(failing.invoicing_failed_date, date(2025, 1, 1))
            self.assertEqual(failing.recurring_next_date, date(2025, 1, 1), "rolled back")
            self.assertIn("Khách hàng chưa có mã số thuế", failing.message_ids[0].body)
            warning = self.env.ref("mail.mail_activity_data_warning")
            self.assertRecordValues(
                failing.activity_ids,
                [{"activity_type_id": warning.id, "user_id": self.user_salesman.id}],
            )
            # the same day it is left alone, the next day it fails again: one activity
            self.assertFalse(self._run_invoicing("2025-01-01"))
            self._run_invoicing("2025-01-02")
            self.assertEqual(len(failing.activity_ids), 1)

        # the cause fixed, the next run invoices it
        self._run_invoicing("2025-01-03")
        self.assertEqual(len(failing.invoice_ids), 1)
        self.assertFalse(failing.invoicing_failed_date)
        self.assertEqual(len(healthy.invoice_ids), 1, "not twice")

    # ------------------------------------------------------------
    # invoices from sales orders, credit notes
    # ------------------------------------------------------------

    def test_contract_follows_sale_order_to_invoice(self):
        contract = self._active_contract()
        other = self._active_contract(title="Cho thuê máy lọc")
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": self.contact_vn.id,
                    "contract_id": target.id,
                    "order_line": self._command_lines([(self.filter_ro, 1)]),
                }
                for target in (contract, other)
            ]
        )
        orders.action_confirm()
        invoices = orders._create_invoices()
        self.assertEqual(len(invoices), 2, "orders of two contracts are not merged")
        self.assertEqual(invoices.contract_id, contract | other)
        self.assertEqual(contract.sale_order_count, 1)
        self.assertEqual(contract.invoice_count, 1)
        with self.assertRefused(ValidationError, "choose a contract of the customer"):
            self.env["sale.order"].create(
                {"partner_id": self.customer_en.id, "contract_id": contract.id}
            )
        with self.assertRefused(ValidationError, "choose a contract of the invoiced customer"):
            self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer_en.id,
                    "contract_id": contract.id,
                }
            )

    def test_credit_note_reduces_invoiced(self):
        contract = self._active_contract(invoicing_kind="recurring", recurring_interval="monthly")
        invoice = self._posted_invoice(contract, "2025-01-01")
        refund = invoice._reverse_moves([{"invoice_date": date(2025, 1, 10)}])
        self.assertEqual(refund.contract_id, contract, "the credit note stays with the contract")
        refund.invoice_line_ids.price_unit = 250_000.0  # 2 x 250,000 + 10 % = 550,000
        refund.action_post()
        # posting the credit note of an invoice reconciles it with the invoice
        self.assertEqual(
            self._figures(contract, "2025-01-15"),
            {
                "amount_invoiced": 1_650_000.0,
                "amount_paid": 0.0,
                "amount_residual": 1_650_000.0,
                "amount_overdue": 1_650_000.0,
                "payment_status": "overdue",
            },
        )
        self.assertFalse(contract.last_payment_date, "a credit note is not a payment")
        self.assertEqual(contract.invoice_count, 2)

    # ------------------------------------------------------------
    # payments and status
    # ------------------------------------------------------------

    def test_totals_after_partial_payments(self):
        contract = self._active_contract(
            invoicing_kind="recurring",
            recurring_interval="monthly",
            payment_term_id=self.payment_30.id,
        )
        january = self._posted_invoice(contract, "2025-01-01")  # due 2025-01-31
        february = self._posted_invoice(contract, "2025-02-01")  # due 2025-03-03
        self.assertEqual(january.invoice_date_due, date(2025, 1, 31))

        self._pay(january, 1_000_000.0, date(2025, 2, 10))
        self.assertEqual(
            self._figures(contract, "2025-02-10"),
            {
                "amount_invoiced": 4_400_000.0,
                "amount_paid": 1_000_000.0,
                "amount_residual": 3_400_000.0,
                "amount_overdue": 1_200_000.0,
                "payment_status": "overdue",
            },
        )
        self.assertEqual(contract.last_payment_date, date(2025, 2, 10))
        self.assertEqual(contract.next_due_date, date(2025, 1, 31))
        with freeze_time("2025-02-10"):
            self.assertEqual(january.invoice_days_overdue, 10)
            self.assertEqual(february.invoice_days_overdue, 0)

        self._pay(january, 1_200_000.0, date(2025, 2, 20))
        figures = self._figures(contract, "2025-02-20")
        self.assertEqual(
            figures,
            {
                "amount_invoiced": 4_400_000.0,
                "amount_paid": 2_200_000.0,
                "amount_residual": 2_200_000.0,
                "amount_overdue": 0.0,
                "payment_status": "up_to_date",
            },
        )
        self.assertEqual(contract.last_payment_date, date(2025, 2, 20))
        self.assertEqual(contract.next_due_date, date(2025, 3, 3))

        self._pay(february, 2_200_000.0, date(2025, 2, 28))
        self.assertEqual(
            self._figures(contract, "2025-03-10"),
            {
                "amount_invoiced": 4_400_000.0,
                "amount_paid": 4_400_000.0,
                "amount_residual": 0.0,
                "amount_overdue": 0.0,
                "payment_status": "up_to_date",
            },
        )

    def test_due_soon_then_overdue_refreshed_by_the_daily_job(self):
        contract = self._active_contract(
            invoicing_kind="recurring",
            recurring_interval="yearly",
            payment_term_id=self.payment_30.id,
        )
        paid_up = self._active_contract(partner=self.customer_en)
        invoice = self._posted_invoice(contract, "2025-01-01")  # due 2025-01-31
        Contract = self.env["crm.contract"]
        with freeze_time("2025-01-01"):
            self.assertEqual(contract.payment_status, "up_to_date")

        with freeze_time("2025-01-25"):
            refreshed = Contract._cron_refresh_payment_status()
            self.assertEqual(refreshed, contract, "only contracts with an amount due")
            self.assertFalse(Contract._cron_refresh_payment_status(), "once a day")
        self.assertRecordValues(
            contract,
            [
                {
                    "payment_status": "due_soon",
                    "payment_refresh_date": date(2025, 1, 25),
                    "amount_overdue": 0.0,
                }
            ],
        )
        self.assertEqual(paid_up.payment_status, "up_to_date")

        with freeze_time("2025-02-01"):
            Contract._cron_refresh_payment_status()
            self.assertEqual(invoice.invoice_days_overdue, 1)
        self.assertRecordValues(
            contract, [{"payment_status": "overdue", "amount_overdue": 2_200_000.0}]
        )

    def test_dispute_and_promise_status(self):
        contract = self._active_contract(
            invoicing_kind="recurring",
            recurring_interval="yearly",
            payment_term_id=self.payment_30.id,
        )
        invoice = self._posted_invoice(contract, "2025-01-01")  # due 2025-01-31
        self.assertEqual(self._figures(contract, "2025-02-10")["payment_status"], "overdue")

        with freeze_time("2025-02-10"):
            invoice.payment_disputed = True
            self.assertEqual(contract.payment_status, "in_dispute")
            invoice.payment_disputed = False
            self.assertEqual(contract.payment_status, "overdue")
            promise = self.env["crm.payment.promise"].create(
                {
                    "partner_id": self.contact_vn.id,
                    "invoice_ids": [Command.set(invoice.ids)],
                    "date_promised": date(2025, 2, 20),
                    "amount": 2_200_000.0,
                }
            )
            self.assertEqual(promise.state, "open")
            self.assertEqual(contract.payment_status, "promise_pending")
            # a dispute comes first
            invoice.payment_disputed = True
            self.assertEqual(contract.payment_status, "in_dispute")
            invoice.payment_disputed = False
            self.assertEqual(contract.payment_status, "promise_pending")

        # the promised day passed unpaid: the daily refresh shows it overdue again
        with freeze_time("2025-02-21"):
            self.env["crm.contract"]._cron_refresh_payment_status()
        self.assertEqual(contract.payment_status, "overdue")

    # ------------------------------------------------------------
    # hot path: payment figures of many contracts
    # ------------------------------------------------------------

    def test_payment_figures_query_count(self):
        """The figures of many contracts cost the same few grouped queries as of one."""

        def contracts_with_invoices(count):
            contracts = self.env["crm.contract"]
            for _index in range(count):
                contract = self._active_contract(
                    invoicing_kind="recurring", recurring_interval="monthly"
                )
                self._posted_invoice(contract, "2025-01-01")
                contracts |= contract
            self.env.flush_all()
            return contracts

        few, many = contracts_with_invoices(2), contracts_with_invoices(8)
        for contracts in (few, many):
            with freeze_time("2025-03-01"), self.assertQueryCount(5):
                contracts._refresh_payment_status()
            self.assertEqual(set(contracts.mapped("payment_status")), {"overdue"})
