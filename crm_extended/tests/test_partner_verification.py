from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged, users
from odoo.tools import SQL

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class PartnerVerificationCommon(CrmExtendedCommon):
    """Customers whose data the care team verifies.

    Fixtures, on top of the common ones:
        company        Vietnamese: numbers written without prefix are read as Vietnamese
        customer_vn    (common) Đông Á: VAT 0101234567, phone +84 24 3825 1234
        contact_vn     (common) its contact person Đức: duc.nguyen@donga.example.vn,
                       +84 912 345 678
        customer_hcm   an individual customer in Hồ Chí Minh City: mobile 0903 123 456,
                       email thu.tran@example.vn; no issue, no duplicate
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.country_id = cls.env.ref("base.vn")
        cls.user_salesman.groups_id = [Command.link(cls.env.ref("base.group_partner_manager").id)]
        cls.user_care.groups_id = [Command.link(cls.env.ref("base.group_partner_manager").id)]
        cls.customer_vn.vat = "0101234567"
        cls.customer_hcm = cls.env["res.partner"].create(
            {
                "name": "Trần Thị Thu",
                "email": "thu.tran@example.vn",
                "mobile": "0903 123 456",
                "city": "Hồ Chí Minh",
                "country_id": cls.env.ref("base.vn").id,
            }
        )

    @classmethod
    def _create_customer(cls, name="Lê Văn Hùng", **values):
        return cls.env["res.partner"].create(
            {"name": name, "country_id": cls.env.ref("base.vn").id, **values}
        )

    def _issue_kinds(self, partner):
        return sorted(issue["kind"] for issue in partner.verification_issues or [])


@tagged("post_install", "-at_install")
class TestPartnerVerificationChecks(PartnerVerificationCommon):
    def test_new_partner_unverified_without_issue(self):
        self.assertEqual(self.customer_hcm.verification_state, "unverified")
        self.assertFalse(self.customer_hcm.verified_by_id)
        self.assertFalse(self.customer_hcm.verification_issues)
        self.assertFalse(self.customer_hcm.verification_duplicate_ids)
        self.assertFalse(self.customer_hcm.verification_has_issue)

    def test_invalid_phone_for_country(self):
        partner = self._create_customer(phone="024 123", mobile="0903 999 888")
        self.assertEqual(self._issue_kinds(partner), ["phone"])
        self.assertTrue(partner.verification_has_issue)
        # a Vietnamese mobile number is not a Singapore one
        partner.write({"phone": "6123 4567", "country_id": self.env.ref("base.sg").id})
        self.assertEqual(self._issue_kinds(partner), ["mobile"])
        self.assertEqual(partner.verification_issues, [{"kind": "mobile", "value": "0903 999 888"}])
        partner.mobile = "+84 903 999 888"
        self.assertFalse(partner.verification_issues)
        self.assertFalse(partner.verification_has_issue)

    def test_partner_without_country_reads_numbers_in_company_country(self):
        partner = self.env["res.partner"].create({"name": "Khách lẻ", "mobile": "0903 999 888"})
        self.assertFalse(partner.verification_issues)
        partner.mobile = "12"
        self.assertEqual(self._issue_kinds(partner), ["mobile"])

    def test_email_syntax(self):
        partner = self._create_customer(email="hung@@example.vn")
        self.assertEqual(
            partner.verification_issues, [{"kind": "email", "value": "hung@@example.vn"}]
        )
        for bad in ("hung..le@example.vn", ".hung@example.vn", "Lê Văn Hùng", "hung@example"):
            partner.email = bad
            self.assertEqual(self._issue_kinds(partner), ["email"], bad)
        for good in ("hung.le@example.vn", "Hung.Le@Example.VN", "a@example.vn, b@example.vn"):
            partner.email = good
            self.assertFalse(partner.verification_issues, good)

    def test_issue_sentences_in_reader_language(self):
        partner = self._create_customer(email="hung@@example.vn", phone="024 123")
        self.env["res.lang"]._activate_lang("en_US")
        html = partner.with_context(lang="en_US").verification_issues_html
        self.assertIn("hung@@example.vn is not a valid email address.", html)
        self.assertIn("024 123 is not a valid phone number for Vietnam.", html)

    def test_vat_format_with_base_vat(self):
        if not self.env["res.partner"]._verification_can_check_vat():
            self.skipTest("base_vat is not installed: VAT formats are not checked")
        partner = self._create_customer(name="Công ty Sai MST", is_company=True, vat="01012")
        self.assertEqual(self._issue_kinds(partner), ["vat"])
        partner.vat = "0312345670"
        self.assertFalse(partner.verification_issues)

    def test_vat_not_checked_without_base_vat(self):
        if self.env["res.partner"]._verification_can_check_vat():
            self.skipTest("base_vat is installed")
        partner = self._create_customer(name="Công ty Sai MST", is_company=True, vat="01012")
        self.assertFalse(partner.verification_issues)

    def test_search_by_issue(self):
        bad_phone = self._create_customer(name="A", phone="024 123")
        bad_email = self._create_customer(name="B", email="b@@example.vn")
        duplicate = self._create_customer(name="C", email="THU.TRAN@example.vn")
        ours = bad_phone | bad_email | duplicate | self.customer_hcm | self.customer_vn

        def search(domain):
            return self.env["res.partner"].search([("id", "in", ours.ids), *domain])

        self.assertEqual(
            search([("verification_issue_kind", "in", ["phone", "mobile"])]), bad_phone
        )
        self.assertEqual(search([("verification_issue_kind", "=", "email")]), bad_email)
        self.assertEqual(
            search([("verification_issue_kind", "=", "duplicate")]), duplicate | self.customer_hcm
        )
        self.assertEqual(
            search([("verification_issue_kind", "!=", False)]),
            bad_phone | bad_email | duplicate | self.customer_hcm,
        )
        self.assertEqual(
            search([("verification_has_issue", "=", True)]),
            bad_phone | bad_email | duplicate | self.customer_hcm,
        )

    def test_check_now_on_partners_never_checked(self):
        """Partners of before the install are checked on demand (the server action)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET verification_issues = NULL, "
                "verification_has_issue = NULL, mobile = '12' WHERE id = %s",
                self.customer_hcm.id,
            )
        )
        self.env.invalidate_all()
        action = self.env.ref("crm_extended.res_partner_verification_action_check")
        action.with_user(self.user_care).with_context(
            active_model="res.partner", active_ids=self.customer_hcm.ids
        ).run()
        self.assertEqual(self._issue_kinds(self.customer_hcm), ["mobile"])
        self.assertTrue(self.customer_hcm.verification_has_issue)


@tagged("post_install", "-at_install")
class TestPartnerVerificationDuplicates(PartnerVerificationCommon):
    def test_duplicate_by_email(self):
        new = self._create_customer(email="Thu.Tran@Example.VN")
        self.assertEqual(new.verification_duplicate_ids, self.customer_hcm)
        # both ways: the existing customer lists the new one
        self.assertEqual(self.customer_hcm.verification_duplicate_ids, new)
        self.assertIn("Trần Thị Thu", new.verification_issues_html)
        # no longer the same: neither lists the other
        new.email = "hung.le@example.vn"
        self.assertFalse(new.verification_duplicate_ids)
        self.assertFalse(self.customer_hcm.verification_duplicate_ids)
        self.assertFalse(self.customer_hcm.verification_has_issue)

    def test_duplicate_by_phone_in_any_format(self):
        first = self._create_customer(name="Ngô Bảo Châu", mobile="+84 935 246 813")
        # the same number written nationally, as a phone
        new = self._create_customer(phone="0935-246-813")
        self.assertEqual(new.verification_duplicate_ids, first)
        self.assertEqual(first.verification_duplicate_ids, new)
        other = self._create_customer(name="Phạm Văn Nam", mobile="+84 903 123 456")
        self.assertEqual(other.verification_duplicate_ids, self.customer_hcm)

    def test_duplicate_by_vat_with_or_without_prefix(self):
        new = self._create_customer(name="Đông Á (bản trùng)", is_company=True, vat="VN 0101234567")
        self.assertEqual(new.verification_duplicate_ids, self.customer_vn)
        self.assertEqual(self.customer_vn.verification_duplicate_ids, new)

    def test_not_duplicates(self):
        # the company and its contact persons share their data
        colleague = self.env["res.partner"].create(
            {
                "name": "Lê Thị Hoa",
                "parent_id": self.customer_vn.id,
                "email": "lienhe@donga.example.vn",
                "phone": "+84 24 3825 1234",
            }
        )
        self.assertFalse(colleague.verification_duplicate_ids)
        self.assertFalse(self.customer_vn.verification_duplicate_ids)
        # archived partners are not proposed
        archived = self._create_customer(email="cu@example.vn", active=False)
        new = self._create_customer(email="cu@example.vn")
        self.assertFalse(new.verification_duplicate_ids)
        self.assertFalse(archived.verification_duplicate_ids)
        # neither are short numbers
        self._create_customer(name="X", phone="113")
        self.assertFalse(self._create_customer(name="Y", phone="113").verification_duplicate_ids)

    def test_other_company_partners_not_listed(self):
        other_company = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        theirs = self._create_customer(email="thu.tran@example.vn", company_id=other_company.id)
        self.assertFalse(theirs.verification_duplicate_ids - self.customer_hcm)
        ours = self._create_customer(email="thu.tran@example.vn", company_id=self.company.id)
        # the partner of no company is seen by both companies: it lists neither
        self.assertNotIn(theirs, ours.verification_duplicate_ids)
        self.assertNotIn(theirs, self.customer_hcm.verification_duplicate_ids)
        self.assertIn(self.customer_hcm, ours.verification_duplicate_ids)

    def test_merge_through_odoo_wizard(self):
        new = self._create_customer(
            name="Thu Trần", email="thu.tran@example.vn", phone="0283 951 7531"
        )
        action = self.customer_hcm.with_user(self.user_care).action_verification_merge()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(wizard._name, "base.partner.merge.automatic.wizard")
        self.assertEqual(wizard.partner_ids, self.customer_hcm | new)
        self.assertEqual(wizard.dst_partner_id, self.customer_hcm)
        self.assertEqual(wizard.state, "selection")
        wizard.with_user(self.user_care).action_merge()
        self.assertFalse(new.exists())
        self.assertEqual(self.customer_hcm.phone, "0283 951 7531")
        self.assertFalse(self.customer_hcm.verification_duplicate_ids)
        self.assertFalse(self.customer_hcm.verification_has_issue)

    def test_merge_one_duplicate_from_its_line(self):
        first = self._create_customer(name="Thu 1", email="thu.tran@example.vn")
        second = self._create_customer(name="Thu 2", mobile="0903 123 456")
        self.assertEqual(self.customer_hcm.verification_duplicate_ids, first | second)
        action = second.with_context(
            verification_partner_id=self.customer_hcm.id
        ).action_verification_merge_line()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(wizard.partner_ids, self.customer_hcm | second)

    def test_merge_without_duplicate(self):
        with self.assertRaises(UserError):
            self.customer_hcm.action_verification_merge()


@tagged("post_install", "-at_install")
class TestPartnerVerificationState(PartnerVerificationCommon):
    @freeze_time("2026-03-02 09:30:00")
    @users("ce_care")
    def test_mark_verified_records_who_and_when(self):
        customer = self.customer_hcm.with_env(self.env)
        customer.action_verification_mark_verified()
        self.assertEqual(customer.verification_state, "verified")
        self.assertEqual(customer.verified_by_id, self.user_care)
        self.assertEqual(customer.verified_date, fields.Datetime.to_datetime("2026-03-02 09:30:00"))

    @users("ce_care")
    def test_mark_verified_refused_while_data_issues(self):
        customer = self._create_customer(email="hung@@example.vn").with_env(self.env)
        with self.assertRaises(UserError):
            customer.action_verification_mark_verified()
        self.assertEqual(customer.verification_state, "unverified")
        customer.email = "hung@example.vn"
        customer.action_verification_mark_verified()
        self.assertEqual(customer.verification_state, "verified")

    def test_mark_verified_with_duplicates_logs_them(self):
        duplicate = self._create_customer(email="thu.tran@example.vn")
        customer = self.customer_hcm.with_user(self.user_care)
        customer.action_verification_mark_verified()
        self.assertEqual(customer.verification_state, "verified")
        note = customer.message_ids[:1]
        self.assertIn(duplicate.display_name, note.body)

    def test_editing_verified_data_needs_update(self):
        customer = self.customer_hcm
        customer.with_user(self.user_care).action_verification_mark_verified()
        salesman_view = customer.with_user(self.user_salesman)
        # other fields, or the same values: still verified
        salesman_view.write({"city": "Thủ Đức", "email": "thu.tran@example.vn"})
        self.assertEqual(customer.verification_state, "verified")
        salesman_view.mobile = "0903 123 457"
        self.assertEqual(customer.verification_state, "needs_update")
        # who verified last is kept until the next verification
        self.assertEqual(customer.verified_by_id, self.user_care)
        for field, value in (
            ("phone", "028 3822 4567"),
            ("email", "thu@example.vn"),
            ("vat", "0312345670"),
        ):
            customer.with_user(self.user_care).action_verification_mark_verified()
            salesman_view.write({field: value})
            self.assertEqual(customer.verification_state, "needs_update", field)

    def test_verification_kept_by_merge(self):
        """Odoo's merge copies the plain fields of the merged partners: not the verification."""
        verified = self._create_customer(email="thu.tran@example.vn")
        verified.with_user(self.user_care).action_verification_mark_verified()
        wizard = self.env["base.partner.merge.automatic.wizard"].create(
            {
                "state": "selection",
                "partner_ids": [Command.set((self.customer_hcm | verified).ids)],
                "dst_partner_id": self.customer_hcm.id,
            }
        )
        wizard.action_merge()
        self.assertEqual(self.customer_hcm.verification_state, "unverified")
        self.assertFalse(self.customer_hcm.verified_by_id)


@tagged("post_install", "-at_install")
class TestPartnerVerificationSecurity(PartnerVerificationCommon):
    @users("ce_salesman")
    def test_salesman_sees_state_but_cannot_verify(self):
        customer = self.customer_hcm.with_env(self.env)
        self.assertEqual(customer.verification_state, "unverified")
        self.assertFalse(customer.verification_can_verify)
        with self.assertRaises(AccessError):
            customer.action_verification_mark_verified()
        with self.assertRaises(AccessError):
            customer.write({"verification_state": "verified"})
        with self.assertRaises(AccessError):
            customer.write({"verified_by_id": self.env.user.id})
        with self.assertRaises(AccessError):
            self.env["res.partner"].create({"name": "Giả mạo", "verification_state": "verified"})
        # what the form sends back unchanged is accepted
        customer.write({"verification_state": "unverified", "city": "Thủ Đức"})
        self.assertEqual(customer.city, "Thủ Đức")
        # the checks may be run by anyone who may edit the customer
        customer.action_verification_check()
        self.assertEqual(customer.verification_state, "unverified")

    @users("ce_crm_manager", "ce_sale_manager")
    def test_managers_verify(self):
        customer = self.customer_hcm.with_env(self.env)
        self.assertTrue(customer.verification_can_verify)
        customer.action_verification_mark_verified()
        self.assertEqual(customer.verification_state, "verified")
        self.assertEqual(customer.verified_by_id, self.env.user)


@tagged("post_install", "-at_install")
class TestPartnerVerificationPerformance(PartnerVerificationCommon):
    def _count_create_queries(self, count, offset, checked=True):
        """Queries to create ``count`` customers (with data to check if ``checked``, else
        with a name only) and one duplicate of customer_hcm."""
        values = [
            {
                "name": f"Khách hàng {offset + index}",
                "is_company": True,
                "country_id": self.env.ref("base.vn").id,
                **(
                    {
                        "email": f"khach{offset + index}@example.vn",
                        "mobile": f"0903 {offset + index:06d}",
                        "vat": f"03{offset + index:08d}",
                    }
                    if checked
                    else {}
                ),
            }
            for index in range(count)
        ]
        values.append({"name": "Thu", "email": "thu.tran@example.vn"})
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        partners = self.env["res.partner"].create(values)
        self.env.flush_all()
        queries = self.cr.sql_log_count - before
        self.assertIn(self.customer_hcm, partners[-1].verification_duplicate_ids)
        return queries

    def test_saving_many_partners_no_query_per_partner(self):
        """What the checks cost does not grow with the number of partners saved (Odoo and
        other modules may cost a query per partner: measured apart, without data)."""
        self._count_create_queries(2, 0)  # warm up the caches
        few = self._count_create_queries(5, 100) - self._count_create_queries(5, 200, False)
        many = self._count_create_queries(60, 1000) - self._count_create_queries(60, 2000, False)
        self.assertEqual(few, many, "the checks must not cost queries per partner")

    def test_check_many_partners_query_count(self):
        partners = self.env["res.partner"].create(
            [{"name": f"K{index}", "email": f"k{index}@example.vn"} for index in range(40)]
        )
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(__system__=6):
            partners.action_verification_check()
