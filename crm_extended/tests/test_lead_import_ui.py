from odoo.tests import HttpCase, tagged

from .test_lead_import import LeadImportCommon


@tagged("post_install", "-at_install")
class TestLeadImportUi(LeadImportCommon, HttpCase):
    """Browser tour of the file import, in headless Chromium against the real web client."""

    def test_lead_import_tour(self):
        """A sales manager opens a file source, uploads a small CSV file, sees its columns
        mapped and its first rows previewed, imports it and reads the report."""
        self.start_tour(
            f"/odoo/action-crm_extended.crm_lead_source_action/{self.source_file.id}",
            "crm_extended_lead_import",
            login="ce_sale_manager",
        )
        batch = self.env["crm.lead.import"].search([("source_id", "=", self.source_file.id)])
        self.assertRecordValues(
            batch,
            [
                {
                    "state": "done",
                    "file_name": "dai_ly.csv",
                    "created_count": 1,
                    "merged_count": 0,
                    "rejected_count": 1,
                }
            ],
        )
        lead = batch.line_ids.filtered(lambda line: line.status == "created").lead_id
        self.assertEqual(lead.email_from, "tour.hoang@example.vn")
        self.assertEqual(self.source_file.import_mapping["email"], "Email")
