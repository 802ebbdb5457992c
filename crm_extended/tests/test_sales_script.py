from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged, users

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class SalesScriptCommon(CrmExtendedCommon):
    """Crafted scripts around one opportunity, to check what is suggested and in which order.
    The database's own scripts are archived.

    Fixtures, on top of the common ones:
        stage_new, stage_proposal, stage_won   the pipeline (stage_won is a won stage)
        tag_vip, tag_retail                    lead tags
        categ_water > categ_ro                 product categories (RO purifiers are water)
        product_ro                             a product of categ_ro
        lang_vi, lang_en                       Vietnamese and English (both active)
        customer_vn (vi_VN), customer_en (en_US)
        script_generic      no criteria (sequence 1: first among equals, last overall)
        script_proposal     stage_proposal
        script_proposal_vip stage_proposal + tag_vip
        script_water        stage_proposal + categ_water (matches RO through child_of)
        script_new          stage_new only: never at the proposal stage
        script_retail       tag_retail only
        script_phone        channel phone
        script_visit        channel visit
        script_english      language English
        lead_vip            opportunity of customer_vn at stage_proposal, tagged VIP, of
                            user_salesman, with a quotation for product_ro
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Lang = cls.env["res.lang"].with_context(active_test=False)
        Lang._activate_lang("en_US")
        cls.lang_vi = Lang._lang_get("vi_VN")
        cls.lang_en = Lang._lang_get("en_US")
        cls.customer_vn.lang = "vi_VN"
        cls.contact_vn.lang = "vi_VN"
        cls.customer_en.lang = "en_US"

        Stage = cls.env["crm.stage"]
        cls.stage_new = Stage.create({"name": "Mới", "sequence": 1})
        cls.stage_proposal = Stage.create({"name": "Đề xuất", "sequence": 2})
        cls.stage_won = Stage.create({"name": "Thành công", "sequence": 3, "is_won": True})
        cls.tag_vip = cls.env["crm.tag"].create({"name": "Khách VIP"})
        cls.tag_retail = cls.env["crm.tag"].create({"name": "Bán lẻ"})
        cls.categ_water = cls.env["product.category"].create({"name": "Thiết bị lọc nước"})
        cls.categ_ro = cls.env["product.category"].create(
            {"name": "Máy lọc RO", "parent_id": cls.categ_water.id}
        )
        cls.product_ro = cls._create_product(categ_id=cls.categ_ro.id)

        # the database's own scripts (demo data) would join the suggestions
        cls.env["crm.sales.script"].search([]).active = False
        cls.channel = {
            code: cls.env.ref(f"crm_extended.crm_sales_script_channel_{code}")
            for code in ("phone", "visit")
        }
        Script = cls.env["crm.sales.script"]

        def script(name, sequence, **criteria):
            return Script.create({"name": name, "sequence": sequence, **criteria})

        cls.script_generic = script("Kịch bản chung", 1)
        cls.script_proposal = script(
            "Trình bày đề xuất", 2, stage_ids=[Command.link(cls.stage_proposal.id)]
        )
        cls.script_proposal_vip = script(
            "Đề xuất cho khách VIP",
            4,
            stage_ids=[Command.link(cls.stage_proposal.id)],
            tag_ids=[Command.link(cls.tag_vip.id)],
        )
        cls.script_water = script(
            "Tư vấn máy lọc nước",
            3,
            stage_ids=[Command.link(cls.stage_proposal.id)],
            product_category_ids=[Command.link(cls.categ_water.id)],
        )
        cls.script_new = script("Gọi lần đầu", 5, stage_ids=[Command.link(cls.stage_new.id)])
        cls.script_retail = script("Khách bán lẻ", 6, tag_ids=[Command.link(cls.tag_retail.id)])
        cls.script_phone = script(
            "Gọi điện tư vấn", 7, channel_ids=[Command.link(cls.channel["phone"].id)]
        )
        cls.script_visit = script(
            "Gặp trực tiếp", 8, channel_ids=[Command.link(cls.channel["visit"].id)]
        )
        cls.script_english = script("First call in English", 9, lang_id=cls.lang_en.id)

        cls.lead_vip = cls._create_opportunity(
            "Máy lọc nước cho văn phòng Đông Á", tags=cls.tag_vip
        )
        cls.order_ro = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer_vn.id,
                "opportunity_id": cls.lead_vip.id,
                "order_line": cls._command_lines([(cls.product_ro, 2)]),
            }
        )

    @classmethod
    def _create_opportunity(cls, name, partner=None, stage=None, tags=None, **values):
        return cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "partner_id": (partner or cls.customer_vn).id,
                "stage_id": (stage or cls.stage_proposal).id,
                "tag_ids": [Command.set(tags.ids if tags else [])],
                "user_id": cls.user_salesman.id,
                **values,
            }
        )


@tagged("post_install", "-at_install")
class TestSalesScriptMatching(SalesScriptCommon):
    @users("ce_salesman")
    def test_opportunity_best_match_first(self):
        """The most specific scripts first (more criteria, all met), equal ones in sequence
        order, generic last; scripts with a criterion not met are left out: another stage,
        tag or language, and the channel (unknown on an opportunity)."""
        lead = self.lead_vip.with_env(self.env)
        self.assertEqual(
            lead.suggested_script_ids.ids,
            [
                self.script_water.id,  # stage + RO is a water purifier (child_of), seq 3
                self.script_proposal_vip.id,  # stage + VIP tag, seq 4
                self.script_proposal.id,  # stage only
                self.script_generic.id,  # no criteria
            ],
        )
        self.assertEqual(
            self.script_water.criteria_count, 2, "the score of a suggestion is its criteria"
        )

    @users("ce_salesman")
    def test_opportunity_without_products_or_tags(self):
        """Without a quotation or tags, the product and tag scripts are left out."""
        lead = self._create_opportunity("Khách hỏi giá").with_env(self.env)
        self.assertEqual(
            lead.suggested_script_ids.ids, [self.script_proposal.id, self.script_generic.id]
        )

    @users("ce_salesman")
    def test_stage_change_changes_suggestions(self):
        lead = self.lead_vip.with_env(self.env)
        lead.stage_id = self.stage_new
        suggested = lead.suggested_script_ids
        self.assertEqual(suggested[:1], self.script_new)
        self.assertNotIn(self.script_proposal, suggested)
        self.assertNotIn(self.script_water, suggested)

    @users("ce_salesman")
    def test_form_follows_edits(self):
        """In the opportunity form, the suggestions follow the stage and tags being edited.
        (The form lists them by ``criteria_count`` then sequence: its list's default order.)"""
        with Form(self.lead_vip.with_env(self.env)) as form:
            form.stage_id = self.stage_new
            self.assertEqual(
                set(form.suggested_script_ids.ids), {self.script_new.id, self.script_generic.id}
            )
            form.tag_ids.add(self.tag_retail)
            self.assertIn(self.script_retail.id, form.suggested_script_ids.ids)
            form.sales_script_id = self.script_new
        self.assertEqual(self.lead_vip.sales_script_id, self.script_new)

    @users("ce_salesman")
    def test_language(self):
        """A script in a language is suggested to customers speaking it only."""
        lead_vn = self.lead_vip.with_env(self.env)
        lead_en = self._create_opportunity(
            "Water purifiers for Harbour", partner=self.customer_en
        ).with_env(self.env)
        self.assertEqual(lead_en.lang_id, self.lang_en)
        self.assertNotIn(self.script_english, lead_vn.suggested_script_ids)
        suggested = lead_en.suggested_script_ids
        self.assertIn(self.script_english, suggested)
        # the language counts as a matched criterion: above the generic script
        self.assertLess(
            suggested.ids.index(self.script_english.id), suggested.ids.index(self.script_generic.id)
        )

    @users("ce_salesman")
    def test_contact_log_channel_and_opportunity(self):
        """On a contact, the channel selects the scripts, and its opportunity's stage, tags
        and products rank them."""
        Log = self.env["crm.contact.log"]
        call = Log.new({"name": "Gọi tư vấn", "partner_id": self.contact_vn.id, "channel": "phone"})
        self.assertEqual(call.suggested_script_ids._origin, self.script_phone | self.script_generic)

        call.lead_id = self.lead_vip.id
        self.assertEqual(
            call.suggested_script_ids._origin[:4].ids,
            [
                self.script_water.id,
                self.script_proposal_vip.id,
                self.script_proposal.id,
                self.script_phone.id,
            ],
        )
        call.channel = "visit"
        self.assertIn(self.script_visit, call.suggested_script_ids._origin)
        self.assertNotIn(self.script_phone, call.suggested_script_ids._origin)

    @users("ce_salesman")
    def test_contact_log_order_products(self):
        """The products of the contact's order meet the product criteria (child_of); without
        an opportunity, the stage and tag scripts are left out."""
        Script = self.env["crm.sales.script"].sudo()
        script_any_stage = Script.create(
            {"name": "Máy lọc nước", "product_category_ids": [Command.link(self.categ_water.id)]}
        )
        script_other = Script.create(
            {
                "name": "Bếp từ",
                "product_category_ids": [Command.create({"name": "Bếp"})],
            }
        )
        log = self.env["crm.contact.log"].new(
            {
                "name": "Hỏi giao hàng",
                "partner_id": self.contact_vn.id,
                "channel": "email",
                "sale_order_id": self.order_ro.id,
            }
        )
        self.assertEqual(log.suggested_script_ids._origin, script_any_stage | self.script_generic)
        self.assertNotIn(script_other, log.suggested_script_ids._origin)

    @users("ce_salesman")
    def test_generic_fallback(self):
        """When nothing specific applies, the generic scripts are still suggested."""
        self.env["crm.sales.script"].sudo().search(
            [("id", "!=", self.script_generic.id)]
        ).active = False
        lead = self._create_opportunity("Khách mới", stage=self.stage_new).with_env(self.env)
        self.assertEqual(lead.suggested_script_ids, self.script_generic)

    def test_archived_and_other_company_not_suggested(self):
        company_b = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        other = self.env["crm.sales.script"].create(
            {"name": "Kịch bản Đà Nẵng", "company_id": company_b.id}
        )
        shared = self.env["crm.sales.script"].create(
            {"name": "Kịch bản dùng chung", "company_id": False}
        )
        self.script_generic.active = False
        suggested = self.lead_vip.with_user(self.user_salesman).suggested_script_ids
        self.assertNotIn(other, suggested)
        self.assertNotIn(self.script_generic, suggested)
        self.assertIn(shared, suggested)

    def test_sections_are_sanitized(self):
        self.script_generic.opening = (
            '<p>Xin chào anh/chị</p><script>alert("x")</script><img src=x onerror="alert(1)">'
        )
        self.assertIn("Xin chào anh/chị", self.script_generic.opening)
        self.assertNotIn("<script", self.script_generic.opening)
        self.assertNotIn("onerror", self.script_generic.opening)

    def test_open_script_action(self):
        action = self.script_water.with_user(self.user_salesman).action_open_script()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("crm.sales.script", self.script_water.id)
        )
        self.assertEqual(action["target"], "new")

    def test_suggestions_query_count(self):
        """Suggestions for a list of opportunities cost the same few queries for 5 or 40."""
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"Cơ hội {i}",
                    "type": "opportunity",
                    "partner_id": self.customer_vn.id,
                    "stage_id": (self.stage_proposal if i % 2 else self.stage_new).id,
                    "tag_ids": [Command.set(self.tag_vip.ids if i % 3 else [])],
                    "user_id": self.user_salesman.id,
                }
                for i in range(40)
            ]
        )
        self.env["sale.order"].create(
            [
                {
                    "partner_id": self.customer_vn.id,
                    "opportunity_id": lead.id,
                    "order_line": self._command_lines([(self.product_ro, 1)]),
                }
                for lead in leads[:10]
            ]
        )
        self.env.flush_all()

        def suggest(records):
            self.env.invalidate_all()
            return records.with_user(self.user_salesman).mapped("suggested_script_ids")

        suggest(leads[:1])  # access rules and caches warmed up
        with self.assertQueryCount(__system__=16):
            suggested = suggest(leads[:5])
        self.assertIn(self.script_water, suggested)
        with self.assertQueryCount(__system__=16):
            suggest(leads)


@tagged("post_install", "-at_install")
class TestSalesScriptUsage(SalesScriptCommon):
    def test_contact_log_records_script(self):
        """A contact held with a script records it; the opportunity takes it as its script
        unless it already has one."""
        Log = self.env["crm.contact.log"].with_user(self.user_salesman)
        log = Log.create(
            {
                "name": "Gọi trình bày đề xuất",
                "partner_id": self.contact_vn.id,
                "lead_id": self.lead_vip.id,
                "state": "done",
                "sales_script_id": self.script_proposal_vip.id,
            }
        )
        self.assertEqual(log.sales_script_id, self.script_proposal_vip)
        self.assertEqual(self.lead_vip.sales_script_id, self.script_proposal_vip)
        self.assertEqual(self.script_proposal_vip.contact_log_count, 1)

        Log.create(
            {
                "name": "Gọi lại",
                "partner_id": self.contact_vn.id,
                "lead_id": self.lead_vip.id,
                "state": "done",
                "sales_script_id": self.script_water.id,
            }
        )
        self.assertEqual(self.lead_vip.sales_script_id, self.script_proposal_vip)

    def test_planned_contact_and_merge(self):
        """A contact only planned with a script does not mark the script as used; merged
        opportunities keep the script used."""
        self.env["crm.contact.log"].create(
            {
                "name": "Hẹn gọi",
                "partner_id": self.contact_vn.id,
                "lead_id": self.lead_vip.id,
                "planned_date": "2025-03-10 09:00:00",
                "sales_script_id": self.script_water.id,
            }
        )
        self.assertFalse(self.lead_vip.sales_script_id)
        other = self._create_opportunity("Trùng lặp", sales_script_id=self.script_proposal.id)
        merged = (self.lead_vip | other)._merge_opportunity(auto_unlink=False)
        self.assertEqual(merged.sales_script_id, self.script_proposal)

    def test_win_rate(self):
        """Win rate = won among closed opportunities using the script, on the script and in
        the report; open opportunities count as used but not in the rate."""
        script, other = self.script_proposal, self.script_water
        leads = self.env["crm.lead"]
        for i, (used, result) in enumerate(
            [(script, "won"), (script, "won"), (script, "lost"), (script, "open"), (other, "lost")]
        ):
            lead = self._create_opportunity(f"Cơ hội {i}", sales_script_id=used.id)
            if result == "won":
                lead.action_set_won()
            elif result == "lost":
                lead.action_set_lost()
            leads |= lead
        self.assertEqual((script.opportunity_count, script.won_count, script.lost_count), (4, 2, 1))
        self.assertAlmostEqual(script.win_rate, 66.7)
        self.assertEqual((other.opportunity_count, other.win_rate), (1, 0.0))

        self.env.flush_all()
        report = self.env["crm.sales.script.report"].with_user(self.user_sale_manager)
        rows = {
            script_: (count, won, lost, rate, revenue)
            for script_, count, won, lost, rate, revenue in report._read_group(
                [("lead_id", "in", leads.ids)],
                ["sales_script_id"],
                ["nbr:sum", "nbr_won:sum", "nbr_lost:sum", "win_rate:avg", "won_revenue:sum"],
            )
        }
        count, won, lost, rate, __ = rows[script]
        self.assertEqual((count, won, lost), (4, 2, 1))
        self.assertAlmostEqual(rate, 200 / 3)
        self.assertEqual(rows[other][:4], (1, 0, 1, 0.0))

    def test_report_salesman_sees_own(self):
        mine = self._create_opportunity("Của tôi", sales_script_id=self.script_proposal.id)
        theirs = self._create_opportunity(
            "Của người khác",
            sales_script_id=self.script_proposal.id,
            user_id=self.user_sale_manager.id,
        )
        self.env.flush_all()
        seen = self.env["crm.sales.script.report"].with_user(self.user_salesman).search([])
        self.assertIn(mine, seen.lead_id)
        self.assertNotIn(theirs, seen.lead_id)


@tagged("post_install", "-at_install")
class TestSalesScriptSecurity(SalesScriptCommon):
    def test_salesman_reads_not_writes(self):
        script = self.script_proposal.with_user(self.user_salesman)
        self.script_proposal.objection_ids = [
            Command.create({"name": "Giá cao quá", "answer": "<p>So sánh chi phí dài hạn</p>"})
        ]
        self.assertEqual(script.name, "Trình bày đề xuất")
        self.assertEqual(script.objection_ids.name, "Giá cao quá")
        with self.assertRaises(AccessError):
            script.name = "Sửa"
            script.flush_recordset()
        with self.assertRaises(AccessError):
            self.env["crm.sales.script"].with_user(self.user_salesman).create({"name": "Mới"})
        with self.assertRaises(AccessError):
            script.objection_ids.with_user(self.user_salesman).answer = "<p>x</p>"
            script.objection_ids.flush_recordset()

    def test_care_officer_reads(self):
        self.assertEqual(self.script_water.with_user(self.user_care).name, "Tư vấn máy lọc nước")

    def test_manager_writes(self):
        script = (
            self.env["crm.sales.script"]
            .with_user(self.user_sale_manager)
            .create(
                {
                    "name": "Chốt đơn",
                    "closing": "<p>Xác nhận ngày giao hàng</p>",
                    "objection_ids": [Command.create({"name": "Để tôi suy nghĩ thêm"})],
                }
            )
        )
        script.name = "Chốt đơn hàng"
        self.assertEqual(script.objection_ids.name, "Để tôi suy nghĩ thêm")

    def test_other_company_invisible(self):
        company_b = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        other = self.env["crm.sales.script"].create(
            {
                "name": "Kịch bản Đà Nẵng",
                "company_id": company_b.id,
                "objection_ids": [Command.create({"name": "Đắt"})],
            }
        )
        Script = self.env["crm.sales.script"].with_user(self.user_salesman)
        self.assertNotIn(other, Script.search([]))
        with self.assertRaises(AccessError):
            other.with_user(self.user_salesman).read(["name"])
        with self.assertRaises(AccessError):
            other.objection_ids.with_user(self.user_salesman).read(["name"])

    def test_no_script_rights_no_suggestion(self):
        """Users without access to scripts get no suggestion, not an error."""
        Script = self.env["crm.sales.script"].with_user(self.user_billing)
        self.assertEqual(Script._suggest([{"company_id": self.company.id}]), [Script])
