from datetime import date, datetime, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged
from odoo.tools import SQL

from ..models.res_partner_support import phone_search_key, phone_search_key_sql
from .common import CrmExtendedCommon

TODAY = date(2025, 6, 16)
NOW = datetime(2025, 6, 16, 9, 0, 0)
PHONE = "+84 916 482 735"


@tagged("post_install", "-at_install")
class SupportOperatorCommon(CrmExtendedCommon):
    """The Vietnamese customer's history, as the operator screen shows it.

    ``customer_vn`` (contact person ``contact_vn``, "+84 916 482 735") bought a water filter
    twice (24 months of warranty), replacement cartridges (6 months) and an ice maker
    (12 months); it has three open tickets (two in the care officer's team, one in another
    team), a solved one, confirmed orders and a quotation, posted invoices in every payment
    state, and six held contacts. ``customer_en`` has a small history of each kind.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Operator = cls.env["crm.support.operator"]
        # a number and an address of their own: the demo data and the portal user of the
        # common fixtures use the fixtures' ones
        cls.contact_vn.write({"phone": PHONE, "email": "duc.nguyen@donga.example.vn"})
        cls.team = cls.env["crm.support.team"].create(
            {"name": "Hỗ trợ kỹ thuật", "member_ids": [Command.link(cls.user_care.id)]}
        )
        cls.other_team = cls.env["crm.support.team"].create({"name": "Key Accounts"})
        cls.stage_solved = cls.env["crm.support.stage"].search([("is_closed", "=", True)], limit=1)

        cls.filter_ro = cls._create_product("Máy lọc nước RO Sao Mai S7", warranty_months=24)
        cls.cartridge = cls._create_product("Lõi lọc thay thế", 350_000.0, warranty_months=6)
        cls.ice_maker = cls._create_product("Máy làm đá", 9_800_000.0, warranty_months=12)

    def _count_queries(self, function, *args):
        self.env.invalidate_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        function(*args)
        return self.env.cr.sql_log_count - before

    @classmethod
    def _invoice(cls, partner, day, products_qty, post=True, move_type="out_invoice"):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_date_due": day + timedelta(days=30),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": qty,
                            "price_unit": product.list_price,
                        }
                    )
                    for product, qty in products_qty
                ],
            }
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoice, amount=None):
        values = {"amount": amount} if amount else {}
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create(values)._create_payments()

    @classmethod
    def _order(cls, partner, products_qty, confirm=True):
        order = cls.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": cls._command_lines(products_qty)}
        )
        if confirm:
            order.action_confirm()
        return order

    @classmethod
    def _ticket(cls, partner, name, team=None, **values):
        return cls.env["crm.support.ticket"].create(
            {
                "name": name,
                "partner_id": partner.id,
                "team_id": (team or cls.team).id,
                **values,
            }
        )

    @classmethod
    def _logs(cls, partner, count, start=NOW):
        return cls.env["crm.contact.log"].create(
            [
                {
                    "name": f"Cuộc gọi {i}",
                    "partner_id": partner.id,
                    "state": "done",
                    "date": start - timedelta(days=i),
                    "channel": "phone",
                    "user_id": cls.user_salesman.id,
                }
                for i in range(count)
            ]
        )

    @classmethod
    def _build_history(cls):
        vn, contact = cls.customer_vn, cls.contact_vn
        cls.invoice_old = cls._invoice(
            contact, date(2024, 3, 1), [(cls.filter_ro, 1), (cls.ice_maker, 1)]
        )
        cls.invoice_cartridge = cls._invoice(vn, date(2024, 6, 1), [(cls.cartridge, 4)])
        cls.invoice_new = cls._invoice(contact, date(2025, 1, 10), [(cls.filter_ro, 1)])
        # neither a draft invoice nor a credit note moves the purchase date
        cls._invoice(contact, date(2025, 5, 1), [(cls.ice_maker, 1)], post=False)
        cls._invoice(vn, date(2025, 5, 2), [(cls.ice_maker, 1)], move_type="out_refund")
        # another customer's purchase does not count either
        cls._invoice(cls.customer_en, date(2025, 5, 3), [(cls.cartridge, 1)])
        cls._pay(cls.invoice_old)
        cls._pay(cls.invoice_cartridge, amount=cls.invoice_cartridge.amount_total / 2)

        cls.order_1 = cls._order(contact, [(cls.filter_ro, 1)])
        cls.order_2 = cls._order(vn, [(cls.cartridge, 2)])
        cls.quotation = cls._order(vn, [(cls.ice_maker, 1)], confirm=False)

        cls.ticket_leak = cls._ticket(contact, "Máy lọc nước rò rỉ", priority="3")
        cls.ticket_noise = cls._ticket(vn, "Máy làm đá kêu to")
        cls.ticket_other_team = cls._ticket(contact, "Xin hóa đơn đỏ", team=cls.other_team)
        cls.ticket_solved = cls._ticket(contact, "Hướng dẫn thay lõi lọc")
        cls.ticket_solved.stage_id = cls.stage_solved
        cls.logs = cls._logs(contact, 6)


@tagged("post_install", "-at_install")
class TestSupportOperatorSearch(SupportOperatorCommon):
    def _search(self, query, user=None):
        return self.Operator.with_user(user or self.user_care).search_callers(query)

    def _found(self, query, user=None):
        return [(c["partner_id"], c["match"]) for c in self._search(query, user)]

    def test_search_phone_any_format(self):
        """The contact's "+84 916 482 735" is found however the operator types it."""
        for query in ("0916 482 735", "+84916482735", "916-482-735", "(091) 648.2735"):
            candidates = self._search(query)
            self.assertEqual(len(candidates), 1, query)
            self.assertEqual(
                candidates[0],
                {
                    "partner_id": self.contact_vn.id,
                    "name": "Nguyễn Văn Đức",
                    "function": "",
                    "phone": PHONE,
                    "mobile": "",
                    "email": "duc.nguyen@donga.example.vn",
                    "city": "Hà Nội",
                    "customer_id": self.customer_vn.id,
                    "customer_name": "Công ty TNHH Thương mại Đông Á",
                    "is_customer": False,
                    "match": "phone",
                    "match_label": "Phone",
                    "match_value": PHONE,
                },
                query,
            )

    def test_search_phone_mobile_and_end_of_number(self):
        """Mobiles are found too, and so is a number by its last six digits or more."""
        self.customer_en.mobile = "+65 8765 1239"
        self.assertEqual(self._found("8765 1239"), [(self.customer_en.id, "mobile")])
        self.assertEqual(self._found("482 735"), [(self.contact_vn.id, "phone")])
        self.assertEqual(self._found("024 3825 1234"), [(self.customer_vn.id, "phone")])
        self.assertEqual(self._found("5678"), [], "four digits are too few to identify anyone")
        self.assertEqual(self._found("0999 999 999"), [])

    def test_search_keys_follow_numbers(self):
        """The stored search keys are the last nine digits, updated with the number."""
        self.assertEqual(self.contact_vn.phone_search_key, "916482735")
        self.assertFalse(self.contact_vn.mobile_search_key)
        self.contact_vn.write({"phone": False, "mobile": "0977.246.813"})
        self.assertFalse(self.contact_vn.phone_search_key)
        self.assertEqual(self.contact_vn.mobile_search_key, "977246813")
        self.assertEqual(self._found("+84 977 246 813"), [(self.contact_vn.id, "mobile")])

    def test_search_keys_filled_in_sql(self):
        """Installing on a database with partners fills the keys in SQL (``_auto_init``):
        the SQL expression gives what the compute gives."""
        numbers = [PHONE, "(091) 234-5678 ext. 12", "12", "abc", "+65 6123 4567"]
        values = SQL(", ").join(
            SQL("(%s, %s)", index, number) for index, number in enumerate(numbers)
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT %s FROM (VALUES %s) AS v(i, n) ORDER BY i",
                phone_search_key_sql(SQL.identifier("v", "n")),
                values,
            )
        )
        self.assertEqual(
            [key for (key,) in rows], [phone_search_key(number) or None for number in numbers]
        )

    def test_search_email_case_insensitive(self):
        self.assertEqual(
            self._found("DUC.Nguyen@DongA.example.vn"), [(self.contact_vn.id, "email")]
        )
        self.assertEqual(self._found("duc.nguyen@"), [(self.contact_vn.id, "email")])

    def test_search_name_without_accents(self):
        """Names match without their accents, through the trigram index or, in a database
        without it, through Odoo's ``ilike``."""
        Partner = type(self.env["res.partner"])
        for indexed in (True, False):
            with patch.object(Partner, "_has_name_search_index", return_value=indexed):
                self.assertEqual(self._found("nguyen van duc"), [(self.contact_vn.id, "name")])
                self.assertEqual(self._found("NGUYỄN văn Đức"), [(self.contact_vn.id, "name")])
                self.assertEqual(self._found("dong a"), [(self.customer_vn.id, "name")])
                self.assertEqual(self._found("harbour trading"), [(self.customer_en.id, "name")])

    def test_search_ticket_and_invoice_numbers(self):
        """A ticket or invoice number identifies its customer, even for an operator who may
        read neither the other team's ticket nor any invoice."""
        self._build_history()
        ticket = self.ticket_other_team
        candidates = self._search(ticket.number.lower())
        self.assertEqual(
            [(c["partner_id"], c["match"], c["match_value"]) for c in candidates],
            [(self.contact_vn.id, "ticket", ticket.number)],
        )
        invoice = self.invoice_cartridge
        self.assertEqual(
            [(c["partner_id"], c["match"]) for c in self._search(invoice.name)],
            [(self.customer_vn.id, "invoice")],
        )
        self.assertEqual(self._found(self.order_1.name.lower()), [(self.contact_vn.id, "order")])
        self.assertEqual(self._found("INV/1999/00001"), [])

    def test_search_respects_partner_access(self):
        """A partner of a company the operator does not work in is not found."""
        other_company = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        self.env["res.partner"].create(
            {"name": "Lưu Quang Vũ", "phone": "0916 482 735", "company_id": other_company.id}
        )
        self.assertEqual(self._found("0916482735"), [(self.contact_vn.id, "phone")])
        self.assertEqual(self._found("Lưu Quang Vũ"), [])

    def test_search_access(self):
        """Care officers and managers use the screen; other users, salespeople included
        (it shows orders and invoices of any customer), are refused."""
        self.assertTrue(self._search("nguyen", self.user_crm_manager))
        internal = new_test_user(self.env, login="ce_internal", groups="base.group_user")
        for user in (internal, self.user_salesman, self.user_billing):
            with self.assertRaises(AccessError, msg=user.login):
                self._search("nguyen", user)
            with self.assertRaises(AccessError, msg=user.login):
                self.Operator.with_user(user).get_caller_card(self.contact_vn.id)

    def test_search_queries_constant(self):
        """Finding one caller or eight costs the same number of queries."""
        # ten employees of a company, reached through its switchboard
        company = self.env["res.partner"].create({"name": "Công ty CP Sao Mai", "is_company": True})
        self.env["res.partner"].create(
            [
                {
                    "name": f"Nguyễn Văn Nam {i}",
                    "phone": "+84 28 3822 9999",
                    "parent_id": company.id,
                }
                for i in range(10)
            ]
        )
        operator = self.Operator.with_user(self.user_care)
        # warm the caches of access rules and translations
        operator.search_callers("nguyen van")
        operator.search_callers("0916 482 735")
        self.assertEqual(len(operator.search_callers("nguyen van")), 8)
        self.assertEqual(len(operator.search_callers("028 3822 9999")), 8)
        for one, eight, expected in (
            ("nguyen van duc", "nguyen van", 4),
            ("0916 482 735", "028 3822 9999", 7),
        ):
            counts = [self._count_queries(operator.search_callers, q) for q in (one, eight)]
            self.assertEqual(counts[0], counts[1], f"{one} / {eight}")
            self.env.invalidate_all()
            with self.assertQueryCount(expected):
                operator.search_callers(eight)


@tagged("post_install", "-at_install")
class TestSupportOperatorCard(SupportOperatorCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_history()

    def _card(self, partner=None, user=None):
        with freeze_time(NOW):
            return self.Operator.with_user(user or self.user_care).get_caller_card(
                (partner or self.contact_vn).id
            )

    def test_card_identity(self):
        self.customer_vn.user_id = self.user_salesman
        card = self._card()
        self.assertEqual(card["caller"]["name"], "Nguyễn Văn Đức")
        self.assertEqual(card["caller"]["phone"], PHONE)
        self.assertEqual(card["customer"]["id"], self.customer_vn.id)
        self.assertEqual(card["customer"]["phone"], "+84 24 3825 1234")
        self.assertEqual(card["customer"]["salesperson"], "Nguyễn Thị Lan")
        self.assertIn("Hà Nội", card["customer"]["address"])
        self.assertTrue(card["can_create_ticket"])
        self.assertTrue(card["can_log_call"])
        self.assertEqual(
            "contracts" in card,
            "crm.contract" in self.env,
            "contracts are shown once their capability is installed",
        )

    def test_card_open_tickets_only(self):
        """Open tickets the operator may read, most urgent first; the other team's ticket
        is only counted, the solved one left out."""
        tickets = self._card()["tickets"]
        self.assertEqual(
            [t["number"] for t in tickets["records"]],
            [self.ticket_leak.number, self.ticket_noise.number],
        )
        self.assertEqual(tickets["count"], 2)
        self.assertEqual(tickets["other_count"], 1)
        leak = tickets["records"][0]
        self.assertEqual(leak["name"], "Máy lọc nước rò rỉ")
        self.assertEqual(leak["stage"], self.ticket_leak.stage_id.name)
        self.assertEqual((leak["priority"], leak["priority_label"]), ("3", "Urgent"))
        self.assertIn(leak["sla_state"], ("on_time", "at_risk", "breached"))
        self.assertTrue(leak["sla_state_label"])

        # a manager sees all three
        tickets = self._card(user=self.user_crm_manager)["tickets"]
        self.assertEqual((tickets["count"], tickets["other_count"]), (3, 0))

    def test_card_contacts_orders_invoices(self):
        card = self._card()
        self.assertEqual(
            [log["name"] for log in card["contacts"]],
            [f"Cuộc gọi {i}" for i in range(5)],
            "the five last held contacts, newest first",
        )
        self.assertEqual(card["contacts"][0]["channel_label"], "Phone")

        self.assertEqual(
            {order["name"] for order in card["orders"]},
            {self.order_1.name, self.order_2.name},
            "confirmed orders only, not quotations",
        )

        invoices = {invoice["name"]: invoice for invoice in card["invoices"]}
        self.assertEqual(len(card["invoices"]), 4, "three invoices and the credit note")
        labels = dict(
            self.env["account.move"]._fields["payment_state"]._description_selection(self.env)
        )
        paid = invoices[self.invoice_old.name]
        self.assertIn(paid["payment_state"], ("paid", "in_payment"))
        self.assertEqual(paid["payment_state_label"], labels[paid["payment_state"]])
        partial = invoices[self.invoice_cartridge.name]
        self.assertEqual(
            (partial["payment_state"], partial["payment_state_label"]),
            ("partial", "Partially Paid"),
        )
        self.assertTrue(partial["overdue"], "due a month after June 2024")
        new = invoices[self.invoice_new.name]
        self.assertEqual(
            (new["payment_state"], new["payment_state_label"]), ("not_paid", "Not Paid")
        )
        self.assertEqual(new["amount_residual"], self.invoice_new.amount_total)

    def test_card_labels_translated(self):
        """Selection labels come in the user's language."""
        self.env["res.lang"]._activate_lang("vi_VN")
        self.user_care.lang = "vi_VN"
        # as the web client calls it: in the user's language
        with freeze_time(NOW):
            card = (
                self.Operator.with_user(self.user_care)
                .with_context(lang="vi_VN")
                .get_caller_card(self.contact_vn.id)
            )
        labels = dict(
            self.env["account.move"]
            .with_context(lang="vi_VN")
            ._fields["payment_state"]
            ._description_selection(self.env["account.move"].with_context(lang="vi_VN").env)
        )
        for invoice in card["invoices"]:
            self.assertEqual(invoice["payment_state_label"], labels[invoice["payment_state"]])

    def test_card_warranty_per_product(self):
        """Each product bought, from its last posted invoice (not drafts, credit notes or
        other customers' invoices), with its warranty months."""
        warranties = {w["product_id"]: w for w in self._card()["warranties"]}
        self.assertEqual(set(warranties), {self.filter_ro.id, self.cartridge.id, self.ice_maker.id})
        expected = {
            # bought twice: the last invoice counts
            self.filter_ro.id: ("2025-01-10", 24, "2027-01-10", "under_warranty", 2.0),
            self.cartridge.id: ("2024-06-01", 6, "2024-12-01", "expired", 4.0),
            self.ice_maker.id: ("2024-03-01", 12, "2025-03-01", "expired", 1.0),
        }
        for product_id, (bought, months, end, state, qty) in expected.items():
            warranty = warranties[product_id]
            self.assertEqual(
                (
                    warranty["last_invoice_date"],
                    warranty["warranty_months"],
                    warranty["warranty_end_date"],
                    warranty["state"],
                    warranty["quantity"],
                ),
                (bought, months, end, state, qty),
                warranty["product"],
            )
        self.assertEqual(warranties[self.filter_ro.id]["product"], "Máy lọc nước RO Sao Mai S7")
        self.assertEqual(warranties[self.filter_ro.id]["state_label"], "Under warranty")
        self.assertEqual(
            [w["product_id"] for w in self._card()["warranties"]],
            [self.filter_ro.id, self.cartridge.id, self.ice_maker.id],
            "the latest purchases first",
        )

    def test_card_from_company(self):
        """Opening the company itself shows the same history."""
        card = self._card(self.customer_vn)
        self.assertEqual(card["caller"]["id"], self.customer_vn.id)
        self.assertEqual(card["tickets"]["count"], 2)
        self.assertEqual(len(card["warranties"]), 3)

    def test_card_queries_constant(self):
        """The card of a customer with a long history costs the queries of a newcomer's."""
        small = self.customer_en
        self._ticket(small, "Hỏi cách dùng")
        self._logs(small, 1)
        self._order(small, [(self.filter_ro, 1)])
        # the big customer gets more of everything
        for day in range(1, 8):
            product = self._create_product(f"Phụ kiện {day}", 100_000.0, warranty_months=day)
            self._invoice(self.contact_vn, date(2025, 2, day), [(product, 1)])
            self._order(self.contact_vn, [(product, 1)])
            self._ticket(self.contact_vn, f"Sự cố {day}")
        self._logs(self.contact_vn, 20, start=NOW - timedelta(days=30))
        operator = self.Operator.with_user(self.user_care)
        operator.get_caller_card(small.id)  # warm the caches of rules and translations
        counts = [
            self._count_queries(operator.get_caller_card, partner.id)
            for partner in (small, self.contact_vn)
        ]
        self.assertEqual(counts[0], counts[1])
        self.env.invalidate_all()
        with self.assertQueryCount(20):
            operator.get_caller_card(self.contact_vn.id)

    def test_card_access(self):
        """A care officer cannot read a partner of another company through the card."""
        other_company = self.env["res.company"].create({"name": "Chi nhánh Đà Nẵng"})
        stranger = self.env["res.partner"].create(
            {"name": "Lưu Quang Vũ", "company_id": other_company.id}
        )
        with self.assertRaises(AccessError):
            self._card(stranger)


@tagged("post_install", "-at_install")
class TestSupportOperatorActions(SupportOperatorCommon):
    def test_new_ticket_action(self):
        """ "New ticket" prefills the caller, the phone channel and the number they called
        from; the ticket is created in the operator's team with those values."""
        operator = self.Operator.with_user(self.user_care)
        action = operator.action_new_ticket(self.contact_vn.id, phone=PHONE)
        self.assertEqual(action["res_model"], "crm.support.ticket")
        context = action["context"]
        self.assertEqual(
            {
                key: context[key]
                for key in (
                    "default_partner_id",
                    "default_channel",
                    "default_partner_phone",
                    "default_partner_email",
                )
            },
            {
                "default_partner_id": self.contact_vn.id,
                "default_channel": "phone",
                "default_partner_phone": PHONE,
                "default_partner_email": "duc.nguyen@donga.example.vn",
            },
        )
        ticket = (
            self.env["crm.support.ticket"]
            .with_user(self.user_care)
            .with_context(**context)
            .create({"name": "Máy lọc nước rò rỉ", "product_id": self.filter_ro.id})
        )
        self.assertRecordValues(
            ticket,
            [
                {
                    "partner_id": self.contact_vn.id,
                    "commercial_partner_id": self.customer_vn.id,
                    "channel": "phone",
                    "partner_phone": PHONE,
                    "team_id": self.team.id,
                }
            ],
        )

    def test_new_ticket_unknown_caller(self):
        action = self.Operator.with_user(self.user_care).action_new_ticket(
            False, phone="0977 111 222"
        )
        self.assertFalse(action["context"]["default_partner_id"])
        self.assertEqual(action["context"]["default_partner_phone"], "0977 111 222")

    def test_log_call_action(self):
        """ "Log call" opens the quick form of an inbound phone call held now."""
        operator = self.Operator.with_user(self.user_care)
        with freeze_time(NOW):
            action = operator.action_log_call(self.contact_vn.id)
        self.assertEqual(action["res_model"], "crm.contact.log")
        self.assertEqual(action["target"], "new")
        log = (
            self.env["crm.contact.log"]
            .with_user(self.user_care)
            .with_context(**action["context"])
            .create({"name": "Khách báo máy lọc rò nước"})
        )
        self.assertRecordValues(
            log,
            [
                {
                    "partner_id": self.contact_vn.id,
                    "channel": "phone",
                    "direction": "inbound",
                    "state": "done",
                    "user_id": self.user_care.id,
                    "date": NOW,
                }
            ],
        )
        card = self.Operator.with_user(self.user_care).get_caller_card(self.contact_vn.id)
        self.assertEqual(card["contacts"][0]["id"], log.id)

    def test_partner_ticket_counters(self):
        """The partner form's "Tickets" button counts the company's tickets (its contact
        persons' included) or the contact person's own, among those the user may read."""
        self._build_history()
        self.customer_vn.invalidate_recordset()
        vn = self.customer_vn.with_user(self.user_crm_manager)
        contact = self.contact_vn.with_user(self.user_crm_manager)
        self.assertEqual((vn.support_ticket_count, vn.support_ticket_open_count), (4, 3))
        self.assertEqual((contact.support_ticket_count, contact.support_ticket_open_count), (3, 2))
        # the care officer does not see the other team's ticket
        vn = self.customer_vn.with_user(self.user_care)
        self.assertEqual((vn.support_ticket_count, vn.support_ticket_open_count), (3, 2))

        action = vn.action_view_support_tickets()
        self.assertEqual(
            self.env["crm.support.ticket"].with_user(self.user_care).search(action["domain"]),
            self.ticket_leak | self.ticket_noise | self.ticket_solved,
        )
        action = contact.action_view_support_tickets()
        self.assertEqual(action["domain"], [("partner_id", "=", self.contact_vn.id)])

    def test_partner_ticket_counters_batch(self):
        """A list of partners computes its ticket counters in one query."""
        self._build_history()
        partners = self.customer_vn | self.contact_vn | self.customer_en
        partners.invalidate_recordset()
        self.env.cr.flush()
        # the partners, then their tickets counted in one grouped query
        with self.assertQueryCount(2):
            self.assertEqual(partners.mapped("support_ticket_count"), [4, 3, 0])


@tagged("post_install", "-at_install")
class TestSupportOperatorTour(SupportOperatorCommon, HttpCase):
    """The operator screen in the browser."""

    def test_operator_tour(self):
        """A care officer finds the caller by their number typed in another format, opens
        the card and a new ticket for the filter they bought."""
        self._invoice(self.contact_vn, date.today() - timedelta(days=30), [(self.filter_ro, 1)])
        article = self.env["crm.kb.article"].create(
            {
                "name": "Máy lọc nước rò rỉ nước ở đáy máy",
                "kind": "maintenance",
                "product_ids": [Command.link(self.filter_ro.product_tmpl_id.id)],
                "symptoms": "Nước chảy ra dưới đáy máy lọc, sàn nhà bị ướt.",
                "answer": "<p>Khóa van cấp nước, rút điện, kiểm tra và siết lại các đầu nối.</p>",
                "is_published": True,
            }
        )
        self.start_tour("/odoo", "crm_extended_operator_tour", login="ce_care")
        ticket = self.env["crm.support.ticket"].search(
            [("commercial_partner_id", "=", self.customer_vn.id)]
        )
        self.assertEqual(len(ticket), 1, "the tour opened exactly one ticket")
        self.assertRecordValues(
            ticket,
            [
                {
                    "name": "Máy lọc nước bị rò rỉ",
                    "partner_id": self.contact_vn.id,
                    "channel": "phone",
                    "partner_phone": PHONE,
                    "product_id": self.filter_ro.id,
                    "team_id": self.team.id,
                    "warranty_state": "under_warranty",
                    "kb_article_id": article.id,
                    "is_closed": True,
                }
            ],
        )
        self.assertEqual((article.use_count, article.helpful_count), (1, 1))
        self.assertTrue(ticket.first_response_date, "the answer sent is the first response")
