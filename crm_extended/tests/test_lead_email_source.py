from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .test_lead_source import LeadSourceCommon

RAW_EMAIL = """Return-Path: <{sender}>
From: Khách hàng <{sender}>
To: {to}
Subject: {subject}
Message-ID: <{message_id}@example.vn>
Date: Mon, 03 Feb 2025 09:00:00 +0700
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Xin chào, tôi muốn nhận báo giá máy lọc nước.
"""


@tagged("post_install", "-at_install")
class TestLeadEmailSource(LeadSourceCommon):
    """Emails sent to a sales team's alias become leads of the email source tied to the
    team, as Odoo's mail gateway receives them (``message_process``).

    Fixtures, on top of the lead source ones:
        alias domain    crm-extended.example.com, the company's
        team            (lead sources) gets the alias "khach-moi"
        team_other      "Kinh doanh dự án", alias "du-an", no email source
        source_email    email source of team: tag_web, UTM source utm_zalo
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        domain = cls.env["mail.alias.domain"].search(
            [("name", "=", "crm-extended.example.com")]
        ) or cls.env["mail.alias.domain"].create({"name": "crm-extended.example.com"})
        cls.company.alias_domain_id = domain
        cls.team.write({"alias_name": "khach-moi", "use_leads": True})
        cls.team_other = cls.env["crm.team"].create(
            {"name": "Kinh doanh dự án", "alias_name": "du-an", "use_leads": True}
        )
        cls.source_email = cls.env["crm.lead.source"].create(
            {
                "name": "Email khách mới",
                "kind": "email",
                "team_id": cls.team.id,
                "tag_ids": [Command.set(cls.tag_web.ids)],
                "utm_source_id": cls.utm_zalo.id,
            }
        )

    def _receive(self, to, subject, message_id):
        raw = RAW_EMAIL.format(
            sender="khach.moi@example.vn", to=to, subject=subject, message_id=message_id
        )
        # the gateway runs with administrative rights, as the mail fetcher does
        thread_id = self.env["mail.thread"].sudo().message_process(False, raw.encode())
        return self.env["crm.lead"].browse(thread_id)

    def test_alias_lead_carries_source(self):
        self.assertEqual(self.source_email.team_alias_email, "khach-moi@crm-extended.example.com")
        lead = self._receive("khach-moi@crm-extended.example.com", "Hỏi giá máy lọc", "m1")
        self.assertRecordValues(
            lead,
            [
                {
                    "name": "Hỏi giá máy lọc",
                    "team_id": self.team.id,
                    "lead_source_id": self.source_email.id,
                    "source_id": self.utm_zalo.id,
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertEqual(lead.tag_ids, self.tag_web)
        self.assertEqual(self.source_email.lead_count, 1)

    def test_other_team_alias_has_no_source(self):
        lead = self._receive("du-an@crm-extended.example.com", "Dự án nhà xưởng", "m2")
        self.assertEqual(lead.team_id, self.team_other)
        self.assertFalse(lead.lead_source_id)
        self.assertFalse(lead.tag_ids)

    def test_archived_source_is_not_used(self):
        self.source_email.active = False
        lead = self._receive("khach-moi@crm-extended.example.com", "Hỏi giá", "m3")
        self.assertEqual(lead.team_id, self.team)
        self.assertFalse(lead.lead_source_id)

    def test_one_email_source_per_team(self):
        """An email source needs a team, and a team carries one email source."""
        Source = self.env["crm.lead.source"]
        with self.assertRaises(ValidationError):
            Source.create({"name": "Không có đội", "kind": "email"})
        with self.assertRaises(ValidationError):
            Source.create({"name": "Trùng đội", "kind": "email", "team_id": self.team.id})
        # a webhook of the same team is not an email source
        Source.create({"name": "Form", "kind": "webhook", "team_id": self.team.id})
