from odoo.tests import HttpCase, tagged

from .test_promotion_plan import PromotionCommon


@tagged("post_install", "-at_install")
class TestPromotionUi(PromotionCommon, HttpCase):
    """Browser tour of promotion plans, in headless Chromium against the real web client."""

    def test_promotion_tour(self):
        """A salesperson creates a plan with an audience rule and previews its audience; a
        sales manager approves and launches it, then sees its members."""
        self.start_tour(
            "/odoo/action-crm_extended.crm_promotion_plan_action/new",
            "crm_extended_promotion_draft",
            login="ce_salesman",
        )
        plan = self.env["crm.promotion.plan"].search([("name", "=", "KM Tour Promotion")])
        self.assertRecordValues(plan, [{"state": "draft", "user_id": self.user_salesman.id}])
        self.start_tour(
            f"/odoo/action-crm_extended.crm_promotion_plan_action/{plan.id}",
            "crm_extended_promotion_launch",
            login="ce_sale_manager",
        )
        self.assertEqual(plan.state, "running")
        self.assertEqual(plan.revenue_min, 1000)
        # email only, the default: the consenting customer with an email address
        self.assertEqual(plan.member_ids.partner_id, self.cust_email)
