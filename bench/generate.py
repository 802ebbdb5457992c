"""Set-based generator of the crm_extended benchmark data set.

The bulky tables are written with ``INSERT ... SELECT`` over ``generate_series``: no ORM call per
record. The ORM is only used for the few reference records (products) and to look up the ids of
the company, journal, accounts, team and so on that a fresh database holds.

Sizes at ``scale=1`` (every figure is multiplied by the scale):

- 100,000 customer companies (``res.partner``, ``is_company``) with their contact persons;
- 300,000 confirmed sales orders (``state='sale'``) with 1,000,000 order lines;
- 200,000 posted customer invoices, one per invoiced order, whose product lines are linked to the
  order lines they invoice, plus one receivable line each; debit equals credit on every invoice;
- about 580,000 contact logs (``crm.contact.log``), held by 8 salespeople.

The history is skewed on purpose. Customer ``KH000001`` (the "whale") receives 5% of all orders
(15,000 at scale 1), about two thirds of them invoiced (10,000 invoices), and 100,000 contact
logs; every other customer has at least one order and the remaining orders follow a power law
(``SKEW_EXPONENT``), so the next largest customers have about a hundred orders at scale 1 and most
have one to three, and 0 to 20 contact logs (``LOG_SKEW_EXPONENT``: a third none, most a few).
The whale also has 25 contact persons, the others 1 to 3.

Contact logs are mostly held (``done``, with their date, a third of them planned beforehand,
mostly held on time), some planned in the next three months, some missed (their team leader
already told), a few cancelled; ``OVERDUE_LOG_SHARE`` of them are still planned although their
planned time passed more than the grace period ago: the backlog of the hourly missed-contact job,
as after the scheduler was stopped. Every planned or missed contact has its ``mail.activity``, as
the ORM would have created; categories, attachments and links to orders, invoices or
opportunities are not generated. The customers' ``last_contact_date``/``next_contact_date`` are
written from the logs in SQL.

Invoices that fell due in the past are mostly paid (``payment_state='paid'``, no residual), some
partially paid (half), about a fifth overdue (``not_paid``); recent ones are mostly open. Each
paid or partially paid invoice has a bank journal entry reconciled with its receivable line
(``account.partial.reconcile``, plus ``account.full.reconcile`` when paid), so the stored residuals
and payment states are what the ORM would compute.

Pseudo-random choices come from ``hashint8`` of the row number, so the same scale always produces
the same data set.
"""

import sys
import time
from dataclasses import dataclass
from datetime import date, datetime

from odoo.tools import SQL

BASE_CUSTOMERS = 100_000
BASE_ORDERS = 300_000
BASE_ORDER_LINES = 1_000_000
BASE_INVOICES = 200_000
# 5% of the orders: 15,000 at scale 1, two thirds invoiced, so the whale has 10,000 invoices
WHALE_ORDER_SHARE = 0.05
WHALE_CONTACTS = 25
WHALE_LOGS = 100_000
# contact logs of the other customers: floor((MAX_LOGS + 1) * u ^ LOG_SKEW_EXPONENT), u uniform
MAX_LOGS = 20
LOG_SKEW_EXPONENT = 3
# share of the contact logs still planned more than the grace period after their planned time
OVERDUE_LOG_SHARE = 0.035
SALESPEOPLE = 8
# customer of an order beyond the first ones: 2 + floor((N - 1) * u ^ SKEW_EXPONENT), u uniform
SKEW_EXPONENT = 1.5
PRODUCT_COUNT = 60
HISTORY_DAYS = 3 * 365
PAYMENT_DAYS = 30
PAYMENT_DELAY_DAYS = 45
ADMIN_UID = 2
# account.move.line.matching_number of the two receivable lines of a payment (row of bench_payment)
MATCHING_NUMBER = SQL(
    "CASE WHEN pm.full_id IS NOT NULL THEN pm.full_id::text"
    " WHEN pm.k IS NOT NULL THEN 'P' || pm.partial_id END"
)

COMPANY_KINDS = "Công ty TNHH|Công ty Cổ phần|Doanh nghiệp tư nhân|Công ty|Hợp tác xã".split("|")
COMPANY_WORDS = (
    "An Phát|Bình Minh|Đại Việt|Hòa Bình|Hưng Thịnh|Kim Long|Minh Châu|Nam Sơn|"
    "Phú Quý|Sao Mai|Tân Tiến|Thành Công|Trường Sơn|Việt Tiến|Vạn Xuân|Hồng Hà|"
    "Sông Hàn|Cửu Long|Tây Nguyên|Bắc Hải"
).split("|")
COMPANY_TRADES = (
    "Thương mại|Xây dựng|Vận tải|Thực phẩm|Dệt may|Điện máy|Dược phẩm|Nội thất|"
    "Viễn thông|Du lịch|Nông sản|Công nghệ"
).split("|")
FAMILY_NAMES = "Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương|Lý".split("|")
MIDDLE_NAMES = "Văn|Thị|Hữu|Minh|Ngọc|Thanh|Đức|Quang|Thu|Gia".split("|")
GIVEN_NAMES = (
    "An|Bình|Châu|Dũng|Giang|Hà|Hải|Hạnh|Hiếu|Hoa|Hùng|Hương|Khánh|Lan|Linh|Long|Mai|"
    "Nam|Nga|Phong|Phúc|Quân|Sơn|Tâm|Thảo|Trang|Tuấn|Vy|Yến|Đạt"
).split("|")
FUNCTIONS = "Giám đốc|Kế toán trưởng|Trưởng phòng mua hàng|Nhân viên kinh doanh|Thư ký".split("|")
CITIES = (
    "Hà Nội|Hồ Chí Minh|Đà Nẵng|Hải Phòng|Cần Thơ|Huế|Nha Trang|Vinh|Biên Hòa|"
    "Buôn Ma Thuột|Quy Nhơn|Hạ Long"
).split("|")
STREETS = (
    "Lê Lợi|Trần Hưng Đạo|Nguyễn Huệ|Hai Bà Trưng|Lý Thường Kiệt|Phan Chu Trinh|"
    "Điện Biên Phủ|Nguyễn Trãi|Lê Duẩn|Quang Trung"
).split("|")
SALESPERSON_NAMES = (
    "Nguyễn Thị Thu Hà|Trần Văn Hùng|Lê Minh Tuấn|Phạm Ngọc Lan|Hoàng Đức Anh|"
    "Vũ Thanh Hương|Đặng Quang Huy|Bùi Thị Mai"
).split("|")
LOG_SUBJECTS = (
    "Gọi điện chăm sóc khách hàng|Tư vấn sản phẩm mới|Gửi báo giá|Nhắc thanh toán hóa đơn|"
    "Hẹn gặp trao đổi hợp đồng|Xử lý khiếu nại giao hàng|Xác nhận đơn hàng|"
    "Khảo sát mức độ hài lòng|Giới thiệu chương trình khuyến mãi|Hỗ trợ kỹ thuật|"
    "Gia hạn hợp đồng bảo trì|Follow-up after the quotation|Courtesy call"
).split("|")
LOG_NOTES = (
    "Khách hàng quan tâm, hẹn gọi lại tuần sau.|Đã gửi báo giá qua email.|"
    "Khách hàng phản ánh giao hàng chậm, đã chuyển bộ phận kho.|"
    "Kế toán xác nhận sẽ thanh toán trong tháng.|Không liên lạc được, để lại lời nhắn.|"
    "The customer asked for a demo next month."
).split("|")
# channels weighted by how often they are used (phone first)
LOG_CHANNELS = (
    ["phone"] * 9
    + ["email"] * 4
    + ["meeting"] * 2
    + ["visit"] * 2
    + ["chat"] * 1
    + ["sms"] * 1
    + ["letter", "fax", "other"]
)
PRODUCT_NAMES = (
    "Gói cước Internet cáp quang|Điện thoại di động|Máy tính xách tay|"
    "Bộ định tuyến Wi-Fi|Dịch vụ chuyển phát nhanh|Bảo hành mở rộng|Phần mềm kế toán|"
    "Máy in văn phòng|Camera an ninh|Tổng đài điện thoại|Dịch vụ lắp đặt|"
    "Hợp đồng bảo trì"
).split("|")

ADDON = "crm_extended"
GENERATED_MODELS = [
    "res.partner",
    "sale.order",
    "sale.order.line",
    "account.move",
    "account.move.line",
    "account.partial.reconcile",
    "account.full.reconcile",
    "crm.contact.log",
]
# Stored computed fields of crm_extended that the generator writes itself in SQL: not recomputed.
WRITTEN_COMPUTED_FIELDS = {
    "res.partner": {"last_contact_date", "next_contact_date"},
    "crm.contact.log": {"commercial_partner_id", "team_id", "sort_date", "planned_result"},
    "sale.order": {"commercial_partner_id"},
}
# Tables that receive generated rows: analyzed, then vacuumed, after the generation.
TOUCHED_TABLES = [
    "res_partner",
    "sale_order",
    "sale_order_line",
    "account_move",
    "account_move_line",
    "sale_order_line_invoice_rel",
    "account_full_reconcile",
    "account_partial_reconcile",
    "crm_contact_log",
    "mail_activity",
]


def log(message):
    print(f"[generate] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Sizes:
    """Row counts for one scale, adjusted so that the generation rules always hold."""

    customers: int
    orders: int
    order_lines: int
    invoices: int
    whale_orders: int
    whale_logs: int

    @classmethod
    def for_scale(cls, scale):
        customers = max(10, round(BASE_CUSTOMERS * scale))
        orders = round(BASE_ORDERS * scale)
        whale_orders = max(2, round(orders * WHALE_ORDER_SHARE))
        # the whale's orders first, then one order per other customer, then the skewed rest
        orders = max(orders, whale_orders + customers - 1)
        order_lines = max(orders, round(BASE_ORDER_LINES * scale))
        invoices = min(orders, max(1, round(BASE_INVOICES * scale)))
        whale_logs = max(MAX_LOGS, round(WHALE_LOGS * scale))
        return cls(customers, orders, order_lines, invoices, whale_orders, whale_logs)


def _hash(expr, salt):
    """Deterministic pseudo-random integer in [0, 2^32) from an SQL integer expression."""
    return SQL("(hashint8((%s)::bigint * 1009 + %s)::bigint + 2147483648)", expr, salt)


def _uniform(expr, salt):
    """Deterministic pseudo-random number in [0, 1) from an SQL integer expression."""
    return SQL("(%s / 4294967296.0)", _hash(expr, salt))


def _pick(array, expr, salt):
    """Deterministic pseudo-random element of a Python list, as SQL."""
    return SQL(
        "(%s::text[])[1 + mod(%s, %s)]",
        array,
        _hash(expr, salt),
        len(array),
    )


class Generator:
    """Writes the benchmark data set into the database of ``env`` (one transaction)."""

    def __init__(self, env, scale):
        self.env = env
        self.cr = env.cr
        self.scale = scale
        self.sizes = Sizes.for_scale(scale)
        self.now = datetime.now().replace(microsecond=0)
        self.today = date.today()

    # ------------------------------------------------------------------------------------
    # driver
    # ------------------------------------------------------------------------------------
    def run(self):
        log(f"scale {self.scale}: {self.sizes}")
        started = time.perf_counter()
        self._step("reference records", self._prepare_references)
        self._step("customers and contacts", self._insert_partners)
        self._step("order and line plans", self._plan_orders)
        self._step("sales orders", self._insert_orders)
        self._step("sales order lines", self._insert_order_lines)
        self._step("invoices", self._insert_invoices)
        self._step("payments", self._insert_payments)
        self._step("invoice lines", self._insert_invoice_lines)
        self._step("payment lines and reconciliation", self._insert_payment_lines)
        self._step("contact log plan", self._plan_contact_logs)
        self._step("planned contact activities", self._insert_contact_activities)
        self._step("contact logs", self._insert_contact_logs)
        self._step("customers' contact dates", self._update_contact_dates)
        self._step("crm_extended stored computed fields", self._recompute_addon_fields)
        self._step("sequences", self._fix_sequences)
        self._step("analyze", self._analyze)
        self.env.invalidate_all(flush=False)
        elapsed = time.perf_counter() - started
        log(f"done in {elapsed:.1f}s")
        return elapsed

    def _step(self, label, method):
        started = time.perf_counter()
        method()
        log(f"{label}: {time.perf_counter() - started:.1f}s")

    def _execute(self, query):
        self.cr.execute(query)
        return self.cr.rowcount

    def _reserve_ids(self, table, count):
        """Take ``count`` consecutive ids from the id sequence of ``table``; return the first.

        The sequence is moved past the block, so later ORM inserts never collide with the rows
        written here with explicit ids.
        """
        self.cr.execute(SQL("SELECT pg_get_serial_sequence(%s, 'id')", table))
        sequence = self.cr.fetchone()[0]
        self.cr.execute(SQL("SELECT nextval(%s::regclass)", sequence))
        first = self.cr.fetchone()[0]
        self.cr.execute(SQL("SELECT setval(%s::regclass, %s)", sequence, first + count))
        return first - 1  # rows use first .. first + count - 1 as base + 1 .. base + count

    # ------------------------------------------------------------------------------------
    # reference records
    # ------------------------------------------------------------------------------------
    def _prepare_references(self):
        env = self.env
        company = env.ref("base.main_company")
        journal = env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        )
        if not journal:
            raise RuntimeError("the benchmark database has no sales journal: no chart of accounts?")
        receivable = company.partner_id.with_company(company).property_account_receivable_id
        income = journal.default_account_id
        bank_journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        if not bank_journal:
            raise RuntimeError("the benchmark database has no bank journal: no chart of accounts?")
        team = env["crm.team"].search([("company_id", "in", [False, company.id])], limit=1)
        salespeople = self._create_salespeople(company, team)
        products = env["product.product"].create(
            [
                {
                    "name": f"{PRODUCT_NAMES[index % len(PRODUCT_NAMES)]} {index + 1:02d}",
                    "default_code": f"BENCH{index + 1:03d}",
                    "type": "consu",
                    "list_price": 50.0 + (index * 37) % 950,
                    "invoice_policy": "order",
                }
                for index in range(PRODUCT_COUNT)
            ]
        )
        env.flush_all()
        self.ref = {
            "company": company.id,
            "currency": company.currency_id.id,
            "journal": journal.id,
            "receivable": receivable.id,
            "income": income.id,
            "bank_journal": bank_journal.id,
            "bank_code": bank_journal.code,
            "bank_account": bank_journal.default_account_id.id,
            "team": team.id or None,
            "uom": env.ref("uom.product_uom_unit").id,
            "country": env.ref("base.vn").id,
            "uid": ADMIN_UID,
            "log_model": env["ir.model"]._get_id("crm.contact.log"),
            "log_activity_type": env.ref("crm_extended.mail_activity_type_contact_log").id,
        }
        self.salesperson_ids = salespeople.ids
        self.outcome_ids = env["crm.contact.log.outcome"].search([("active", "=", True)]).ids
        self.product_ids = products.ids
        self.product_names = [product.display_name for product in products]
        self.product_prices = [product.list_price for product in products]

    def _create_salespeople(self, company, team):
        """The salespeople who hold the contacts: members of the sales team, led by the admin."""
        users = (
            self.env["res.users"]
            .with_context(no_reset_password=True, tracking_disable=True)
            .create(
                [
                    {
                        "name": name,
                        "login": f"kinhdoanh{index + 1:02d}@bench.example.vn",
                        "email": f"kinhdoanh{index + 1:02d}@bench.example.vn",
                        "tz": "Asia/Ho_Chi_Minh",
                        "company_id": company.id,
                        "company_ids": [(6, 0, company.ids)],
                        "groups_id": [(6, 0, self.env.ref("sales_team.group_sale_salesman").ids)],
                    }
                    for index, name in enumerate(SALESPERSON_NAMES[:SALESPEOPLE])
                ]
            )
        )
        if team:
            team.write({"user_id": ADMIN_UID, "member_ids": [(4, user.id) for user in users]})
        return users

    # ------------------------------------------------------------------------------------
    # partners
    # ------------------------------------------------------------------------------------
    def _insert_partners(self):
        customers = self.sizes.customers
        self.partner_base = base = self._reserve_ids("res_partner", 2 * customers)
        ref = self.ref
        c = SQL("c")
        company_name = SQL(
            "CASE WHEN c = 1 THEN 'Tổng công ty Thương mại Đại Dương'"
            " ELSE %s || ' ' || %s || ' ' || %s || ' ' || c END",
            _pick(COMPANY_KINDS, c, 1),
            _pick(COMPANY_TRADES, c, 2),
            _pick(COMPANY_WORDS, c, 3),
        )
        created = SQL(
            "%s::timestamp - make_interval(days => %s + %s)",
            self.now,
            HISTORY_DAYS,
            SQL("mod(%s, 365)::int", _hash(c, 4)),
        )
        # Companies: ids base + 1 .. base + N, customer number c is id - base.
        self._execute(
            SQL(
                """
                INSERT INTO res_partner (
                    id, name, complete_name, commercial_company_name, type, is_company, active,
                    commercial_partner_id, ref, lang, tz, country_id, city, street, email,
                    email_normalized, phone, phone_sanitized, customer_rank, supplier_rank,
                    partner_share, employee, color, user_id, autopost_bills,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT %(base)s + c, co.name, co.name, co.name, 'contact', true, true,
                       %(base)s + c, 'KH' || lpad(c::text, 6, '0'), 'en_US', 'Asia/Ho_Chi_Minh',
                       %(country)s, %(city)s, 'Số ' || (1 + mod(c, 300)) || ' ' || %(street)s,
                       'lienhe' || c || '@kh.example.vn', 'lienhe' || c || '@kh.example.vn',
                       '+84 2' || lpad(mod(%(phone)s, 100000000)::text, 8, '0'),
                       '+842' || lpad(mod(%(phone)s, 100000000)::text, 8, '0'),
                       1, 0, true, false, 0, %(uid)s, 'ask',
                       %(uid)s, %(uid)s, %(created)s, %(created)s
                  FROM generate_series(1, %(customers)s) AS c,
                       LATERAL (SELECT %(company_name)s AS name) AS co
                """,
                base=base,
                country=ref["country"],
                city=_pick(CITIES, c, 5),
                street=_pick(STREETS, c, 6),
                phone=_hash(c, 7),
                uid=ref["uid"],
                created=created,
                customers=customers,
                company_name=company_name,
            )
        )
        # First contact of customer c: id base + N + c (the orders placed by a person use it);
        # the others take ids from the sequence.
        self._insert_contacts(
            SQL(
                "SELECT co.id AS company_id, co.id - %(base)s + %(customers)s AS k"
                "  FROM res_partner co"
                " WHERE co.id BETWEEN %(base)s + 1 AND %(base)s + %(customers)s",
                base=base,
                customers=customers,
            ),
            explicit_id=SQL("%s + %s + (src.company_id - %s)", base, customers, base),
        )
        self._insert_contacts(
            SQL(
                "SELECT co.id AS company_id, %(offset)s + co.id * 64 + extra AS k"
                "  FROM res_partner co,"
                "       generate_series(1, CASE WHEN co.id = %(base)s + 1 THEN %(whale)s"
                "                               ELSE mod(co.id - %(base)s, 3) END) AS extra"
                " WHERE co.id BETWEEN %(base)s + 1 AND %(base)s + %(customers)s",
                base=base,
                customers=customers,
                whale=WHALE_CONTACTS - 1,
                offset=4 * customers,
            ),
            explicit_id=None,
        )

    def _insert_contacts(self, source, explicit_id):
        """Insert contact persons for the companies listed by ``source`` (company_id, k).

        ``k`` is a number unique per contact that seeds the pseudo-random name choices.
        """
        k = SQL("src.k")
        person = SQL(
            "%s || ' ' || %s || ' ' || %s",
            _pick(FAMILY_NAMES, k, 11),
            _pick(MIDDLE_NAMES, k, 12),
            _pick(GIVEN_NAMES, k, 13),
        )
        id_column = SQL("id, ") if explicit_id else SQL()
        id_value = SQL("%s, ", explicit_id) if explicit_id else SQL()
        self._execute(
            SQL(
                """
                INSERT INTO res_partner (
                    %(id_column)s name, complete_name, commercial_company_name, parent_id, type,
                    is_company, active, commercial_partner_id, function, lang, tz, country_id,
                    city, street, email, email_normalized, mobile, customer_rank, supplier_rank,
                    partner_share, employee, color, user_id, autopost_bills,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT %(id_value)s p.name, co.name || ', ' || p.name, co.name, co.id, 'contact',
                       false, true, co.id, %(function)s, co.lang, co.tz, co.country_id,
                       co.city, co.street, 'lh' || src.k || '@kh.example.vn',
                       'lh' || src.k || '@kh.example.vn',
                       '+84 9' || lpad(mod(%(phone)s, 100000000)::text, 8, '0'),
                       0, 0, true, false, 0, co.user_id, 'ask',
                       co.create_uid, co.write_uid, co.create_date, co.write_date
                  FROM (%(source)s) AS src
                  JOIN res_partner co ON co.id = src.company_id,
                       LATERAL (SELECT %(person)s AS name) AS p
                """,
                id_column=id_column,
                id_value=id_value,
                function=_pick(FUNCTIONS, k, 14),
                phone=_hash(k, 15),
                source=source,
                person=person,
            )
        )

    # ------------------------------------------------------------------------------------
    # orders
    # ------------------------------------------------------------------------------------
    def _plan_orders(self):
        """Temporary tables deciding who orders what, when, and which orders are invoiced."""
        sizes = self.sizes
        j = SQL("j")
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_order ON COMMIT DROP AS
                SELECT j, cust,
                       %(base)s + cust AS customer_id,
                       CASE WHEN mod(j, 2) = 0 THEN %(base)s + cust
                            ELSE %(base)s + %(customers)s + cust END AS partner_id,
                       %(now)s::timestamp
                           - make_interval(secs => %(age)s * %(days)s * 86400) AS date_order,
                       CASE WHEN rank <= %(invoices)s THEN rank END AS inv_k
                  FROM (
                    SELECT j,
                           CASE WHEN j <= %(whale)s THEN 1
                                WHEN j <= %(whale)s + %(customers)s - 1 THEN j - %(whale)s + 1
                                ELSE 2 + floor((%(customers)s - 1) * %(skew)s ^ %(exponent)s)::int
                           END AS cust,
                           row_number() OVER (ORDER BY %(shuffle)s, j) AS rank
                      FROM generate_series(1, %(orders)s) AS j
                  ) AS s
                """,
                base=self.partner_base,
                customers=sizes.customers,
                now=self.now,
                age=_uniform(j, 21),
                days=HISTORY_DAYS,
                invoices=sizes.invoices,
                whale=sizes.whale_orders,
                skew=_uniform(j, 22),
                exponent=SKEW_EXPONENT,
                shuffle=_hash(j, 23),
                orders=sizes.orders,
            )
        )
        self._execute(SQL("CREATE UNIQUE INDEX ON bench_order (j)"))
        i = SQL("i")
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_line ON COMMIT DROP AS
                SELECT l.*, round(l.qty * l.price, 2) AS subtotal,
                       CASE WHEN l.invoiced THEN row_number() OVER (
                           PARTITION BY l.invoiced ORDER BY l.i) END AS inv_line
                  FROM (
                    SELECT i, o.j, 10 * ((i - 1) / %(orders)s + 1) AS sequence,
                           1 + mod(%(product)s, %(products)s) AS p,
                           1 + mod(%(qty)s, 10) AS qty,
                           (%(prices)s::numeric[])[1 + mod(%(product)s, %(products)s)] AS price,
                           o.inv_k IS NOT NULL AS invoiced
                      FROM generate_series(1, %(lines)s) AS i
                      JOIN bench_order o ON o.j = mod(i - 1, %(orders)s) + 1
                  ) AS l
                """,
                orders=sizes.orders,
                product=_hash(i, 31),
                products=len(self.product_ids),
                qty=_hash(i, 32),
                prices=self.product_prices,
                lines=sizes.order_lines,
            )
        )
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_order_total ON COMMIT DROP AS
                SELECT j, sum(subtotal) AS amount FROM bench_line GROUP BY j
                """
            )
        )
        self._execute(SQL("CREATE UNIQUE INDEX ON bench_order_total (j)"))
        self._execute(SQL("ANALYZE bench_order, bench_line, bench_order_total"))

    def _insert_orders(self):
        sizes = self.sizes
        self.order_base = self._reserve_ids("sale_order", sizes.orders)
        ref = self.ref
        self._execute(
            SQL(
                """
                INSERT INTO sale_order (
                    id, name, state, company_id, partner_id, partner_invoice_id,
                    partner_shipping_id, date_order, currency_id, currency_rate, user_id, team_id,
                    invoice_status, amount_untaxed, amount_tax, amount_total, locked,
                    require_signature, require_payment, prepayment_percent, commercial_partner_id,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT %(base)s + o.j, 'S' || lpad(o.j::text, greatest(5, length(o.j::text)), '0'),
                       'sale', %(company)s, o.partner_id, o.customer_id, o.partner_id,
                       o.date_order, %(currency)s, 1.0, %(uid)s, %(team)s,
                       CASE WHEN o.inv_k IS NULL THEN 'to invoice' ELSE 'invoiced' END,
                       t.amount, 0, t.amount, false, false, false, 1.0, o.customer_id,
                       %(uid)s, %(uid)s, o.date_order, o.date_order
                  FROM bench_order o
                  JOIN bench_order_total t ON t.j = o.j
                """,
                base=self.order_base,
                company=ref["company"],
                currency=ref["currency"],
                uid=ref["uid"],
                team=ref["team"],
            )
        )

    def _insert_order_lines(self):
        sizes = self.sizes
        self.order_line_base = self._reserve_ids("sale_order_line", sizes.order_lines)
        ref = self.ref
        self._execute(
            SQL(
                """
                INSERT INTO sale_order_line (
                    id, order_id, sequence, company_id, currency_id, order_partner_id,
                    salesman_id, product_id, product_uom, state, name, product_uom_qty,
                    price_unit, technical_price_unit, discount, price_subtotal, price_tax,
                    price_total, price_reduce_taxexcl, price_reduce_taxinc, qty_delivered_method,
                    qty_delivered, qty_invoiced, qty_to_invoice, untaxed_amount_invoiced,
                    untaxed_amount_to_invoice, invoice_status, is_downpayment, is_expense,
                    customer_lead, create_uid, write_uid, create_date, write_date
                )
                SELECT %(base)s + l.i, %(order_base)s + l.j, l.sequence, %(company)s,
                       %(currency)s, o.partner_id, %(uid)s, (%(product_ids)s::int[])[l.p],
                       %(uom)s, 'sale', (%(product_names)s::text[])[l.p], l.qty,
                       l.price, l.price, 0, l.subtotal, 0, l.subtotal, l.price, l.price, 'manual',
                       l.qty,
                       CASE WHEN l.invoiced THEN l.qty ELSE 0 END,
                       CASE WHEN l.invoiced THEN 0 ELSE l.qty END,
                       CASE WHEN l.invoiced THEN l.subtotal ELSE 0 END,
                       CASE WHEN l.invoiced THEN 0 ELSE l.subtotal END,
                       CASE WHEN l.invoiced THEN 'invoiced' ELSE 'to invoice' END,
                       false, false, 0, %(uid)s, %(uid)s, o.date_order, o.date_order
                  FROM bench_line l
                  JOIN bench_order o ON o.j = l.j
                """,
                base=self.order_line_base,
                order_base=self.order_base,
                company=ref["company"],
                currency=ref["currency"],
                uid=ref["uid"],
                product_ids=self.product_ids,
                uom=ref["uom"],
                product_names=self.product_names,
            )
        )

    # ------------------------------------------------------------------------------------
    # invoices
    # ------------------------------------------------------------------------------------
    def _insert_invoices(self):
        sizes = self.sizes
        ref = self.ref
        k = SQL("o.inv_k")
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_invoice ON COMMIT DROP AS
                SELECT s.*,
                       'INV/' || s.year || '/'
                           || lpad(s.number::text, greatest(5, length(s.number::text)), '0')
                           AS name,
                       CASE s.payment_state WHEN 'paid' THEN 0
                            WHEN 'partial' THEN round(s.amount / 2, 2)
                            ELSE s.amount END AS residual
                  FROM (
                    SELECT d.*,
                           extract(year FROM d.invoice_date)::int AS year,
                           row_number() OVER (
                               PARTITION BY extract(year FROM d.invoice_date)
                               ORDER BY d.invoice_date, d.k) AS number,
                           CASE WHEN d.due < %(today)s
                                THEN CASE WHEN d.luck < 0.75 THEN 'paid'
                                          WHEN d.luck < 0.80 THEN 'partial'
                                          ELSE 'not_paid' END
                                ELSE CASE WHEN d.luck < 0.10 THEN 'paid'
                                          ELSE 'not_paid' END
                           END AS payment_state
                      FROM (
                        SELECT o.inv_k AS k, o.j, o.customer_id, o.partner_id, t.amount,
                               least(%(today)s, o.date_order::date + mod(%(delay)s, 15)::int)
                                   AS invoice_date,
                               least(%(today)s, o.date_order::date + mod(%(delay)s, 15)::int)
                                   + %(payment_days)s AS due,
                               %(luck)s AS luck
                          FROM bench_order o
                          JOIN bench_order_total t ON t.j = o.j
                         WHERE o.inv_k IS NOT NULL
                      ) AS d
                  ) AS s
                """,
                today=self.today,
                delay=_hash(k, 41),
                payment_days=PAYMENT_DAYS,
                luck=_uniform(k, 42),
            )
        )
        self._execute(SQL("CREATE UNIQUE INDEX ON bench_invoice (k)"))
        self._execute(SQL("CREATE UNIQUE INDEX ON bench_invoice (j)"))
        self._execute(SQL("ANALYZE bench_invoice"))
        self.move_base = self._reserve_ids("account_move", sizes.invoices)
        self._execute(
            SQL(
                """
                INSERT INTO account_move (
                    id, name, sequence_prefix, sequence_number, journal_id, company_id,
                    partner_id, commercial_partner_id, partner_shipping_id, currency_id,
                    invoice_user_id, team_id, state, move_type, auto_post, payment_state,
                    payment_reference, invoice_origin, invoice_partner_display_name, date,
                    invoice_date, invoice_date_due, invoice_currency_rate, amount_untaxed,
                    amount_tax, amount_total, amount_residual, amount_untaxed_signed,
                    amount_untaxed_in_currency_signed, amount_tax_signed, amount_total_signed,
                    amount_total_in_currency_signed, amount_residual_signed, is_storno,
                    always_tax_exigible, checked, posted_before, made_sequence_gap,
                    is_manually_modified, is_move_sent, create_uid, write_uid, create_date,
                    write_date
                )
                SELECT %(base)s + i.k, i.name, 'INV/' || i.year || '/', i.number, %(journal)s,
                       %(company)s, i.customer_id, i.customer_id, i.partner_id, %(currency)s,
                       %(uid)s, %(team)s, 'posted', 'out_invoice', 'no', i.payment_state,
                       i.name, so.name, p.name, i.invoice_date, i.invoice_date, i.due, 1.0,
                       i.amount, 0, i.amount, i.residual, i.amount, i.amount, 0, i.amount,
                       i.amount, i.residual, false, false, true, true, false, false, true,
                       %(uid)s, %(uid)s, i.invoice_date, i.invoice_date
                  FROM bench_invoice i
                  JOIN sale_order so ON so.id = %(order_base)s + i.j
                  JOIN res_partner p ON p.id = i.customer_id
                """,
                base=self.move_base,
                journal=ref["journal"],
                company=ref["company"],
                currency=ref["currency"],
                uid=ref["uid"],
                team=ref["team"],
                order_base=self.order_base,
            )
        )

    def _insert_invoice_lines(self):
        sizes = self.sizes
        ref = self.ref
        self.cr.execute(SQL("SELECT count(*) FROM bench_line WHERE invoiced"))
        product_lines = self.cr.fetchone()[0]
        # receivable line of invoice k: base + k; product line n: base + invoices + n
        self.move_line_base = base = self._reserve_ids(
            "account_move_line", sizes.invoices + product_lines
        )
        common = {
            "base": base,
            "move_base": self.move_base,
            "journal": ref["journal"],
            "company": ref["company"],
            "currency": ref["currency"],
            "uid": ref["uid"],
        }
        self._execute(
            SQL(
                """
                INSERT INTO account_move_line (
                    id, move_id, journal_id, company_id, company_currency_id, currency_id,
                    sequence, account_id, partner_id, move_name, parent_state, name,
                    display_type, date, invoice_date, date_maturity, debit, credit, balance,
                    amount_currency, amount_residual, amount_residual_currency, reconciled,
                    full_reconcile_id, matching_number, tax_base_amount, quantity, price_unit,
                    price_subtotal, price_total, discount, discount_amount_currency,
                    discount_balance, is_imported, tax_tag_invert, is_downpayment, create_uid,
                    write_uid, create_date, write_date
                )
                SELECT %(base)s + i.k, %(move_base)s + i.k, %(journal)s, %(company)s,
                       %(currency)s, %(currency)s, 10000, %(receivable)s, i.customer_id, i.name,
                       'posted', i.name, 'payment_term', i.invoice_date, i.invoice_date, i.due,
                       i.amount, 0, i.amount, i.amount, i.residual, i.residual, i.residual = 0,
                       pm.full_id, %(matching)s,
                       0, 1, 0, 0, 0, 0, 0, 0, false, false, false,
                       %(uid)s, %(uid)s, i.invoice_date, i.invoice_date
                  FROM bench_invoice i
                  LEFT JOIN bench_payment pm ON pm.k = i.k
                """,
                matching=MATCHING_NUMBER,
                receivable=ref["receivable"],
                **common,
            )
        )
        self._execute(
            SQL(
                """
                INSERT INTO account_move_line (
                    id, move_id, journal_id, company_id, company_currency_id, currency_id,
                    sequence, account_id, partner_id, move_name, parent_state, name,
                    display_type, date, invoice_date, product_id, product_uom_id, debit, credit,
                    balance, amount_currency, amount_residual, amount_residual_currency,
                    reconciled, tax_base_amount, quantity, price_unit, price_subtotal,
                    price_total, discount, discount_amount_currency, discount_balance,
                    is_imported, tax_tag_invert, is_downpayment, create_uid, write_uid,
                    create_date, write_date
                )
                SELECT %(base)s + %(invoices)s + l.inv_line, %(move_base)s + i.k, %(journal)s,
                       %(company)s, %(currency)s, %(currency)s, l.sequence, %(income)s,
                       i.customer_id, i.name, 'posted', (%(product_names)s::text[])[l.p],
                       'product', i.invoice_date, i.invoice_date,
                       (%(product_ids)s::int[])[l.p], %(uom)s, 0, l.subtotal, -l.subtotal,
                       -l.subtotal, 0, 0, false, 0, l.qty, l.price, l.subtotal, l.subtotal, 0, 0,
                       0, false, false, false, %(uid)s, %(uid)s, i.invoice_date, i.invoice_date
                  FROM bench_line l
                  JOIN bench_invoice i ON i.j = l.j
                 WHERE l.invoiced
                """,
                invoices=sizes.invoices,
                income=ref["income"],
                product_names=self.product_names,
                product_ids=self.product_ids,
                uom=ref["uom"],
                **common,
            )
        )
        self._execute(
            SQL(
                """
                INSERT INTO sale_order_line_invoice_rel (invoice_line_id, order_line_id)
                SELECT %(base)s + %(invoices)s + l.inv_line, %(order_line_base)s + l.i
                  FROM bench_line l
                 WHERE l.invoiced
                """,
                base=base,
                invoices=sizes.invoices,
                order_line_base=self.order_line_base,
            )
        )

    # ------------------------------------------------------------------------------------
    # payments
    # ------------------------------------------------------------------------------------
    def _insert_payments(self):
        """One bank journal entry per paid or partially paid invoice, reconciled with it.

        Plain entries (no ``account.payment``), as a bank reconciliation would book them: the
        invoices' ``payment_state`` computes to what was generated.
        """
        ref = self.ref
        self.cr.execute(
            SQL(
                "SELECT count(*), count(*) FILTER (WHERE payment_state = 'paid')"
                "  FROM bench_invoice WHERE payment_state IN ('paid', 'partial')"
            )
        )
        payments, paid = self.cr.fetchone()
        move_base = self._reserve_ids("account_move", payments)
        line_base = self._reserve_ids("account_move_line", 2 * payments)
        partial_base = self._reserve_ids("account_partial_reconcile", payments)
        full_base = self._reserve_ids("account_full_reconcile", paid)
        k = SQL("i.k")
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_payment ON COMMIT DROP AS
                SELECT s.*,
                       %(move_base)s + s.n AS move_id,
                       %(line_base)s + 2 * s.n - 1 AS bank_line_id,
                       %(line_base)s + 2 * s.n AS line_id,
                       %(partial_base)s + s.n AS partial_id,
                       %(full_base)s + s.full_n AS full_id,
                       %(code)s || '/' || s.year || '/' AS prefix,
                       %(code)s || '/' || s.year || '/'
                           || lpad(s.number::text, greatest(5, length(s.number::text)), '0')
                           AS name
                  FROM (
                    SELECT p.*,
                           extract(year FROM p.pay_date)::int AS year,
                           row_number() OVER (
                               PARTITION BY extract(year FROM p.pay_date)
                               ORDER BY p.pay_date, p.n) AS number
                      FROM (
                        SELECT i.k, i.customer_id, i.name AS invoice_name, i.invoice_date,
                               i.amount - i.residual AS amount,
                               least(%(today)s, i.invoice_date + mod(%(delay)s, %(days)s)::int)
                                   AS pay_date,
                               row_number() OVER (ORDER BY i.k) AS n,
                               CASE WHEN i.payment_state = 'paid' THEN row_number() OVER (
                                   PARTITION BY i.payment_state ORDER BY i.k) END AS full_n
                          FROM bench_invoice i
                         WHERE i.payment_state IN ('paid', 'partial')
                      ) AS p
                  ) AS s
                """,
                move_base=move_base,
                line_base=line_base,
                partial_base=partial_base,
                full_base=full_base,
                code=ref["bank_code"],
                today=self.today,
                delay=_hash(k, 51),
                days=PAYMENT_DELAY_DAYS,
            )
        )
        self._execute(SQL("CREATE UNIQUE INDEX ON bench_payment (k)"))
        self._execute(SQL("ANALYZE bench_payment"))
        self._execute(
            SQL(
                """
                INSERT INTO account_move (
                    id, name, sequence_prefix, sequence_number, journal_id, company_id,
                    partner_id, commercial_partner_id, currency_id, state, move_type, auto_post,
                    payment_state, ref, date, invoice_currency_rate, amount_untaxed, amount_tax,
                    amount_total, amount_residual, amount_untaxed_signed,
                    amount_untaxed_in_currency_signed, amount_tax_signed, amount_total_signed,
                    amount_total_in_currency_signed, amount_residual_signed, is_storno,
                    always_tax_exigible, checked, posted_before, made_sequence_gap,
                    is_manually_modified, is_move_sent, create_uid, write_uid, create_date,
                    write_date
                )
                SELECT pm.move_id, pm.name, pm.prefix, pm.number, %(journal)s, %(company)s,
                       pm.customer_id, pm.customer_id, %(currency)s, 'posted', 'entry', 'no',
                       'not_paid', 'Thanh toán ' || pm.invoice_name, pm.pay_date, 1.0, 0, 0,
                       pm.amount, 0, 0, 0, 0, pm.amount, pm.amount, 0, false, true, true, true,
                       false, false, false, %(uid)s, %(uid)s, pm.pay_date, pm.pay_date
                  FROM bench_payment pm
                """,
                journal=ref["bank_journal"],
                company=ref["company"],
                currency=ref["currency"],
                uid=ref["uid"],
            )
        )
        self._execute(
            SQL(
                """
                INSERT INTO account_full_reconcile (id, create_uid, write_uid, create_date,
                                                    write_date)
                SELECT pm.full_id, %(uid)s, %(uid)s, pm.pay_date, pm.pay_date
                  FROM bench_payment pm
                 WHERE pm.full_id IS NOT NULL
                """,
                uid=ref["uid"],
            )
        )

    def _insert_payment_lines(self):
        ref = self.ref
        common = {
            "journal": ref["bank_journal"],
            "company": ref["company"],
            "currency": ref["currency"],
            "uid": ref["uid"],
        }
        for line_id, account, debit, credit, residual, sequence in (
            (
                SQL("pm.bank_line_id"),
                ref["bank_account"],
                SQL("pm.amount"),
                0,
                SQL("pm.amount"),
                10,
            ),
            (SQL("pm.line_id"), ref["receivable"], 0, SQL("pm.amount"), 0, 20),
        ):
            self._execute(
                SQL(
                    """
                    INSERT INTO account_move_line (
                        id, move_id, journal_id, company_id, company_currency_id, currency_id,
                        sequence, account_id, partner_id, move_name, parent_state, name,
                        display_type, date, date_maturity, debit, credit, balance,
                        amount_currency, amount_residual, amount_residual_currency, reconciled,
                        full_reconcile_id, matching_number, tax_base_amount, quantity,
                        price_unit, price_subtotal, price_total, discount,
                        discount_amount_currency, discount_balance, is_imported, tax_tag_invert,
                        is_downpayment, create_uid, write_uid, create_date, write_date
                    )
                    SELECT %(line_id)s, pm.move_id, %(journal)s, %(company)s, %(currency)s,
                           %(currency)s, %(sequence)s, %(account)s, pm.customer_id, pm.name,
                           'posted', 'Thanh toán ' || pm.invoice_name, 'product', pm.pay_date,
                           pm.pay_date, %(debit)s, %(credit)s, %(debit)s - %(credit)s,
                           %(debit)s - %(credit)s, %(residual)s, %(residual)s, %(reconciled)s,
                           %(full)s, %(matching)s, 0, 1, 0, 0, 0, 0, 0, 0, false, false, false,
                           %(uid)s, %(uid)s, pm.pay_date, pm.pay_date
                      FROM bench_payment pm
                    """,
                    line_id=line_id,
                    sequence=sequence,
                    account=account,
                    debit=debit,
                    credit=credit,
                    residual=residual,
                    reconciled=account == ref["receivable"],
                    full=SQL("pm.full_id") if account == ref["receivable"] else None,
                    matching=MATCHING_NUMBER if account == ref["receivable"] else None,
                    **common,
                )
            )
        self._execute(
            SQL(
                """
                INSERT INTO account_partial_reconcile (
                    id, debit_move_id, credit_move_id, full_reconcile_id, debit_currency_id,
                    credit_currency_id, company_id, max_date, amount, debit_amount_currency,
                    credit_amount_currency, create_uid, write_uid, create_date, write_date
                )
                SELECT pm.partial_id, %(invoice_line_base)s + pm.k, pm.line_id, pm.full_id,
                       %(currency)s, %(currency)s, %(company)s,
                       greatest(pm.invoice_date, pm.pay_date), pm.amount, pm.amount, pm.amount,
                       %(uid)s, %(uid)s, pm.pay_date, pm.pay_date
                  FROM bench_payment pm
                """,
                invoice_line_base=self.move_line_base,
                currency=ref["currency"],
                company=ref["company"],
                uid=ref["uid"],
            )
        )

    # ------------------------------------------------------------------------------------
    # contact logs
    # ------------------------------------------------------------------------------------
    def _plan_contact_logs(self):
        """Temporary table ``bench_log``: one row per contact log, with every column decided.

        Log ``n`` belongs to customer ``c``; its state comes from one draw (``r``), its dates
        are taken at business hours in Vietnam (01:00 to 10:00 UTC).
        """
        sizes = self.sizes
        c, n = SQL("c"), SQL("g.n")
        business_minutes = SQL("make_interval(mins => 60 + mod(%s, 540)::int)", _hash(n, 64))
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_person ON COMMIT DROP AS
                SELECT parent_id AS company_id, id,
                       row_number() OVER (PARTITION BY parent_id ORDER BY id) AS idx,
                       count(*) OVER (PARTITION BY parent_id) AS persons
                  FROM res_partner
                 WHERE parent_id BETWEEN %(base)s + 1 AND %(base)s + %(customers)s
                """,
                base=self.partner_base,
                customers=sizes.customers,
            )
        )
        self._execute(SQL("CREATE UNIQUE INDEX ON bench_person (company_id, idx)"))
        self._execute(SQL("ANALYZE bench_person"))
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_log_draw ON COMMIT DROP AS
                SELECT row_number() OVER (ORDER BY c, m) AS n, c, %(base)s + c AS customer_id
                  FROM generate_series(1, %(customers)s) AS c,
                       generate_series(1, CASE WHEN c = 1 THEN %(whale_logs)s
                                               ELSE floor(%(cap)s * %(u)s ^ %(exponent)s)::int
                                          END) AS m
                """,
                base=self.partner_base,
                customers=sizes.customers,
                whale_logs=sizes.whale_logs,
                cap=MAX_LOGS + 1,
                u=_uniform(c, 61),
                exponent=LOG_SKEW_EXPONENT,
            )
        )
        overdue_from = 0.90
        self._execute(
            SQL(
                """
                CREATE TEMPORARY TABLE bench_log ON COMMIT DROP AS
                SELECT d.*,
                       CASE WHEN d.state = 'done' THEN d.held_on ELSE d.planned_on END
                           AS sort_date,
                       CASE WHEN d.state = 'done' AND d.planned_on IS NULL THEN 'unplanned'
                            WHEN d.state = 'done' AND d.held_on <= d.planned_on + interval '24h'
                                THEN 'on_time'
                            WHEN d.state = 'done' THEN 'late'
                            WHEN d.state = 'missed' THEN 'missed' END AS planned_result,
                       CASE WHEN d.state = 'missed' THEN d.planned_on + interval '25h' END
                           AS missed_date,
                       CASE WHEN d.planned_on IS NULL THEN d.held_on
                            ELSE least(%(now)s, d.planned_on - interval '7 days') END AS created,
                       CASE WHEN d.state IN ('planned', 'missed')
                            THEN row_number() OVER (
                                PARTITION BY d.state IN ('planned', 'missed') ORDER BY d.n)
                       END AS activity_k
                  FROM (
                    SELECT g.n, g.customer_id, g.state,
                           COALESCE(pp.id, g.customer_id) AS partner_id,
                           CASE WHEN g.state = 'done' THEN g.past END AS held_on,
                           CASE WHEN g.state = 'done' AND g.was_planned
                                    THEN g.past - make_interval(hours => g.delay_hours)
                                WHEN g.state = 'done' THEN NULL
                                WHEN g.r < %(overdue_from)s THEN g.future
                                WHEN g.state = 'planned' THEN g.overdue
                                WHEN g.state = 'missed' THEN g.past - interval '2 days'
                                ELSE g.past END AS planned_on,
                           %(name)s AS name, %(channel)s AS channel, %(note)s AS note,
                           CASE WHEN g.state = 'done' AND %(inbound)s < 0.3 THEN 'inbound'
                                ELSE 'outbound' END AS direction,
                           CASE WHEN g.state = 'done' AND %(reached)s < 0.85
                                THEN (%(outcomes)s::int[])[1 + mod(%(outcome)s, %(outcome_count)s)]
                           END AS outcome_id,
                           CASE WHEN g.state = 'done'
                                THEN round((0.05 + %(duration)s * 1.2)::numeric, 2) END
                               AS duration,
                           (ARRAY[0.25, 0.25, 0.5, 1.0])[1 + mod(%(planned_duration)s, 4)]
                               AS planned_duration,
                           CASE WHEN %(own)s < 0.8
                                THEN (%(salespeople)s::int[])[1 + mod(%(owner)s, %(count)s)]
                                ELSE (%(salespeople)s::int[])[1 + mod(%(other)s, %(count)s)]
                           END AS user_id
                      FROM (
                        SELECT g.*,
                               CASE WHEN g.r < 0.85 THEN 'done'
                                    WHEN g.r < %(overdue_to)s THEN 'planned'
                                    WHEN g.r < 0.97 THEN 'missed'
                                    ELSE 'cancelled' END AS state,
                               (%(today)s - (1 + floor(%(age)s * %(days)s))::int)::timestamp
                                   + %(minutes)s AS past,
                               (%(today)s + (1 + floor(%(ahead)s * 90))::int)::timestamp
                                   + %(minutes)s AS future,
                               (%(today)s - (2 + floor(%(ahead)s * 58))::int)::timestamp
                                   + %(minutes)s AS overdue,
                               %(planned)s < 0.35 AS was_planned,
                               CASE WHEN %(on_time)s < 0.75 THEN mod(%(delay)s, 20)::int
                                    ELSE 24 * (2 + mod(%(delay)s, 8)::int) END AS delay_hours
                          FROM (SELECT *, %(r)s AS r FROM bench_log_draw g) AS g
                      ) AS g
                      LEFT JOIN bench_person pp
                        ON pp.company_id = g.customer_id
                       AND pp.idx = mod(%(who)s, pp.persons + 1)
                  ) AS d
                """,
                now=self.now,
                overdue_from=overdue_from,
                overdue_to=overdue_from + OVERDUE_LOG_SHARE,
                r=_uniform(n, 62),
                age=_uniform(n, 63),
                days=HISTORY_DAYS,
                minutes=business_minutes,
                ahead=_uniform(n, 65),
                today=self.today,
                planned=_uniform(n, 66),
                on_time=_uniform(n, 67),
                delay=_hash(n, 68),
                name=_pick(LOG_SUBJECTS, n, 69),
                channel=_pick(LOG_CHANNELS, n, 70),
                note=SQL(
                    "CASE WHEN g.state = 'done' AND %s < 0.5 THEN '<p>' || %s || '</p>' END",
                    _uniform(n, 71),
                    _pick(LOG_NOTES, n, 72),
                ),
                inbound=_uniform(n, 73),
                reached=_uniform(n, 74),
                outcomes=self.outcome_ids or [None],
                outcome=_hash(n, 75),
                outcome_count=max(1, len(self.outcome_ids)),
                duration=_uniform(n, 76),
                planned_duration=_hash(n, 77),
                own=_uniform(n, 78),
                salespeople=self.salesperson_ids,
                owner=_hash(SQL("g.customer_id"), 79),
                other=_hash(n, 80),
                count=len(self.salesperson_ids),
                who=_hash(n, 81),
            )
        )
        self._execute(SQL("ANALYZE bench_log"))
        self.cr.execute(SQL("SELECT count(*), count(activity_k) FROM bench_log"))
        logs, activities = self.cr.fetchone()
        self.log_base = self._reserve_ids("crm_contact_log", logs)
        self.activity_base = self._reserve_ids("mail_activity", activities)
        log(f"  {logs} contact logs, {activities} planned or missed")

    def _insert_contact_logs(self):
        ref = self.ref
        self._execute(
            SQL(
                """
                INSERT INTO crm_contact_log (
                    id, name, state, active, partner_id, commercial_partner_id, user_id,
                    team_id, company_id, channel, direction, planned_date, planned_duration,
                    date, duration, sort_date, missed_date, manager_notified, planned_result,
                    content, outcome_id, planned_activity_id,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT %(base)s + l.n, l.name, l.state, true, l.partner_id, l.customer_id,
                       l.user_id, %(team)s, %(company)s, l.channel, l.direction, l.planned_on,
                       l.planned_duration, l.held_on, l.duration, l.sort_date, l.missed_date,
                       l.state = 'missed' AND l.missed_date < %(now)s - interval '48h',
                       l.planned_result, l.note, l.outcome_id,
                       %(activity_base)s + l.activity_k,
                       l.user_id, l.user_id, l.created,
                       COALESCE(l.missed_date, l.held_on, l.created)
                  FROM bench_log l
                """,
                base=self.log_base,
                team=ref["team"],
                company=ref["company"],
                now=self.now,
                activity_base=self.activity_base,
            )
        )

    def _insert_contact_activities(self):
        """The activity the ORM keeps on every planned or missed contact (``planned_activity_id``),
        due on the planned day in the salesperson's time zone."""
        ref = self.ref
        self._execute(
            SQL(
                """
                INSERT INTO mail_activity (
                    id, res_model_id, res_model, res_id, res_name, activity_type_id, summary,
                    user_id, user_tz, date_deadline, automated, active,
                    create_uid, write_uid, create_date, write_date
                )
                SELECT %(activity_base)s + l.activity_k, %(model)s, 'crm.contact.log',
                       %(base)s + l.n, l.name, %(type)s, l.name, l.user_id, %(tz)s,
                       (l.planned_on AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date, false, true,
                       l.user_id, l.user_id, l.created, l.created
                  FROM bench_log l
                 WHERE l.activity_k IS NOT NULL
                """,
                activity_base=self.activity_base,
                base=self.log_base,
                model=ref["log_model"],
                type=ref["log_activity_type"],
                tz="Asia/Ho_Chi_Minh",
            )
        )

    def _update_contact_dates(self):
        """``last_contact_date``/``next_contact_date`` of every customer and its contact persons,
        as ``res.partner._compute_contact_dates`` computes them."""
        self._execute(
            SQL(
                """
                UPDATE res_partner p
                   SET last_contact_date = d.last_date, next_contact_date = d.next_date
                  FROM (
                    SELECT commercial_partner_id,
                           max(date) FILTER (WHERE state = 'done') AS last_date,
                           min(planned_date) FILTER (WHERE state IN ('planned', 'missed'))
                               AS next_date
                      FROM crm_contact_log
                     WHERE active
                     GROUP BY commercial_partner_id
                  ) AS d
                 WHERE p.commercial_partner_id = d.commercial_partner_id
                """
            )
        )

    # ------------------------------------------------------------------------------------
    # finishing
    # ------------------------------------------------------------------------------------
    def _recompute_addon_fields(self):
        """Compute the addon's stored computed fields on the generated records.

        The rows above are written behind the ORM's back, after crm_extended was installed: the
        stored fields crm_extended adds to these models (counters, segments, ...) would stay
        empty. They are computed here by the ORM, as an install would have. Standard fields that
        crm_extended merely redefines keep the values written above, and so do the ones the
        generator writes itself (``WRITTEN_COMPUTED_FIELDS``: recomputing them on half a million
        contact logs with the ORM would take longer than the rest of the generation).
        """
        self.env.invalidate_all()
        for model_name in GENERATED_MODELS:
            model = self.env[model_name].with_context(active_test=False)
            written = WRITTEN_COMPUTED_FIELDS.get(model_name, set())
            fields = [
                field
                for field in model._fields.values()
                if field.store
                and field.compute
                and set(field._modules or ()) == {ADDON}
                and field.name not in written
            ]
            if not fields:
                continue
            records = model.search([])
            for field in fields:
                self.env.add_to_compute(field, records)
            started = time.perf_counter()
            self.env.flush_all()
            elapsed = time.perf_counter() - started
            names = ", ".join(field.name for field in fields)
            log(f"  {model_name}: {names} on {len(records)} records in {elapsed:.1f}s")
            self.env.invalidate_all()

    def _fix_sequences(self):
        """Next sales order gets the name after the generated ones (S00001 .. Sxxxxx)."""
        sequences = self.env["ir.sequence"].search([("code", "=", "sale.order")])
        sequences.write({"number_next": self.sizes.orders + 1})
        self.env.flush_all()

    def _analyze(self):
        for table in TOUCHED_TABLES:
            self._execute(SQL("ANALYZE %s", SQL.identifier(table)))


def vacuum(connection):
    """VACUUM ANALYZE the generated tables (``connection`` must be in autocommit mode)."""
    with connection.cursor() as cursor:
        for table in TOUCHED_TABLES:
            started = time.perf_counter()
            cursor.execute(SQL("VACUUM ANALYZE %s", SQL.identifier(table)).code)
            log(f"vacuum {table}: {time.perf_counter() - started:.1f}s")


def generate(env, scale):
    """Generate the data set at ``scale`` in the transaction of ``env``; return the seconds."""
    return Generator(env, scale).run()
