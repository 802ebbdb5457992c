from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_customer_rfm import CustomerRfmCommon, D


@tagged("post_install", "-at_install")
class TestCustomerRfmSecurity(CustomerRfmCommon):
    """Purchase trends are read by the sales staff of their company and written only by
    the refresh."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.customer.rfm"]._refresh(analysis_date=D)
        cls.row_a = cls.env["crm.customer.rfm"].search(
            [("partner_id", "=", cls.customer_a.id), ("company_id", "=", cls.company.id)]
        )
        cls.row_a_2 = cls.env["crm.customer.rfm"].search(
            [("partner_id", "=", cls.customer_a.id), ("company_id", "=", cls.company_2.id)]
        )

    def test_salesman_reads_cannot_write(self):
        Rfm = self.env["crm.customer.rfm"].with_user(self.user_salesman)
        row = Rfm.browse(self.row_a.id)
        self.assertEqual(row.frequency, 3)
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            row.write({"frequency": 99})
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            Rfm.create({"partner_id": self.customer_b.id, "company_id": self.company.id})
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            row.unlink()
        snapshot = self.env["crm.customer.rfm.snapshot"].with_user(self.user_salesman)
        self.assertTrue(snapshot.search([("partner_id", "=", self.customer_a.id)]))
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            snapshot.search([("partner_id", "=", self.customer_a.id)], limit=1).write(
                {"frequency": 99}
            )

    def test_sale_manager_cannot_write_either(self):
        row = self.row_a.with_user(self.user_sale_manager)
        self.assertTrue(row.segment)
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            row.write({"frequency": 99})

    def test_segment_key_fixed(self):
        """Sales managers rename segments; their key, which the trends and the plans use,
        cannot change, and the salespeople only read them."""
        segment = self.env.ref("crm_extended.crm_customer_segment_champions").with_user(
            self.user_sale_manager
        )
        segment.name = "Khách hàng xuất sắc"
        self.assertEqual(segment.name, "Khách hàng xuất sắc")
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            segment.write({"key": "lost"})
        segment.write({"key": "champions", "sequence": 3})  # the same key: accepted
        self.assertEqual(segment.key, "champions")
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            segment.with_user(self.user_salesman).name = "Nhóm khác"

    def test_other_company_rows_invisible(self):
        self.assertTrue(self.row_a_2)
        Rfm = self.env["crm.customer.rfm"].with_user(self.user_salesman)
        self.assertEqual(Rfm.search([("partner_id", "=", self.customer_a.id)]), self.row_a)
        with mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            Rfm.browse(self.row_a_2.id).frequency  # noqa: B018
        Snapshot = self.env["crm.customer.rfm.snapshot"].with_user(self.user_salesman)
        self.assertEqual(
            Snapshot.search([("partner_id", "=", self.customer_a.id)]).company_id, self.company
        )
        # allowed in both companies, the user sees both
        self.user_salesman.company_ids |= self.company_2
        both = Rfm.with_context(allowed_company_ids=[self.company.id, self.company_2.id])
        self.assertEqual(
            both.search([("partner_id", "=", self.customer_a.id)]), self.row_a | self.row_a_2
        )

    def test_users_without_sales_rights(self):
        with mute_logger("odoo.models"), self.assertRaises(AccessError):
            self.env["crm.customer.rfm"].with_user(self.user_care).search([])
        partner = self.customer_a.with_user(self.user_care)
        self.assertNotIn("rfm_segment", partner.fields_get())
        arch = partner.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("rfm_segment", arch)
        self.assertEqual(partner.name, self.customer_a.name)

    def test_refresh_for_sale_managers_only(self):
        with self.assertRaises(AccessError):
            self.env["crm.customer.rfm"].with_user(self.user_salesman).action_refresh()
        self.env["crm.customer.rfm"].with_user(self.user_sale_manager).action_refresh()
        action = self.env.ref("crm_extended.crm_customer_rfm_action_refresh")
        self.assertEqual(action.groups_id, self.env.ref("sales_team.group_sale_manager"))
