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
