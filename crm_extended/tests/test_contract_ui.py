from datetime import date

from odoo.tests import HttpCase, tagged

from .test_contract import ContractCase


@tagged("post_install", "-at_install")
class TestContractUi(ContractCase, HttpCase):
    """Browser tour of contracts, in headless Chromium against the real web client."""

    def test_contract_tour(self):
        """An accountant opens an overdue invoice, jumps to its contract and sees that the
        contract is overdue, by how much, and on which invoice."""
        contract = self._active_contract(invoicing_kind="recurring", recurring_interval="yearly")
        invoice = contract._create_due_invoices(date(2025, 1, 1))
        invoice.action_post()  # due on 2025-01-01, unpaid: overdue
        self.assertEqual(contract.payment_status, "overdue")
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "crm_extended_contract",
            login="ce_billing",
        )
