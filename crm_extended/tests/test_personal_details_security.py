import json
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tools.discuss import Store

from .common import CrmExtendedCommon

BIRTHDATE = date(1985, 6, 12)

# every personal field of res.partner, all restricted to crm_extended.group_personal_details
PERSONAL_FIELDS = (
    "birthdate_date",
    "age",
    "birthday_key",
    "family_member_ids",
    "hobby_ids",
    "important_date_ids",
    "preferred_channel",
    "preferred_day_part",
    "preferred_contact_time",
    "marketing_consent",
    "marketing_consent_date",
    "marketing_consent_source",
    "do_not_contact",
    "do_not_contact_reason",
)
PERSONAL_MODELS = (
    "res.partner.family.member",
    "res.partner.hobby",
    "res.partner.important.date",
    "res.partner.upcoming.date",
)


class PersonalDetailsSecurityCommon(CrmExtendedCommon):
    """contact_vn with every personal detail filled in (as the superuser).

    Fixtures, on top of the common ones:
        hobby          a hobby of contact_vn
        member         contact_vn's spouse
        wedding        contact_vn's wedding anniversary
        upcoming       contact_vn's birthday row in the upcoming-dates view
    user_salesman and user_privacy get the rights every internal user gets from Odoo's default
    user template ("Contact Creation", export), so only the personal-details group tells them
    apart.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        default_rights = cls.env.ref("base.group_partner_manager") | cls.env.ref(
            "base.group_allow_export"
        )
        (cls.user_salesman | cls.user_privacy).write(
            {"groups_id": [Command.link(group.id) for group in default_rights]}
        )
        cls.hobby = cls.env["res.partner.hobby"].create({"name": "Thưởng trà sen Tây Hồ"})
        cls.contact_vn.write(
            {
                "birthdate_date": BIRTHDATE,
                "hobby_ids": [Command.link(cls.hobby.id)],
                "preferred_channel": "phone",
                "preferred_day_part": "morning",
                "preferred_contact_time": "Sau 16 giờ",
                "marketing_consent": True,
                "marketing_consent_date": date(2024, 1, 15),
                "marketing_consent_source": "Phiếu đăng ký tại hội chợ",
                "do_not_contact": False,
                "family_member_ids": [
                    Command.create(
                        {
                            "relation": "spouse",
                            "name": "Trần Thị Hoa",
                            "birthdate": date(1987, 3, 8),
                        }
                    )
                ],
                "important_date_ids": [
                    Command.create({"kind": "wedding", "date": date(2010, 10, 20)})
                ],
            }
        )
        cls.member = cls.contact_vn.family_member_ids
        cls.wedding = cls.contact_vn.important_date_ids
        cls.env.flush_all()
        cls.upcoming = cls.env["res.partner.upcoming.date"].search(
            [("partner_id", "=", cls.contact_vn.id), ("kind", "=", "birthday")]
        )


@tagged("post_install", "-at_install")
class TestPersonalDetailsSecurity(PersonalDetailsSecurityCommon):
    """Users outside the personal-details group reach no personal detail through the ORM."""

    def test_fixtures(self):
        self.assertEqual(len(self.upcoming), 1, "contact_vn's birthday is in the upcoming dates")
        self.assertFalse(self.user_salesman.has_group("crm_extended.group_personal_details"))
        self.assertTrue(self.user_privacy.has_group("crm_extended.group_personal_details"))
        self.assertTrue(self.contact_vn.with_user(self.user_salesman).has_access("write"))

    def test_salesman_cannot_read_personal_fields(self):
        partner = self.contact_vn.with_user(self.user_salesman)
        self.assertEqual(partner.read(["name"])[0]["name"], "Nguyễn Văn Đức")
        for fname in PERSONAL_FIELDS:
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    partner.read([fname])
                partner.invalidate_recordset()
                with self.assertRaises(AccessError):
                    getattr(partner, fname)
        self.assertEqual(
            self.contact_vn.with_user(self.user_privacy).read(["birthdate_date"])[0][
                "birthdate_date"
            ],
            BIRTHDATE,
            "the personal-details group reads them",
        )

    def test_salesman_cannot_search_personal_fields(self):
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        domains = [
            [("birthdate_date", "!=", False)],
            [("birthdate_date", "<", "2000-01-01")],
            [("birthday_key", "=", "06-12")],
            [("do_not_contact", "=", True)],
            [("marketing_consent", "=", True)],
            [("hobby_ids.name", "ilike", "trà")],
            [("hobby_ids", "ilike", "trà")],
            [("family_member_ids.name", "ilike", "Hoa")],
            [("family_member_ids", "any", [("relation", "=", "spouse")])],
            [("important_date_ids.kind", "=", "wedding")],
        ]
        for domain in domains:
            with self.subTest(domain=domain):
                with self.assertRaises(AccessError):
                    Partner.search(domain)
                with self.assertRaises(AccessError):
                    Partner.search_count(domain)
        with self.assertRaises(AccessError):
            Partner.search([("id", "=", self.contact_vn.id)], order="birthdate_date")
        with self.assertRaises(AccessError):
            Partner._read_group([("id", "=", self.contact_vn.id)], ["birthday_key"], ["__count"])

    def test_salesman_cannot_filter_on_personal_relations(self):
        """Whether a contact has hobbies, family or important dates is personal as well.

        Odoo checks the groups of a one2many/many2many field only when a domain goes through
        the related records (``hobby_ids.name``), not when it compares the field with ids or
        with False: the addon has to refuse those itself.
        """
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        domains = [
            [("hobby_ids", "!=", False)],
            [("hobby_ids", "in", self.hobby.ids)],
            [("family_member_ids", "!=", False)],
            [("family_member_ids", "=", False)],
            [("important_date_ids", "!=", False)],
        ]
        for domain in domains:
            with self.subTest(domain=domain):
                with self.assertRaises(AccessError):
                    Partner.search(domain)

    def test_salesman_cannot_export_personal_fields(self):
        partner = self.contact_vn.with_user(self.user_salesman)
        self.assertEqual(partner.export_data(["name"])["datas"], [["Nguyễn Văn Đức"]])
        for fnames in (["birthdate_date"], ["name", "do_not_contact"], ["family_member_ids/name"]):
            with self.subTest(fields=fnames):
                with self.assertRaises(AccessError):
                    partner.export_data(fnames)

    def test_salesman_cannot_write_personal_fields(self):
        partner = self.contact_vn.with_user(self.user_salesman)
        values = {
            "birthdate_date": date(1990, 1, 1),
            "do_not_contact": True,
            "hobby_ids": [Command.clear()],
            "family_member_ids": [Command.create({"name": "Nguyễn Minh Khang"})],
        }
        for fname, value in values.items():
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    partner.write({fname: value})
        self.contact_vn.invalidate_recordset()
        self.assertRecordValues(
            self.contact_vn,
            [{"birthdate_date": BIRTHDATE, "do_not_contact": False, "hobby_ids": self.hobby.ids}],
        )
        self.assertEqual(self.contact_vn.family_member_ids, self.member)
        # the partner itself stays writable for them
        partner.write({"phone": "+84 912 000 111"})
        self.assertEqual(self.contact_vn.phone, "+84 912 000 111")

    def test_salesman_cannot_create_with_personal_fields(self):
        """Odoo checks the groups of fields on write, not on create: without a check of its
        own, a salesperson could create a contact who "accepts marketing"."""
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        values = {
            "birthdate_date": date(1990, 1, 1),
            "marketing_consent": True,
            "hobby_ids": [Command.link(self.hobby.id)],
            "family_member_ids": [Command.create({"name": "Nguyễn Minh Khang"})],
        }
        for fname, value in values.items():
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    Partner.create({"name": "Lê Văn Tám", fname: value})
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Lê Văn Tám")]))
        self.assertEqual(Partner.create({"name": "Lê Văn Tám"}).name, "Lê Văn Tám")

    def test_personal_fields_absent_from_fields_get(self):
        hidden = set(PERSONAL_FIELDS)
        salesman_fields = self.env["res.partner"].with_user(self.user_salesman).fields_get()
        self.assertIn("name", salesman_fields)
        self.assertFalse(hidden & salesman_fields.keys())
        privacy_fields = self.env["res.partner"].with_user(self.user_privacy).fields_get()
        self.assertLessEqual(hidden, privacy_fields.keys())

    def test_personal_models_not_readable(self):
        records = {
            "res.partner.family.member": self.member,
            "res.partner.hobby": self.hobby,
            "res.partner.important.date": self.wedding,
            "res.partner.upcoming.date": self.upcoming,
        }
        for user in (self.user_salesman, self.user_portal):
            for model in PERSONAL_MODELS:
                with self.subTest(user=user.login, model=model):
                    Model = self.env[model].with_user(user)
                    self.assertFalse(Model.has_access("read"))
                    with self.assertRaises(AccessError):
                        Model.search([("id", "=", records[model].id)])
                    with self.assertRaises(AccessError):
                        Model.browse(records[model].id).read(["display_name"])
        # the personal-details group reads each of them
        for model in PERSONAL_MODELS:
            with self.subTest(user="ce_privacy", model=model):
                found = (
                    self.env[model]
                    .with_user(self.user_privacy)
                    .search([("id", "=", records[model].id)])
                )
                self.assertEqual(found.display_name, records[model].display_name)

    def test_partner_form_as_salesman(self):
        """The contact form opens for a salesperson: no Personal page, no personal field, and
        every field the form asks for is readable."""
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        views = Partner.get_views([(False, "form")])
        arch = views["views"]["form"]["arch"]
        self.assertNotIn("crm_extended_personal", arch)
        form_fields = views["models"]["res.partner"]["fields"]
        self.assertFalse(set(PERSONAL_FIELDS) & form_fields.keys())
        for fname in PERSONAL_FIELDS:
            self.assertNotIn(f'name="{fname}"', arch)

        values = Partner.browse(self.contact_vn.id).web_read({fname: {} for fname in form_fields})
        self.assertEqual(values[0]["name"], "Nguyễn Văn Đức")
        self.assertEqual(values[0]["phone"], "+84 912 345 678")

        privacy_arch = (
            self.env["res.partner"]
            .with_user(self.user_privacy)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn("crm_extended_personal", privacy_arch)

    def test_tracking_visible_to_group_only(self):
        """A tracked change of the birthdate shows in the chatter of the group's members only."""
        # contact_vn was created in this transaction: end it, as if created the day before
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.contact_vn.with_user(self.user_privacy).with_context(
            tracking_disable=False, mail_notrack=False
        ).write({"birthdate_date": date(1985, 6, 21)})
        self.env.flush_all()
        self.env.cr.precommit.run()
        field = self.env["ir.model.fields"]._get("res.partner", "birthdate_date")
        tracking = self.env["mail.tracking.value"].search(
            [
                ("field_id", "=", field.id),
                ("mail_message_id.model", "=", "res.partner"),
                ("mail_message_id.res_id", "=", self.contact_vn.id),
            ]
        )
        self.assertEqual(len(tracking), 1)
        self.assertEqual(tracking.old_value_datetime.date(), BIRTHDATE)
        message = tracking.mail_message_id

        def tracked_fields(user):
            store = Store(message.with_user(user), for_current_user=True).get_result()
            [data] = [row for row in store["mail.message"] if row["id"] == message.id]
            return [
                (value["fieldName"], value["newValue"]["value"]) for value in data["trackingValues"]
            ]

        self.assertEqual(tracked_fields(self.user_privacy), [("birthdate_date", "1985-06-21")])
        self.assertEqual(tracked_fields(self.user_salesman), [], "the message shows, not the value")
        self.assertEqual(
            tracking._filter_has_field_access(self.env(user=self.user_privacy)), tracking
        )
        self.assertFalse(tracking._filter_has_field_access(self.env(user=self.user_salesman)))
        self.assertFalse(tracking._filter_has_field_access(self.env(user=self.user_portal)))
        self.assertFalse(tracking._filter_free_field_access(), "never in notification emails")

    def test_portal_user_no_personal_details(self):
        """The portal user of contact_vn sees none of their own personal details."""
        own = self.contact_vn.with_user(self.user_portal)
        self.assertEqual(own.read(["name"])[0]["name"], "Nguyễn Văn Đức")
        for fname in ("birthdate_date", "hobby_ids", "family_member_ids", "do_not_contact"):
            with self.subTest(field=fname):
                with self.assertRaises(AccessError):
                    own.read([fname])
                with self.assertRaises(AccessError):
                    own.write({fname: False})
        with self.assertRaises(AccessError):
            own.search([("birthdate_date", "!=", False)])
        self.assertFalse(set(PERSONAL_FIELDS) & own.fields_get().keys())


@tagged("post_install", "-at_install")
class TestPersonalDetailsRpc(PersonalDetailsSecurityCommon, HttpCase):
    """The same boundary over JSON-RPC, as the web client (or a script) calls the server."""

    def _call_kw(self, model, method, args, kwargs=None):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def assertAccessError(self, answer):
        self.assertNotIn("result", answer)
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")

    def test_rpc_salesman_refused(self):
        self.authenticate("ce_salesman", "ce_salesman")
        partner_id = self.contact_vn.id
        answer = self._call_kw("res.partner", "read", [[partner_id], ["name"]])
        self.assertEqual(answer["result"], [{"id": partner_id, "name": "Nguyễn Văn Đức"}])

        self.assertAccessError(
            self._call_kw("res.partner", "read", [[partner_id], ["birthdate_date"]])
        )
        self.assertAccessError(
            self._call_kw(
                "res.partner",
                "search_read",
                [],
                {"domain": [("birthdate_date", "!=", False)], "fields": ["name"], "limit": 10},
            )
        )
        self.assertAccessError(
            self._call_kw("res.partner", "export_data", [[partner_id], ["name", "birthdate_date"]])
        )
        self.assertAccessError(
            self._call_kw(
                "res.partner.family.member", "search_read", [], {"fields": ["name"], "limit": 10}
            )
        )

    def test_rpc_privacy_reads(self):
        self.authenticate("ce_privacy", "ce_privacy")
        answer = self._call_kw("res.partner", "read", [[self.contact_vn.id], ["birthdate_date"]])
        self.assertEqual(
            answer["result"], [{"id": self.contact_vn.id, "birthdate_date": "1985-06-12"}]
        )
