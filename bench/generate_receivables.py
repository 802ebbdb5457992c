"""Open receivables and contracts of the benchmark: what the payment reminder job works on.

Sizes at ``scale=1``: 20,000 customers (``KH000002`` .. ``KH020001``, the whale left out), each
with one active contract (``crm.contract``, HD/yyyy/000001 ..., one line) and 10 open posted
invoices of that contract (200,000 invoices, INVR/yyyy/00001 ...), so 200,000 open invoices
spread over 20,000 customers as in the issue. Every fourth customer's second invoice is payable
in two installments (two receivable lines, the second due 30 days after the first).

Each customer is given how late its oldest invoice is, so that the job has every level to send:
a fifth are not late yet, two fifths 4 to 15 days late (friendly email), three tenths 16 to 30
(firm email and a planned call), a tenth 31 to 60 (a PDF letter and the manager told). Its ten
invoices fell due every four days before that. About 2% of the invoices are disputed and 3% of
the customers have an open payment promise covering their late invoices, so the job has both
to skip. No payment, tax or currency other than the company's.
"""

from odoo.tools import SQL

BASE_RECEIVABLE_CUSTOMERS = 20_000
INVOICES_PER_CUSTOMER = 10
PAYMENT_DAYS = 30
DISPUTED_SHARE = 0.02
PROMISE_SHARE = 0.03


def _hash(expr, salt):
    return SQL("(hashint8((%s)::bigint * 1013 + %s)::bigint + 2147483648)", expr, salt)


def _uniform(expr, salt):
    return SQL("(%s / 4294967296.0)", _hash(expr, salt))


def receivable_customers(scale):
    return max(10, round(BASE_RECEIVABLE_CUSTOMERS * scale))


def insert_receivables(gen):
    """Write the contracts, open invoices, disputes and promises of ``gen`` (a Generator)."""
    customers = receivable_customers(gen.scale)
    ref = gen.ref
    c = SQL("c")
    # the customers: 2 .. customers + 1 (the whale, 1, keeps its own history)
    gen._execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_receivable_customer ON COMMIT DROP AS
            SELECT c, %(partner_base)s + c AS partner_id, p.user_id,
                   CASE WHEN %(u)s < 0.2 THEN -5 - mod(%(h)s, 20)::int
                        WHEN %(u)s < 0.6 THEN 4 + mod(%(h)s, 12)::int
                        WHEN %(u)s < 0.9 THEN 16 + mod(%(h)s, 15)::int
                        ELSE 31 + mod(%(h)s, 30)::int END AS oldest_days
              FROM generate_series(2, %(customers)s + 1) AS c
              JOIN res_partner p ON p.id = %(partner_base)s + c
            """,
            partner_base=gen.partner_base,
            customers=customers,
            u=_uniform(c, 1),
            h=_hash(c, 2),
        )
    )
    contract_base = gen._reserve_ids("crm_contract", customers)
    gen._execute(
        SQL(
            """
            INSERT INTO crm_contract (
                id, name, title, active, company_id, partner_id, commercial_partner_id, user_id,
                currency_id, date_signed, date_start, date_end, state, invoicing_kind,
                payment_status, create_uid, write_uid, create_date, write_date
            )
            SELECT %(base)s + rc.c - 1,
                   'HD/' || extract(year FROM %(start)s::date) || '/'
                       || lpad((rc.c - 1)::text, 6, '0'),
                   'Hợp đồng cung cấp thiết bị ' || (rc.c - 1),
                   true, %(company)s, rc.partner_id, rc.partner_id, rc.user_id, %(currency)s,
                   %(start)s::date - 3, %(start)s::date,
                   %(start)s::date + 395 + mod(%(h)s, 300)::int,
                   'active', 'none', 'up_to_date', %(uid)s, %(uid)s, %(start)s, %(start)s
              FROM bench_receivable_customer rc
            """,
            base=contract_base,
            start=gen.today.replace(year=gen.today.year - 1),
            company=ref["company"],
            currency=ref["currency"],
            uid=ref["uid"],
            h=_hash(SQL("rc.c"), 3),
        )
    )
    line_base = gen._reserve_ids("crm_contract_line", customers)
    gen._execute(
        SQL(
            """
            INSERT INTO crm_contract_line (
                id, contract_id, sequence, company_id, product_id, name, quantity, currency_id,
                price_unit, create_uid, write_uid, create_date, write_date
            )
            SELECT %(line_base)s + rc.c - 1, %(contract_base)s + rc.c - 1, 10, %(company)s,
                   (%(product_ids)s::int[])[1 + mod(rc.c, %(products)s)],
                   (%(product_names)s::text[])[1 + mod(rc.c, %(products)s)],
                   %(per_customer)s, %(currency)s,
                   100 + mod(%(h)s, 4900)::int, %(uid)s, %(uid)s, now(), now()
              FROM bench_receivable_customer rc
            """,
            line_base=line_base,
            contract_base=contract_base,
            company=ref["company"],
            currency=ref["currency"],
            uid=ref["uid"],
            product_ids=gen.product_ids,
            product_names=gen.product_names,
            products=len(gen.product_ids),
            per_customer=INVOICES_PER_CUSTOMER,
            h=_hash(SQL("rc.c"), 4),
        )
    )
    # the invoices: invoice n (1-based) of customer c; the first is the oldest
    gen._execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_receivable ON COMMIT DROP AS
            SELECT s.*,
                   'INVR/' || extract(year FROM s.invoice_date) || '/'
                       || lpad(s.number::text, 6, '0') AS name
              FROM (
                SELECT d.*,
                       row_number() OVER (PARTITION BY extract(year FROM d.invoice_date)
                                          ORDER BY d.invoice_date, d.k) AS number
                  FROM (
                    SELECT (rc.c - 2) * %(per_customer)s + n AS k, rc.c, n, rc.partner_id,
                           rc.user_id, %(contract_base)s + rc.c - 1 AS contract_id,
                           %(today)s::date - rc.oldest_days + 4 * (n - 1) AS due,
                           %(today)s::date - rc.oldest_days + 4 * (n - 1) - %(days)s
                               AS invoice_date,
                           cl.price_unit AS amount,
                           mod(rc.c, 4) = 0 AND n = 2 AS installments,
                           %(disputed)s < %(disputed_share)s AS disputed
                      FROM bench_receivable_customer rc
                      JOIN crm_contract_line cl ON cl.contract_id = %(contract_base)s + rc.c - 1,
                           generate_series(1, %(per_customer)s) AS n
                  ) AS d
              ) AS s
            """,
            per_customer=INVOICES_PER_CUSTOMER,
            contract_base=contract_base,
            today=gen.today,
            days=PAYMENT_DAYS,
            disputed=_uniform(SQL("(rc.c * 100 + n)"), 5),
            disputed_share=DISPUTED_SHARE,
        )
    )
    gen._execute(SQL("CREATE UNIQUE INDEX ON bench_receivable (k)"))
    gen._execute(SQL("ANALYZE bench_receivable"))
    invoices = customers * INVOICES_PER_CUSTOMER
    move_base = gen._reserve_ids("account_move", invoices)
    gen._execute(
        SQL(
            """
            INSERT INTO account_move (
                id, name, sequence_prefix, sequence_number, journal_id, company_id,
                partner_id, commercial_partner_id, partner_shipping_id, currency_id,
                invoice_user_id, team_id, state, move_type, auto_post, payment_state,
                payment_reference, invoice_partner_display_name, date, invoice_date,
                invoice_date_due, invoice_currency_rate, amount_untaxed, amount_tax,
                amount_total, amount_residual, amount_untaxed_signed,
                amount_untaxed_in_currency_signed, amount_tax_signed, amount_total_signed,
                amount_total_in_currency_signed, amount_residual_signed, is_storno,
                always_tax_exigible, checked, posted_before, made_sequence_gap,
                is_manually_modified, is_move_sent, contract_id, payment_disputed,
                payment_dispute_reason, create_uid, write_uid, create_date, write_date
            )
            SELECT %(base)s + r.k, r.name, 'INVR/' || extract(year FROM r.invoice_date) || '/',
                   r.number, %(journal)s, %(company)s, r.partner_id, r.partner_id,
                   r.partner_id, %(currency)s, r.user_id, %(team)s, 'posted', 'out_invoice',
                   'no', 'not_paid', r.name, p.name, r.invoice_date, r.invoice_date,
                   CASE WHEN r.installments THEN r.due + %(days)s ELSE r.due END, 1.0,
                   r.amount, 0, r.amount, r.amount, r.amount, r.amount, 0, r.amount, r.amount,
                   r.amount, false, false, true, true, false, false, true, r.contract_id,
                   r.disputed,
                   CASE WHEN r.disputed THEN 'Khách hàng báo thiếu hàng khi giao' END,
                   %(uid)s, %(uid)s, r.invoice_date, r.invoice_date
              FROM bench_receivable r
              JOIN res_partner p ON p.id = r.partner_id
            """,
            base=move_base,
            journal=ref["journal"],
            company=ref["company"],
            currency=ref["currency"],
            uid=ref["uid"],
            team=ref["team"],
            days=PAYMENT_DAYS,
        )
    )
    gen.cr.execute(SQL("SELECT count(*) FROM bench_receivable WHERE installments"))
    split = gen.cr.fetchone()[0]
    # per invoice k: receivable line base + k, product line base + invoices + k; the second
    # installment of a split invoice: base + 2 * invoices + its rank
    aml_base = gen._reserve_ids("account_move_line", 2 * invoices + split)
    common = {
        "base": aml_base,
        "move_base": move_base,
        "journal": ref["journal"],
        "company": ref["company"],
        "currency": ref["currency"],
        "uid": ref["uid"],
        "invoices": invoices,
        "receivable": ref["receivable"],
        "days": PAYMENT_DAYS,
    }
    receivable_columns = SQL(
        """
        id, move_id, journal_id, company_id, company_currency_id, currency_id, sequence,
        account_id, partner_id, move_name, parent_state, name, display_type, date,
        invoice_date, date_maturity, debit, credit, balance, amount_currency, amount_residual,
        amount_residual_currency, reconciled, tax_base_amount, quantity, price_unit,
        price_subtotal, price_total, discount, discount_amount_currency, discount_balance,
        is_imported, tax_tag_invert, is_downpayment, create_uid, write_uid, create_date,
        write_date
        """
    )
    gen._execute(
        SQL(
            """
            INSERT INTO account_move_line (%(columns)s)
            SELECT %(base)s + r.k, %(move_base)s + r.k, %(journal)s, %(company)s, %(currency)s,
                   %(currency)s, 10000, %(receivable)s, r.partner_id, r.name, 'posted', r.name,
                   'payment_term', r.invoice_date, r.invoice_date, r.due, a.amount, 0, a.amount,
                   a.amount, a.amount, a.amount, false, 0, 1, 0, 0, 0, 0, 0, 0, false, false,
                   false, %(uid)s, %(uid)s, r.invoice_date, r.invoice_date
              FROM bench_receivable r,
                   LATERAL (SELECT CASE WHEN r.installments THEN round(r.amount / 2, 2)
                                        ELSE r.amount END AS amount) AS a
            """,
            columns=receivable_columns,
            **common,
        )
    )
    gen._execute(
        SQL(
            """
            INSERT INTO account_move_line (%(columns)s)
            SELECT %(base)s + 2 * %(invoices)s + row_number() OVER (ORDER BY r.k),
                   %(move_base)s + r.k, %(journal)s, %(company)s, %(currency)s, %(currency)s,
                   10001, %(receivable)s, r.partner_id, r.name, 'posted', r.name,
                   'payment_term', r.invoice_date, r.invoice_date, r.due + %(days)s, a.amount,
                   0, a.amount, a.amount, a.amount, a.amount, false, 0, 1, 0, 0, 0, 0, 0, 0,
                   false, false, false, %(uid)s, %(uid)s, r.invoice_date, r.invoice_date
              FROM bench_receivable r,
                   LATERAL (SELECT r.amount - round(r.amount / 2, 2) AS amount) AS a
             WHERE r.installments
            """,
            columns=receivable_columns,
            **common,
        )
    )
    gen._execute(
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
            SELECT %(base)s + %(invoices)s + r.k, %(move_base)s + r.k, %(journal)s,
                   %(company)s, %(currency)s, %(currency)s, 10, %(income)s, r.partner_id,
                   r.name, 'posted', cl.name, 'product', r.invoice_date, r.invoice_date,
                   cl.product_id, %(uom)s, 0, r.amount, -r.amount, -r.amount, 0, 0, false, 0,
                   1, r.amount, r.amount, r.amount, 0, 0, 0, false, false, false,
                   %(uid)s, %(uid)s, r.invoice_date, r.invoice_date
              FROM bench_receivable r
              JOIN crm_contract_line cl ON cl.contract_id = r.contract_id
            """,
            income=ref["income"],
            uom=ref["uom"],
            **common,
        )
    )
    # open promises: the customer's invoices already late, promised in a week
    gen.cr.execute(
        SQL(
            """
            SELECT count(*) FROM bench_receivable_customer rc
             WHERE rc.oldest_days > 0 AND %(u)s < %(share)s
            """,
            u=_uniform(SQL("rc.c"), 6),
            share=PROMISE_SHARE,
        )
    )
    promises = gen.cr.fetchone()[0]
    promise_base = gen._reserve_ids("crm_payment_promise", promises)
    gen._execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_promise ON COMMIT DROP AS
            SELECT %(promise_base)s + row_number() OVER (ORDER BY rc.c) AS id, rc.*
              FROM bench_receivable_customer rc
             WHERE rc.oldest_days > 0 AND %(u)s < %(share)s
            """,
            promise_base=promise_base,
            u=_uniform(SQL("rc.c"), 6),
            share=PROMISE_SHARE,
        )
    )
    gen._execute(
        SQL(
            """
            INSERT INTO crm_payment_promise (
                id, name, partner_id, commercial_partner_id, company_id, user_id,
                date_promised, currency_id, amount, channel, state, note,
                create_uid, write_uid, create_date, write_date
            )
            SELECT bp.id, 'Hứa thanh toán ' || bp.c, bp.partner_id, bp.partner_id,
                   %(company)s, %(uid)s, %(today)s::date + 7, %(currency)s,
                   (SELECT sum(r.amount) FROM bench_receivable r
                     WHERE r.c = bp.c AND r.due < %(today)s),
                   'phone', 'open', 'Kế toán trưởng hứa chuyển khoản tuần sau',
                   %(uid)s, %(uid)s, now(), now()
              FROM bench_promise bp
            """,
            company=ref["company"],
            currency=ref["currency"],
            uid=ref["uid"],
            today=gen.today,
        )
    )
    gen._execute(
        SQL(
            """
            INSERT INTO crm_payment_promise_account_move_rel (promise_id, move_id)
            SELECT bp.id, %(move_base)s + r.k
              FROM bench_promise bp
              JOIN bench_receivable r ON r.c = bp.c AND r.due < %(today)s
            """,
            move_base=move_base,
            today=gen.today,
        )
    )
