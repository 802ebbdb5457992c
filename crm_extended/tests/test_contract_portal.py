from datetime import date

from odoo.tests import HttpCase, tagged

from .test_contract import PDF_BYTES, ContractCase


@tagged("post_install", "-at_install")
class TestContractPortal(ContractCase, HttpCase):
    """The customer portal of contracts, driven through its HTTP routes.

    Fixtures, on top of the contract ones:
        contract_vn        customer_vn's active, signed, recurring contract (user_portal's own)
                           with its January invoice posted, due long ago and unpaid
        contract_vn_draft  a draft of customer_vn: not shown to the customer
        contract_en        customer_en's active signed contract: never user_portal's
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the pages are checked for their English texts, whatever the database's languages
        cls.env["res.lang"]._activate_lang("en_US")
        cls.env["ir.default"].set("res.partner", "lang", "en_US")
        cls.user_portal.lang = "en_US"
        cls.contract_vn = cls._active_contract(
            title="Bảo trì máy lọc nước Đông Á",
            invoicing_kind="recurring",
            recurring_interval="monthly",
        )
        cls.invoice_vn = cls.contract_vn._create_due_invoices(date(2025, 1, 1))
        cls.invoice_vn.action_post()
        cls.original_vn = cls.contract_vn.original_ids
        cls.contract_vn_draft = cls._contract(title="Hợp đồng nháp chưa ký")
        cls.contract_en = cls._active_contract(
            partner=cls.customer_en, title="Harbour kettle maintenance"
        )
        cls.original_en = cls.contract_en.original_ids

    def _get(self, url, **kwargs):
        return self.url_open(url, allow_redirects=False, **kwargs)

    def assertRefused(self, response):
        self.assertIn(response.status_code, (302, 303, 403, 404))
        self.assertNotIn("Harbour kettle maintenance", response.text)
        self.assertNotIn(PDF_BYTES, response.content)

    # ------------------------------------------------------------
    # home and list
    # ------------------------------------------------------------

    def test_home_counter(self):
        self.authenticate("ce_portal", "ce_portal")
        result = self.make_jsonrpc_request("/my/counters", {"counters": ["contract_count"]})
        self.assertEqual(result["contract_count"], 1, "signed contracts of the company only")
        home = self._get("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn('href="/my/contracts"', home.text)

    def test_list_shows_only_own_signed_contracts(self):
        self.authenticate("ce_portal", "ce_portal")
        for url in ("/my/contracts", "/my/contracts?sortby=end&filterby=running"):
            with self.subTest(url=url):
                response = self._get(url)
                self.assertEqual(response.status_code, 200)
                self.assertIn(self.contract_vn.name, response.text)
                self.assertIn("Bảo trì máy lọc nước Đông Á", response.text)
                self.assertNotIn(self.contract_en.name, response.text)
                self.assertNotIn("Harbour kettle maintenance", response.text)
                self.assertNotIn("Hợp đồng nháp chưa ký", response.text)
        # unknown sorting and filter values fall back to the defaults
        response = self._get("/my/contracts?sortby=id;drop&filterby=nope")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.contract_vn.name, response.text)

    # ------------------------------------------------------------
    # one contract
    # ------------------------------------------------------------

    def test_contract_page_lists_invoices_with_payment_status(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._get(f"/my/contracts/{self.contract_vn.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("Bảo trì máy lọc nước Đông Á", page)
        self.assertIn(self.invoice_vn.name, page)
        # the link opens Odoo's own invoice page, with the invoice's token
        self.assertIn(f"/my/invoices/{self.invoice_vn.id}?access_token=", page)
        self.assertIn("o_crm_contract_portal_overdue", page)
        self.assertIn(self.original_vn.checksum, page)
        self.assertIn('data-res_model="crm.contract"', page)
        invoice_page = self._get(self.invoice_vn.get_portal_url())
        self.assertEqual(invoice_page.status_code, 200)

    def test_signed_original_download(self):
        self.authenticate("ce_portal", "ce_portal")
        response = self._get(
            f"/my/contracts/{self.contract_vn.id}/original/{self.original_vn.id}?download=1"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, PDF_BYTES)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        self.assertEqual(response.headers["Content-Type"], "application/pdf")

    def test_other_customer_contract_refused(self):
        self.authenticate("ce_portal", "ce_portal")
        wrong_token = self.contract_vn._portal_ensure_token()
        for url in (
            f"/my/contracts/{self.contract_en.id}",
            f"/my/contracts/{self.contract_en.id}?access_token=not-the-token",
            f"/my/contracts/{self.contract_en.id}?access_token={wrong_token}",
            f"/my/contracts/{self.contract_vn_draft.id}",
            "/my/contracts/999999999",
            # another contract's original, directly or through one's own contract
            f"/my/contracts/{self.contract_en.id}/original/{self.original_en.id}",
            f"/my/contracts/{self.contract_vn.id}/original/{self.original_en.id}",
            f"/web/content/crm.contract.original/{self.original_vn.id}/file",
        ):
            with self.subTest(url=url):
                self.assertRefused(self._get(url))
        response = self._get(f"/my/contracts/{self.contract_en.id}")
        self.assertTrue(response.headers["Location"].endswith("/my"))

    def test_access_token_opens_contract_without_login(self):
        token = self.contract_en._portal_ensure_token()
        self.authenticate(None, None)
        response = self._get(f"/my/contracts/{self.contract_en.id}?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Harbour kettle maintenance", response.text)
        response = self._get(
            f"/my/contracts/{self.contract_en.id}/original/{self.original_en.id}"
            f"?access_token={token}"
        )
        self.assertEqual(response.content, PDF_BYTES)
        # without the token, or with a wrong one, nothing
        for url in (
            f"/my/contracts/{self.contract_en.id}",
            f"/my/contracts/{self.contract_en.id}?access_token=wrong",
            f"/my/contracts/{self.contract_en.id}/original/{self.original_en.id}",
        ):
            with self.subTest(url=url):
                self.assertRefused(self._get(url))
