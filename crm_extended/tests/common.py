from odoo import Command
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT


class CrmExtendedCommon(TransactionCase):
    """Shared fixtures of the crm_extended suite.

    Builds its own data, never the demo's: one user per security tier and two customer
    companies (one Vietnamese, one English) with a contact person each. Mail tracking and
    subscriptions are off so tests see only the mail they cause on purpose.

    Users (login = password, each prefixed "ce_"):
        user_salesman      Sales / User: Own Documents (→ crm_extended contact user)
        user_care          crm_extended care officer, no sales rights
        user_crm_manager   crm_extended manager without sales rights
        user_sale_manager  Sales / Administrator (→ crm_extended manager)
        user_privacy       internal user with the personal-details group only
        user_billing       Invoicing / Billing
        user_auditor       Accounting / Read-only
        user_portal        portal user of contact_vn (shares its name)
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env["base"].with_context(**DISABLED_MAIL_CONTEXT).env
        cls.company = cls.env.company

        cls.customer_vn = cls.env["res.partner"].create(
            {
                "name": "Công ty TNHH Thương mại Đông Á",
                "is_company": True,
                "email": "lienhe@donga.example.vn",
                "phone": "+84 24 3825 1234",
                "city": "Hà Nội",
                "country_id": cls.env.ref("base.vn").id,
            }
        )
        cls.contact_vn = cls.env["res.partner"].create(
            {
                "name": "Nguyễn Văn Đức",
                "parent_id": cls.customer_vn.id,
                "email": "duc.nguyen@donga.example.vn",
                "phone": "+84 912 345 678",
            }
        )
        cls.customer_en = cls.env["res.partner"].create(
            {
                "name": "Harbour Trading Pte Ltd",
                "is_company": True,
                "email": "hello@harbour.example.com",
                "country_id": cls.env.ref("base.sg").id,
            }
        )

        def user(login, groups, name, **values):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                name=name,
                email=f"{login}@example.com",
                **values,
            )

        cls.user_salesman = user("ce_salesman", "sales_team.group_sale_salesman", "Nguyễn Thị Lan")
        cls.user_care = user(
            "ce_care", "base.group_user,crm_extended.group_care_officer", "Trần Văn Minh"
        )
        cls.user_crm_manager = user(
            "ce_crm_manager", "base.group_user,crm_extended.group_crm_manager", "Võ Thị Mai"
        )
        cls.user_sale_manager = user(
            "ce_sale_manager", "sales_team.group_sale_manager", "Phạm Quốc Tuấn"
        )
        cls.user_privacy = user(
            "ce_privacy", "base.group_user,crm_extended.group_personal_details", "Đỗ Hải Yến"
        )
        cls.user_billing = user("ce_billing", "account.group_account_invoice", "Lê Thu Hà")
        cls.user_auditor = user("ce_auditor", "account.group_account_readonly", "Hoàng Minh Châu")
        cls.user_portal = user(
            "ce_portal",
            "base.group_portal",
            "Nguyễn Văn Đức",
            partner_id=cls.contact_vn.id,
        )
        cls.crm_groups = {
            xmlid: cls.env.ref(f"crm_extended.{xmlid}")
            for xmlid in (
                "group_contact_user",
                "group_care_officer",
                "group_crm_manager",
                "group_personal_details",
            )
        }

    def assertGroups(self, user, expected):
        """Assert exactly which crm_extended groups ``user`` holds (implied ones included)."""
        held = {name for name, group in self.crm_groups.items() if group in user.groups_id}
        self.assertEqual(held, set(expected), f"crm_extended groups of {user.login}")

    @classmethod
    def _create_product(cls, name="Máy lọc nước RO", price=4_500_000.0, **values):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "consu",
                "list_price": price,
                "invoice_policy": "order",
                **values,
            }
        )

    @classmethod
    def _command_lines(cls, products_qty):
        return [
            Command.create({"product_id": product.id, "product_uom_qty": qty})
            for product, qty in products_qty
        ]
