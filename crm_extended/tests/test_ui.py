from datetime import date

from odoo.tests import HttpCase, tagged

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class TestUi(CrmExtendedCommon, HttpCase):
    """Browser tours, run in headless Chromium against the real web client."""

    def test_partner_form_tour(self):
        """A salesperson logs in, finds a customer without typing accents, opens its form."""
        self.customer_vn.user_id = self.user_salesman
        self.start_tour("/odoo", "crm_extended_partner_form", login="ce_salesman")

    def test_contact_log_tour(self):
        """A salesperson logs a phone call from the partner form's header, then finds it in
        the customer's history and in the "Contacts" counter."""
        partner = self.customer_vn
        partner.user_id = self.user_salesman
        # untranslated, so the tour types the same name whatever the user's language
        outcome = self.env["crm.contact.log.outcome"].create({"name": "Hẹn giao hàng thứ Sáu"})
        self.start_tour(
            f"/odoo/contacts/{partner.id}", "crm_extended_contact_log", login="ce_salesman"
        )

        log = self.env["crm.contact.log"].search([("partner_id", "child_of", partner.id)])
        self.assertEqual(len(log), 1, "the tour logged exactly one contact")
        self.assertRecordValues(
            log,
            [
                {
                    "name": "Hỏi lịch giao máy lọc nước",
                    "partner_id": partner.id,
                    "channel": "phone",
                    "state": "done",
                    "user_id": self.user_salesman.id,
                    "outcome_id": outcome.id,
                }
            ],
        )
        self.assertTrue(log.date, "a held contact is dated")
        self.assertIn("hẹn giao thứ Sáu", log.content)

    def test_personal_details_tour(self):
        """A user allowed to see personal details fills the "Personal" tab of a contact:
        birthdate, a new hobby, a child, the preferred channel. A salesperson without the
        group does not even get the tab."""
        self.user_privacy.groups_id += self.env.ref("base.group_partner_manager")
        contact = self.contact_vn
        self.start_tour(
            f"/odoo/contacts/{contact.id}", "crm_extended_personal_details", login="ce_privacy"
        )

        contact = contact.sudo()
        self.assertEqual(contact.birthdate_date, date(1982, 3, 15))
        self.assertEqual(contact.hobby_ids.mapped("name"), ["Leo núi"])
        self.assertRecordValues(
            contact.family_member_ids,
            [{"relation": "child", "name": "Nguyễn Bảo Ngọc", "birthdate": date(2012, 6, 1)}],
        )
        self.assertEqual(contact.preferred_channel, "email")

        Partner = self.env["res.partner"]
        arch = Partner.with_user(self.user_privacy).get_views([(False, "form")])["views"]
        self.assertIn("crm_extended_personal", arch["form"]["arch"])
        arch = Partner.with_user(self.user_salesman).get_views([(False, "form")])["views"]
        self.assertNotIn("crm_extended_personal", arch["form"]["arch"])
