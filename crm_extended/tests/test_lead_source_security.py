from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.crm_lead_source import NEW_TOKEN_CONTEXT_KEY
from .test_lead_source import LeadSourceCommon


@tagged("post_install", "-at_install")
class TestLeadSourceSecurity(LeadSourceCommon):
    """Sources and tokens are the sales managers', the journal too; the technical user can
    do what the intake needs and nothing more; a company's sources stay in it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.source_web.with_user(cls.user_sale_manager).action_rotate_token()[
            "context"
        ][NEW_TOKEN_CONTEXT_KEY]
        [cls.result] = cls._intake_class(cls._row())
        cls.call = cls.env["crm.lead.source.call"].create(
            {
                "source_id": cls.source_web.id,
                "company_id": cls.company.id,
                "outcome": "created",
                "http_status": 200,
                "lead_id": cls.result["lead_id"],
            }
        )

    @classmethod
    def _intake_class(cls, *rows):
        env = cls.env(user=cls.intake_user, context={"allowed_company_ids": cls.company.ids})
        return cls.source_web.with_env(env)._intake_leads(list(rows))

    # ------------------------------------------------------------
    # salespeople
    # ------------------------------------------------------------

    def test_salesperson_reads_sources_not_tokens(self):
        source = self.source_web.with_user(self.user_salesman)
        self.assertEqual(source.name, "Form liên hệ website")
        self.assertTrue(source.has_token)
        with self.assertRaises(AccessError):
            source.read(["token_hash"])
        with self.assertRaises(AccessError):
            source.read(["new_token"])
        with self.assertRaises(AccessError):
            source.write({"rate_limit": 1000})

    def test_salesperson_cannot_rotate_or_revoke(self):
        source = self.source_web.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            source.action_rotate_token()
        with self.assertRaises(AccessError):
            source.action_revoke_token()
        self.assertTrue(self.source_web._token_matches(self.token))

    def test_salesperson_opens_source_form(self):
        """The lead's source opens for a salesperson: the form leaves out what they may not
        read (the journal counter)."""
        Source = self.env["crm.lead.source"].with_user(self.user_salesman)
        form = Source.get_views([(False, "form")])["views"]["form"]
        self.assertNotIn("call_count", form["arch"])
        fields_spec = {
            name: {} for name in ("name", "kind", "lead_count", "has_token", "endpoint_url")
        }
        [values] = self.source_web.with_user(self.user_salesman).web_read(fields_spec)
        self.assertEqual(values["lead_count"], 1)

    def test_salesperson_cannot_read_journal(self):
        Call = self.env["crm.lead.source.call"].with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            Call.search([])
        with self.assertRaises(AccessError):
            self.call.with_user(self.user_salesman).read(["reason"])
        with self.assertRaises(AccessError):
            Call.create({"source_id": self.source_web.id, "outcome": "created"})
        with self.assertRaises(AccessError):
            self.source_web.with_user(self.user_salesman).read(["call_count"])

    def test_portal_and_other_employees_see_no_source(self):
        for user in (self.user_portal, self.user_billing):
            with self.assertRaises(AccessError):
                self.env["crm.lead.source"].with_user(user).search([])

    # ------------------------------------------------------------
    # managers
    # ------------------------------------------------------------

    def test_manager_reads_journal_but_never_the_token(self):
        source = self.source_web.with_user(self.user_sale_manager)
        self.assertEqual(source.call_count, 1)
        call = self.call.with_user(self.user_sale_manager)
        self.assertEqual(call.outcome, "created")
        self.assertIn(self.source_web.name, call.display_name)
        with self.assertRaises(AccessError):
            source.read(["token_hash"])
        with self.assertRaises(AccessError):
            source.write({"token_hash": "0" * 64})
        with self.assertRaises(AccessError):
            call.write({"outcome": "rejected"})
        with self.assertRaises(AccessError):
            call.unlink()

    def test_other_company_sources_invisible(self):
        company_2 = self.env["res.company"].create({"name": "Chi nhánh Cần Thơ"})
        self.user_sale_manager.company_ids = [Command.link(company_2.id)]
        source_2 = self.env["crm.lead.source"].create(
            {"name": "Form Cần Thơ", "company_id": company_2.id}
        )
        call_2 = self.env["crm.lead.source.call"].create(
            {"source_id": source_2.id, "company_id": company_2.id, "outcome": "rejected"}
        )
        manager = self.env(
            user=self.user_sale_manager, context={"allowed_company_ids": self.company.ids}
        )
        self.assertFalse(manager["crm.lead.source"].search([("id", "=", source_2.id)]))
        self.assertFalse(manager["crm.lead.source.call"].search([("id", "=", call_2.id)]))
        with self.assertRaises(AccessError):
            source_2.with_env(manager).read(["name"])
        both = manager(context={"allowed_company_ids": [self.company.id, company_2.id]})
        self.assertEqual(both["crm.lead.source"].search([("id", "=", source_2.id)]), source_2)
        # a salesperson of the first company only never sees it
        self.assertFalse(
            self.env["crm.lead.source"]
            .with_user(self.user_salesman)
            .search([("id", "=", source_2.id)])
        )

    # ------------------------------------------------------------
    # technical user
    # ------------------------------------------------------------

    def test_technical_user_least_rights(self):
        """The intake's user creates leads and journal rows; it cannot change customers,
        delete leads, change sources or rewrite the journal."""
        env = self.env(user=self.intake_user, context={"allowed_company_ids": self.company.ids})
        lead = env["crm.lead"].browse(self.result["lead_id"])
        self.assertEqual(lead.lead_source_id, self.source_web)
        with self.assertRaises(AccessError):
            lead.unlink()
        with self.assertRaises(AccessError):
            env["res.partner"].create({"name": "Khách mới"})
        with self.assertRaises(AccessError):
            self.customer_vn.with_env(env).write({"email": "doi@example.vn"})
        with self.assertRaises(AccessError):
            self.source_web.with_env(env).write({"rate_limit": 100000})
        with self.assertRaises(AccessError):
            self.source_web.with_env(env).read(["token_hash"])
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.call.with_env(env).write({"outcome": "rejected"})
        with self.assertRaises(AccessError):
            self.call.with_env(env).unlink()
        pending = env["crm.lead.source.call"].create(
            {"source_id": self.source_web.id, "company_id": self.company.id, "outcome": "pending"}
        )
        pending.write({"outcome": "rejected", "http_status": 400})
        self.assertEqual(pending.outcome, "rejected")
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            pending.write({"outcome": "created"})
