import re

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import CrmExtendedCommon

CSRF_RE = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


@tagged("post_install", "-at_install")
class TestSupportTicketPortal(CrmExtendedCommon, HttpCase):
    """The customer portal of the help desk, driven through its HTTP routes.

    Fixtures, on top of the common ones:
        filter_ro        product with a 12-month warranty, bought by customer_vn
        kettle           product bought by customer_en only
        order_vn         confirmed order of contact_vn (customer_vn), with invoice_vn posted
        order_en         confirmed order of customer_en, with invoice_en posted
        ticket_vn        ticket of contact_vn about filter_ro (user_portal's own)
        ticket_vn_mate   ticket of customer_vn itself (same company, other contact): visible
        ticket_en        ticket of customer_en: never visible to user_portal
        article_pub      published warranty article (Vietnamese title, with accents)
        article_draft    unpublished article matching the same words
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the pages are checked for their English texts, whatever the database's languages
        cls.env["res.lang"]._activate_lang("en_US")
        cls.env["ir.default"].set("res.partner", "lang", "en_US")
        (cls.user_portal | cls.user_care).lang = "en_US"
        cls.filter_ro = cls._create_product("Máy lọc nước RO Đông Á", 4_500_000.0)
        cls.filter_ro.product_tmpl_id.warranty_months = 12
        cls.kettle = cls._create_product("Electric kettle Harbour", 650_000.0)

        def sell(partner, product):
            order = cls.env["sale.order"].create(
                {"partner_id": partner.id, "order_line": cls._command_lines([(product, 1)])}
            )
            order.action_confirm()
            invoice = order._create_invoices()
            invoice.action_post()
            return order, invoice

        cls.order_vn, cls.invoice_vn = sell(cls.contact_vn, cls.filter_ro)
        cls.order_en, cls.invoice_en = sell(cls.customer_en, cls.kettle)

        Ticket = cls.env["crm.support.ticket"]
        cls.ticket_vn = Ticket.create(
            {
                "name": "Máy lọc nước bị rò rỉ",
                "partner_id": cls.contact_vn.id,
                "product_id": cls.filter_ro.id,
                "sale_order_id": cls.order_vn.id,
                "channel": "phone",
            }
        )
        cls.ticket_vn_mate = Ticket.create(
            {"name": "Xin hóa đơn điều chỉnh", "partner_id": cls.customer_vn.id}
        )
        cls.ticket_en = Ticket.create(
            {
                "name": "Kettle does not heat",
                "partner_id": cls.customer_en.id,
                "product_id": cls.kettle.id,
            }
        )

        Article = cls.env["crm.kb.article"]
        cls.article_pub = Article.create(
            {
                "name": "Điều kiện bảo hành máy lọc nước Aquaphor",
                "kind": "warranty",
                "symptoms": "Máy lọc nước còn được bảo hành không?",
                "answer": "<p>Bảo hành 12 tháng kể từ ngày xuất hóa đơn.</p>",
                "keywords": "bảo hành, máy lọc",
                "is_published": True,
            }
        )
        cls.article_draft = Article.create(
            {
                "name": "Bảo hành máy lọc nước Aquaphor: ghi chú nội bộ",
                "kind": "warranty",
                "answer": "<p>Ghi chú nội bộ, chưa công bố.</p>",
                "is_published": False,
            }
        )

    # ------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------

    def _get(self, url, **kwargs):
        return self.url_open(url, allow_redirects=False, **kwargs)

    def _csrf_token(self):
        response = self._get("/my/tickets/new")
        self.assertEqual(response.status_code, 200)
        return CSRF_RE.search(response.text).group(1)

    def _post_ticket(self, **values):
        data = {"csrf_token": self._csrf_token(), "name": "", "description": "", **values}
        return self.url_open("/my/tickets/new", data=data, allow_redirects=False)

    def _new_tickets(self):
        return self.env["crm.support.ticket"].search(
            [("id", ">", self.ticket_en.id), ("partner_id", "=", self.contact_vn.id)]
        )

    # ------------------------------------------------------------
    # record rules (ORM)
    # ------------------------------------------------------------

    def test_portal_user_reads_only_own_company_tickets(self):
        Ticket = self.env["crm.support.ticket"].with_user(self.user_portal)
        all_tickets = self.ticket_vn | self.ticket_vn_mate | self.ticket_en
        self.assertEqual(
            Ticket.search([("id", "in", all_tickets.ids)]),
            self.ticket_vn | self.ticket_vn_mate,
        )
        self.assertEqual(self.ticket_vn.with_user(self.user_portal).name, "Máy lọc nước bị rò rỉ")
        with self.assertRaises(AccessError):
            self.ticket_en.with_user(self.user_portal).read(["name"])
        with self.assertRaises(AccessError):
            self.ticket_vn.with_user(self.user_portal).write({"name": "Đổi tiêu đề"})
        with self.assertRaises(AccessError):
            Ticket.create({"name": "Direct create", "partner_id": self.contact_vn.id})

    def test_portal_user_reads_only_published_articles(self):
        Article = self.env["crm.kb.article"].with_user(self.user_portal)
        both = self.article_pub | self.article_draft
        self.assertEqual(Article.search([("id", "in", both.ids)]), self.article_pub)
        with self.assertRaises(AccessError):
            self.article_draft.with_user(self.user_portal).read(["answer"])

    # ------------------------------------------------------------
    # home and list
    # ------------------------------------------------------------

    def test_home_counter(self):
        self.authenticate("ce_portal", "ce_portal")
        result = self.make_jsonrpc_request("/my/counters", {"counters": ["ticket_count"]})
        self.assertEqual(result["ticket_count"], 2)
        home = self._get("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn('href="/my/tickets"', home.text)
        self.assertIn('href="/my/knowledge"', home.text)

    def test_list_shows_only_own_company_tickets(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._get("/my/tickets?filterby=all")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.ticket_vn.number, response.text)
        self.assertIn(self.ticket_vn_mate.number, response.text)
        self.assertNotIn(self.ticket_en.number, response.text)
        self.assertNotIn("Kettle does not heat", response.text)

    def test_list_search_filter_and_sort(self):
        self.ticket_vn_mate.stage_id = self.env["crm.support.stage"].search(
            [("is_closed", "=", True)], limit=1
        )
        self.authenticate("ce_portal", "ce_portal")
        # default filter: open tickets
        response = self._get("/my/tickets")
        self.assertIn(self.ticket_vn.number, response.text)
        self.assertNotIn(self.ticket_vn_mate.number, response.text)
        response = self._get("/my/tickets?filterby=closed&sortby=number")
        self.assertNotIn(self.ticket_vn.number, response.text)
        self.assertIn(self.ticket_vn_mate.number, response.text)
        # search by number and by subject; another customer's ticket never matches
        response = self._get(f"/my/tickets?filterby=all&search={self.ticket_vn.number}")
        self.assertIn(self.ticket_vn.number, response.text)
        self.assertNotIn(self.ticket_vn_mate.number, response.text)
        response = self._get("/my/tickets?filterby=all&sortby=stage&search=rò rỉ")
        self.assertIn(self.ticket_vn.number, response.text)
        self.assertNotIn(self.ticket_vn_mate.number, response.text)
        response = self._get("/my/tickets?filterby=all&search=Kettle")
        self.assertNotIn(self.ticket_en.number, response.text)
        self.assertIn("No ticket matches your search.", response.text)

    def test_list_query_count_does_not_grow_with_tickets(self):
        self.authenticate("ce_portal", "ce_portal")

        def list_queries():
            self._get("/my/tickets?filterby=all")  # warm the caches
            before = self.cr.sql_log_count
            response = self._get("/my/tickets?filterby=all")
            self.assertEqual(response.status_code, 200)
            return self.cr.sql_log_count - before

        few = list_queries()
        self.assertGreater(few, 0, "the requests run on the test cursor: their queries count")
        stages = self.env["crm.support.stage"].search([])
        products = self.filter_ro | self._create_product("Lõi lọc số 1", 150_000.0)
        self.env["crm.support.ticket"].create(
            [
                {
                    "name": f"Yêu cầu {index}",
                    "partner_id": self.contact_vn.id,
                    "product_id": products[index % 2].id,
                    "stage_id": stages[index % len(stages)].id,
                }
                for index in range(12)
            ]
        )
        self.assertEqual(list_queries(), few)

    # ------------------------------------------------------------
    # one ticket
    # ------------------------------------------------------------

    def test_ticket_page_shows_details_and_chatter(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._get(f"/my/tickets/{self.ticket_vn.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Máy lọc nước bị rò rỉ", page)
        self.assertIn(self.ticket_vn.number, page)
        self.assertIn(self.order_vn.name, page)
        self.assertIn("Máy lọc nước RO Đông Á", page)
        self.assertIn("Under warranty", page)
        self.assertIn('data-res_model="crm.support.ticket"', page)
        self.assertIn(f'data-res_id="{self.ticket_vn.id}"', page)

    def test_other_customer_ticket_refused(self):
        self.authenticate("ce_portal", "ce_portal")
        for url in (
            f"/my/tickets/{self.ticket_en.id}",
            f"/my/tickets/{self.ticket_en.id}?access_token=not-the-token",
            f"/my/tickets/{self.ticket_en.id}?access_token={self.ticket_vn._portal_ensure_token()}",
            "/my/tickets/999999999",
        ):
            with self.subTest(url=url):
                response = self._get(url)
                self.assertIn(response.status_code, (302, 303))
                self.assertTrue(response.headers["Location"].endswith("/my"))
                self.assertNotIn("Kettle does not heat", response.text)

    def test_access_token_opens_ticket_without_login(self):
        token = self.ticket_en._portal_ensure_token()
        self.authenticate(None, None)
        response = self._get(f"/my/tickets/{self.ticket_en.id}?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Kettle does not heat", response.text)
        # without the token, nothing but a redirection
        response = self._get(f"/my/tickets/{self.ticket_en.id}")
        self.assertIn(response.status_code, (302, 303))
        self.assertNotIn("Kettle does not heat", response.text)
        response = self._get(f"/my/tickets/{self.ticket_en.id}?access_token=wrong")
        self.assertIn(response.status_code, (302, 303))
        self.assertNotIn("Kettle does not heat", response.text)

    def test_reply_through_chatter_lands_on_ticket(self):
        self.authenticate("ce_portal", "ce_portal")
        self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "crm.support.ticket",
                "thread_id": self.ticket_vn.id,
                # what the portal composer sends
                "post_data": {
                    "body": "Nước vẫn rò rỉ sau khi thay lõi.",
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_comment",
                },
                "token": self.ticket_vn._portal_ensure_token(),
            },
        )
        message = self.ticket_vn.message_ids.filtered(lambda m: "sau khi thay lõi" in m.body)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.contact_vn)
        self.assertEqual(message.message_type, "comment")
        self.assertFalse(message.subtype_id.internal)
        # not on another customer's ticket, even with a token of their own ticket
        with self.assertRaises(Exception):  # noqa: B017 - NotFound is raised as a JSON-RPC error
            self.make_jsonrpc_request(
                "/mail/message/post",
                {
                    "thread_model": "crm.support.ticket",
                    "thread_id": self.ticket_en.id,
                    "post_data": {"body": "Intrusion", "message_type": "comment"},
                    "token": self.ticket_vn.access_token,
                },
            )
        self.assertFalse(self.ticket_en.message_ids.filtered(lambda m: "Intrusion" in m.body))

    # ------------------------------------------------------------
    # new ticket
    # ------------------------------------------------------------

    def test_new_ticket_form_lists_own_purchases_only(self):
        self.authenticate("ce_portal", "ce_portal")
        page = self._get("/my/tickets/new").text
        self.assertIn("Máy lọc nước RO Đông Á", page)
        self.assertIn(self.order_vn.name, page)
        self.assertIn(self.invoice_vn.name, page)
        self.assertNotIn("Electric kettle Harbour", page)
        self.assertNotIn(self.order_en.name, page)
        self.assertNotIn(self.invoice_en.name, page)

    def test_create_ticket(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._post_ticket(
            name="Lõi lọc nhanh bẩn",
            description="Lõi lọc phải thay sau 2 tháng.\n<script>alert(1)</script>",
            category="maintenance",
            product_id=str(self.filter_ro.id),
            sale_order_id=str(self.order_vn.id),
            invoice_id=str(self.invoice_vn.id),
        )
        ticket = self._new_tickets()
        self.assertEqual(len(ticket), 1)
        self.assertEqual(response.status_code, 303)
        self.assertIn(f"/my/tickets/{ticket.id}", response.headers["Location"])
        self.assertRecordValues(
            ticket,
            [
                {
                    "name": "Lõi lọc nhanh bẩn",
                    "channel": "portal",
                    "partner_id": self.contact_vn.id,
                    "commercial_partner_id": self.customer_vn.id,
                    "category": "maintenance",
                    "product_id": self.filter_ro.id,
                    "sale_order_id": self.order_vn.id,
                    "invoice_id": self.invoice_vn.id,
                    "warranty_state": "under_warranty",
                }
            ],
        )
        self.assertIn("Lõi lọc phải thay sau 2 tháng.", ticket.description)
        self.assertNotIn("<script>", ticket.description)
        self.assertIn(self.contact_vn, ticket.message_partner_ids)
        # the customer lands on their new ticket
        page = self._get(response.headers["Location"]).text
        self.assertIn("Lõi lọc nhanh bẩn", page)

    def test_create_ticket_minimal(self):
        self.authenticate("ce_portal", "ce_portal")
        # the customer, channel and company come from the session, never from the form
        response = self._post_ticket(
            name="Cần tư vấn",
            category="",
            product_id="",
            partner_id=str(self.customer_en.id),
            channel="phone",
            stage_id="1",
        )
        ticket = self._new_tickets()
        self.assertEqual(response.status_code, 303)
        self.assertRecordValues(
            ticket,
            [
                {
                    "channel": "portal",
                    "partner_id": self.contact_vn.id,
                    "category": "other",
                    "product_id": False,
                    "sale_order_id": False,
                }
            ],
        )

    def test_create_ticket_refuses_foreign_documents(self):
        self.authenticate("ce_portal", "ce_portal")
        order_error = "Choose one of your orders from the list."
        invoice_error = "Choose one of your invoices from the list."
        product_error = "Choose one of the products you bought from the list."
        # another customer's documents, a draft order of the customer, ids that are no ids
        draft_order = self.env["sale.order"].create(
            {
                "partner_id": self.contact_vn.id,
                "order_line": self._command_lines([(self.filter_ro, 1)]),
            }
        )
        cases = [
            ("sale_order_id", str(self.order_en.id), order_error),
            ("sale_order_id", str(draft_order.id), order_error),
            ("sale_order_id", "1 OR 1=1", order_error),
            ("invoice_id", str(self.invoice_en.id), invoice_error),
            ("invoice_id", "²", invoice_error),
            ("product_id", str(self.kettle.id), product_error),
            ("category", "hacking", "Choose a category from the list."),
        ]
        for field_name, value, error in cases:
            with self.subTest(field=field_name, value=value):
                response = self._post_ticket(name="Thử đơn hàng người khác", **{field_name: value})
                self.assertEqual(response.status_code, 200)
                self.assertIn(error, response.text)
                # the form comes back filled in
                self.assertIn("Thử đơn hàng người khác", response.text)
                self.assertFalse(self._new_tickets())
        self.assertFalse(
            self.env["crm.support.ticket"].search([("name", "=", "Thử đơn hàng người khác")])
        )

    def test_create_ticket_requires_subject_and_csrf(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._post_ticket(name="   ", description="Không có tiêu đề")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Give your request a subject.", response.text)
        self.assertFalse(self._new_tickets())
        # a forged form without the CSRF token is rejected
        response = self.url_open("/my/tickets/new", data={"name": "Forged"}, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._new_tickets())

    def test_create_ticket_refused_to_visitors(self):
        self.authenticate(None, None)
        response = self._get("/my/tickets/new")
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    # ------------------------------------------------------------
    # knowledge base
    # ------------------------------------------------------------

    def test_knowledge_search_ignores_accents(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._get("/my/knowledge?search=BAO HANH may loc aquaphor")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Điều kiện bảo hành máy lọc nước Aquaphor", response.text)
        self.assertIn(f'href="/my/knowledge/{self.article_pub.id}"', response.text)
        self.assertNotIn("ghi chú nội bộ", response.text)
        # kind filter
        response = self._get("/my/knowledge?search=bao hanh aquaphor&filterby=warranty")
        self.assertIn("Điều kiện bảo hành máy lọc nước Aquaphor", response.text)
        self.assertNotIn("ghi chú nội bộ", response.text)
        response = self._get("/my/knowledge?search=bao hanh aquaphor&filterby=how_to")
        self.assertNotIn("Điều kiện bảo hành máy lọc nước Aquaphor", response.text)
        # without a query: the published articles (of a kind, the demo may hold many)
        response = self._get("/my/knowledge?filterby=warranty")
        self.assertIn("Điều kiện bảo hành máy lọc nước Aquaphor", response.text)
        self.assertNotIn("ghi chú nội bộ", response.text)

    def test_knowledge_pager(self):
        # only the 22 articles below are published (the database may hold demo ones)
        self.env["crm.kb.article"].search([]).is_published = False
        self.env["crm.kb.article"].create(
            [
                {
                    "name": f"Vệ sinh lõi lọc số {index}",
                    "kind": "maintenance",
                    "answer": "<p>Tháo lõi, rửa nhẹ bằng nước sạch.</p>",
                    "is_published": True,
                }
                for index in range(1, 23)
            ]
        )
        self.authenticate("ce_portal", "ce_portal")
        for url in ("/my/knowledge?search=ve sinh loi", "/my/knowledge?filterby=maintenance"):
            with self.subTest(url=url):
                first = self._get(url).text
                second = self._get(url.replace("knowledge?", "knowledge/page/2?")).text
                rows = re.compile(r"o_crm_kb_portal_article\b")
                self.assertEqual(len(rows.findall(first)), 20)
                self.assertEqual(len(rows.findall(second)), 2)
                shown = set(re.findall(r"Vệ sinh lõi lọc số \d+", first + second))
                self.assertEqual(len(shown), 22, "every article once over the two pages")
                self.assertIn("/my/knowledge/page/2", first)

    def test_knowledge_article_page(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._get(f"/my/knowledge/{self.article_pub.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Bảo hành 12 tháng kể từ ngày xuất hóa đơn.", response.text)

    def test_unpublished_article_not_found(self):
        for login in ("ce_portal", "ce_care"):
            with self.subTest(login=login):
                self.authenticate(login, login)
                response = self._get(f"/my/knowledge/{self.article_draft.id}")
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("Ghi chú nội bộ, chưa công bố.", response.text)
        self.authenticate(None, None)
        response = self._get(f"/my/knowledge/{self.article_pub.id}")
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
