from unittest.mock import patch

from odoo import Command
from odoo.api import Environment
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.crm_extended.models import crm_kb_article

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class KbArticleCommon(CrmExtendedCommon):
    """A knowledge base of its own: the demo articles are archived.

    Articles about an inverter air conditioner (in category "Điều hòa" under "Điện lạnh")
    and a water purifier, in Vietnamese and English. A care team of the care officer for
    the tickets.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Article = cls.env["crm.kb.article"]
        cls.Article.search([]).write({"active": False})
        cls.category_cooling = cls.env["product.category"].create({"name": "Điện lạnh"})
        cls.category_ac = cls.env["product.category"].create(
            {"name": "Điều hòa", "parent_id": cls.category_cooling.id}
        )
        cls.air_conditioner = cls._create_product(
            "Điều hòa Inverter 9000BTU", price=9_000_000.0, categ_id=cls.category_ac.id
        )
        cls.purifier = cls._create_product("Máy lọc nước RO 7 lõi")
        cls.team = cls.env["crm.support.team"].create(
            {
                "name": "Chăm sóc khách hàng",
                "sequence": 0,
                "member_ids": [Command.set([cls.user_care.id])],
            }
        )

    @classmethod
    def _article(cls, name, **values):
        return cls.Article.create(
            {"name": name, "is_published": True, "answer": "<p>Xem hướng dẫn.</p>", **values}
        )

    def _ranked(self, query, user=None, **kwargs):
        return self.Article.with_user(user or self.user_care)._search_ranked(query, **kwargs)


class TestKbArticleSearch(KbArticleCommon):
    def test_search_ignores_vietnamese_accents(self):
        """Plain letters find accented words, đ included, and the other way round."""
        purifier = self._article("Máy lọc nước bị rò rỉ dưới đáy")
        lamp = self._article("Đèn đỏ nháy liên tục", keywords="báo lỗi")
        self._article("Cách dùng remote", symptoms="Hẹn giờ tắt máy")

        self.assertEqual(self._ranked("loc nuoc"), purifier)
        self.assertEqual(self._ranked("LỌC NƯỚC"), purifier)
        self.assertEqual(self._ranked("den do"), lamp, "đ is searched as d")
        self.assertEqual(self._ranked("Đèn"), lamp)
        self.assertEqual(self._ranked("bao loi"), lamp, "keywords are searched")
        self.assertEqual(self._ranked("nuoc den"), self.Article, "every word must match")

    def test_prefixes_of_words_match(self):
        """A word being typed matches the words it starts: "dieu h" finds "điều hòa"."""
        article = self._article("Điều hòa chảy nước")
        self.assertEqual(self._ranked("dieu h"), article)
        self.assertEqual(self._ranked("ieu hoa"), self.Article, "only the starts of words")

    def test_title_ranks_above_keywords_above_answer(self):
        """Relevance first: a title match beats a more helpful match in the answer."""
        in_answer = self._article(
            "Vệ sinh lưới lọc",
            answer="<p>Tắt <b>điều hòa</b> trước khi vệ sinh.</p>",
            helpful_count=50,
        )
        in_symptoms = self._article(
            "Máy chạy nhưng không mát", symptoms="Điều hòa thổi gió nóng", helpful_count=20
        )
        in_title = self._article("Điều hòa không lạnh", helpful_count=0)
        self.assertEqual(self._ranked("dieu hoa").ids, [in_title.id, in_symptoms.id, in_answer.id])

    def test_helpful_count_breaks_ties(self):
        """Articles as relevant as each other come by the number of tickets they solved."""
        rarely = self._article("Điều hòa báo lỗi E1", helpful_count=2)
        often = self._article("Điều hòa báo lỗi E6", helpful_count=9)
        never = self._article("Điều hòa báo lỗi E4")
        self.assertEqual(self._ranked("dieu hoa bao loi").ids, [often.id, rarely.id, never.id])

    def test_answer_is_searched_without_its_markup(self):
        """Words of the answer are found; its tags and entities are not words."""
        article = self._article(
            "Thay lõi lọc", answer="<p>Dùng <strong>cờ&nbsp;lê</strong> đi kèm.</p>"
        )
        self.assertEqual(self._ranked("co le"), article)
        self.assertFalse(self._ranked("strong"))
        self.assertFalse(self._ranked("nbsp"))

    def test_product_and_category_boost(self):
        """The caller's product lifts its articles two levels, its category one level."""
        ac_template = self.air_conditioner.product_tmpl_id
        generic = self._article("Điều hòa không lạnh: kiểm tra gas", helpful_count=30)
        of_category = self._article(
            "Điều hòa không lạnh sau khi vệ sinh",
            product_category_ids=[Command.link(self.category_cooling.id)],
            helpful_count=10,
        )
        of_product = self._article(
            "Điều hòa không lạnh vào buổi trưa",
            product_ids=[Command.link(ac_template.id)],
        )
        of_product_symptoms = self._article(
            "Máy chạy cả ngày",
            symptoms="Điều hòa chạy nhưng không lạnh",
            product_ids=[Command.link(ac_template.id)],
        )
        self.assertEqual(
            self._ranked("dieu hoa khong lanh").ids,
            [generic.id, of_category.id, of_product.id, of_product_symptoms.id],
        )
        self.assertEqual(
            self._ranked("dieu hoa khong lanh", products=self.air_conditioner).ids,
            [of_product.id, of_category.id, of_product_symptoms.id, generic.id],
            "the category counts through its subcategories; ties go to the most helpful",
        )
        self.assertEqual(
            self._ranked("dieu hoa", products=ac_template)[:1],
            of_product,
            "templates are accepted too",
        )

    def test_empty_query_lists_by_boost_and_helpfulness(self):
        first = self._article("Bảo hành máy lọc nước", helpful_count=3)
        second = self._article("Bảo hành điều hòa", helpful_count=1)
        self.assertEqual(self._ranked("").ids, [first.id, second.id])
        second.product_ids = self.air_conditioner.product_tmpl_id
        self.assertEqual(self._ranked("  ", products=self.air_conditioner).ids[:1], second.ids)

    def test_pages_follow_each_other(self):
        articles = self.Article
        for count in range(7):
            articles |= self._article(f"Bảo trì định kỳ số {count}", helpful_count=count)
        expected = articles.sorted("helpful_count", reverse=True).ids
        page_1 = self._ranked("bao tri", limit=3)
        page_2 = self._ranked("bao tri", limit=3, offset=3)
        page_3 = self._ranked("bao tri", limit=3, offset=6)
        self.assertEqual((page_1 + page_2 + page_3).ids, expected)
        self.assertEqual(self._ranked("bao tri", limit=None).ids, expected)
        self.assertEqual(self._ranked("bao tri", limit=None, offset=5).ids, expected[5:])
        self.assertFalse(self._ranked("bao tri", limit=0))

    def test_many_matches_rank_the_same(self):
        """Beyond the probe size the ranking walks score levels: same order, same pages."""
        for count in range(4):
            self._article(f"Điều hòa kêu to lần {count}", helpful_count=count)
            self._article(f"Máy kêu to {count}", keywords="điều hòa", helpful_count=10 + count)
            self._article(
                f"Tiếng ồn {count}",
                answer="<p>Điều hòa kêu to do quạt.</p>",
                helpful_count=20 + count,
                product_ids=[Command.link(self.air_conditioner.product_tmpl_id.id)],
            )
        for kwargs in ({}, {"products": self.air_conditioner}, {"published_only": True}):
            few = self._ranked("dieu hoa keu", limit=12, **kwargs)
            with patch.object(crm_kb_article, "RANK_PROBE_SIZE", 2):
                many = self._ranked("dieu hoa keu", limit=12, **kwargs)
                pages = self._ranked("dieu hoa keu", limit=5, offset=0, **kwargs)
                pages += self._ranked("dieu hoa keu", limit=5, offset=5, **kwargs)
            self.assertEqual(len(few), 12)
            self.assertEqual(many.ids, few.ids, f"ranking with {kwargs}")
            self.assertEqual(pages.ids, few.ids[:10], f"pages with {kwargs}")

    def test_published_only(self):
        published = self._article("Hướng dẫn hẹn giờ")
        self._article("Hướng dẫn hẹn giờ (bản nháp)", is_published=False)
        self.assertEqual(len(self._ranked("hen gio")), 2, "operators see drafts")
        self.assertEqual(self._ranked("hen gio", published_only=True), published)

    def test_search_box_ranks_and_keeps_standard_domains(self):
        """The list's search box is the ranked search; other filters and sorts still apply."""
        in_answer = self._article(
            "Vệ sinh", answer="<p>điều hòa</p>", helpful_count=9, kind="maintenance"
        )
        in_title = self._article("Điều hòa chảy nước", kind="faq")
        other = self._article("Máy lọc nước", kind="faq")
        Article = self.Article.with_user(self.user_care)
        self.assertEqual(
            Article.search([("search_text", "ilike", "dieu hoa")]).ids,
            [in_title.id, in_answer.id],
        )
        self.assertEqual(
            Article.search([("search_text", "ilike", "dieu hoa"), ("kind", "=", "faq")]),
            in_title,
        )
        self.assertEqual(
            Article.search([("search_text", "ilike", "dieu hoa")], order="id").ids,
            [in_answer.id, in_title.id],
            "a sort chosen by the user wins",
        )
        self.assertEqual(
            Article.search([("search_text", "ilike", "dieu hoa")], limit=1, offset=1),
            in_answer,
            "pages of the list are ranked the same",
        )
        self.assertEqual(
            Article.search(
                ["|", ("search_text", "ilike", "dieu hoa"), ("name", "=", "Máy lọc nước")]
            ).ids,
            [in_title.id, in_answer.id, other.id],
            "or-ed with other conditions, the search box still ranks",
        )
        self.assertEqual(Article.search([("search_text", "not ilike", "dieu hoa")]), other)
        self.assertEqual(Article.search_count([("search_text", "ilike", "nuoc")]), 2)
        self.assertEqual(
            [name for _id, name in Article.name_search("chay nuoc")], ["Điều hòa chảy nước"]
        )

    def test_sanitized_answer(self):
        article = self._article(
            "Vệ sinh bình nóng", answer="<p>Xả nước</p><script>alert('x')</script>"
        )
        self.assertIn("Xả nước", article.answer)
        self.assertNotIn("script", article.answer)

    def test_search_query_count(self):
        """One query per search when the matches are few, whatever the page."""
        self._article("Điều hòa không lạnh", helpful_count=1)
        self._article("Điều hòa chảy nước", helpful_count=2)
        self._article("Máy lọc nước rò rỉ")
        Article = self.Article.with_user(self.user_care)
        Article._search_ranked("dieu hoa", products=self.air_conditioner)  # warm the caches
        with self.assertQueryCount(1):
            Article._search_ranked("dieu hoa", products=self.air_conditioner)
        with self.assertQueryCount(1):
            Article._search_ranked("khong co gi", limit=80, offset=20)
        with patch.object(crm_kb_article, "RANK_PROBE_SIZE", 1), self.assertQueryCount(4):
            # many matches: the probe, then one query per relevance level at most
            Article._search_ranked("dieu hoa")

    def test_ranking_uses_the_text_index(self):
        """With thousands of articles the matches come from the GIN index."""
        self.env.cr.execute(
            """
            INSERT INTO crm_kb_article
                   (name, kind, answer, active, is_published, helpful_count, use_count)
            SELECT 'Bài ' || n || ' máy số ' || n, 'faq', '<p>Nội dung ' || n || '</p>',
                   TRUE, TRUE, mod(n, 7), 0
              FROM generate_series(1, 3000) n
            """
        )
        self.env.cr.execute("ANALYZE crm_kb_article")
        queries = []
        execute_query = Environment.execute_query

        def record(env, query):
            queries.append(query)
            return execute_query(env, query)

        with patch.object(Environment, "execute_query", record):
            self.assertEqual(len(self._ranked("1234")), 1)
        self.env.cr.execute("SET enable_seqscan = off")
        try:
            ranking = next(query for query in queries if "search_tsv" in query.code)
            plan = self.env.execute_query(SQL("EXPLAIN %s", ranking))
        finally:
            self.env.cr.execute("RESET enable_seqscan")
        self.assertIn("crm_kb_article_search_tsv_idx", "\n".join(line for (line,) in plan))


class TestKbArticleTicket(KbArticleCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.article_not_cold = cls._article(
            "Điều hòa không lạnh",
            symptoms="Máy chạy nhưng phòng vẫn nóng",
            answer="<p>Kiểm tra chế độ <b>Cool</b> và vệ sinh lưới lọc.</p>",
            product_ids=[Command.link(cls.air_conditioner.product_tmpl_id.id)],
            helpful_count=4,
        )
        cls.article_leak = cls._article(
            "Điều hòa chảy nước ở dàn lạnh",
            answer="<p>Thông ống thoát nước.</p>",
            product_ids=[Command.link(cls.air_conditioner.product_tmpl_id.id)],
        )
        cls.article_purifier = cls._article(
            "Máy lọc nước không ra nước",
            product_ids=[Command.link(cls.purifier.product_tmpl_id.id)],
            helpful_count=40,
        )
        cls.ticket = (
            cls.env["crm.support.ticket"]
            .with_user(cls.user_care)
            .create(
                {
                    "name": "Máy lạnh không lạnh",
                    "description": "<p>Khách báo máy chạy cả đêm mà phòng vẫn nóng.</p>",
                    "partner_id": cls.contact_vn.id,
                    "team_id": cls.team.id,
                    "product_id": cls.air_conditioner.id,
                }
            )
        )

    def test_suggested_articles(self):
        """The article of the symptom first, then the product's, then other matches."""
        suggested = self.ticket.suggested_article_ids
        self.assertEqual(
            suggested.ids,
            [self.article_not_cold.id, self.article_leak.id, self.article_purifier.id],
            "the product's articles before a more helpful one of another product",
        )
        self.ticket.write({"product_id": self.purifier.id, "name": "Máy không ra nước"})
        self.assertEqual(self.ticket.suggested_article_ids[:1], self.article_purifier)

    def test_insert_article_opens_composer_with_answer(self):
        action = self.ticket.action_insert_article(self.article_not_cold.id)
        self.assertEqual(action["res_model"], "mail.compose.message")
        self.assertEqual(self.article_not_cold.use_count, 1)
        composer = (
            self.env["mail.compose.message"]
            .with_user(self.user_care)
            .with_context(**action["context"])
            .create({})
        )
        self.assertEqual(composer.composition_mode, "comment")
        self.assertEqual(composer.model, "crm.support.ticket")
        self.assertIn("Kiểm tra chế độ", composer.body)
        composer.action_send_mail()
        message = self.ticket.message_ids[0]
        self.assertIn("Kiểm tra chế độ", message.body)
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertEqual(self.article_not_cold.helpful_count, 4, "inserting is not solving")

    def test_insert_from_suggestion_button(self):
        """The buttons of the suggestion list act on the ticket given in their context."""
        article = self.article_leak.with_user(self.user_care)
        action = article.with_context(kb_ticket_id=self.ticket.id).action_insert_into_ticket()
        self.assertEqual(action["context"]["default_res_ids"], self.ticket.ids)
        self.assertEqual(self.article_leak.use_count, 1)
        article.with_context(kb_ticket_id=self.ticket.id).action_solve_ticket()
        self.assertEqual(self.ticket.kb_article_id, self.article_leak)

    def test_solved_by_article_counts_once_and_moves(self):
        ticket = self.ticket
        ticket.action_solved_by_article(self.article_leak.id)
        self.assertEqual(ticket.kb_article_id, self.article_leak)
        self.assertEqual(self.article_leak.helpful_count, 1)
        ticket.action_solved_by_article(self.article_leak.id)
        self.assertEqual(self.article_leak.helpful_count, 1, "once per ticket")
        ticket.action_solved_by_article(self.article_not_cold.id)
        self.assertEqual(self.article_leak.helpful_count, 0, "the count moves")
        self.assertEqual(self.article_not_cold.helpful_count, 5)
        self.assertEqual(self.article_not_cold.ticket_count, 1)
        self.assertEqual(self.article_leak.ticket_count, 0)
        ticket.kb_article_id = False
        self.assertEqual(self.article_not_cold.helpful_count, 4)

    def test_solved_tickets_counted_together(self):
        tickets = self.env["crm.support.ticket"].create(
            [
                {"name": f"Điều hòa lỗi {count}", "kb_article_id": self.article_leak.id}
                for count in range(3)
            ]
        )
        self.assertEqual(self.article_leak.helpful_count, 3)
        self.assertEqual(self.article_leak.ticket_count, 3)
        action = self.article_leak.action_view_tickets()
        self.assertEqual(self.env["crm.support.ticket"].search(action["domain"]), tickets)
        tickets.write({"kb_article_id": self.article_not_cold.id})
        self.assertEqual(self.article_leak.helpful_count, 0)
        self.assertEqual(self.article_not_cold.helpful_count, 7)


class TestKbArticleSecurity(KbArticleCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.published = cls._article("Bảo hành máy lọc nước 24 tháng")
        cls.draft = cls._article("Bảo hành máy lọc nước: bảng giá nội bộ", is_published=False)
        cls.other_company = cls.env["res.company"].create({"name": "Công ty Điện lạnh Phía Nam"})
        cls.foreign = cls._article(
            "Bảo hành máy lọc nước miền Nam", company_id=cls.other_company.id
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_portal_reads_published_articles_only(self):
        portal = self.user_portal
        self.assertEqual(self._ranked("bao hanh", user=portal), self.published)
        self.assertEqual(self._ranked("bao hanh", user=portal, published_only=True), self.published)
        self.assertEqual(self.published.with_user(portal).name, self.published.name)
        with self.assertRaises(AccessError):
            self.draft.with_user(portal).read(["answer"])
        with self.assertRaises(AccessError):
            self.published.with_user(portal).write({"name": "Sửa"})

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_other_company_article_is_invisible(self):
        self.assertNotIn(self.foreign, self._ranked("bao hanh"))
        self.assertNotIn(self.foreign, self.Article.with_user(self.user_care).search([]))
        with self.assertRaises(AccessError):
            self.foreign.with_user(self.user_care).read(["name"])
        shared = self.published.with_user(self.user_care)
        self.assertFalse(shared.company_id, "an article without company is for every company")
        self.assertEqual(shared.name, self.published.name)

    @mute_logger("odoo.addons.base.models.ir_model")
    def test_contact_user_reads_but_does_not_write(self):
        salesman = self.user_salesman
        self.assertIn(self.draft, self._ranked("bao hanh", user=salesman))
        with self.assertRaises(AccessError):
            self.published.with_user(salesman).write({"name": "Sửa"})
        with self.assertRaises(AccessError):
            self.Article.with_user(salesman).create({"name": "Bài mới"})

    def test_care_officer_writes_articles(self):
        article = self.Article.with_user(self.user_care).create({"name": "Hẹn giờ điều hòa"})
        self.assertEqual(article.author_id, self.user_care)
        self.assertFalse(article.is_published, "a new article is a draft")
        article.write({"is_published": True})
        self.assertEqual(self._ranked("hen gio", user=self.user_portal), article)

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_cannot_insert_an_invisible_article(self):
        ticket = (
            self.env["crm.support.ticket"]
            .with_user(self.user_care)
            .create({"name": "Bảo hành", "team_id": self.team.id})
        )
        with self.assertRaises(AccessError):
            ticket.action_insert_article(self.foreign.id)
        self.assertEqual(self.foreign.use_count, 0)
