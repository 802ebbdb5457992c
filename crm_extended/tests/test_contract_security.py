from datetime import date

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user, tagged

from .test_contract import ContractCase


@tagged("post_install", "-at_install")
class TestContractSecurity(ContractCase):
    """Who sees and changes which contracts: salespeople, accountants, auditors, portal
    customers and companies. Each test states what a user must NOT see or do.

    Fixtures, on top of the contract ones:
        contract_vn      customer_vn's contract (its salesperson is user_salesman), signed
        contract_en      customer_en's contract, managed by the admin: not user_salesman's
        contract_other   a contract of another company, of customer_vn too
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contract_vn = cls._contract()
        cls.original_vn = cls._sign(cls.contract_vn)
        cls.contract_vn.invoicing_kind = "milestone"
        cls.contract_vn.milestone_ids = [
            Command.create({"name": "Tạm ứng", "date": date(2025, 1, 1), "percent": 30.0})
        ]
        cls.contract_en = cls._contract(partner=cls.customer_en)
        cls.other_company = cls.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        cls.contract_other = cls._contract(company_id=cls.other_company.id, lines=[])
        cls.all_contracts = cls.contract_vn | cls.contract_en | cls.contract_other
        cls.user_salesman_all = new_test_user(
            cls.env,
            login="ce_salesman_all",
            groups="sales_team.group_sale_salesman_all_leads",
            name="Bùi Văn Hùng",
            email="ce_salesman_all@example.com",
        )
        # an accounting manager of both companies, working in the first one
        cls.user_accountant_both = new_test_user(
            cls.env,
            login="ce_accountant_both",
            groups="account.group_account_manager",
            name="Đặng Thị Hoa",
            email="ce_accountant_both@example.com",
            company_ids=[Command.set((cls.company | cls.other_company).ids)],
            company_id=cls.company.id,
        )

    def _visible(self, user, model="crm.contract", records=None):
        records = records if records is not None else self.all_contracts
        return self.env[model].with_user(user).search([("id", "in", records.ids)])

    # ------------------------------------------------------------
    # salespeople
    # ------------------------------------------------------------

    def test_salesman_reads_only_own_customers_contracts(self):
        self.assertEqual(self._visible(self.user_salesman), self.contract_vn)
        with self.assertRaises(AccessError):
            self.contract_en.with_user(self.user_salesman).read(["title"])
        # nor their lines, milestones, originals
        for lines in (self.contract_en.line_ids, self.contract_vn.line_ids):
            expected = lines & self.contract_vn.line_ids
            self.assertEqual(self._visible(self.user_salesman, lines._name, lines), expected)
        self.assertEqual(
            self._visible(self.user_salesman, "crm.contract.original", self.original_vn),
            self.original_vn,
        )
        # a contract they manage for another customer is theirs too
        self.contract_en.user_id = self.user_salesman
        self.assertIn(self.contract_en, self._visible(self.user_salesman))

    def test_salesman_cannot_change_contracts(self):
        contract = self.contract_vn.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            contract.write({"title": "Đổi tên"})
        with self.assertRaises(AccessError):
            contract.line_ids.write({"quantity": 10})
        with self.assertRaises(AccessError):
            self.env["crm.contract"].with_user(self.user_salesman).create(
                {"title": "Hợp đồng mới", "partner_id": self.customer_vn.id}
            )
        with self.assertRaises(AccessError):
            contract.action_activate()
        self.assertEqual(self.contract_vn.state, "draft")

    def test_salesman_all_documents_reads_all_of_the_company(self):
        self.assertEqual(self._visible(self.user_salesman_all), self.contract_vn | self.contract_en)
        with self.assertRaises(AccessError):
            self.contract_en.with_user(self.user_salesman_all).write({"title": "Đổi tên"})

    def test_sale_manager_manages_contracts(self):
        contract = self.contract_vn.with_user(self.user_sale_manager)
        with freeze_time("2025-01-01"):
            contract.action_activate()
        self.assertEqual(self.contract_vn.state, "active")
        draft = self._contract(partner=self.customer_en).with_user(self.user_sale_manager)
        draft.unlink()
        self.assertFalse(draft.exists())

    # ------------------------------------------------------------
    # accounting
    # ------------------------------------------------------------

    def test_billing_user_manages_but_cannot_delete(self):
        self.assertEqual(self._visible(self.user_billing), self.contract_vn | self.contract_en)
        contract = self.contract_en.with_user(self.user_billing)
        contract.write({"title": "Bảo trì 2025 (sửa)"})
        self.assertEqual(self.contract_en.title, "Bảo trì 2025 (sửa)")
        with self.assertRaises(AccessError):
            contract.unlink()
        self.assertTrue(self.contract_en.exists())

    def test_auditor_reads_only(self):
        self.assertEqual(self._visible(self.user_auditor), self.contract_vn | self.contract_en)
        contract = self.contract_vn.with_user(self.user_auditor)
        self.assertEqual(contract.title, self.contract_vn.title)
        with self.assertRaises(AccessError):
            contract.write({"title": "Đổi tên"})
        with self.assertRaises(AccessError):
            contract.line_ids.write({"quantity": 10})
        with self.assertRaises(AccessError):
            self.env["crm.contract"].with_user(self.user_auditor).create(
                {"title": "Hợp đồng mới", "partner_id": self.customer_vn.id}
            )
        with self.assertRaises(AccessError):
            self.original_vn.with_user(self.user_auditor).write({"signatory": "Người khác"})

    # ------------------------------------------------------------
    # companies
    # ------------------------------------------------------------

    def test_other_company_contract_invisible(self):
        for user in (self.user_billing, self.user_sale_manager, self.user_salesman_all):
            self.assertNotIn(self.contract_other, self._visible(user))
            with self.assertRaises(AccessError):
                self.contract_other.with_user(user).read(["title"])
        # allowed in both companies: seen once the second company is active
        Contract = self.env["crm.contract"].with_user(self.user_accountant_both)
        first = Contract.with_context(allowed_company_ids=self.company.ids)
        self.assertEqual(
            first.search([("id", "in", self.all_contracts.ids)]),
            self.contract_vn | self.contract_en,
        )
        both = Contract.with_context(allowed_company_ids=(self.company | self.other_company).ids)
        self.assertEqual(both.search([("id", "in", self.all_contracts.ids)]), self.all_contracts)

    # ------------------------------------------------------------
    # portal
    # ------------------------------------------------------------

    def test_portal_reads_only_own_company_contracts(self):
        self.assertEqual(self._visible(self.user_portal), self.contract_vn)
        with self.assertRaises(AccessError):
            self.contract_en.with_user(self.user_portal).read(["title"])
        with self.assertRaises(AccessError):
            self.contract_vn.with_user(self.user_portal).write({"title": "Đổi tên"})
        self.assertEqual(
            self._visible(self.user_portal, "crm.contract.line", self.all_contracts.line_ids),
            self.contract_vn.line_ids,
        )
        # signed originals only through the portal page, never read directly
        with self.assertRaises(AccessError):
            self.original_vn.with_user(self.user_portal).read(["file"])
