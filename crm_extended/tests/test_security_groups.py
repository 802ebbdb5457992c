from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class TestSecurityGroups(CrmExtendedCommon):
    """The role ladder: each role gets what it should, and not more."""

    def test_contact_user(self):
        """Salespeople become contact users, and nothing above it."""
        self.assertGroups(self.user_salesman, {"group_contact_user"})
        contact_user = self.crm_groups["group_contact_user"]
        self.assertIn(self.env.ref("base.group_user"), contact_user.implied_ids)
        # not an administrator: the settings and the roles stay out of reach
        settings = self.env["res.config.settings"].with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            settings.create({})
        with self.assertRaises(AccessError):
            contact_user.with_user(self.user_salesman).write(
                {"users": [Command.link(self.user_salesman.id)]}
            )

    def test_care_officer(self):
        """Care officers are contact users who read what callers bought, and change none of it."""
        self.assertGroups(self.user_care, {"group_contact_user", "group_care_officer"})
        self.assertFalse(self.user_care.has_group("sales_team.group_sale_salesman"))
        # after-sales needs orders and invoices (warranty, "what did they buy"): read only
        for model in ("sale.order", "sale.order.line", "account.move", "account.move.line"):
            Model = self.env[model].with_user(self.user_care)
            self.assertTrue(Model.has_access("read"), model)
            for operation in ("write", "create", "unlink"):
                self.assertFalse(Model.has_access(operation), f"{model} {operation}")
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.user_care).create(
                {"partner_id": self.customer_vn.id}
            )

    def test_crm_manager(self):
        """Sales managers are CRM managers; the manager role holds both lower roles."""
        self.assertGroups(
            self.user_sale_manager,
            {"group_contact_user", "group_care_officer", "group_crm_manager"},
        )
        self.assertGroups(
            self.user_crm_manager,
            {"group_contact_user", "group_care_officer", "group_crm_manager"},
        )
        # the manager role alone grants no sales or accounting rights
        self.assertFalse(self.user_crm_manager.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(self.user_crm_manager.has_group("account.group_account_invoice"))

    def test_personal_details(self):
        """Personal details are opt-in: no other role, not even a manager's, implies them."""
        self.assertGroups(self.user_privacy, {"group_personal_details"})
        for user in (self.user_salesman, self.user_care, self.user_sale_manager):
            self.assertFalse(user.has_group("crm_extended.group_personal_details"))
        implying = self.env["res.groups"].search(
            [("implied_ids", "in", self.crm_groups["group_personal_details"].ids)]
        )
        self.assertFalse(implying, "no group may imply the personal-details group")

    def test_accountants(self):
        """Billing users and auditors hold no crm_extended role of their own."""
        self.assertGroups(self.user_billing, set())
        self.assertGroups(self.user_auditor, set())

    def test_portal_user(self):
        """A portal user can hold no crm_extended role: each one is internal."""
        self.assertGroups(self.user_portal, set())
        for group in self.crm_groups.values():
            with self.assertRaises(ValidationError):
                self.user_portal.write({"groups_id": [Command.link(group.id)]})
            self.assertNotIn(group, self.user_portal.groups_id)

    def test_new_salesman_gets_role(self):
        """Adding a user to Sales later gives them the contact role at once."""
        self.user_billing.write(
            {"groups_id": [Command.link(self.env.ref("sales_team.group_sale_salesman").id)]}
        )
        self.assertGroups(self.user_billing, {"group_contact_user"})

    @users("admin")
    def test_settings_list_role_members(self):
        """The Sales settings buttons list the members of a role, and only of a role."""
        settings = self.env["res.config.settings"].create({})
        action = settings.with_context(
            crm_extended_group="crm_extended.group_care_officer"
        ).action_crm_extended_open_role_users()
        members = self.env["res.users"].search(action["domain"])
        self.assertIn(self.user_care, members)
        self.assertIn(self.user_sale_manager, members)
        self.assertNotIn(self.user_salesman, members)
        with self.assertRaises(UserError):
            settings.with_context(
                crm_extended_group="base.group_system"
            ).action_crm_extended_open_role_users()

    def test_group_names_in_vietnamese(self):
        """Role names are shown in Vietnamese to Vietnamese users."""
        if not self.env["res.lang"]._lang_get("vi_VN"):
            self.env["res.lang"]._activate_lang("vi_VN")
            self.env["ir.module.module"]._load_module_terms(["crm_extended"], ["vi_VN"])
        names = {
            xmlid: group.with_context(lang="vi_VN").name for xmlid, group in self.crm_groups.items()
        }
        self.assertEqual(names["group_contact_user"], "Người dùng liên hệ")
        self.assertEqual(names["group_care_officer"], "Nhân viên chăm sóc khách hàng")
        self.assertEqual(names["group_crm_manager"], "Quản lý")
        self.assertEqual(names["group_personal_details"], "Xem và sửa")
