from odoo import fields, models, tools
from odoo.tools import SQL

from .crm_contact_log import CHANNELS

# Row ids of the view are ``source id * ID_SLOTS + slot`` (64-bit): unique across the event
# kinds, and stable, so the web client can page and reopen rows.
ID_SLOTS = 16
# the columns every branch of the view returns, in this order
COLUMNS = (
    "id",
    "commercial_partner_id",
    "partner_id",
    "company_id",
    "team_id",
    "date",
    "event_type",
    "reference",
    "detail",
    "channel",
    "log_state",
    "payment_state",
    "outcome_id",
    "amount",
    "currency_id",
    "user_id",
    "res_model",
    "res_id",
    "support_team_id",
    "ticket_stage_id",
)


class CrmCustomerTimeline(models.Model):
    """One row per event in a customer's history, read-only, built by PostgreSQL.

    Each kind of event is one SELECT returned by a ``_timeline_query_<kind>`` method listed in
    :meth:`_timeline_queries`; a module adding a kind of event (tickets, contracts, reminders,
    promotions) adds its selection value and its query, and the view is rebuilt on upgrade.
    """

    _name = "crm.customer.timeline"
    _description = "Customer History"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "reference"
    # flushed before the view is read, so it sees what the transaction just wrote
    _depends = {
        "crm.contact.log": [
            "active",
            "channel",
            "commercial_partner_id",
            "company_id",
            "date",
            "name",
            "outcome_id",
            "partner_id",
            "planned_date",
            "state",
            "team_id",
            "user_id",
        ],
        "sale.order": [
            "amount_total",
            "client_order_ref",
            "commercial_partner_id",
            "company_id",
            "currency_id",
            "date_order",
            "name",
            "partner_id",
            "state",
            "team_id",
            "user_id",
        ],
        "account.move": [
            "amount_total",
            "commercial_partner_id",
            "company_id",
            "currency_id",
            "invoice_date",
            "invoice_user_id",
            "move_type",
            "name",
            "partner_id",
            "payment_state",
            "ref",
            "state",
            "team_id",
        ],
        "account.payment": [
            "amount",
            "company_id",
            "currency_id",
            "date",
            "memo",
            "name",
            "partner_id",
            "partner_type",
            "payment_type",
            "state",
        ],
        "mail.message": [
            "author_id",
            "date",
            "email_from",
            "message_type",
            "model",
            "record_name",
            "res_id",
            "subject",
            "subtype_id",
        ],
        "crm.support.ticket": [
            "active",
            "channel",
            "commercial_partner_id",
            "company_id",
            "name",
            "number",
            "open_date",
            "partner_id",
            "stage_id",
            "team_id",
            "user_id",
        ],
        "res.partner": ["commercial_partner_id", "company_id"],
    }

    commercial_partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Contact", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    date = fields.Datetime(readonly=True)
    event_type = fields.Selection(
        [
            ("contact_log", "Contact"),
            ("sale_order", "Sales Order"),
            ("invoice", "Invoice"),
            ("credit_note", "Credit Note"),
            ("payment", "Payment"),
            ("email", "Email"),
            ("ticket", "Ticket"),
        ],
        string="Event",
        readonly=True,
    )
    reference = fields.Char(readonly=True)
    detail = fields.Char(readonly=True)
    channel = fields.Selection(CHANNELS, readonly=True)
    log_state = fields.Selection(
        [("planned", "Planned"), ("done", "Done"), ("missed", "Missed")],
        string="Contact Status",
        readonly=True,
    )
    payment_state = fields.Selection(
        selection=lambda self: self.env["account.move"]
        ._fields["payment_state"]
        ._description_selection(self.env),
        string="Payment Status",
        readonly=True,
    )
    outcome_id = fields.Many2one("crm.contact.log.outcome", readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one("res.users", string="By", readonly=True)
    res_model = fields.Char(string="Source Model", readonly=True)
    res_id = fields.Many2oneReference(string="Source", model_field="res_model", readonly=True)
    support_team_id = fields.Many2one("crm.support.team", string="Help Desk Team", readonly=True)
    ticket_stage_id = fields.Many2one("crm.support.stage", readonly=True)

    # ------------------------------------------------------------
    # VIEW
    # ------------------------------------------------------------

    def _timeline_queries(self):
        """The SELECTs whose union is the view. Each returns the columns, in this order:
        id, commercial_partner_id, partner_id, company_id, team_id, date, event_type,
        reference, detail, channel, log_state, payment_state, outcome_id, amount, currency_id,
        user_id, res_model, res_id, support_team_id, ticket_stage_id."""
        return [
            self._timeline_query_contact_log(),
            self._timeline_query_sale_order(),
            self._timeline_query_invoice(),
            self._timeline_query_payment(),
            self._timeline_query_email(),
            self._timeline_query_ticket(),
        ]

    def _timeline_query_contact_log(self):
        return SQL(
            """
            SELECT log.id::bigint * %(slots)s + 0 AS id,
                   log.commercial_partner_id,
                   log.partner_id,
                   log.company_id,
                   log.team_id,
                   COALESCE(log.date, log.planned_date) AS date,
                   'contact_log' AS event_type,
                   log.name AS reference,
                   NULL::varchar AS detail,
                   log.channel,
                   log.state AS log_state,
                   NULL::varchar AS payment_state,
                   log.outcome_id,
                   NULL::numeric AS amount,
                   NULL::integer AS currency_id,
                   log.user_id,
                   'crm.contact.log' AS res_model,
                   log.id AS res_id,
                   NULL::integer AS support_team_id,
                   NULL::integer AS ticket_stage_id
              FROM crm_contact_log log
             WHERE log.active AND log.state != 'cancelled'
            """,
            slots=ID_SLOTS,
        )

    def _timeline_query_sale_order(self):
        return SQL(
            """
            SELECT so.id::bigint * %(slots)s + 1,
                   so.commercial_partner_id,
                   so.partner_id,
                   so.company_id,
                   so.team_id,
                   so.date_order,
                   'sale_order',
                   so.name,
                   so.client_order_ref,
                   NULL,
                   NULL,
                   NULL,
                   NULL,
                   so.amount_total,
                   so.currency_id,
                   so.user_id,
                   'sale.order',
                   so.id,
                   NULL,
                   NULL
              FROM sale_order so
             WHERE so.state = 'sale'
            """,
            slots=ID_SLOTS,
        )

    def _timeline_query_invoice(self):
        return SQL(
            """
            SELECT move.id::bigint * %(slots)s + 2,
                   move.commercial_partner_id,
                   move.partner_id,
                   move.company_id,
                   move.team_id,
                   move.invoice_date::timestamp,
                   CASE WHEN move.move_type = 'out_refund' THEN 'credit_note' ELSE 'invoice' END,
                   move.name,
                   move.ref,
                   NULL,
                   NULL,
                   move.payment_state,
                   NULL,
                   CASE WHEN move.move_type = 'out_refund' THEN -move.amount_total
                        ELSE move.amount_total END,
                   move.currency_id,
                   move.invoice_user_id,
                   'account.move',
                   move.id,
                   NULL,
                   NULL
              FROM account_move move
             WHERE move.move_type IN ('out_invoice', 'out_refund') AND move.state = 'posted'
            """,
            slots=ID_SLOTS,
        )

    def _timeline_query_payment(self):
        return SQL(
            """
            SELECT pay.id::bigint * %(slots)s + 3,
                   partner.commercial_partner_id,
                   pay.partner_id,
                   pay.company_id,
                   NULL,
                   pay.date::timestamp,
                   'payment',
                   COALESCE(NULLIF(pay.name, ''), pay.memo),
                   pay.memo,
                   NULL,
                   NULL,
                   NULL,
                   NULL,
                   CASE WHEN pay.payment_type = 'outbound' THEN -pay.amount ELSE pay.amount END,
                   pay.currency_id,
                   pay.create_uid,
                   'account.payment',
                   pay.id,
                   NULL,
                   NULL
              FROM account_payment pay
              JOIN res_partner partner ON partner.id = pay.partner_id
             WHERE pay.partner_type = 'customer' AND pay.state IN ('in_process', 'paid')
            """,
            slots=ID_SLOTS,
        )

    def _timeline_query_email(self):
        # emails received or sent in the partner's own chatter, not internal notes
        return SQL(
            """
            SELECT msg.id::bigint * %(slots)s + 4,
                   partner.commercial_partner_id,
                   partner.id,
                   partner.company_id,
                   NULL,
                   msg.date,
                   'email',
                   COALESCE(NULLIF(msg.subject, ''), msg.record_name, msg.email_from),
                   msg.email_from,
                   NULL,
                   NULL,
                   NULL,
                   NULL,
                   NULL::numeric,
                   NULL::integer,
                   author.id,
                   'mail.message',
                   msg.id,
                   NULL,
                   NULL
              FROM mail_message msg
              JOIN res_partner partner ON partner.id = msg.res_id
              LEFT JOIN mail_message_subtype subtype ON subtype.id = msg.subtype_id
              LEFT JOIN LATERAL (
                    SELECT u.id FROM res_users u
                     WHERE u.partner_id = msg.author_id
                     ORDER BY u.id LIMIT 1
              ) author ON TRUE
             WHERE msg.model = 'res.partner'
               AND (msg.message_type IN ('email', 'email_outgoing')
                    OR (msg.message_type = 'comment' AND subtype.internal IS FALSE))
            """,
            slots=ID_SLOTS,
        )

    def _timeline_query_ticket(self):
        # the ticket's channel as the closest channel of a contact
        return SQL(
            """
            SELECT ticket.id::bigint * %(slots)s + 5,
                   ticket.commercial_partner_id,
                   ticket.partner_id,
                   ticket.company_id,
                   NULL,
                   ticket.open_date,
                   'ticket',
                   CONCAT_WS(' ', NULLIF(ticket.number, '/'), ticket.name),
                   NULL,
                   CASE WHEN ticket.channel IN ('phone', 'email') THEN ticket.channel
                        WHEN ticket.channel = 'walk_in' THEN 'visit'
                        ELSE 'other' END,
                   NULL,
                   NULL,
                   NULL,
                   NULL::numeric,
                   NULL::integer,
                   ticket.user_id,
                   'crm.support.ticket',
                   ticket.id,
                   ticket.team_id,
                   ticket.stage_id
              FROM crm_support_ticket ticket
             WHERE ticket.active
            """,
            slots=ID_SLOTS,
        )

    def _timeline_id_indexes(self):
        """Partial expression indexes that let PostgreSQL read rows of the view by id (as the
        web client and the access checks do) without computing the whole view: one per
        branch, on that branch's id expression and condition. (table, slot, condition)"""
        return [
            ("crm_contact_log", 0, SQL("active AND state != 'cancelled'")),
            ("sale_order", 1, SQL("state = 'sale'")),
            (
                "account_move",
                2,
                SQL("move_type IN ('out_invoice', 'out_refund') AND state = 'posted'"),
            ),
            (
                "account_payment",
                3,
                SQL("partner_type = 'customer' AND state IN ('in_process', 'paid')"),
            ),
            ("mail_message", 4, SQL("model = 'res.partner'")),
            ("crm_support_ticket", 5, SQL("active")),
        ]

    def _timeline_recent_indexes(self):
        """Indexes that give the newest events of one customer without reading them all, for
        the branches that grow large. (name, table, columns, condition)"""
        return [
            (
                "crm_contact_log_crm_timeline_recent_idx",
                "crm_contact_log",
                SQL("commercial_partner_id, COALESCE(date, planned_date) DESC"),
                SQL("active AND state != 'cancelled'"),
            ),
            (
                "sale_order_crm_timeline_recent_idx",
                "sale_order",
                SQL("commercial_partner_id, date_order DESC"),
                SQL("state = 'sale'"),
            ),
            (
                "account_move_crm_timeline_recent_idx",
                "account_move",
                SQL("commercial_partner_id, (invoice_date::timestamp) DESC"),
                SQL("move_type IN ('out_invoice', 'out_refund') AND state = 'posted'"),
            ),
            (
                "crm_support_ticket_crm_timeline_recent_idx",
                "crm_support_ticket",
                SQL("commercial_partner_id, open_date DESC"),
                SQL("active"),
            ),
        ]

    def _ensure_id_statistics(self, table, slot):
        """The planner estimates "id IN (...)" on the view from statistics on each branch's id
        expression; without them it guesses most of the table and scans it. Created once, and
        the table analysed then so they exist at once (ANALYZE reads a sample: cheap)."""
        name = f"{table}_crm_timeline_row_stat"
        cr = self.env.cr
        cr.execute("SELECT 1 FROM pg_statistic_ext WHERE stxname = %s", [name])
        if cr.fetchone():
            return
        cr.execute(
            SQL(
                "CREATE STATISTICS %s ON (id::bigint * %s + %s) FROM %s",
                SQL.identifier(name),
                ID_SLOTS,
                slot,
                SQL.identifier(table),
            )
        )
        cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))

    def init(self):
        cr = self.env.cr
        cr.execute("SHOW server_version_num")
        expression_statistics = int(cr.fetchone()[0]) >= 140000
        for name, table, columns, condition in self._timeline_recent_indexes():
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON %s (%s) WHERE %s",
                    SQL.identifier(name),
                    SQL.identifier(table),
                    columns,
                    condition,
                )
            )
        for table, slot, condition in self._timeline_id_indexes():
            self.env.cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON %s ((id::bigint * %s + %s)) WHERE %s",
                    SQL.identifier(f"{table}_crm_timeline_row_idx"),
                    SQL.identifier(table),
                    ID_SLOTS,
                    slot,
                    condition,
                )
            )
            if expression_statistics:
                self._ensure_id_statistics(table, slot)
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                SQL("\nUNION ALL\n").join(self._timeline_queries()),
            )
        )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _recent_ids(self, customer_id, event_type=None, limit=200):
        """Ids of the newest ``limit`` events of a customer (of one kind, if given), newest
        first, without sorting the customer's whole history: each kind of event gives its
        own newest rows (through an index where it can grow large), then they are merged.
        Access rules are not applied: search the ids to apply them."""
        for model_name, field_names in self._depends.items():
            self.env[model_name].flush_model(field_names)
        condition = SQL("b.commercial_partner_id = %s", customer_id)
        if event_type:
            condition = SQL("%s AND b.event_type = %s", condition, event_type)
        branches = [
            SQL(
                "(SELECT b.id, b.date FROM (%s) b(%s) WHERE %s ORDER BY b.date DESC, b.id DESC "
                "LIMIT %s)",
                query,
                SQL(", ").join(map(SQL.identifier, COLUMNS)),
                condition,
                limit,
            )
            for query in self._timeline_queries()
        ]
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM (%s) recent ORDER BY date DESC, id DESC LIMIT %s",
                SQL("\nUNION ALL\n").join(branches),
                limit,
            )
        )
        return [row[0] for row in rows]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_source(self):
        """Open the order, invoice, payment, contact, ticket or message this event comes from."""
        self.ensure_one()
        if self.res_model == "mail.message":
            partner = self.partner_id
            return {
                "type": "ir.actions.act_window",
                "res_model": "res.partner",
                "res_id": partner.id,
                "view_mode": "form",
                "views": [(False, "form")],
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
