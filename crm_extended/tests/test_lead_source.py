import hashlib
from datetime import timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from ..models.crm_lead_source import NEW_TOKEN_CONTEXT_KEY, CrmLeadSource
from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class LeadSourceCommon(CrmExtendedCommon):
    """A webhook source of the company, whose leads go to an online sales team.

    Fixtures, on top of the common ones:
        company             Vietnamese: numbers written without prefix are read as Vietnamese;
                            works with leads (CRM settings)
        intake_user         the technical user the webhook runs as (crm_extended data)
        team                "Kinh doanh trực tuyến", user_salesman a member
        tag_web             tag of the source's leads
        utm_zalo, utm_social, utm_spring   UTM source, medium and campaign; the source's
                                           defaults are utm_zalo and utm_social
        source_web          webhook source: team, user_salesman, tag_web, UTM defaults
        customer_vn         (common) gets the VAT 0101234567
        lead_open           open lead of a known prospect: email and phone
        lead_won            won opportunity of another prospect: never a duplicate
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref("base.vn")
        # the company works with leads (CRM settings): incoming ones are leads
        cls.env.ref("base.group_user").implied_ids = [
            Command.link(cls.env.ref("crm.group_use_lead").id)
        ]
        cls.intake_user = cls.env.ref("crm_extended.user_lead_intake")
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Kinh doanh trực tuyến",
                "use_leads": True,
                "member_ids": [Command.link(cls.user_salesman.id)],
            }
        )
        cls.tag_web = cls.env["crm.tag"].create({"name": "Khách từ web"})
        cls.utm_zalo = cls.env["utm.source"].create({"name": "Zalo OA"})
        cls.utm_social = cls.env["utm.medium"].create({"name": "Mạng xã hội"})
        cls.utm_spring = cls.env["utm.campaign"].create({"title": "Khuyến mãi mùa xuân"})
        cls.source_web = cls.env["crm.lead.source"].create(
            {
                "name": "Form liên hệ website",
                "kind": "webhook",
                "team_id": cls.team.id,
                "user_id": cls.user_salesman.id,
                "tag_ids": [Command.set(cls.tag_web.ids)],
                "utm_source_id": cls.utm_zalo.id,
                "utm_medium_id": cls.utm_social.id,
            }
        )
        cls.customer_vn.vat = "0101234567"
        Lead = cls.env["crm.lead"].with_context(mail_create_nosubscribe=True)
        cls.lead_open = Lead.create(
            {
                "name": "Hỏi giá máy lọc nước",
                "type": "lead",
                "contact_name": "Trần Thị Hoa",
                "email_from": "hoa.tran@example.vn",
                "phone": "+84 912 000 111",
                "country_id": cls.env.ref("base.vn").id,
                "user_id": cls.user_salesman.id,
            }
        )
        won_stage = cls.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        cls.lead_won = Lead.create(
            {
                "name": "Đơn hàng đã chốt",
                "type": "opportunity",
                "contact_name": "Lê Văn Bình",
                "email_from": "binh.le@example.vn",
                "stage_id": won_stage.id,
            }
        )

    @classmethod
    def _row(cls, **values):
        row = {
            "contact_name": "Nguyễn Văn An",
            "company": "Công ty TNHH Minh Phát",
            "email": "an.nguyen@minhphat.example.vn",
            "phone": "0868 112 358",
            "country": "VN",
            "message": "Xin báo giá 20 máy lọc nước cho văn phòng.",
            "product_interest": "Máy lọc nước RO",
        }
        row.update(values)
        return row

    def _intake(self, *rows, source=None):
        """Take ``rows`` in as the webhook does: as the technical user, in the source's
        company only, with mail notifications and tracking on."""
        source = source or self.source_web
        env = self.env(
            user=self.intake_user, context={"allowed_company_ids": source.company_id.ids}
        )
        return source.with_env(env)._intake_leads(list(rows))

    def _source_leads(self, source=None):
        return self.env["crm.lead"].search(
            [("lead_source_id", "=", (source or self.source_web).id)]
        )


@tagged("post_install", "-at_install")
class TestLeadSourceIntake(LeadSourceCommon):
    # ------------------------------------------------------------
    # creation and normalization
    # ------------------------------------------------------------

    def test_creates_normalized_lead(self):
        """A new contact becomes a lead of the source's team and salesperson, with the email
        lower-cased, the phone in E.164, and UTM records found by name (case ignored)."""
        [result] = self._intake(
            self._row(
                email="  An.Nguyen@MinhPhat.Example.VN ",
                country="vn",
                utm_source="zalo oa",
                utm_campaign="khuyến mãi mùa xuân",
            )
        )
        self.assertEqual(result["status"], "created")
        self.assertFalse(result["partner_id"])
        lead = self.env["crm.lead"].browse(result["lead_id"])
        self.assertRecordValues(
            lead,
            [
                {
                    "type": "lead",
                    "name": "Công ty TNHH Minh Phát - Máy lọc nước RO",
                    "contact_name": "Nguyễn Văn An",
                    "partner_name": "Công ty TNHH Minh Phát",
                    "email_from": "an.nguyen@minhphat.example.vn",
                    "phone": "+84 868 112 358",
                    "country_id": self.env.ref("base.vn").id,
                    "team_id": self.team.id,
                    "user_id": self.user_salesman.id,
                    "lead_source_id": self.source_web.id,
                    "product_interest": "Máy lọc nước RO",
                    "source_id": self.utm_zalo.id,
                    "medium_id": self.utm_social.id,
                    "campaign_id": self.utm_spring.id,
                    "company_id": self.company.id,
                    "partner_id": False,
                    "create_uid": self.intake_user.id,
                }
            ],
        )
        self.assertEqual(lead.tag_ids, self.tag_web)
        self.assertIn("Xin báo giá 20 máy lọc nước", lead.description)

    def test_unknown_utm_names_keep_source_defaults(self):
        """UTM records are never created: unknown names leave the source's defaults."""
        utm_counts = [self.env[model].search_count([]) for model in ("utm.source", "utm.medium")]
        [result] = self._intake(self._row(utm_source="TikTok", utm_medium="Video_%"))
        lead = self.env["crm.lead"].browse(result["lead_id"])
        self.assertEqual(lead.source_id, self.utm_zalo)
        self.assertEqual(lead.medium_id, self.utm_social)
        self.assertFalse(lead.campaign_id)
        self.assertEqual(
            [self.env[model].search_count([]) for model in ("utm.source", "utm.medium")],
            utm_counts,
        )

    def test_phone_country(self):
        """A number with its prefix gives the country when none is sent; a number without
        one is read in the country sent, else the company's."""
        [singapore, national] = self._intake(
            self._row(email="", country="", phone="+65 6123 4567"),
            self._row(email="", country="", phone="0912 555 666", contact_name="Phạm Thu"),
        )
        lead_sg, lead_vn = self.env["crm.lead"].browse([singapore["lead_id"], national["lead_id"]])
        self.assertEqual((lead_sg.phone, lead_sg.country_id.code), ("+65 6123 4567", "SG"))
        self.assertEqual((lead_vn.phone, lead_vn.country_id.code), ("+84 912 555 666", "VN"))

    def test_opportunities_when_leads_are_off(self):
        """Without leads in the CRM settings, incoming contacts are opportunities, in sight in
        the pipeline."""
        self.env.ref("base.group_user").implied_ids = [
            Command.unlink(self.env.ref("crm.group_use_lead").id)
        ]
        [result] = self._intake(self._row())
        self.assertEqual(self.env["crm.lead"].browse(result["lead_id"]).type, "opportunity")

    def test_lead_without_salesperson_is_not_the_technical_user(self):
        """A source without salesperson leaves its leads unassigned, never to the technical
        user the webhook runs as."""
        self.source_web.write({"user_id": False, "team_id": False})
        [result] = self._intake(self._row())
        lead = self.env["crm.lead"].browse(result["lead_id"])
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.create_uid, self.intake_user)

    # ------------------------------------------------------------
    # bad input
    # ------------------------------------------------------------

    def test_rejects_bad_rows_with_field(self):
        """Each bad row is refused with its machine code and the field at fault, and leaves
        no lead behind."""
        cases = [
            ({"contact_name": "", "company": ""}, "missing_contact", "contact_name"),
            ({"email": "", "phone": ""}, "missing_contact", "email"),
            ({"email": "an.nguyen@"}, "invalid_value", "email"),
            ({"email": "an nguyen@minhphat.vn"}, "invalid_value", "email"),
            ({"email": "a@b.vn, c@d.vn"}, "invalid_value", "email"),
            ({"email": "an..nguyen@minhphat.vn"}, "invalid_value", "email"),
            ({"email": "An <an@minhphat.vn>"}, "invalid_value", "email"),
            ({"email": ".an@minhphat.vn"}, "invalid_value", "email"),
            ({"phone": "12"}, "invalid_value", "phone"),
            ({"phone": "0912 345 678 999 999"}, "invalid_value", "phone"),
            ({"phone": "số điện thoại"}, "invalid_value", "phone"),
            ({"country": "XX"}, "invalid_value", "country"),
            ({"country": "Vietnam"}, "invalid_value", "country"),
            ({"vat": "01-01@23"}, "invalid_value", "vat"),
            ({"contact_name": ["An"]}, "invalid_value", "contact_name"),
            ({"company": True}, "invalid_value", "company"),
            ({"contact_name": "A" * 256}, "invalid_value", "contact_name"),
            ({"message": "x\x00y"}, "invalid_value", "message"),
        ]
        results = self._intake(*(self._row(**values) for values, _code, _field in cases))
        self.assertEqual(
            [(result["status"], result["code"], result["field"]) for result in results],
            [("rejected", code, field) for _values, code, field in cases],
        )
        self.assertTrue(all(result["reason"] for result in results))
        self.assertFalse(self._source_leads())

    def test_bad_row_does_not_reject_the_others(self):
        """Rows are independent: the good ones of a batch are created around a bad one."""
        results = self._intake(
            self._row(email="khach.mot@example.vn", phone=""),
            self._row(email="not-an-email"),
            self._row(email="khach.hai@example.vn", phone=""),
        )
        self.assertEqual(
            [result["status"] for result in results], ["created", "rejected", "created"]
        )
        self.assertEqual(
            sorted(self._source_leads().mapped("email_from")),
            ["khach.hai@example.vn", "khach.mot@example.vn"],
        )

    @mute_logger("odoo.addons.crm_extended.models.crm_lead_source")
    def test_failing_row_leaves_nothing(self):
        """A row failing after its lead was created rolls back to its savepoint: no lead, no
        note, and the next row goes through."""
        original = CrmLeadSource._intake_normalized
        calls = []

        def fail_once(source, values):
            result = original(source, values)
            calls.append(result["lead_id"])
            if len(calls) == 1:
                raise RuntimeError("crash after the lead was created")
            return result

        with patch.object(CrmLeadSource, "_intake_normalized", autospec=True) as mocked:
            mocked.side_effect = fail_once
            failed, created = self._intake(
                self._row(email="mot@example.vn"), self._row(email="hai@example.vn")
            )
        self.assertEqual((failed["status"], failed["code"]), ("rejected", "internal_error"))
        self.assertFalse(self.env["crm.lead"].browse(calls[0]).exists())
        self.assertEqual(created["status"], "created")
        self.assertEqual(self._source_leads().mapped("email_from"), ["hai@example.vn"])

    @mute_logger("odoo.addons.crm_extended.models.crm_lead_source")
    def test_missing_rights_are_an_internal_error(self):
        """Missing rights are the configuration's fault, not the caller's: internal error."""
        with patch.object(
            CrmLeadSource, "_intake_find_customer", side_effect=AccessError("no partners")
        ):
            [result] = self._intake(self._row())
        self.assertEqual((result["status"], result["code"]), ("rejected", "internal_error"))
        self.assertFalse(self._source_leads())

    # ------------------------------------------------------------
    # de-duplication
    # ------------------------------------------------------------

    def _notes(self, lead):
        return lead.message_ids.filtered(lambda message: message.subtype_id.internal)

    def test_merges_open_lead_by_email(self):
        """The same email (any case) as an open lead adds a note to it; nothing is created."""
        notes_before = self._notes(self.lead_open)
        [result] = self._intake(
            self._row(email="Hoa.Tran@Example.VN", phone="0933 111 222", message="Gọi lại giúp")
        )
        self.assertEqual(
            (result["status"], result["lead_id"], result["match"]),
            ("merged", self.lead_open.id, "email"),
        )
        self.assertFalse(self._source_leads())
        note = self._notes(self.lead_open) - notes_before
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.intake_user.partner_id)
        self.assertIn("+84 933 111 222", note.body)
        self.assertIn("Gọi lại giúp", note.body)
        # the lead itself is left as it was
        self.assertEqual(self.lead_open.phone, "+84 912 000 111")
        self.assertFalse(self.lead_open.lead_source_id)

    def test_merges_open_lead_by_phone(self):
        """A number written another way (national form) is the same phone."""
        [result] = self._intake(self._row(email="", phone="0912-000-111"))
        self.assertEqual(
            (result["status"], result["lead_id"], result["match"]),
            ("merged", self.lead_open.id, "phone"),
        )

    def test_merges_open_lead_by_vat(self):
        """A lead of a customer with the same VAT, written with its country prefix."""
        lead_vat = self.env["crm.lead"].create(
            {"name": "Đông Á mở rộng", "partner_id": self.customer_vn.id, "type": "opportunity"}
        )
        [result] = self._intake(
            self._row(email="moi@khac.example.vn", phone="", vat="VN 0101-234-567")
        )
        self.assertEqual(
            (result["status"], result["lead_id"], result["match"]),
            ("merged", lead_vat.id, "vat"),
        )

    def test_won_and_lost_leads_are_not_duplicates(self):
        """Only open leads take notes: a won or lost one gets a new lead beside it."""
        self.lead_open.action_set_lost()
        won, lost = self._intake(
            self._row(email="binh.le@example.vn", phone=""),
            self._row(email="hoa.tran@example.vn", phone=""),
        )
        self.assertEqual((won["status"], lost["status"]), ("created", "created"))

    def test_links_existing_customer_by_email(self):
        """A customer with the same email is linked to the new lead, which takes the
        customer's details; the customer is not changed and the received ones are noted."""
        [result] = self._intake(self._row(email="LienHe@DongA.example.vn", phone="0977 888 999"))
        self.assertEqual(
            (result["status"], result["partner_id"], result["match"]),
            ("created", self.customer_vn.id, "email"),
        )
        lead = self.env["crm.lead"].browse(result["lead_id"])
        self.assertEqual(lead.partner_id, self.customer_vn)
        self.assertEqual(lead.email_from, "lienhe@donga.example.vn")
        self.assertEqual(lead.phone, "+84 24 3825 1234")
        self.assertEqual(self.customer_vn.phone, "+84 24 3825 1234")
        self.assertIn("+84 977 888 999", lead.description)

    def test_links_existing_customer_by_phone(self):
        """Phone numbers match whatever their format, the partner's read with its country."""
        self.customer_en.mobile = "6123 4567"  # Singapore, written without the prefix
        vn, sg = self._intake(
            self._row(email="", phone="0912.345.678"),
            self._row(email="", phone="+65 6123-4567", country=""),
        )
        self.assertEqual((vn["partner_id"], vn["match"]), (self.contact_vn.id, "phone"))
        self.assertEqual((sg["partner_id"], sg["match"]), (self.customer_en.id, "phone"))

    def test_links_existing_customer_by_vat(self):
        [result] = self._intake(self._row(email="", phone="0911 222 333", vat="0101234567"))
        self.assertEqual(
            (result["status"], result["partner_id"], result["match"]),
            ("created", self.customer_vn.id, "vat"),
        )

    def test_company_users_are_not_customers(self):
        """The partner of an employee with that email is not linked as a customer."""
        [result] = self._intake(self._row(email="ce_salesman@example.com"))
        self.assertEqual(result["status"], "created")
        self.assertFalse(result["partner_id"])

    def test_other_company_records_are_ignored(self):
        """Leads and customers of another company are neither merged nor linked."""
        company_2 = self.env["res.company"].create({"name": "Chi nhánh Cần Thơ"})
        self.env["crm.lead"].create(
            {"name": "Khách Cần Thơ", "email_from": "cantho@example.vn", "company_id": company_2.id}
        )
        self.env["res.partner"].create(
            {"name": "Khách Cần Thơ", "email": "cantho@example.vn", "company_id": company_2.id}
        )
        [result] = self._intake(self._row(email="cantho@example.vn"))
        self.assertEqual(result["status"], "created")
        self.assertFalse(result["partner_id"])

    def test_dedup_queries_do_not_grow_with_leads(self):
        """Finding a duplicate is indexed lookups: as many queries with 1 or 200 leads."""

        def queries():
            self.env.invalidate_all()
            self.env.cr.flush()
            before = self.env.cr.sql_log_count
            with self.env.cr.savepoint(flush=False) as savepoint:
                self._intake(self._row(email="hoa.tran@example.vn"))
                savepoint.rollback()
            return self.env.cr.sql_log_count - before

        queries()  # warm the caches
        few = queries()
        self.env["crm.lead"].create(
            [
                {
                    "name": f"Khách {i}",
                    "email_from": f"khach{i}@example.vn",
                    "phone": f"+8490{i:07}",
                }
                for i in range(200)
            ]
        )
        self.assertEqual(queries(), few)


@tagged("post_install", "-at_install")
class TestLeadSource(LeadSourceCommon):
    # ------------------------------------------------------------
    # token
    # ------------------------------------------------------------

    def test_rotate_token_shows_it_once(self):
        """The token is random, stored as its SHA-256 only, shown through the dialog's
        context; replacing it makes the previous one useless."""
        source = self.source_web.with_user(self.user_sale_manager)
        action = source.action_rotate_token()
        token = action["context"][NEW_TOKEN_CONTEXT_KEY]
        self.assertGreaterEqual(len(token), 40)
        self.assertEqual(self.source_web.token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertNotIn(token, str(self.source_web.read()[0]))
        self.assertEqual(source.token_hint, token[:6])
        self.assertTrue(source.has_token)
        self.assertEqual(source.with_context(**action["context"]).new_token, token)
        # the dialog shows nothing but the current token
        self.assertFalse(source.with_context(**{NEW_TOKEN_CONTEXT_KEY: "forged"}).new_token)
        self.assertFalse(source.new_token)

        second = source.action_rotate_token()["context"][NEW_TOKEN_CONTEXT_KEY]
        self.assertNotEqual(second, token)
        self.assertFalse(self.source_web._token_matches(token))
        self.assertTrue(self.source_web._token_matches(second))
        self.assertFalse(source.with_context(**action["context"]).new_token)

    def test_revoke_token(self):
        source = self.source_web.with_user(self.user_sale_manager)
        token = source.action_rotate_token()["context"][NEW_TOKEN_CONTEXT_KEY]
        source.action_revoke_token()
        self.assertFalse(source.has_token)
        self.assertFalse(self.source_web.token_hash)
        self.assertFalse(self.source_web._token_matches(token))
        self.assertFalse(self.source_web._token_matches(""))

    def test_only_webhooks_have_tokens(self):
        source_file = self.env["crm.lead.source"].create({"name": "File đại lý", "kind": "file"})
        with self.assertRaises(UserError):
            source_file.action_rotate_token()
        self.assertFalse(source_file.endpoint_url)
        self.assertTrue(
            self.source_web.endpoint_url.endswith(f"/crm_extended/leads/{self.source_web.id}")
        )

    # ------------------------------------------------------------
    # configuration
    # ------------------------------------------------------------

    def test_source_company_is_granted_to_technical_user(self):
        """A source of another company lets the technical user work there."""
        company_2 = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        self.assertNotIn(company_2, self.intake_user.company_ids)
        self.env["crm.lead.source"].create({"name": "Form Đà Nẵng", "company_id": company_2.id})
        self.assertIn(company_2, self.intake_user.company_ids)

    def test_technical_user_rights(self):
        """The technical user has the intake's group and the internal users' one, no sales
        or partner-manager rights, and never logs in."""
        self.assertFalse(self.intake_user.active)
        self.assertFalse(self.intake_user.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(self.intake_user.has_group("base.group_partner_manager"))
        self.assertTrue(self.intake_user.has_group("crm_extended.group_lead_intake"))

    def test_limits_are_checked(self):
        for values in ({"rate_limit": 0}, {"max_body_kb": 100000}):
            with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
                with self.env.cr.savepoint():
                    self.source_web.write(values)

    def test_lead_count_one_query(self):
        sources = self.source_web | self.env["crm.lead.source"].create(
            [{"name": f"Nguồn {i}"} for i in range(9)]
        )
        self._intake(self._row(), self._row(email="khac@example.vn", phone=""))
        sources.invalidate_recordset()
        self.env.cr.flush()
        with self.assertQueryCount(1):
            counts = sources.mapped("lead_count")
        self.assertEqual(counts, [2] + [0] * 9)
        action = self.source_web.action_view_leads()
        self.assertEqual(len(self.env["crm.lead"].search(action["domain"])), 2)

    def test_used_source_is_archived_not_deleted(self):
        unused = self.env["crm.lead.source"].create({"name": "Chưa dùng"})
        unused.unlink()
        self._intake(self._row())
        with self.assertRaises(UserError):
            self.source_web.unlink()
        self.source_web.action_archive()
        self.assertFalse(self.source_web.active)

    def test_merging_leads_keeps_the_source(self):
        [result] = self._intake(self._row())
        lead = self.env["crm.lead"].browse(result["lead_id"])
        merged = (self.lead_open | lead).merge_opportunity(auto_unlink=False)
        self.assertEqual(merged.lead_source_id, self.source_web)
        self.assertEqual(merged.product_interest, "Máy lọc nước RO")

    # ------------------------------------------------------------
    # journal purge
    # ------------------------------------------------------------

    def test_purge_keeps_calls_that_brought_leads(self):
        Call = self.env["crm.lead.source.call"]
        values = {"source_id": self.source_web.id, "company_id": self.company.id}
        old_rejected = Call.create({**values, "outcome": "rejected", "http_status": 401})
        old_created = Call.create({**values, "outcome": "created", "http_status": 200})
        new_rejected = Call.create({**values, "outcome": "rejected", "http_status": 400})
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead_source_call SET create_date = %s WHERE id IN %s",
                fields.Datetime.now() - timedelta(days=91),
                tuple((old_rejected | old_created).ids),
            )
        )
        Call.invalidate_model()
        self.assertEqual(Call._cron_purge_rejected_calls(), 1)
        self.assertFalse(old_rejected.exists())
        self.assertEqual((old_created | new_rejected).exists(), old_created | new_rejected)
        self.assertEqual(Call._cron_purge_rejected_calls(), 0)


@tagged("post_install", "-at_install")
class TestLeadSourceReport(LeadSourceCommon):
    def test_conversion_and_revenue_per_source(self):
        """Leads per source, their conversion to opportunity and to won, and the revenue
        won, lost leads counted as received."""
        source_file = self.env["crm.lead.source"].create({"name": "File đại lý", "kind": "file"})
        results = self._intake(
            self._row(email="mot@example.vn", phone=""),
            self._row(email="hai@example.vn", phone=""),
            self._row(email="ba@example.vn", phone=""),
            self._row(email="bon@example.vn", phone=""),
        )
        won, opportunity, lost, _lead = self.env["crm.lead"].browse(
            [result["lead_id"] for result in results]
        )
        (won | opportunity).convert_opportunity(self.customer_en)
        won.expected_revenue = 30_000_000
        won.action_set_won()
        opportunity.expected_revenue = 12_000_000
        lost.action_set_lost()
        self._intake(self._row(email="nam@example.vn", phone=""), source=source_file)

        groups = self.env["crm.lead.source.report"]._read_group(
            [("lead_source_id", "in", (self.source_web | source_file).ids)],
            ["lead_source_id"],
            [
                "nbr:sum",
                "nbr_opportunities:sum",
                "nbr_won:sum",
                "opportunity_rate:avg",
                "won_rate:avg",
                "won_revenue:sum",
                "expected_revenue:sum",
            ],
        )
        figures = {source: tuple(values) for source, *values in groups}
        self.assertEqual(
            figures[self.source_web], (4, 2, 1, 50.0, 25.0, 30_000_000.0, 12_000_000.0)
        )
        self.assertEqual(figures[source_file], (1, 0, 0, 0.0, 0.0, 0.0, 0.0))

    def test_salesperson_sees_own_and_unassigned_leads(self):
        """The report follows the pipeline's rules: a salesperson with "own documents"
        counts their leads and the unassigned ones only."""
        self.source_web.user_id = False
        self._intake(self._row(email="mot@example.vn", phone=""))
        [result] = self._intake(self._row(email="hai@example.vn", phone=""))
        self.env["crm.lead"].browse(result["lead_id"]).user_id = self.user_sale_manager
        Report = self.env["crm.lead.source.report"]
        self.assertEqual(
            Report.with_user(self.user_salesman).search_count(
                [("lead_source_id", "=", self.source_web.id)]
            ),
            1,
        )
        self.assertEqual(
            Report.with_user(self.user_sale_manager).search_count(
                [("lead_source_id", "=", self.source_web.id)]
            ),
            2,
        )
