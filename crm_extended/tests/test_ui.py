from odoo.tests import HttpCase, tagged

from .common import CrmExtendedCommon


@tagged("post_install", "-at_install")
class TestUi(CrmExtendedCommon, HttpCase):
    """Browser tours, run in headless Chromium against the real web client."""

    def test_partner_form_tour(self):
        """A salesperson logs in, finds a customer without typing accents, opens its form."""
        self.customer_vn.user_id = self.user_salesman
        self.start_tour("/odoo", "crm_extended_partner_form", login="ce_salesman")
