from odoo.tests import tagged

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class TestSaleFlow(CrmExtendedCommon):
    """Installing crm_extended leaves Odoo's quotation → order → invoice → payment flow intact."""

    def test_quotation_to_payment(self):
        filter_ro = self._create_product()
        service = self._create_product("Gói bảo trì 12 tháng", 1_200_000.0, type="service")

        # the salesperson quotes and confirms
        order = (
            self.env["sale.order"]
            .with_user(self.user_salesman)
            .create(
                {
                    "partner_id": self.contact_vn.id,
                    "order_line": self._command_lines([(filter_ro, 2), (service, 1)]),
                }
            )
        )
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.user_id, self.user_salesman)
        self.assertEqual(order.amount_untaxed, 10_200_000.0)
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.invoice_status, "to invoice")

        # the accountant invoices and records the payment
        order = order.with_user(self.user_billing)
        invoice = order._create_invoices()
        self.assertEqual(invoice.partner_id, self.contact_vn)
        self.assertEqual(invoice.commercial_partner_id, self.customer_vn)
        self.assertEqual(invoice.amount_untaxed, 10_200_000.0)
        invoice.action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertEqual(invoice.payment_state, "not_paid")

        self.env["account.payment.register"].with_user(self.user_billing).with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(invoice.amount_residual)
