import base64
import hashlib
from contextlib import contextmanager
from datetime import date

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import CrmExtendedCommon

# the smallest file PDF readers and libmagic take for a PDF
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


class ContractCase(CrmExtendedCommon):
    """Fixtures of the contract tests (no test of its own).

    On top of the common ones:
        tax_10          10 % sales tax (Vietnamese VAT), price excluded
        maintenance     service product at 1,000,000 with tax_10
        filter_ro       consumable product at 4,500,000 with tax_10
        customer_vn     its salesperson is user_salesman
        payment_30      payment terms: 30 days
    ``_contract()`` makes a draft contract of customer_vn with one maintenance line (2 units,
    total 2,200,000 with tax); ``_sign()`` attaches a signed original.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "crm_contract_require_original": True,
                "crm_contract_invoice_post": False,
                "crm_contract_renewal_days": 30,
                "crm_contract_due_soon_days": 7,
            }
        )
        cls.tax_10 = cls.env["account.tax"].create(
            {
                "name": "VAT 10% (contracts)",
                "amount": 10.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.maintenance = cls._create_product(
            "Bảo trì máy lọc nước",
            1_000_000.0,
            type="service",
            taxes_id=[Command.set(cls.tax_10.ids)],
        )
        cls.filter_ro = cls._create_product(
            "Máy lọc nước RO", 4_500_000.0, taxes_id=[Command.set(cls.tax_10.ids)]
        )
        cls.customer_vn.user_id = cls.user_salesman
        cls.payment_30 = cls.env["account.payment.term"].create(
            {
                "name": "30 days (contracts)",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})
                ],
            }
        )

    @classmethod
    def _contract(cls, partner=None, lines=None, **values):
        lines = lines if lines is not None else [(cls.maintenance, 2.0)]
        return cls.env["crm.contract"].create(
            {
                "title": "Bảo trì máy lọc nước 2025",
                "partner_id": (partner or cls.customer_vn).id,
                "date_start": date(2025, 1, 1),
                "date_end": date(2025, 12, 31),
                "line_ids": [
                    Command.create({"product_id": product.id, "quantity": quantity})
                    for product, quantity in lines
                ],
                **values,
            }
        )

    @classmethod
    def _sign(cls, contract, data=PDF_BYTES, signed=date(2024, 12, 20)):
        return cls.env["crm.contract.original"].create(
            {
                "contract_id": contract.id,
                "file": base64.b64encode(data),
                "file_name": f"{contract.name.replace('/', '-')}-signed.pdf",
                "date_signed": signed,
                "signatory": "Nguyễn Văn Đức, Giám đốc",
            }
        )

    @contextmanager
    def assertRefused(self, exception, pattern):
        """Like ``assertRaisesRegex``, rolling back what the refused operation did (Odoo's
        ``assertRaises`` savepoint)."""
        with self.assertRaises(exception) as catcher:
            yield catcher
        self.assertRegex(str(catcher.exception), pattern)

    @classmethod
    def _active_contract(cls, **values):
        contract = cls._contract(**values)
        cls._sign(contract)
        with freeze_time("2025-01-01"):
            contract.action_activate()
        return contract


@tagged("post_install", "-at_install")
class TestContract(ContractCase):
    """Contracts: numbering, amounts, validation, signed originals, states, renewal."""

    # ------------------------------------------------------------
    # numbering and defaults
    # ------------------------------------------------------------

    def test_number_from_sequence(self):
        first, second = self._contract(), self._contract()
        year = fields.Date.today().year
        for contract in (first, second):
            self.assertRegex(contract.name, rf"^HD/{year}/\d{{5}}$")
        self.assertNotEqual(first.name, second.name)
        copy = first.copy()
        self.assertNotIn(copy.name, (first.name, second.name, "/"))
        self.assertEqual(copy.state, "draft")
        self.assertEqual(len(copy.line_ids), 1, "lines are copied")

    def test_defaults_and_amounts(self):
        contract = self._contract(lines=[(self.maintenance, 2.0), (self.filter_ro, 1.0)])
        self.assertEqual(contract.user_id, self.user_salesman, "the customer's salesperson")
        self.assertEqual(contract.commercial_partner_id, self.customer_vn)
        self.assertEqual(contract.currency_id, self.company.currency_id)
        self.assertEqual(contract.state, "draft")
        line = contract.line_ids[0]
        self.assertRecordValues(
            line,
            [
                {
                    "price_unit": 1_000_000.0,
                    "tax_ids": self.tax_10.ids,
                    "price_subtotal": 2_000_000.0,
                    "price_total": 2_200_000.0,
                    "currency_id": contract.currency_id.id,
                }
            ],
        )
        self.assertRecordValues(
            contract,
            [{"amount_untaxed": 6_500_000.0, "amount_tax": 650_000.0, "amount_total": 7_150_000.0}],
        )
        # a customer without salesperson: the user who records it
        orphan = self._contract(partner=self.customer_en)
        self.assertEqual(orphan.user_id, self.env.user)

    # ------------------------------------------------------------
    # bad input
    # ------------------------------------------------------------

    def test_end_before_start_refused(self):
        with self.assertRefused(ValidationError, "before it starts"):
            self._contract(date_start=date(2025, 6, 1), date_end=date(2025, 5, 31))
        contract = self._contract()
        with self.assertRefused(ValidationError, "before it starts"):
            contract.date_end = date(2024, 12, 31)

    def test_negative_quantity_refused(self):
        with self.assertRefused(ValidationError, "quantity .* is negative"):
            self._contract(lines=[(self.maintenance, -1.0)])

    def test_negative_price_refused(self):
        contract = self._contract()
        with self.assertRefused(ValidationError, "unit price .* is negative"):
            contract.line_ids.price_unit = -5.0

    def test_line_in_another_currency_refused(self):
        contract = self._contract()
        other = self.env.ref("base.EUR")
        if other == contract.currency_id:
            other = self.env.ref("base.USD")
        with self.assertRefused(ValidationError, "a contract is invoiced in one currency"):
            contract.write(
                {
                    "line_ids": [
                        Command.create(
                            {"name": "Phí lắp đặt", "price_unit": 100.0, "currency_id": other.id}
                        )
                    ]
                }
            )
        # and the contract cannot move away from the currency its lines were priced in
        with self.assertRefused(ValidationError, "a contract is invoiced in one currency"):
            contract.currency_id = other

    def test_milestones_over_total_refused(self):
        contract = self._contract(invoicing_kind="milestone")  # total 2,200,000
        with self.assertRefused(ValidationError, "cannot exceed 100"):
            contract.milestone_ids = [
                Command.create({"name": "Tạm ứng", "date": date(2025, 1, 1), "percent": 60.0}),
                Command.create({"name": "Nghiệm thu", "date": date(2025, 6, 1), "percent": 50.0}),
            ]
        with self.assertRefused(ValidationError, "more than the contract's total"):
            contract.milestone_ids = [
                Command.create({"name": "Tạm ứng", "date": date(2025, 1, 1), "percent": 50.0}),
                Command.create(
                    {
                        "name": "Thanh toán cuối",
                        "date": date(2025, 6, 1),
                        "value_type": "amount",
                        "amount_fixed": 1_200_000.0,
                    }
                ),
            ]
        with self.assertRefused(ValidationError, "between 0 and 100"):
            self.env["crm.contract.milestone"].create(
                {"contract_id": contract.id, "name": "Sai", "date": date(2025, 1, 1), "percent": 0}
            )
        contract.milestone_ids = [
            Command.create({"name": "Tạm ứng", "date": date(2025, 1, 1), "percent": 50.0}),
            Command.create(
                {
                    "name": "Thanh toán cuối",
                    "date": date(2025, 6, 1),
                    "value_type": "amount",
                    "amount_fixed": 1_100_000.0,
                }
            ),
        ]
        self.assertEqual(contract.milestone_ids.mapped("amount"), [1_100_000.0, 1_100_000.0])
        # lowering the contract below its milestones is refused as well
        with self.assertRefused(ValidationError, "more than the contract's total"):
            contract.write({"line_ids": [Command.update(contract.line_ids.id, {"quantity": 1})]})

    # ------------------------------------------------------------
    # signed originals and activation
    # ------------------------------------------------------------

    def test_activation_requires_signed_original(self):
        contract = self._contract()
        with self.assertRefused(UserError, "signed original"):
            contract.action_activate()
        self.assertEqual(contract.state, "draft")

        original = self._sign(contract)
        self.assertEqual(original.checksum, hashlib.sha256(PDF_BYTES).hexdigest())
        self.assertEqual(original.file_size, len(PDF_BYTES))
        with freeze_time("2025-01-02"):
            contract.action_activate()
        self.assertRecordValues(
            contract, [{"state": "active", "date_signed": date(2024, 12, 20), "original_count": 1}]
        )
        with self.assertRefused(UserError, "cannot be replaced"):
            original.file = base64.b64encode(PDF_BYTES + b"% tampered\n")
        with self.assertRefused(UserError, "cannot be deleted"):
            original.unlink()
        with self.assertRefused(UserError, "only drafts can be activated"):
            contract.action_activate()

    def test_activation_without_original_when_not_required(self):
        self.company.crm_contract_require_original = False
        contract = self._contract()
        with freeze_time("2025-03-01"):
            contract.action_activate()
        self.assertEqual(contract.state, "active")
        self.assertEqual(contract.date_signed, date(2025, 3, 1), "signed when activated")

    def test_original_must_be_pdf(self):
        contract = self._contract()
        with self.assertRefused(ValidationError, "not a PDF file"):
            self._sign(contract, data=b"\x89PNG\r\n\x1a\n fake image")
        with self.assertRefused(ValidationError, "not a PDF file"):
            self._sign(contract, data=b"just some text, %PDF- later")

    # ------------------------------------------------------------
    # states, renewal, end
    # ------------------------------------------------------------

    def test_state_job_expiring_renewal_activity_once_expired(self):
        contract = self._active_contract()  # ends 2025-12-31, 30 renewal days
        far = self._active_contract(date_end=date(2026, 6, 30))
        renewal_type = self.env.ref("crm_extended.mail_activity_type_contract_renewal")
        Contract = self.env["crm.contract"]

        with freeze_time("2025-11-30"):
            Contract._cron_update_states()
        self.assertEqual(contract.state, "active", "31 days before the end: not yet")
        self.assertFalse(contract.activity_ids)

        with freeze_time("2025-12-01"):
            Contract._cron_update_states()
            Contract._cron_update_states()  # twice: still one activity
        self.assertEqual(contract.state, "expiring")
        self.assertEqual(contract.renewal_activity_date, date(2025, 12, 1))
        self.assertRecordValues(
            contract.activity_ids,
            [{"activity_type_id": renewal_type.id, "user_id": self.user_salesman.id}],
        )
        self.assertEqual(far.state, "active")
        self.assertFalse(far.activity_ids)

        with freeze_time("2025-12-15"):
            Contract._cron_update_states()
        self.assertEqual(len(contract.activity_ids), 1, "one renewal activity per end date")

        with freeze_time("2026-01-01"):
            Contract._cron_update_states()
        self.assertEqual(contract.state, "expired")
        self.assertEqual(far.state, "active")

        # extended by an amendment: in force again, and reminded again of the new end
        with freeze_time("2026-01-02"):
            contract.date_end = date(2026, 1, 20)
            self.assertEqual(contract.state, "expiring")
            self.assertFalse(contract.renewal_activity_date)
            Contract._cron_update_states()
        self.assertEqual(len(contract.activity_ids), 2)

    def test_renew(self):
        contract = self._active_contract()
        with freeze_time("2025-12-01"):
            self.env["crm.contract"]._cron_update_states()
            action = contract.action_renew()
        renewal = self.env["crm.contract"].browse(action["res_id"])
        self.assertRecordValues(
            renewal,
            [
                {
                    "state": "draft",
                    "partner_id": self.customer_vn.id,
                    "date_start": date(2026, 1, 1),
                    "date_end": date(2026, 12, 31),
                    "previous_contract_id": contract.id,
                    "amount_total": contract.amount_total,
                    "date_signed": False,
                }
            ],
        )
        self.assertNotEqual(renewal.name, contract.name)
        self.assertFalse(renewal.original_ids, "the renewal is signed again")
        self.assertEqual(contract.next_contract_id, renewal)
        contract.invalidate_recordset(["activity_ids"])
        self.assertFalse(contract.activity_ids, "the renewal activity is done")
        with self.assertRefused(UserError, "already renewed"):
            contract.action_renew()

    def test_renew_keeps_duration_and_moves_milestones(self):
        contract = self._contract(
            date_start=date(2025, 3, 1),
            date_end=date(2025, 8, 31),
            invoicing_kind="milestone",
            milestone_ids=[
                Command.create({"name": "Tạm ứng", "date": date(2025, 3, 1), "percent": 30.0})
            ],
        )
        self._sign(contract)
        contract.action_activate()
        renewal = contract.browse(contract.action_renew()["res_id"])
        self.assertEqual(
            (renewal.date_start, renewal.date_end), (date(2025, 9, 1), date(2026, 2, 28))
        )
        self.assertRecordValues(
            renewal.milestone_ids,
            [{"name": "Tạm ứng", "date": date(2025, 9, 1), "percent": 30.0, "state": "to_invoice"}],
        )

    def test_terminate_cancel_draft(self):
        contract = self._active_contract(invoicing_kind="recurring", recurring_interval="monthly")
        action = contract.action_terminate()
        self.assertEqual(action["res_id"], contract.id)
        self.assertEqual(action["target"], "new")
        with self.assertRefused(UserError, "Give the reason"):
            contract.action_confirm_termination()
        contract.termination_reason = "Khách dời trụ sở"
        with freeze_time("2025-06-30"):
            contract.action_confirm_termination()
        self.assertEqual(contract.state, "terminated")
        self.assertEqual(contract.termination_date, date(2025, 6, 30), "today by default")
        self.assertFalse(contract.recurring_next_date, "no more invoicing")

        draft = self._contract()
        draft.action_cancel()
        self.assertEqual(draft.state, "cancelled")
        draft.action_draft()
        self.assertEqual(draft.state, "draft")
        draft.unlink()
        with self.assertRefused(UserError, "Only draft or cancelled"):
            contract.unlink()

    # ------------------------------------------------------------
    # partner counter
    # ------------------------------------------------------------

    def test_partner_counts_contracts_of_its_contacts(self):
        self._contract()
        self._contract(partner=self.contact_vn)
        self._contract(partner=self.customer_en)
        partners = self.customer_vn | self.contact_vn | self.customer_en
        partners.invalidate_recordset(["contract_count"])
        with self.assertQueryCount(1):
            counts = partners.mapped("contract_count")
        self.assertEqual(counts, [2, 1, 1])
        action = self.customer_vn.action_view_contracts()
        self.assertEqual(len(self.env["crm.contract"].search(action["domain"])), 2)

    # ------------------------------------------------------------
    # hot path: the contract list
    # ------------------------------------------------------------

    def test_contract_list_query_count(self):
        """The list view reads its rows in a fixed number of queries, whatever their count."""
        for _index in range(3):
            self._contract()
        Contract = self.env["crm.contract"].with_user(self.user_sale_manager)
        arch = etree.fromstring(Contract.get_views([(False, "list")])["views"]["list"]["arch"])
        spec = {node.get("name"): {} for node in arch.iterchildren("field")}
        for name in ("partner_id", "user_id", "company_id", "team_id", "currency_id"):
            if name in spec:
                spec[name] = {"fields": {"display_name": {}}}
        Contract.web_search_read([], spec, limit=80)  # warm the caches of the registry
        self.env.invalidate_all()
        # the demo's contracts (if installed) may add a related record to prefetch: the bound
        # is loose, the promise is that 12 more rows cost no query
        queries_before = self.env.cr.sql_log_count
        few = Contract.web_search_read([], spec, limit=80)
        few_queries = self.env.cr.sql_log_count - queries_before
        self.assertLessEqual(few_queries, 8)
        for _index in range(12):
            self._contract()
        self.env.invalidate_all()
        with self.assertQueryCount(few_queries):
            many = Contract.web_search_read([], spec, limit=80)
        self.assertEqual(many["length"], few["length"] + 12)
