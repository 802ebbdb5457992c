import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytz
from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import SQL

from .common import CrmExtendedCommon

# The analysis date of most tests: the 24-month window starts on 30 June 2024, the last trend
# period is (1 April, 30 June 2026], the one before (1 January, 1 April 2026].
D = date(2026, 6, 30)
TZ = "Asia/Ho_Chi_Minh"  # UTC+7: the main company's address


def utc(day, hour=3, minute=0):
    """A naive UTC datetime, as stored in sale_order.date_order."""
    return datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute)


def round_half_up(value, digits):
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def expected_segment(r, fm):
    """The segment rules, written independently from the SQL CASE."""
    if r <= 2:
        if fm <= 2:
            return "lost" if r == 1 and fm == 1 else "hibernating"
        return "at_risk" if fm <= 4 else "cant_lose"
    if r == 3:
        return {1: "about_to_sleep", 2: "about_to_sleep", 3: "need_attention"}.get(fm, "loyal")
    if r == 4:
        return "promising" if fm == 1 else "potential_loyalist" if fm <= 3 else "loyal"
    return "new" if fm == 1 else "potential_loyalist" if fm <= 3 else "champions"


@tagged("post_install", "-at_install")
class CustomerRfmCommon(CrmExtendedCommon):
    """Hand-made purchase histories.

    Main company (its address in Asia/Ho_Chi_Minh, 24 months look-back, 90-day trend):

    - ``customer_a`` (orders through its contact ``contact_a``): 1,000 on 10 January 2025
      (900 air conditioners + 100 spare parts), 300 EUR at 0.75 EUR per USD (= 400, water
      filters) on 15 February 2026, 2,500 (installation) on 20 May 2026 of which 500 are
      credited on 1 June 2026; plus a cancelled order, a quotation and an order older than
      the window, which never count.
    - ``customer_b``: orders around the window's ends in local time: 100 on 30 June 2024
      00:30 (in), 200 on 30 June 2026 23:59 (in), 50 on 1 July 2026 01:00 (out).
    - ``customer_cancelled``: a cancelled order only — no row.

    ``company_2`` (no chart of accounts, orders only): ``customer_a`` buys 800 there.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rfm = cls.env["crm.customer.rfm"]
        cls.Snapshot = cls.env["crm.customer.rfm.snapshot"]
        cls.SaleOrder = cls.env["sale.order"]
        # demo promotions must not add reward lines to our orders (those of promotion plans
        # reward only their members, and a running plan's program cannot be archived)
        cls.env["loyalty.program"].search([("crm_promotion_plan_id", "=", False)]).active = False
        cls.company.partner_id.tz = TZ
        cls.company.write(
            {"crm_rfm_source": "orders", "crm_rfm_lookback_months": 24, "crm_rfm_trend_days": 90}
        )
        cls.usd = cls.company.currency_id
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.env["res.currency.rate"].search([("currency_id", "=", cls.eur.id)]).unlink()
        cls.env["res.currency.rate"].create(
            {"name": date(2020, 1, 1), "rate": 0.75, "currency_id": cls.eur.id}
        )
        cls.pricelist_eur = cls.env["product.pricelist"].create(
            {"name": "RFM EUR", "currency_id": cls.eur.id, "company_id": cls.company.id}
        )
        Category = cls.env["product.category"]
        cls.categ_ac = Category.create({"name": "RFM Điều hòa"})
        cls.categ_parts = Category.create({"name": "RFM Linh kiện"})
        cls.categ_filter = Category.create({"name": "RFM Lọc nước"})
        cls.categ_service = Category.create({"name": "RFM Lắp đặt"})
        cls.product_ac = cls._create_product("RFM Điều hòa 12000BTU", categ_id=cls.categ_ac.id)
        cls.product_parts = cls._create_product("RFM Tụ điện", categ_id=cls.categ_parts.id)
        cls.product_filter = cls._create_product("RFM Lõi lọc", categ_id=cls.categ_filter.id)
        cls.product_service = cls._create_product(
            "RFM Lắp đặt máy", categ_id=cls.categ_service.id, type="service"
        )

        Partner = cls.env["res.partner"]
        cls.customer_a = Partner.create(
            {"name": "Công ty RFM Ánh Dương", "is_company": True, "email": "a@rfm.example.vn"}
        )
        cls.contact_a = Partner.create({"name": "Lê Văn RFM", "parent_id": cls.customer_a.id})
        cls.customer_b = Partner.create({"name": "Cửa hàng RFM Bình Minh", "is_company": True})
        cls.customer_cancelled = Partner.create({"name": "RFM Hủy Đơn", "is_company": True})

        cls.order_a1 = cls._order(
            cls.contact_a, utc(date(2025, 1, 10)), [(cls.product_ac, 900), (cls.product_parts, 100)]
        )
        cls.order_a2 = cls._order(
            cls.customer_a,
            utc(date(2026, 2, 15)),
            [(cls.product_filter, 300)],
            pricelist=cls.pricelist_eur,
        )
        cls.order_a3 = cls._order(
            cls.customer_a, utc(date(2026, 5, 20)), [(cls.product_service, 2500)]
        )
        cls._order(cls.customer_a, utc(date(2026, 6, 10)), [(cls.product_ac, 9999)], "cancel")
        cls._order(cls.customer_a, utc(date(2026, 6, 12)), [(cls.product_ac, 8888)], "draft")
        cls._order(cls.customer_a, utc(date(2024, 5, 1)), [(cls.product_ac, 7777)])
        cls.refund_a3 = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": cls.customer_a.id,
                "invoice_date": date(2026, 6, 1),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product_service.id,
                            "quantity": 1,
                            "price_unit": 500,
                            "tax_ids": [],
                            "sale_line_ids": [Command.set(cls.order_a3.order_line.ids)],
                        }
                    )
                ],
            }
        )
        cls.refund_a3.action_post()

        cls.order_b1 = cls._order(
            cls.customer_b, utc(date(2024, 6, 29), 17, 30), [(cls.product_ac, 100)]
        )
        cls.order_b2 = cls._order(
            cls.customer_b, utc(date(2026, 6, 30), 16, 59), [(cls.product_ac, 200)]
        )
        cls.order_b3 = cls._order(
            cls.customer_b, utc(date(2026, 6, 30), 18, 0), [(cls.product_ac, 50)]
        )
        cls._order(cls.customer_cancelled, utc(date(2026, 6, 1)), [(cls.product_ac, 10)], "cancel")

        cls.company_2 = cls.env["res.company"].create(
            {"name": "Công ty RFM Chi nhánh", "currency_id": cls.usd.id}
        )
        cls.order_a_company_2 = cls._order(
            cls.customer_a, utc(date(2026, 3, 3)), [(cls.product_ac, 800)], company=cls.company_2
        )

    @classmethod
    def _order(cls, partner, when, lines, state="sale", company=None, pricelist=None):
        """An order of ``partner`` dated ``when`` (UTC) with ``lines`` [(product, untaxed
        price)], confirmed (``sale``), cancelled (``cancel``) or left a quotation."""
        company = company or cls.company
        values = {
            "partner_id": partner.id,
            "company_id": company.id,
            "order_line": [
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_qty": 1,
                        "price_unit": price,
                        "tax_id": [],
                    }
                )
                for product, price in lines
            ],
        }
        if pricelist:
            values["pricelist_id"] = pricelist.id
        order = cls.SaleOrder.with_company(company).create(values)
        if state in ("sale", "cancel"):
            order.action_confirm()
        if state == "cancel":
            order._action_cancel()
        # confirming dates the order today: put it back in its history
        order.date_order = when
        return order

    def _rows(self, company=None):
        company = company or self.company
        return {rfm.partner_id: rfm for rfm in self.Rfm.search([("company_id", "=", company.id)])}

    def _expected(self, company, analysis_date=D):
        """The purchase trends of every customer of ``company``, computed in Python from
        its documents, independently from the SQL of the refresh."""
        tz = pytz.timezone(company.partner_id.tz or "UTC")
        window_start = analysis_date - relativedelta(months=company.crm_rfm_lookback_months)
        trend_days = company.crm_rfm_trend_days
        digits = company.currency_id.decimal_places
        events = self._expected_events(company, analysis_date, tz, window_start, digits)
        rows = {}
        for partner, partner_events in events.items():
            orders = [
                day for day, __, is_order, in_window in partner_events if is_order and in_window
            ]
            if not orders:
                continue
            frequency = len(orders)
            monetary = sum(amount for __, amount, __, in_window in partner_events if in_window)
            first, last = min(orders), max(orders)
            last_period = sum(
                amount
                for day, amount, __, __ in partner_events
                if day > analysis_date - timedelta(days=trend_days)
            )
            previous_period = sum(
                amount
                for day, amount, __, __ in partner_events
                if analysis_date - timedelta(days=2 * trend_days)
                < day
                <= analysis_date - timedelta(days=trend_days)
            )
            mean_interval = (last - first).days / (frequency - 1) if frequency > 1 else None
            rows[partner] = {
                "first_order_date": first,
                "last_order_date": last,
                "recency_days": (analysis_date - last).days,
                "frequency": frequency,
                "monetary": monetary,
                "average_order_value": round_half_up(monetary / frequency, digits),
                "mean_interval_days": mean_interval,
                "next_order_date": last
                + timedelta(days=int(round_half_up((last - first).days / (frequency - 1), 0)))
                if frequency > 1
                else None,
                "revenue_last_period": last_period,
                "revenue_previous_period": previous_period,
                "trend_percent": float((last_period - previous_period) * 100 / previous_period)
                if previous_period > 0
                else None,
            }

        def scores(key, before):
            n = len(rows)
            for partner, row in rows.items():
                rank = 1 + sum(1 for other in rows.values() if before(other[key], row[key]))
                percent_rank = (rank - 1) / (n - 1) if n > 1 else 0.0
                yield partner, min(5, 1 + math.floor(percent_rank * 5))

        for partner, score in scores("recency_days", lambda other, mine: other > mine):
            rows[partner]["r_score"] = score
        for partner, score in scores("frequency", lambda other, mine: other < mine):
            rows[partner]["f_score"] = score
        for partner, score in scores("monetary", lambda other, mine: other < mine):
            rows[partner]["m_score"] = score
        for row in rows.values():
            row["fm_score"] = math.ceil((row["f_score"] + row["m_score"]) / 2)
            row["segment"] = expected_segment(row["r_score"], row["fm_score"])
        return rows

    def _expected_events(self, company, analysis_date, tz, window_start, digits):
        """partner -> [(date, amount, is an order, counts in the window)]"""
        events = defaultdict(list)

        def local_date(order):
            return pytz.utc.localize(order.date_order).astimezone(tz).date()

        if company.crm_rfm_source == "orders":
            orders = self.SaleOrder.search(
                [("company_id", "=", company.id), ("state", "=", "sale")]
            )
            for order in orders:
                day = local_date(order)
                if day > analysis_date:
                    continue
                amount = round_half_up(order.amount_untaxed / (order.currency_rate or 1), digits)
                events[order.partner_id.commercial_partner_id].append(
                    (day, amount, True, day >= window_start)
                )
            refund_lines = self.env["account.move.line"].search(
                [
                    ("move_id.move_type", "=", "out_refund"),
                    ("move_id.state", "=", "posted"),
                    ("company_id", "=", company.id),
                    ("display_type", "=", "product"),
                    ("sale_line_ids", "!=", False),
                ]
            )
            for line in refund_lines:
                order = min(line.sale_line_ids.order_id, key=lambda o: o.id)
                refund_date = line.move_id.invoice_date
                if order.state != "sale" or order.company_id != company:
                    continue
                if refund_date > analysis_date or local_date(order) > analysis_date:
                    continue
                in_window = refund_date >= window_start and local_date(order) >= window_start
                events[order.partner_id.commercial_partner_id].append(
                    (refund_date, -Decimal(str(line.balance)), False, in_window)
                )
        else:
            moves = self.env["account.move"].search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("state", "=", "posted"),
                    ("invoice_date", "<=", analysis_date),
                ]
            )
            for move in moves:
                events[move.partner_id.commercial_partner_id].append(
                    (
                        move.invoice_date,
                        Decimal(str(move.amount_untaxed_signed)),
                        move.move_type == "out_invoice",
                        move.invoice_date >= window_start,
                    )
                )

        return events

    def assertRowsMatch(self, company, analysis_date=D):
        """Every row of ``company`` equals the independent computation, and no row is
        missing or extra."""
        expected = self._expected(company, analysis_date)
        rows = self._rows(company)
        self.assertEqual(set(rows), set(expected), "customers with purchase trends")
        currency = company.currency_id
        for partner, values in expected.items():
            rfm = rows[partner]
            for name in (
                "monetary",
                "average_order_value",
                "revenue_last_period",
                "revenue_previous_period",
            ):
                self.assertEqual(
                    currency.compare_amounts(rfm[name], float(values[name])),
                    0,
                    f"{name} of {partner.name}: {rfm[name]} != {values[name]}",
                )
            for name in ("mean_interval_days", "trend_percent"):
                if values[name] is None:
                    self.assertFalse(rfm[name], f"{name} of {partner.name}")
                else:
                    self.assertAlmostEqual(rfm[name], values[name], 6, f"{name} of {partner.name}")
            self.assertEqual(rfm.has_trend, values["trend_percent"] is not None)
            for name in (
                "first_order_date",
                "last_order_date",
                "recency_days",
                "frequency",
                "next_order_date",
                "r_score",
                "f_score",
                "m_score",
                "fm_score",
                "segment",
            ):
                self.assertEqual(
                    rfm[name] or None, values[name] or None, f"{name} of {partner.name}"
                )
            self.assertEqual(rfm.analysis_date, analysis_date)
        return rows


@tagged("post_install", "-at_install")
class TestCustomerRfm(CustomerRfmCommon):
    def test_orders_figures_match_independent_computation(self):
        count = self.Rfm._refresh(self.company, analysis_date=D)
        rows = self.assertRowsMatch(self.company)
        self.assertEqual(count, len(rows))
        self.assertNotIn(self.customer_cancelled, rows, "cancelled orders never count")
        self.assertNotIn(self.contact_a, rows, "contacts roll up to their company")
        row_a = rows[self.customer_a]
        # 1,000 + 300 EUR / 0.75 + 2,500 - 500 credited; the cancelled order, the quotation
        # and the order older than the window are ignored
        self.assertEqual(row_a.frequency, 3)
        self.assertAlmostEqual(row_a.monetary, 3400.0)
        self.assertAlmostEqual(row_a.average_order_value, 1133.33)
        self.assertEqual(row_a.first_order_date, date(2025, 1, 10))
        self.assertEqual(row_a.last_order_date, date(2026, 5, 20))
        self.assertEqual(row_a.recency_days, 41)
        self.assertAlmostEqual(row_a.mean_interval_days, 247.5)
        self.assertEqual(row_a.next_order_date, date(2026, 5, 20) + timedelta(days=248))
        # last period 2,500 - 500 against 400 the period before
        self.assertAlmostEqual(row_a.trend_percent, 400.0)
        self.assertEqual(
            row_a.top_category_ids, self.categ_service | self.categ_ac | self.categ_filter
        )
        # local dates: 30 June 2024 00:30 and 30 June 2026 23:59 are in, 1 July is not
        row_b = rows[self.customer_b]
        self.assertEqual(row_b.frequency, 2)
        self.assertAlmostEqual(row_b.monetary, 300.0)
        self.assertEqual(row_b.recency_days, 0)
        self.assertEqual(row_b.first_order_date, date(2024, 6, 30))
        self.assertFalse(row_b.has_trend)

    def test_invoices_figures_match_independent_computation(self):
        self.company.crm_rfm_source = "invoices"
        Move = self.env["account.move"]

        def invoice(partner, day, amount, move_type="out_invoice", currency=None):
            move = Move.create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "currency_id": (currency or self.usd).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.product_ac.id,
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [],
                            }
                        )
                    ],
                }
            )
            move.action_post()
            return move

        invoice(self.contact_a, date(2025, 3, 1), 1000)
        invoice(self.customer_a, date(2026, 5, 10), 300, currency=self.eur)
        invoice(self.customer_a, date(2026, 6, 20), 150, move_type="out_refund")
        draft = invoice(self.customer_a, date(2026, 6, 21), 5000)
        draft.button_draft()
        invoice(self.customer_b, date(2026, 7, 1), 999)  # after the analysis date

        self.Rfm._refresh(self.company, analysis_date=D)
        rows = self.assertRowsMatch(self.company)
        row_a = rows[self.customer_a]
        # two invoices (1,000 and 300 EUR = 400), the credit notes (500 of setup and 150)
        # deducted; the invoice back in draft does not count
        self.assertEqual(row_a.frequency, 2)
        self.assertAlmostEqual(row_a.monetary, 1000 + 400 - 500 - 150)
        self.assertEqual(row_a.last_order_date, date(2026, 5, 10))
        self.assertNotIn(self.customer_b, rows)

    def test_company_figures_separate(self):
        self.Rfm._refresh(analysis_date=D)
        rows_2 = self.assertRowsMatch(self.company_2)
        self.assertEqual(set(rows_2), {self.customer_a})
        self.assertEqual(rows_2[self.customer_a].frequency, 1)
        self.assertAlmostEqual(rows_2[self.customer_a].monetary, 800.0)
        # a lone customer ranks first and last: scores 1
        self.assertEqual(rows_2[self.customer_a].segment, "lost")
        self.assertEqual(self._rows()[self.customer_a].frequency, 3)

    def test_segment_rules(self):
        """The SQL segment of every (R, FM) pair is the one of the rules."""
        from odoo.tools import SQL

        from ..models.crm_customer_rfm import SEGMENT_CASE

        pairs = [(r, fm) for r in range(1, 6) for fm in range(1, 6)]
        rows = self.env.execute_query(
            SQL(
                "SELECT r_score, fm_score, %s FROM (VALUES %s) AS v(r_score, fm_score)",
                SEGMENT_CASE,
                SQL(", ").join(SQL("(%s, %s)", r, fm) for r, fm in pairs),
            )
        )
        self.assertEqual(len(rows), 25)
        for r, fm, segment in rows:
            self.assertEqual(segment, expected_segment(r, fm), f"R={r} FM={fm}")
        self.assertEqual(
            {segment for __, __, segment in rows},
            {key for key, __ in self.Rfm._fields["segment"].selection},
            "every segment is reachable",
        )

    def test_settings_constraints(self):
        for values in (
            {"crm_rfm_lookback_months": 0},
            {"crm_rfm_lookback_months": 121},
            {"crm_rfm_trend_days": 0},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.company.write(values)
        self.company.write({"crm_rfm_lookback_months": 120, "crm_rfm_trend_days": 1})
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.crm_rfm_lookback_months, 120)
        settings.crm_rfm_source = "invoices"
        settings.execute()
        self.assertEqual(self.company.crm_rfm_source, "invoices")
        arch = settings.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="crm_rfm_lookback_months"', arch)

    def test_lookback_and_trend_settings(self):
        """A shorter look-back drops the older orders; a longer trend period moves the
        orders between periods."""
        self.company.write({"crm_rfm_lookback_months": 12, "crm_rfm_trend_days": 200})
        self.Rfm._refresh(self.company, analysis_date=D)
        rows = self.assertRowsMatch(self.company)
        self.assertEqual(rows[self.customer_a].frequency, 2)
        self.assertEqual(rows[self.customer_a].first_order_date, date(2026, 2, 15))

    def _xmins(self, company=None):
        """{partner id: ctid} of the rows of ``company``: every update writes a new version
        of the row at another place (a test runs in one transaction: xmin would not tell
        the writes apart)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, ctid FROM crm_customer_rfm WHERE company_id = %s",
                (company or self.company).id,
            )
        )
        return dict(self.env.cr.fetchall())

    def test_job_run_twice(self):
        # start from no purchase trends at all (the demo data's were computed at install)
        self.env.cr.execute(SQL("DELETE FROM crm_customer_rfm_snapshot"))
        self.env.cr.execute(SQL("DELETE FROM crm_customer_rfm"))
        self.Rfm.invalidate_model()
        self.Rfm._refresh(analysis_date=D)
        # the job refreshes every active company
        job_rows = [
            ("company_id", "in", self.env["res.company"].search([("active", "=", True)]).ids)
        ]
        first = {
            rfm.id: rfm.read(["partner_id", "monetary", "segment", "top_category_ids"])
            for rfm in self.Rfm.search(job_rows)
        }
        # the first refresh logs every customer, as new
        snapshots = self.Snapshot.search([("refresh_date", "=", D)])
        logged = snapshots.filtered(lambda snapshot: snapshot.segment != "gone")
        self.assertEqual(len(logged), len(first))
        self.assertEqual(
            logged.partner_id, self.Rfm.browse(first).partner_id, "one row per customer"
        )
        self.assertEqual(set(logged.mapped("previous_segment")), {False})
        rows_before = self._xmins()
        self.Rfm._refresh(analysis_date=D)
        second = {
            rfm.id: rfm.read(["partner_id", "monetary", "segment", "top_category_ids"])
            for rfm in self.Rfm.search(job_rows)
        }
        self.assertEqual(first, second, "same rows, same ids")
        self.assertEqual(self._xmins(), rows_before, "no row rewritten")
        self.assertEqual(
            self.Snapshot.search([("refresh_date", "=", D)]), snapshots, "nothing logged"
        )
        # the next day: a customer whose orders were all cancelled loses its row and is
        # logged as gone; the log of the first day stays
        segment_b = self._rows()[self.customer_b].segment
        (self.order_b1 | self.order_b2 | self.order_b3)._action_cancel()
        next_day = D + timedelta(days=1)
        self.Rfm._refresh(analysis_date=next_day)
        self.assertNotIn(self.customer_b, self._rows())
        self.assertRowsMatch(self.company, next_day)
        snapshot_b = self.Snapshot.search([("partner_id", "=", self.customer_b.id)])
        self.assertEqual(snapshot_b.mapped("refresh_date"), [next_day, D])
        self.assertEqual(snapshot_b[0].segment, "gone")
        self.assertEqual(snapshot_b[0].previous_segment, segment_b)
        self.assertEqual(self.Snapshot.search_count([("refresh_date", "=", D)]), len(snapshots))

    def test_daily_refresh_writes_only_changes(self):
        """A day later with no new purchase, the recency grows but no row is rewritten
        (customer_a's figures, scores and trend stay); a new order rewrites only its
        customer's row, logs its change and rebuilds its top categories."""
        self.Rfm._refresh(self.company, analysis_date=D)
        row_a = self._rows()[self.customer_a]
        self.assertEqual(row_a.recency_days, 41)
        before = self._xmins()
        next_day = D + timedelta(days=1)
        self.Rfm._refresh(self.company, analysis_date=next_day)
        self.assertRowsMatch(self.company, next_day)
        self.assertEqual(self._xmins()[self.customer_a.id], before[self.customer_a.id])
        self.assertEqual(row_a.analysis_date, next_day)
        self.assertEqual(row_a.recency_days, 42)
        self.assertFalse(
            self.Snapshot.search(
                [("partner_id", "=", self.customer_a.id), ("refresh_date", "=", next_day)]
            )
        )
        # searchable and filterable by recency
        self.assertIn(row_a, self.Rfm.search([("recency_days", "=", 42)]))
        self.assertIn(row_a, self.Rfm.search([("recency_days", ">", 41)]))
        self.assertNotIn(row_a, self.Rfm.search([("recency_days", "<", 42)]))
        # a new order dated the day after: customer_a's categories change
        segment_a = row_a.segment
        self.assertEqual(
            row_a.top_category_ids, self.categ_service | self.categ_ac | self.categ_filter
        )
        categ_new = self.env["product.category"].create({"name": "RFM Máy lọc không khí"})
        product_new = self._create_product("RFM Máy lọc không khí", categ_id=categ_new.id)
        self._order(self.customer_a, utc(next_day + timedelta(days=1)), [(product_new, 5000)])
        day_3 = next_day + timedelta(days=1)
        self.Rfm._refresh(self.company, analysis_date=day_3)
        self.assertRowsMatch(self.company, day_3)
        self.assertEqual(row_a.top_category_ids, categ_new | self.categ_service | self.categ_ac)
        after = self._xmins()
        self.assertNotEqual(after[self.customer_a.id], before[self.customer_a.id])
        self.assertEqual(row_a.recency_days, 0)
        logged = self.Snapshot.search(
            [("partner_id", "=", self.customer_a.id), ("refresh_date", "=", day_3)]
        )
        self.assertEqual(len(logged), 1, "its scores changed")
        self.assertEqual(logged.previous_segment, segment_a)
        self.assertEqual(logged.segment, row_a.segment)
        self.assertEqual(logged.r_score, 5)

    def test_full_refresh_rebuilds_categories(self):
        """A product moved to another category changes no purchase: the daily refresh
        keeps the customers' top categories, a full one (the Refresh button, or the
        refresh after the settings changed) rebuilds them."""
        self.Rfm._refresh(self.company, analysis_date=D)
        row_b = self._rows()[self.customer_b]
        self.assertEqual(row_b.top_category_ids, self.categ_ac)
        self.product_ac.categ_id = self.categ_parts
        self.Rfm._refresh(self.company, analysis_date=D)
        self.assertEqual(row_b.top_category_ids, self.categ_ac)
        self.Rfm._refresh(self.company, analysis_date=D, full=True)
        self.assertEqual(row_b.top_category_ids, self.categ_parts)
        # settings changed: the next (daily) refresh is full
        self.product_ac.categ_id = self.categ_ac
        self.company.crm_rfm_trend_days = 60
        self.assertTrue(self.company.crm_rfm_full_refresh)
        self.Rfm._refresh(self.company, analysis_date=D)
        self.assertEqual(row_b.top_category_ids, self.categ_ac)
        self.assertFalse(self.company.crm_rfm_full_refresh)

    def test_full_refresh_checks_derived_figures(self):
        """The daily refresh compares what the other figures follow from (purchases and
        scores); a full one (Refresh button, settings changed, module upgraded) checks
        every column: a row whose segment or average no longer follow (new segment rules
        after an upgrade) is rewritten."""
        self.Rfm._refresh(self.company, analysis_date=D)
        row_a = self._rows()[self.customer_a]
        segment = row_a.segment
        stale = "lost" if segment != "lost" else "champions"
        self.env.cr.execute(
            SQL(
                "UPDATE crm_customer_rfm SET segment = %s, average_order_value = 1 WHERE id = %s",
                stale,
                row_a.id,
            )
        )
        self.Rfm.invalidate_model()
        before = self._xmins()
        self.Rfm._refresh(self.company, analysis_date=D)
        self.assertEqual(row_a.segment, stale, "the daily refresh compares the purchases")
        self.assertEqual(self._xmins(), before)
        # an upgrade asks for a full refresh
        self.env["crm.customer.rfm"].init()
        self.company.invalidate_recordset(["crm_rfm_full_refresh"])
        self.assertTrue(self.company.crm_rfm_full_refresh)
        self.Rfm._refresh(self.company, analysis_date=D)
        self.assertFalse(self.company.crm_rfm_full_refresh)
        self.assertRowsMatch(self.company)
        self.assertEqual(row_a.segment, segment)
        after = self._xmins()
        self.assertEqual(
            {partner for partner in after if after[partner] != before[partner]},
            {self.customer_a.id},
            "only the stale row is rewritten",
        )

    def test_cron_refreshes_today(self):
        with freeze_time(D + timedelta(days=2)):
            self.Rfm._cron_refresh()
        row = self._rows()[self.customer_a]
        self.assertEqual(row.analysis_date, D + timedelta(days=2))
        self.assertEqual(row.recency_days, 43)
        self.assertTrue(self.env.ref("crm_extended.ir_cron_customer_rfm_refresh").active)

    def test_partner_purchase_trends(self):
        self.Rfm._refresh(analysis_date=D)
        row_a = self._rows()[self.customer_a]
        partners = (self.customer_a | self.contact_a | self.customer_cancelled).with_user(
            self.user_salesman
        )
        self.assertEqual(partners.mapped("rfm_id"), row_a)
        self.assertEqual(partners[1].rfm_segment, row_a.segment)
        self.assertFalse(partners[2].rfm_id)
        self.assertFalse(partners[2].rfm_segment)
        self.assertAlmostEqual(partners[1].rfm_monetary, 3400.0)
        # the row of the current company
        self.assertEqual(
            self.customer_a.with_company(self.company_2).rfm_id.company_id, self.company_2
        )
        # searchable by segment, contacts included
        Partner = self.env["res.partner"].with_user(self.user_salesman)
        found = Partner.search([("rfm_segment", "=", row_a.segment)])
        self.assertIn(self.customer_a, found)
        self.assertIn(self.contact_a, found)
        self.assertNotIn(self.customer_cancelled, found)
        self.assertIn(self.customer_cancelled, Partner.search([("rfm_segment", "=", False)]))
        self.assertNotIn(
            self.customer_a, Partner.search([("rfm_segment", "not in", [row_a.segment])])
        )
        self.assertIn(self.customer_a, Partner.search([("rfm_segment", "!=", False)]))
        # the partner form shows them to the salesman
        form = Form(self.customer_a.with_user(self.user_salesman))
        self.assertEqual(form.rfm_frequency, 3)
        self.assertEqual(form.rfm_segment, row_a.segment)
        self.assertEqual(str(form.rfm_next_order_date), str(row_a.next_order_date))

    def test_refresh_action(self):
        with self.assertRaises(AccessError):
            self.Rfm.with_user(self.user_salesman).action_refresh()
        action = self.Rfm.with_user(self.user_sale_manager).action_refresh()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn(self.customer_a, self._rows())

    def test_refresh_query_count(self):
        """The refresh costs the same number of queries for 3 and for 30 customers."""
        company = self.env["res.company"].create({"name": "RFM Đếm truy vấn"})
        customers = self.env["res.partner"].create(
            [{"name": f"RFM Khách {index}", "is_company": True} for index in range(30)]
        )

        def count_queries():
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            self.Rfm._refresh(company, analysis_date=D)
            return self.cr.sql_log_count - before

        for index, customer in enumerate(customers[:3]):
            self._order(
                customer, utc(D - timedelta(days=index)), [(self.product_ac, 100)], company=company
            )
        queries_3 = count_queries()
        self.assertEqual(self.Rfm.search_count([("company_id", "=", company.id)]), 3)
        for index, customer in enumerate(customers[3:]):
            self._order(
                customer, utc(D - timedelta(days=index)), [(self.product_ac, 100)], company=company
            )
        queries_30 = count_queries()
        self.assertEqual(self.Rfm.search_count([("company_id", "=", company.id)]), 30)
        self.assertEqual(queries_30, queries_3)
        self.assertLessEqual(queries_30, 12)


@tagged("post_install", "-at_install")
class TestCustomerRfmScores(CustomerRfmCommon):
    """Scores and segments on a company of five crafted customers, from the best to the
    lost one: each is ahead of the next in recency, frequency and revenue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_3 = cls.env["res.company"].create({"name": "RFM Điểm số"})
        cls.crafted = cls.env["res.partner"].create(
            [{"name": f"RFM Điểm {name}", "is_company": True} for name in "ABCDE"]
        )
        # customer k: 5 - k orders of 1,000 - 100k, the last one 1 + 10k days ago
        for k, customer in enumerate(cls.crafted):
            for n in range(5 - k):
                cls._order(
                    customer,
                    utc(D - timedelta(days=1 + 10 * k + 30 * n)),
                    [(cls.product_ac, 1000 - 100 * k)],
                    company=cls.company_3,
                )

    def test_scores_and_segments(self):
        self.Rfm._refresh(self.company_3, analysis_date=D)
        rows = self.assertRowsMatch(self.company_3)
        scores = [
            (rows[c].r_score, rows[c].f_score, rows[c].m_score, rows[c].fm_score, rows[c].segment)
            for c in self.crafted
        ]
        self.assertEqual(
            scores,
            [
                (5, 5, 5, 5, "champions"),
                (4, 4, 4, 4, "loyal"),
                (3, 3, 3, 3, "need_attention"),
                (2, 2, 2, 2, "hibernating"),
                (1, 1, 1, 1, "lost"),
            ],
        )

    def test_quintile_scores_match_percent_rank(self):
        """The scores from the four quintile boundaries are those of PERCENT_RANK(), for
        any number of customers (1 to 60), with ties, negative and decimal values."""
        rfm = self.env["crm.customer.rfm"]
        for n in range(1, 61):
            self.env.cr.execute(
                SQL(
                    """
                WITH agg AS (
                    SELECT i, ROUND((MOD(i * 7919, 23) - 5) / 3.0, 2) AS monetary
                      FROM generate_series(1, %(n)s) i
                ),
                sorted_values AS (
                    SELECT COUNT(*)::int AS n,
                           ARRAY_AGG(monetary ORDER BY monetary) AS amounts
                      FROM agg
                ),
                quintiles AS MATERIALIZED (
                    SELECT n, amounts[((n - 1) * 1 + 4) / 5] AS amounts_1,
                           amounts[((n - 1) * 2 + 4) / 5] AS amounts_2,
                           amounts[((n - 1) * 3 + 4) / 5] AS amounts_3,
                           amounts[((n - 1) * 4 + 4) / 5] AS amounts_4
                      FROM sorted_values
                )
                SELECT COUNT(*)
                  FROM (
                        SELECT %(score)s AS score,
                               LEAST(5, 1 + FLOOR(
                                   PERCENT_RANK() OVER (ORDER BY monetary) * 5))::int AS ranked
                          FROM agg, quintiles
                       ) scores
                 WHERE score IS DISTINCT FROM ranked
                    """,
                    n=n,
                    score=rfm._quintile_score_sql("monetary", "amounts"),
                )
            )
            self.assertEqual(self.env.cr.fetchone()[0], 0, f"{n} customers")

    def test_ties_share_their_score(self):
        twin = self.env["res.partner"].create({"name": "RFM Điểm E2", "is_company": True})
        self._order(
            twin, utc(D - timedelta(days=41)), [(self.product_ac, 600)], company=self.company_3
        )
        self.Rfm._refresh(self.company_3, analysis_date=D)
        rows = self.assertRowsMatch(self.company_3)
        last = rows[self.crafted[4]]
        self.assertEqual(
            (rows[twin].r_score, rows[twin].f_score, rows[twin].m_score),
            (last.r_score, last.f_score, last.m_score),
        )
        self.assertEqual((last.r_score, last.f_score, last.m_score), (1, 1, 1))
        # six customers, recency ranks 1, 1, 3, 4, 5, 6: percent ranks 0, 0, .4, .6, .8, 1
        self.assertEqual(
            [rows[c].r_score for c in self.crafted[::-1]] + [rows[twin].r_score],
            [1, 3, 4, 5, 5, 1],
        )


@tagged("post_install", "-at_install")
class TestCustomerRfmViews(CustomerRfmCommon):
    def test_reports_open_for_salesman(self):
        self.customer_a.user_id = self.user_salesman
        self.env["crm.customer.rfm"]._refresh(analysis_date=D)
        Rfm = self.env["crm.customer.rfm"].with_user(self.user_salesman)
        views = Rfm.get_views(
            [
                (False, "list"),
                (False, "form"),
                (False, "pivot"),
                (False, "graph"),
                (False, "search"),
            ]
        )
        self.assertEqual(set(views["views"]), {"list", "form", "pivot", "graph", "search"})
        # the segment matrix: R score rows by FM score columns, count and revenue
        matrix = Rfm._read_group(
            [("company_id", "=", self.company.id)],
            ["r_score", "fm_score"],
            ["__count", "monetary:sum"],
        )
        self.assertEqual(sum(count for __, __, count, __ in matrix), Rfm.search_count([]))
        # my customers, grouped by salesperson: the stored salesperson follows the partner
        mine = Rfm.search([("user_id", "=", self.user_salesman.id)])
        self.assertEqual(mine.partner_id, self.customer_a)
        self.customer_a.user_id = self.user_sale_manager
        self.assertFalse(Rfm.search([("user_id", "=", self.user_salesman.id)]))
        Snapshot = self.env["crm.customer.rfm.snapshot"].with_user(self.user_salesman)
        Snapshot.get_views([(False, "pivot"), (False, "graph"), (False, "list")])
        migration = Snapshot._read_group([], ["segment", "refresh_date:day"], ["__count"])
        self.assertEqual(sum(count for __, __, count in migration), Snapshot.search_count([]))
        row = mine.with_user(self.user_salesman)
        self.assertEqual(row.snapshot_count, 1)
        action = row.action_open_snapshots()
        self.assertEqual(Snapshot.search(action["domain"]).partner_id, self.customer_a)
