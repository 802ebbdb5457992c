from calendar import isleap
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import format_date

from .common import CrmExtendedCommon

PARAM_COURTESY_DAYS = "crm_extended.courtesy_days_before"
TODAY = date(2026, 6, 10)
# 09:00 in Hanoi (UTC+7), the salesperson's time zone, in UTC as stored
NINE_IN_HANOI = (9 - 7, 0)


PERSONAL_VALUES = {
    "preferred_channel": "phone",
    "preferred_day_part": "morning",
    "preferred_contact_time": "Sau 16 giờ, trừ thứ Hai",
    "marketing_consent": True,
    "marketing_consent_date": date(2024, 1, 15),
    "marketing_consent_source": "Phiếu đăng ký tại hội chợ",
}


@tagged("post_install", "-at_install")
class TestPersonalDetails(CrmExtendedCommon):
    """Personal details of contacts: checks, age, courtesy reminders, greetings, forgetting.

    Fixtures, on top of the common ones:
        contact        Phạm Thị Thu, contact person of customer_vn (salesperson user_salesman,
                       in Hanoi's time zone), with an email and no personal detail yet
        tea, chess     two hobbies
    The courtesy-days setting is removed, so the default (3 days) applies. user_privacy gets
    "Contact Creation", as every internal user does from Odoo's default user template.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param(PARAM_COURTESY_DAYS, False)
        cls.user_privacy.groups_id = [Command.link(cls.env.ref("base.group_partner_manager").id)]
        cls.user_salesman.write({"tz": "Asia/Ho_Chi_Minh", "lang": "en_US"})
        cls.customer_vn.user_id = cls.user_salesman
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Phạm Thị Thu",
                "parent_id": cls.customer_vn.id,
                "email": "thu.pham@donga.example.vn",
                "lang": "en_US",
            }
        )
        cls.tea, cls.chess = cls.env["res.partner.hobby"].create(
            [{"name": "Thưởng trà sen Tây Hồ"}, {"name": "Đánh cờ tướng"}]
        )
        cls.Family = cls.env["res.partner.family.member"]
        cls.ImportantDate = cls.env["res.partner.important.date"]
        cls.Log = cls.env["crm.contact.log"]

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    def _fill_details(self, partner, birthdate=date(1985, 6, 12)):
        """Birthdate, hobbies, a spouse and a child, a wedding and consent for ``partner``."""
        partner.write(
            {
                "birthdate_date": birthdate,
                "hobby_ids": [Command.set((self.tea | self.chess).ids)],
                "family_member_ids": [
                    Command.create(
                        {
                            "relation": "spouse",
                            "name": "Trần Văn Bình",
                            "birthdate": date(1983, 2, 1),
                        }
                    ),
                    Command.create(
                        {
                            "relation": "child",
                            "name": "Trần Minh Khang",
                            "birthdate": date(2012, 9, 2),
                        }
                    ),
                ],
                "important_date_ids": [
                    Command.create({"kind": "wedding", "date": date(2010, 10, 20)})
                ],
                **PERSONAL_VALUES,
            }
        )

    def _run_courtesy(self, today, partners=None):
        """Run the courtesy job on ``today``; return what it did for ``partners`` only (the
        database may hold other contacts with a birthday on these days)."""
        partners = partners or self.contact
        logs, skipped = self.env["res.partner"]._cron_courtesy_reminders(today=today)
        skipped = {reason: found & partners for reason, found in skipped.items()}
        return (
            logs.filtered(lambda log: log.partner_id in partners),
            {reason: found for reason, found in skipped.items() if found},
        )

    def _day(self, value):
        """``value`` as the salesperson (English) reads it in a reminder's subject."""
        return format_date(self.env, value, lang_code="en_US")

    def _courtesy_logs(self, partner):
        return self.Log.search([("partner_id", "=", partner.id), ("courtesy_key", "!=", False)])

    def _queued_mails(self, partner):
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @freeze_time(TODAY)
    def test_birthdate_in_future_refused(self):
        partner = self.contact.with_user(self.user_privacy)
        with self.assertRaises(ValidationError) as caught:
            partner.write({"birthdate_date": TODAY + timedelta(days=1)})
        self.assertEqual(str(caught.exception), "The birthdate of Phạm Thị Thu is in the future.")
        partner.invalidate_recordset()
        self.assertFalse(partner.birthdate_date)

        partner.write({"birthdate_date": TODAY})
        self.assertEqual(partner.birthdate_date, TODAY, "born today is fine")

    def test_child_born_before_contact_refused(self):
        self.contact.birthdate_date = date(1985, 6, 12)
        Family = self.Family.with_user(self.user_privacy)
        for born in (date(1985, 6, 12), date(1980, 1, 1)):
            with self.subTest(born=born):
                with self.assertRaises(ValidationError) as caught:
                    Family.create(
                        {
                            "partner_id": self.contact.id,
                            "relation": "child",
                            "name": "Trần Minh Khang",
                            "birthdate": born,
                        }
                    )
                self.assertEqual(
                    str(caught.exception),
                    "Trần Minh Khang cannot be born before their parent Phạm Thị Thu.",
                )
        self.assertFalse(self.contact.family_member_ids)

        child = Family.create(
            {
                "partner_id": self.contact.id,
                "relation": "child",
                "name": "Trần Minh Khang",
                "birthdate": date(1985, 6, 13),
            }
        )
        self.assertEqual(self.contact.family_member_ids, child)

    def test_parent_born_after_contact_refused(self):
        self.contact.birthdate_date = date(1985, 6, 12)
        partner = self.contact.with_user(self.user_privacy)
        for born in (date(1985, 6, 12), date(1990, 1, 1)):
            with self.subTest(born=born):
                with self.assertRaises(ValidationError) as caught:
                    partner.write(
                        {
                            "family_member_ids": [
                                Command.create(
                                    {
                                        "relation": "parent",
                                        "name": "Phạm Văn Hùng",
                                        "birthdate": born,
                                    }
                                )
                            ]
                        }
                    )
                self.assertEqual(
                    str(caught.exception),
                    "Phạm Văn Hùng cannot be born after their child Phạm Thị Thu.",
                )
        self.assertFalse(self.contact.family_member_ids)

        partner.write(
            {
                "family_member_ids": [
                    Command.create(
                        {
                            "relation": "parent",
                            "name": "Phạm Văn Hùng",
                            "birthdate": date(1958, 3, 1),
                        }
                    )
                ]
            }
        )
        self.assertEqual(self.contact.family_member_ids.name, "Phạm Văn Hùng")

    def test_family_member_needs_name(self):
        Family = self.Family.with_user(self.user_privacy)
        for name in ("", "   "):
            with self.subTest(name=name):
                with self.assertRaises(ValidationError) as caught:
                    Family.create({"partner_id": self.contact.id, "name": name})
                self.assertEqual(str(caught.exception), "Give the family member a name.")
        member = Family.create({"partner_id": self.contact.id, "name": "Trần Văn Bình"})
        with self.assertRaises(ValidationError):
            member.name = " "
        self.assertEqual(self.contact.family_member_ids.name, "Trần Văn Bình")

    @freeze_time(TODAY)
    def test_family_member_born_in_future_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.Family.with_user(self.user_privacy).create(
                {
                    "partner_id": self.contact.id,
                    "relation": "child",
                    "name": "Trần Minh An",
                    "birthdate": TODAY + timedelta(days=1),
                }
            )
        self.assertEqual(str(caught.exception), "The birth date of Trần Minh An is in the future.")
        self.assertFalse(self.contact.family_member_ids)

    @freeze_time(TODAY)
    def test_wedding_in_future_refused(self):
        ImportantDate = self.ImportantDate.with_user(self.user_privacy)
        with self.assertRaises(ValidationError) as caught:
            ImportantDate.create(
                {"partner_id": self.contact.id, "kind": "wedding", "date": date(2026, 6, 11)}
            )
        self.assertEqual(str(caught.exception), "“Wedding anniversary” cannot be in the future.")
        self.assertFalse(self.contact.important_date_ids)

        # a day whose year is unknown, or a future event of another kind, is accepted
        dates = ImportantDate.create(
            [
                {
                    "partner_id": self.contact.id,
                    "kind": "wedding",
                    "date": date(2026, 10, 20),
                    "year_known": False,
                },
                {
                    "partner_id": self.contact.id,
                    "kind": "custom",
                    "name": "Khai trương chi nhánh Đà Nẵng",
                    "date": date(2026, 9, 1),
                },
            ]
        )
        self.assertEqual(self.contact.important_date_ids, dates)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @freeze_time(TODAY)
    def test_age_and_birthday_key(self):
        partner = self.contact.with_user(self.user_privacy)
        self.assertEqual((partner.age, partner.birthday_key), (0, False))
        cases = [
            (date(1985, 6, 9), 41, "06-09"),  # birthday yesterday
            (date(1985, 6, 10), 41, "06-10"),  # today
            (date(1985, 6, 11), 40, "06-11"),  # tomorrow
            (date(2000, 2, 29), 26, "02-29"),
        ]
        for birthdate, age, key in cases:
            with self.subTest(birthdate=birthdate):
                partner.birthdate_date = birthdate
                self.assertEqual((partner.age, partner.birthday_key), (age, key))
        partner.birthdate_date = False
        self.assertEqual((partner.age, partner.birthday_key), (0, False))

    # ------------------------------------------------------------
    # COURTESY REMINDERS
    # ------------------------------------------------------------

    def test_courtesy_birthday_reminder(self):
        """A birthday in 2 days: one planned phone call for the customer's salesperson, at
        09:00 in their time zone on the day, with what helps the call; once only."""
        self._fill_details(self.contact, birthdate=date(1985, 6, 12))
        logs, skipped = self._run_courtesy(TODAY)
        self.assertEqual(len(logs), 1)
        self.assertFalse(skipped)
        self.assertRecordValues(
            logs,
            [
                {
                    "name": f"Birthday of Phạm Thị Thu (41) on {self._day(date(2026, 6, 12))}",
                    "partner_id": self.contact.id,
                    "user_id": self.user_salesman.id,
                    "channel": "phone",
                    "direction": "outbound",
                    "state": "planned",
                    "planned_date": datetime(2026, 6, 12, *NINE_IN_HANOI),
                    "courtesy_key": f"birthday:{self.contact.id}:2026-06-12",
                    "category_ids": self.env.ref(
                        "crm_extended.crm_contact_log_category_courtesy"
                    ).ids,
                }
            ],
        )
        for text in (
            "Birthday of Phạm Thị Thu (41)",
            "Spouse: Trần Văn Bình",
            "Child: Trần Minh Khang",
            "Hobbies: ",
            "Thưởng trà sen Tây Hồ",
            "Đánh cờ tướng",
        ):
            self.assertIn(text, logs.content)
        # it is on the salesperson's to-do list for the day, and theirs to see
        self.assertEqual(logs.planned_activity_id.user_id, self.user_salesman)
        self.assertEqual(logs.planned_activity_id.date_deadline, date(2026, 6, 12))
        self.assertEqual(logs.with_user(self.user_salesman).read(["name"])[0]["id"], logs.id)

        # run again the same day and the next one: nothing more
        for today in (TODAY, TODAY + timedelta(days=1)):
            again, skipped = self._run_courtesy(today)
            self.assertFalse(again)
            self.assertFalse(skipped)
        self.assertEqual(self._courtesy_logs(self.contact), logs)

    def test_courtesy_contact_salesperson_first(self):
        """The contact's own salesperson is preferred to their company's."""
        self.contact.write(
            {"birthdate_date": date(1985, 6, 12), "user_id": self.user_sale_manager.id}
        )
        logs, __ = self._run_courtesy(TODAY)
        self.assertEqual(logs.user_id, self.user_sale_manager)

    def test_courtesy_skips_do_not_contact(self):
        """Contacts who asked not to be contacted (or whose company did) are skipped, and the
        job says so."""
        colleague = self.env["res.partner"].create(
            {
                "name": "Đặng Quốc Bảo",
                "parent_id": self.customer_vn.id,
                "birthdate_date": date(1979, 6, 13),
            }
        )
        partners = self.contact | colleague
        self.contact.write(
            {
                "birthdate_date": date(1985, 6, 12),
                "do_not_contact": True,
                "do_not_contact_reason": "Không muốn nhận cuộc gọi",
            }
        )
        logs, skipped = self._run_courtesy(TODAY, partners)
        self.assertEqual(logs.partner_id, colleague)
        self.assertEqual(skipped, {"do_not_contact": self.contact})

        self.customer_vn.do_not_contact = True
        colleague.important_date_ids = [
            Command.create({"kind": "customer_since", "date": date(2015, 6, 11)})
        ]
        logs, skipped = self._run_courtesy(TODAY, partners)
        self.assertFalse(logs)
        self.assertEqual(skipped, {"do_not_contact": partners})
        self.assertFalse(self._courtesy_logs(self.contact))

    def test_courtesy_no_salesperson(self):
        contact_en = self.env["res.partner"].create(
            {
                "name": "Olivia Tan",
                "parent_id": self.customer_en.id,
                "birthdate_date": date(1990, 6, 11),
            }
        )
        self.assertFalse(contact_en.user_id or self.customer_en.user_id)
        logs, skipped = self._run_courtesy(TODAY, contact_en)
        self.assertFalse(logs)
        self.assertEqual(skipped, {"no_salesperson": contact_en})
        self.assertFalse(self._courtesy_logs(contact_en))

    def test_courtesy_across_year_end(self):
        self.contact.birthdate_date = date(1990, 1, 1)
        logs, __ = self._run_courtesy(date(2026, 12, 30))
        self.assertRecordValues(
            logs,
            [
                {
                    "name": f"Birthday of Phạm Thị Thu (37) on {self._day(date(2027, 1, 1))}",
                    "planned_date": datetime(2027, 1, 1, *NINE_IN_HANOI),
                    "courtesy_key": f"birthday:{self.contact.id}:2027-01-01",
                }
            ],
        )

    def test_courtesy_29_february(self):
        """29 February is celebrated on 28 February in other years."""
        self.contact.birthdate_date = date(2000, 2, 29)
        logs, __ = self._run_courtesy(date(2027, 2, 26))
        self.assertRecordValues(
            logs,
            [
                {
                    "name": f"Birthday of Phạm Thị Thu (27) on {self._day(date(2027, 2, 28))}",
                    "planned_date": datetime(2027, 2, 28, *NINE_IN_HANOI),
                }
            ],
        )
        self.assertFalse(self._run_courtesy(date(2027, 2, 28))[0], "not twice in 2027")

        logs, __ = self._run_courtesy(date(2028, 2, 26))
        self.assertRecordValues(
            logs,
            [
                {
                    "name": f"Birthday of Phạm Thị Thu (28) on {self._day(date(2028, 2, 29))}",
                    "planned_date": datetime(2028, 2, 29, *NINE_IN_HANOI),
                }
            ],
        )
        self.assertEqual(len(self._courtesy_logs(self.contact)), 2)

    @freeze_time(TODAY)
    def test_courtesy_important_dates(self):
        self.contact.birthdate_date = date(1985, 1, 5)
        self.contact.family_member_ids = [
            Command.create(
                {"relation": "child", "name": "Trần Minh Khang", "birthdate": date(2012, 6, 11)}
            )
        ]
        child = self.contact.family_member_ids
        wedding, child_birthday, remembrance = self.ImportantDate.create(
            [
                {"partner_id": self.contact.id, "kind": "wedding", "date": date(2010, 6, 12)},
                {
                    "partner_id": self.contact.id,
                    "kind": "family_birthday",
                    "family_member_id": child.id,
                    "date": date(2012, 6, 11),
                },
                {
                    "partner_id": self.contact.id,
                    "kind": "custom",
                    "name": "Ngày giỗ cha",
                    "date": date(1999, 6, 13),
                    "year_known": False,
                },
            ]
        )
        self.assertEqual(child_birthday.name, "Birthday of Trần Minh Khang")

        logs, __ = self._run_courtesy(TODAY)
        on_11, on_12, on_13 = (self._day(date(2026, 6, n)) for n in (11, 12, 13))
        self.assertRecordValues(
            logs.sorted("planned_date"),
            [
                {
                    "name": f"Birthday of Trần Minh Khang (family of Phạm Thị Thu) on {on_11}",
                    "planned_date": datetime(2026, 6, 11, *NINE_IN_HANOI),
                    "courtesy_key": f"date:{child_birthday.id}:2026-06-11",
                },
                {
                    "name": f"Wedding anniversary (16 years) of Phạm Thị Thu on {on_12}",
                    "planned_date": datetime(2026, 6, 12, *NINE_IN_HANOI),
                    "courtesy_key": f"date:{wedding.id}:2026-06-12",
                },
                {
                    "name": f"Ngày giỗ cha of Phạm Thị Thu on {on_13}",
                    "planned_date": datetime(2026, 6, 13, *NINE_IN_HANOI),
                    "courtesy_key": f"date:{remembrance.id}:2026-06-13",
                },
            ],
        )
        for log in logs:
            self.assertIn("Age: 41", log.content)
            self.assertIn("Child: Trần Minh Khang", log.content)
        self.assertFalse(self._run_courtesy(TODAY)[0], "once per occasion and year")

    def test_courtesy_days_setting(self):
        self.contact.birthdate_date = date(1985, 6, 16)  # in 6 days
        self.assertFalse(self._run_courtesy(TODAY)[0], "3 days ahead by default")

        self.env["res.config.settings"].create({"crm_extended_courtesy_days": 7}).execute()
        self.assertEqual(self.env["ir.config_parameter"].get_param(PARAM_COURTESY_DAYS), "7")
        logs, __ = self._run_courtesy(TODAY)
        self.assertEqual(logs.planned_date, datetime(2026, 6, 16, *NINE_IN_HANOI))

        with self.assertRaises(ValidationError) as caught:
            self.env["res.config.settings"].create({"crm_extended_courtesy_days": -1})
        self.assertEqual(str(caught.exception), "Delays and numbers of days cannot be negative.")
        self.assertEqual(self.env["ir.config_parameter"].get_param(PARAM_COURTESY_DAYS), "7")

    # ------------------------------------------------------------
    # FORGET
    # ------------------------------------------------------------

    def test_forget_personal_details(self):
        partner = self.contact
        self._fill_details(partner, birthdate=date(1985, 6, 12))
        reminder, __ = self._run_courtesy(TODAY)
        self.assertIn("Trần Văn Bình", reminder.content)
        members, dates = partner.family_member_ids, partner.important_date_ids
        # the contact was created and filled in earlier: now a tracked change
        self.env.flush_all()
        self.env.cr.precommit.run()
        partner.with_user(self.user_privacy).with_context(
            tracking_disable=False, mail_notrack=False
        ).write(
            {
                "birthdate_date": date(1985, 6, 21),
                "hobby_ids": [Command.unlink(self.chess.id)],
                "preferred_contact_time": "Buổi sáng",
                "do_not_contact": True,
                "do_not_contact_reason": "Đang điều trị bệnh",
            }
        )
        self.env.flush_all()
        self.env.cr.precommit.run()
        trackings = partner.message_ids.tracking_value_ids
        self.assertGreaterEqual(
            set(trackings.field_id.mapped("name")),
            {"birthdate_date", "hobby_ids", "do_not_contact", "do_not_contact_reason"},
        )

        self.assertTrue(partner.with_user(self.user_privacy).action_forget_personal_details())

        partner.invalidate_recordset()
        self.assertRecordValues(
            partner,
            [
                {
                    "birthdate_date": False,
                    "age": 0,
                    "birthday_key": False,
                    "hobby_ids": [],
                    "family_member_ids": [],
                    "important_date_ids": [],
                    "preferred_channel": False,
                    "preferred_day_part": False,
                    "preferred_contact_time": False,
                    "marketing_consent": False,
                    "marketing_consent_date": False,
                    "marketing_consent_source": False,
                    # the wish not to be contacted is kept, not why
                    "do_not_contact": True,
                    "do_not_contact_reason": False,
                }
            ],
        )
        self.assertFalse(members.exists())
        self.assertFalse(dates.exists())
        self.assertEqual(len((self.tea | self.chess).exists()), 2, "hobbies stay for others")
        self.assertFalse(partner.message_ids.tracking_value_ids)
        self.assertFalse(reminder.content)
        self.assertEqual(reminder.name, "Courtesy call", "the subject named the birthday")

        erased = ("1985", "06/12", "06/21", "Trà", "trà", "cờ", "Bình", "Khang", "điều trị")
        note = partner.message_ids.filtered(lambda message: "erased" in (message.body or ""))
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.user_privacy.partner_id)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertIn("Personal details erased by Đỗ Hải Yến.", note.body)
        for message in partner.message_ids:
            for value in erased:
                self.assertNotIn(value, message.body or "")

    def test_forget_refused_without_group(self):
        self._fill_details(self.contact)
        with self.assertRaises(ValidationError) as caught:
            self.contact.with_user(self.user_salesman).action_forget_personal_details()
        self.assertEqual(
            str(caught.exception), "Only users allowed to see personal details may erase them."
        )
        self.contact.invalidate_recordset()
        self.assertEqual(self.contact.birthdate_date, date(1985, 6, 12))
        self.assertEqual(len(self.contact.family_member_ids), 2)

    # ------------------------------------------------------------
    # GREETINGS
    # ------------------------------------------------------------

    def test_send_greeting(self):
        self.contact.birthdate_date = date(1985, 6, 12)
        reminder, __ = self._run_courtesy(TODAY)
        self.assertTrue(reminder.with_user(self.user_salesman).action_send_greeting())

        mail = self._queued_mails(self.contact)
        self.assertEqual(len(mail), 1)
        self.assertRecordValues(
            mail,
            [
                {
                    "subject": "Happy birthday, Phạm Thị Thu!",
                    "state": "outgoing",
                    "recipient_ids": self.contact.ids,
                    "email_from": '"Nguyễn Thị Lan" <ce_salesman@example.com>',
                }
            ],
        )
        self.assertIn("Dear Phạm Thị Thu", mail.body_html)
        self.assertIn("On your birthday", mail.body_html)
        self.assertIn("Nguyễn Thị Lan", mail.body_html)
        self.assertRecordValues(
            reminder,
            [{"channel": "email", "state": "done", "duration": 0.0}],
        )
        self.assertTrue(reminder.date)
        self.assertIn("Greeting sent to thu.pham@donga.example.vn.", reminder.message_ids[0].body)

    def test_greeting_needs_email(self):
        self.contact.birthdate_date = date(1985, 6, 12)
        reminder, __ = self._run_courtesy(TODAY)
        self.contact.email = False
        with self.assertRaises(UserError) as caught:
            reminder.with_user(self.user_salesman).action_send_greeting()
        self.assertEqual(
            str(caught.exception), "Phạm Thị Thu has no email address: add one, or call them."
        )
        self.assertFalse(self._queued_mails(self.contact))
        self.assertRecordValues(reminder, [{"state": "planned", "channel": "phone"}])

    def test_greeting_refused_do_not_contact(self):
        self.contact.birthdate_date = date(1985, 6, 12)
        reminder, __ = self._run_courtesy(TODAY)
        self.contact.do_not_contact = True
        with self.assertRaises(UserError) as caught:
            reminder.with_user(self.user_salesman).action_send_greeting()
        self.assertEqual(
            str(caught.exception), "Phạm Thị Thu asked not to be contacted: no greeting is sent."
        )
        self.assertFalse(self._queued_mails(self.contact))
        self.assertRecordValues(reminder, [{"state": "planned", "channel": "phone"}])

    def test_greeting_only_for_birthdays(self):
        """A wedding anniversary reminder does not send a birthday greeting."""
        self.ImportantDate.create(
            {"partner_id": self.contact.id, "kind": "wedding", "date": date(2010, 6, 12)}
        )
        reminder, __ = self._run_courtesy(TODAY)
        self.assertFalse(reminder.is_birthday_reminder)
        with self.assertRaises(UserError):
            reminder.with_user(self.user_salesman).action_send_greeting()
        self.assertFalse(self._queued_mails(self.contact))

    def test_contact_birthdate_after_child(self):
        """Setting the contact's birthdate after a child's is refused too."""
        self.Family.create(
            {
                "partner_id": self.contact.id,
                "relation": "child",
                "name": "Bé Na",
                "birthdate": date(2010, 1, 1),
            }
        )
        with self.assertRaises(ValidationError):
            self.contact.birthdate_date = date(2015, 1, 1)

    def test_salesman_duplicates_contact(self):
        """Duplicating a contact works for a user without the group, and copies nothing
        personal."""
        self._fill_details(self.contact)
        copy = self.contact.with_user(self.user_salesman).copy()
        self.assertFalse(copy.sudo().birthdate_date)
        self.assertFalse(copy.sudo().hobby_ids)
        self.assertFalse(copy.sudo().family_member_ids)

    def test_family_of_other_company_hidden(self):
        other = self.env["res.company"].create({"name": "Chi nhánh Cần Thơ"})
        stranger = self.env["res.partner"].create({"name": "Khách Cần Thơ", "company_id": other.id})
        member = self.Family.create(
            {"partner_id": stranger.id, "relation": "spouse", "name": "Lý Thị Sen"}
        )
        found = self.Family.with_user(self.user_privacy).search([("id", "=", member.id)])
        self.assertFalse(found)

    # ------------------------------------------------------------
    # UPCOMING DATES
    # ------------------------------------------------------------

    def test_upcoming_dates(self):
        """The view computes with PostgreSQL's CURRENT_DATE, which freeze_time cannot move:
        the expected values follow the real date."""
        today = fields.Date.today()
        thirty_years = relativedelta(years=30)
        yesterday = today - timedelta(days=1)
        tomorrow = today + timedelta(days=1)
        next_leap_day = next(
            day
            for day in (
                date(year, 2, 29 if isleap(year) else 28) for year in range(today.year, 2100)
            )
            if day >= today
        )
        cases = {
            "Hôm nay": (today - thirty_years, today, 0, 30),
            "Ngày mai": (tomorrow - thirty_years, tomorrow, 1, 30),
            "Hôm qua": (
                yesterday - thirty_years,
                yesterday + relativedelta(years=1),
                (yesterday + relativedelta(years=1) - today).days,
                31,
            ),
            "Nhuận": (
                date(2000, 2, 29),
                next_leap_day,
                (next_leap_day - today).days,
                next_leap_day.year - 2000,
            ),
        }
        partners = self.env["res.partner"].create(
            [
                {"name": name, "parent_id": self.customer_vn.id, "birthdate_date": born}
                for name, (born, *__) in cases.items()
            ]
        )
        self.ImportantDate.create(
            {
                "partner_id": partners[0].id,
                "kind": "wedding",
                "date": today - relativedelta(years=10),
            }
        )
        self.env.flush_all()

        rows = (
            self.env["res.partner.upcoming.date"]
            .with_user(self.user_privacy)
            .search([("partner_id", "in", partners.ids)])
        )
        birthdays = {row.partner_id.name: row for row in rows if row.kind == "birthday"}
        for name, (born, next_date, days_left, years) in cases.items():
            with self.subTest(name=name):
                self.assertRecordValues(
                    birthdays[name],
                    [
                        {
                            "date": born,
                            "next_date": next_date,
                            "days_left": days_left,
                            "years": years,
                            "label": name,
                            "user_id": self.user_salesman.id,
                            "commercial_partner_id": self.customer_vn.id,
                        }
                    ],
                )
        wedding = rows.filtered(lambda row: row.kind == "wedding")
        self.assertRecordValues(
            wedding,
            [
                {
                    "partner_id": partners[0].id,
                    "next_date": today,
                    "days_left": 0,
                    "years": 10,
                    "label": False,
                }
            ],
        )
