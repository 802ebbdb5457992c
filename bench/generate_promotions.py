"""Purchase history and marketing consent of the benchmark: what promotion plans work on.

The base data set (``generate.py``) spreads 300,000 orders and 1,000,000 order lines over three
years; the purchase trends look back 24 months, which hold two thirds of them. This step adds the
recent repeat business that brings the 24-month window to the issue's size at ``scale=1``:

- 50,000 more confirmed sales orders (``PROMOTION_ORDERS``, named after the base ones) with
  333,000 lines (``PROMOTION_ORDER_LINES``, about 6.7 per order: restocking orders are larger),
  dated over the last 24 months, more often recently for the customers that buy often, so the
  window holds about 250,000 orders and 1,000,000 lines of the 100,000 customers;
- the customers' consent: 80% accept marketing (``CONSENT_SHARE``, with a consent date and
  source), 2% asked not to be contacted (``DO_NOT_CONTACT_SHARE``), 60% have a mobile number.

The orders are not invoiced (``to invoice``): the trends read confirmed orders. Nothing else is
written here: the plans, programs and coupons of the measurements are created by the
measurements themselves and rolled back. ``refresh_purchase_trends`` then fills the purchase
trends as their daily job would have.
"""

from odoo.tools import SQL

BASE_PROMOTION_ORDERS = 50_000
BASE_PROMOTION_ORDER_LINES = 333_000
WINDOW_DAYS = 730
# customer of an extra order: 2 + floor((N - 1) * u ^ REPEAT_SKEW_EXPONENT), u uniform
REPEAT_SKEW_EXPONENT = 2
CONSENT_SHARE = 0.8
DO_NOT_CONTACT_SHARE = 0.02
MOBILE_SHARE = 0.6
CONSENT_SOURCES = ["Phiếu đăng ký", "Website", "Điện thoại", "Hội chợ"]


def _hash(expr, salt):
    return SQL("(hashint8((%s)::bigint * 1019 + %s)::bigint + 2147483648)", expr, salt)


def _uniform(expr, salt):
    return SQL("(%s / 4294967296.0)", _hash(expr, salt))


def promotion_orders(scale):
    """Number of the extra orders at ``scale`` (the sale.order sequence continues after them)."""
    return max(10, round(BASE_PROMOTION_ORDERS * scale))


def promotion_order_lines(scale):
    return max(promotion_orders(scale), round(BASE_PROMOTION_ORDER_LINES * scale))


def insert_promotions(gen):
    """Write the extra orders and the consent of ``gen`` (a Generator)'s customers.

    Uses ``gen.sizes`` (customers, orders: the extra orders are numbered after the base ones),
    ``gen.partner_base`` (customer c is the partner ``partner_base + c``, its first contact person
    ``partner_base + customers + c``), ``gen.product_ids/product_names/product_prices``.
    """
    _update_consent(gen)
    _insert_orders(gen)


def _update_consent(gen):
    c = SQL("(p.id - %s)", gen.partner_base)
    gen._execute(
        SQL(
            """
            UPDATE res_partner p
               SET marketing_consent = %(consent)s < %(consent_share)s,
                   marketing_consent_date = CASE WHEN %(consent)s < %(consent_share)s
                       THEN %(today)s::date - mod(%(h)s, 700)::int END,
                   marketing_consent_source = CASE WHEN %(consent)s < %(consent_share)s
                       THEN (%(sources)s::text[])[1 + mod(%(h)s, %(source_count)s)] END,
                   do_not_contact = %(dnc)s < %(dnc_share)s,
                   do_not_contact_reason = CASE WHEN %(dnc)s < %(dnc_share)s
                       THEN 'Khách hàng yêu cầu không liên hệ quảng cáo' END,
                   mobile = CASE WHEN %(mobile)s < %(mobile_share)s
                       THEN '+84 9' || lpad(mod(%(h)s, 100000000)::text, 8, '0') END
             WHERE p.id BETWEEN %(base)s + 1 AND %(base)s + %(customers)s
            """,
            consent=_uniform(c, 1),
            consent_share=CONSENT_SHARE,
            dnc=_uniform(c, 2),
            dnc_share=DO_NOT_CONTACT_SHARE,
            mobile=_uniform(c, 3),
            mobile_share=MOBILE_SHARE,
            h=_hash(c, 4),
            today=gen.today,
            sources=CONSENT_SOURCES,
            source_count=len(CONSENT_SOURCES),
            base=gen.partner_base,
            customers=gen.sizes.customers,
        )
    )


def _insert_orders(gen):
    customers = gen.sizes.customers
    orders = promotion_orders(gen.scale)
    lines = promotion_order_lines(gen.scale)
    ref = gen.ref
    j = SQL("j")
    # the frequent buyers (small numbers) buy more recently: age = u ^ (1 + rank share)
    gen._execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_promo_order ON COMMIT DROP AS
            SELECT j, cust, %(base)s + cust AS customer_id,
                   CASE WHEN mod(j, 2) = 0 THEN %(base)s + cust
                        ELSE %(base)s + %(customers)s + cust END AS partner_id,
                   %(now)s::timestamp - make_interval(
                       secs => %(age)s ^ (2.0 - cust::float / %(customers)s) * %(days)s * 86400
                   ) AS date_order
              FROM (
                SELECT j, 2 + floor((%(customers)s - 1) * %(skew)s ^ %(exponent)s)::int AS cust
                  FROM generate_series(1, %(orders)s) AS j
              ) AS s
            """,
            base=gen.partner_base,
            customers=customers,
            now=gen.now,
            age=_uniform(j, 11),
            days=WINDOW_DAYS - 1,
            skew=_uniform(j, 12),
            exponent=REPEAT_SKEW_EXPONENT,
            orders=orders,
        )
    )
    gen._execute(SQL("CREATE UNIQUE INDEX ON bench_promo_order (j)"))
    i = SQL("i")
    gen._execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_promo_line ON COMMIT DROP AS
            SELECT l.*, round(l.qty * l.price, 2) AS subtotal
              FROM (
                SELECT i, mod(i - 1, %(orders)s) + 1 AS j,
                       10 * ((i - 1) / %(orders)s + 1) AS sequence,
                       1 + mod(%(product)s, %(products)s) AS p,
                       1 + mod(%(qty)s, 10) AS qty,
                       (%(prices)s::numeric[])[1 + mod(%(product)s, %(products)s)] AS price
                  FROM generate_series(1, %(lines)s) AS i
              ) AS l
            """,
            orders=orders,
            product=_hash(i, 13),
            products=len(gen.product_ids),
            qty=_hash(i, 14),
            prices=gen.product_prices,
            lines=lines,
        )
    )
    gen._execute(SQL("ANALYZE bench_promo_order, bench_promo_line"))
    order_base = gen._reserve_ids("sale_order", orders)
    # numbered after the base orders: S300001 ... at scale 1
    first_number = gen.sizes.orders
    gen._execute(
        SQL(
            """
            INSERT INTO sale_order (
                id, name, state, company_id, partner_id, partner_invoice_id,
                partner_shipping_id, date_order, currency_id, currency_rate, user_id, team_id,
                invoice_status, amount_untaxed, amount_tax, amount_total, locked,
                require_signature, require_payment, prepayment_percent, commercial_partner_id,
                create_uid, write_uid, create_date, write_date
            )
            SELECT %(base)s + o.j,
                   'S' || lpad((%(first)s + o.j)::text,
                               greatest(5, length((%(first)s + o.j)::text)), '0'),
                   'sale', %(company)s, o.partner_id, o.customer_id, o.partner_id,
                   o.date_order, %(currency)s, 1.0, p.user_id, %(team)s, 'to invoice',
                   t.amount, 0, t.amount, false, false, false, 1.0, o.customer_id,
                   %(uid)s, %(uid)s, o.date_order, o.date_order
              FROM bench_promo_order o
              JOIN res_partner p ON p.id = o.customer_id
              JOIN (SELECT j, sum(subtotal) AS amount FROM bench_promo_line GROUP BY j) AS t
                ON t.j = o.j
            """,
            base=order_base,
            first=first_number,
            company=ref["company"],
            currency=ref["currency"],
            uid=ref["uid"],
            team=ref["team"],
        )
    )
    line_base = gen._reserve_ids("sale_order_line", lines)
    gen._execute(
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
                   l.qty, 0, l.qty, 0, l.subtotal, 'to invoice', false, false, 0,
                   %(uid)s, %(uid)s, o.date_order, o.date_order
              FROM bench_promo_line l
              JOIN bench_promo_order o ON o.j = l.j
            """,
            base=line_base,
            order_base=order_base,
            company=ref["company"],
            currency=ref["currency"],
            uid=ref["uid"],
            product_ids=gen.product_ids,
            uom=ref["uom"],
            product_names=gen.product_names,
        )
    )


def refresh_purchase_trends(gen):
    """Fill the purchase trends (``crm.customer.rfm`` and today's snapshot) as the daily job
    would have, so that plans have an audience."""
    gen.env.flush_all()
    rows = gen.env["crm.customer.rfm"]._refresh()
    gen.env.invalidate_all()
    return rows
