import re

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError
from odoo.tools import SQL, email_normalize, escape_psql

from .res_partner_support import PHONE_KEY_DIGITS, phone_search_key

OPERATOR_GROUP = "crm_extended.group_care_officer"
# a query made of these characters only, with enough digits, may be a phone number
PHONE_QUERY = re.compile(r"[0-9\s+().\-]+")
# fewer digits than this are too vague to find a number by its end
MIN_PHONE_DIGITS = 6
# how many of each the card shows
CARD_TICKETS = 20
CARD_CONTACTS = 5
CARD_ORDERS = 5
CARD_INVOICES = 5
CARD_CONTRACTS = 5
CARD_PRODUCTS = 50


class CrmSupportOperator(models.AbstractModel):
    """The operator screen ("Find a Caller"): one search box, then the caller's card.

    Remote procedures of the ``crm_extended.operator`` client action. Each answers in a
    constant number of queries, whatever the size of the customer's history.

    Access: care officers (and managers) only. Everything is read with the user's own
    rights: care officers read the orders and invoices of their companies (read-only
    access rights of their group), because operators must see what the caller bought. The
    only superuser reads identify the customer of a ticket number (the ticket may belong to
    another team) and count the open tickets of other teams: no content of those tickets is
    returned.
    """

    _name = "crm.support.operator"
    _description = "Customer Care Operator Screen"

    # ------------------------------------------------------------
    # SEARCH
    # ------------------------------------------------------------

    @api.model
    def search_callers(self, query, limit=8):
        """Customers matching ``query``: a phone number in any format, an email, a name
        (accents ignored), or the number of a ticket, invoice or sales order.

        :return: list of candidates (dicts), one per contact found, the best matches first:
            the contact (``partner_id``, ``name``...), its customer company (``customer_id``,
            ``customer_name``) and what matched (``match``, ``match_label``, ``match_value``).
        """
        self._check_operator_access()
        query = (query or "").strip()
        if len(query) < 2:
            return []
        found = {}  # partner id -> (match kind, matched value)
        for partner_id, kind, value in (
            self._search_callers_by_document(query, limit)
            + self._search_callers_by_phone(query, limit)
            + self._search_callers_by_email(query, limit)
            + self._search_callers_by_name(query, limit)
        ):
            found.setdefault(partner_id, (kind, value))
        if not found:
            return []
        # read under the user's rights: partners they may not see are dropped
        partners = self.env["res.partner"].search_fetch(
            [("id", "in", list(found))],
            [
                "name",
                "function",
                "phone",
                "mobile",
                "email",
                "city",
                "commercial_partner_id",
                "phone_search_key",
                "mobile_search_key",
            ],
        )
        by_id = {partner.id: partner for partner in partners}
        # exact numbers first, then phones (by name: their indexes give them unordered),
        # then emails and names (by name already)
        ranks = {"ticket": 0, "invoice": 0, "order": 0, "phone": 1}
        rows = [
            (ranks.get(kind, 2), by_id[partner_id], kind, value)
            for partner_id, (kind, value) in found.items()
            if partner_id in by_id
        ]
        rows.sort(key=lambda row: (row[0], (row[1].name or "") if row[2] == "phone" else ""))
        labels = self._match_labels()
        candidates = []
        for __, partner, kind, value in rows[:limit]:
            customer = partner.commercial_partner_id
            if kind == "phone":
                kind, value = self._phone_match(partner, query)
            candidates.append(
                {
                    "partner_id": partner.id,
                    "name": partner.name or "",
                    "function": partner.function or "",
                    "phone": partner.phone or "",
                    "mobile": partner.mobile or "",
                    "email": partner.email or "",
                    "city": partner.city or customer.city or "",
                    "customer_id": customer.id,
                    "customer_name": customer.name or "",
                    "is_customer": partner == customer,
                    "match": kind,
                    "match_label": labels[kind],
                    "match_value": value,
                }
            )
        return candidates

    @api.model
    def _search_callers_by_phone(self, query, limit):
        """Partners whose phone or mobile ends with the digits of ``query`` (any format).

        A full number (nine digits or more) is an equality on the indexed search keys; the
        end of a number (six to eight digits) a prefix search on the reversed keys, indexed
        as well (see ``res.partner.init``).
        """
        if not PHONE_QUERY.fullmatch(query):
            return []
        digits = re.sub(r"[^0-9]", "", query)
        if len(digits) < MIN_PHONE_DIGITS:
            return []
        Partner = self.env["res.partner"]
        Partner.flush_model(["phone_search_key", "mobile_search_key"])
        search = Partner._search([], limit=limit)
        # unordered: sorting by name would tempt PostgreSQL to walk the name index instead
        # of the few rows the keys' indexes give
        search.order = None
        phone = SQL.identifier(search.table, "phone_search_key")
        mobile = SQL.identifier(search.table, "mobile_search_key")
        if len(digits) >= PHONE_KEY_DIGITS:
            key = phone_search_key(digits)
            search.add_where(SQL("(%s = %s OR %s = %s)", phone, key, mobile, key))
        else:
            prefix = digits[::-1] + "%"
            search.add_where(
                SQL("(REVERSE(%s) LIKE %s OR REVERSE(%s) LIKE %s)", phone, prefix, mobile, prefix)
            )
        return [(partner_id, "phone", query) for partner_id in search.get_result_ids()]

    @api.model
    def _search_callers_by_email(self, query, limit):
        """Partners with this email (case-insensitive), or whose email contains ``query``
        when it is a part of an address ("duc.nguyen@")."""
        if "@" not in query:
            return []
        normalized = email_normalize(query, strict=False)
        if normalized:
            domain = [("email_normalized", "=", normalized)]
        else:
            domain = [("email", "ilike", query)]
        partners = self.env["res.partner"].search_fetch(domain, ["email"], limit=limit)
        return [(partner.id, "email", partner.email) for partner in partners]

    @api.model
    def _search_callers_by_name(self, query, limit):
        """Partners (companies and persons) whose name contains ``query``, accents ignored:
        "nguyen van duc" finds "Nguyễn Văn Đức".

        Through the trigram index of ``res.partner.init`` when the database has it (the
        first matches by name, whatever the number of partners), else through Odoo's
        ``ilike`` (which ignores accents as well, scanning the names).
        """
        if not any(char.isalpha() for char in query) or {"@", "/"} & set(query):
            # an email or a document number: not worth scanning the names
            return []
        Partner = self.env["res.partner"]
        if not Partner._has_name_search_index():
            partners = Partner.search_fetch([("name", "ilike", query)], ["name"], limit=limit)
            return [(partner.id, "name", partner.name) for partner in partners]
        Partner.flush_model(["name", "complete_name", "active"])
        search = Partner._search([])
        search.order = None
        search.add_where(
            SQL(
                "public.crm_extended_unaccent(%s) ILIKE public.crm_extended_unaccent(%s)",
                SQL.identifier(search.table, "name"),
                f"%{escape_psql(query)}%",
            )
        )
        # OFFSET 0 keeps the matches a subquery: PostgreSQL takes them from the trigram
        # index, then sorts them, rather than walking all names in order looking for them
        rows = self.env.execute_query(
            SQL(
                "SELECT id, name FROM (%s OFFSET 0) AS matches "
                "ORDER BY complete_name, id DESC LIMIT %s",
                search.select(
                    SQL.identifier(search.table, "id"),
                    SQL.identifier(search.table, "name"),
                    SQL.identifier(search.table, "complete_name"),
                ),
                limit,
            )
        )
        return [(partner_id, "name", name) for partner_id, name in rows]

    @api.model
    def _search_callers_by_document(self, query, limit):
        """The customers of the ticket, invoice or sales order numbered ``query`` (exactly,
        case-insensitive: an equality on the indexed numbers).

        Tickets are looked up as superuser, restricted to the user's companies: a caller
        quoting the number of a ticket another team handles is identified all the same;
        only its customer is returned.
        """
        if not any(char.isdigit() for char in query) or len(query) < 3:
            return []
        numbers = list({query, query.upper()})
        lookups = [
            (
                "ticket",
                self.env["crm.support.ticket"].sudo(),
                "number",
                [("company_id", "in", self.env.companies.ids)],
            ),
            (
                "invoice",
                self.env["account.move"],
                "name",
                [
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("state", "=", "posted"),
                ],
            ),
            ("order", self.env["sale.order"], "name", []),
        ]
        results = []
        for kind, model, field, domain in lookups:
            if not model.has_access("read"):
                continue
            documents = model.search_fetch(
                [(field, "in", numbers), *domain], [field, "partner_id"], limit=limit
            )
            results += [
                (document.partner_id.id, kind, document[field])
                for document in documents
                if document.partner_id
            ]
        return results

    @api.model
    def _phone_match(self, partner, query):
        """Whether the phone or the mobile of ``partner`` matched ``query``, and that number."""
        digits = re.sub(r"[^0-9]", "", query)
        key = phone_search_key(digits)
        for kind, number, number_key in (
            ("mobile", partner.mobile, partner.mobile_search_key),
            ("phone", partner.phone, partner.phone_search_key),
        ):
            if number_key and (number_key == key or number_key.endswith(digits)):
                return kind, number
        return "phone", partner.phone or partner.mobile or query

    @api.model
    def _match_labels(self):
        return {
            "phone": self.env._("Phone"),
            "mobile": self.env._("Mobile"),
            "email": self.env._("Email"),
            "name": self.env._("Name"),
            "ticket": self.env._("Ticket"),
            "invoice": self.env._("Invoice"),
            "order": self.env._("Sales Order"),
        }

    # ------------------------------------------------------------
    # CARD
    # ------------------------------------------------------------

    @api.model
    def get_caller_card(self, partner_id):
        """Everything the operator needs about the caller ``partner_id`` and its customer
        company, in a few grouped queries: contact details, open tickets, last contacts,
        last orders and invoices with their payment state, warranty per product bought, and
        contracts when that capability is installed.
        """
        self._check_operator_access()
        caller = self.env["res.partner"].browse(int(partner_id)).exists()
        if not caller:
            raise MissingError(self.env._("This contact was deleted: search for the caller again."))
        caller.check_access("read")
        customer = caller.commercial_partner_id
        card = {
            "customer": self._card_partner(customer),
            "caller": self._card_partner(caller),
            "tickets": self._card_tickets(customer),
            "contacts": self._card_contacts(customer),
            "orders": self._card_orders(customer),
            "invoices": self._card_invoices(customer),
            "warranties": self._card_warranties(customer),
            "can_create_ticket": self.env["crm.support.ticket"].has_access("create"),
            "can_log_call": self.env["crm.contact.log"].has_access("create"),
        }
        if "crm.contract" in self.env:
            card["contracts"] = self._card_contracts(customer)
        return card

    @api.model
    def _card_partner(self, partner):
        return {
            "id": partner.id,
            "name": partner.name or "",
            "display_name": partner.display_name,
            "is_company": partner.is_company,
            "function": partner.function or "",
            "phone": partner.phone or "",
            "mobile": partner.mobile or "",
            "email": partner.email or "",
            "address": partner._display_address(without_company=True).strip(),
            "salesperson": partner.user_id.name or "",
            "ref": partner.ref or "",
            "vat": partner.vat or "",
        }

    @api.model
    def _card_tickets(self, customer):
        """Open tickets of the customer the user may read, and how many more other teams
        handle (counted as superuser: the operator learns they exist, not what they say)."""
        Ticket = self.env["crm.support.ticket"]
        domain = [("commercial_partner_id", "=", customer.id), ("is_closed", "=", False)]
        tickets = Ticket.search_fetch(
            domain,
            [
                "number",
                "name",
                "stage_id",
                "priority",
                "user_id",
                "partner_id",
                "create_date",
                "product_id",
                "warranty_end_date",
                "response_late",
                "resolution_late",
                "response_deadline",
                "resolution_deadline",
                "response_risk_date",
                "resolution_risk_date",
                "first_response_date",
                "closed_date",
            ],
            limit=CARD_TICKETS,
        )
        visible = len(tickets)
        if visible == CARD_TICKETS:
            visible = Ticket.search_count(domain)
        total = Ticket.sudo().search_count([*domain, ("company_id", "in", self.env.companies.ids)])
        priorities = dict(Ticket._fields["priority"]._description_selection(self.env))
        sla_states = dict(Ticket._fields["sla_state"]._description_selection(self.env))
        warranty_states = dict(Ticket._fields["warranty_state"]._description_selection(self.env))
        return {
            "count": visible,
            "other_count": max(total - visible, 0),
            "records": [
                {
                    "id": ticket.id,
                    "number": ticket.number or "",
                    "name": ticket.name or "",
                    "stage": ticket.stage_id.name or "",
                    "priority": ticket.priority,
                    "priority_label": priorities.get(ticket.priority, ""),
                    "sla_state": ticket.sla_state,
                    "sla_state_label": sla_states.get(ticket.sla_state, ""),
                    "warranty_state": ticket.warranty_state,
                    "warranty_state_label": warranty_states.get(ticket.warranty_state, ""),
                    "user": ticket.user_id.name or "",
                    "contact": ticket.partner_id.name or "",
                    "product": ticket.product_id.display_name or "",
                    "create_date": fields.Datetime.to_string(ticket.create_date),
                }
                for ticket in tickets
            ],
        }

    @api.model
    def _card_contacts(self, customer):
        """The last contacts held with the customer and its contact persons."""
        Log = self.env["crm.contact.log"]
        logs = Log.search_fetch(
            [("commercial_partner_id", "=", customer.id), ("state", "=", "done")],
            ["name", "date", "channel", "direction", "user_id", "partner_id", "outcome_id"],
            limit=CARD_CONTACTS,
        )
        channels = dict(Log._fields["channel"]._description_selection(self.env))
        directions = dict(Log._fields["direction"]._description_selection(self.env))
        return [
            {
                "id": log.id,
                "name": log.name or "",
                "date": fields.Datetime.to_string(log.date),
                "channel": log.channel,
                "channel_label": channels.get(log.channel, ""),
                "direction_label": directions.get(log.direction, ""),
                "user": log.user_id.name or "",
                "contact": log.partner_id.name or "",
                "outcome": log.outcome_id.name or "",
            }
            for log in logs
        ]

    @api.model
    def _card_orders(self, customer):
        """The customer's last confirmed sales orders."""
        SaleOrder = self.env["sale.order"]
        if not SaleOrder.has_access("read"):
            return []
        orders = SaleOrder.search_fetch(
            [("commercial_partner_id", "=", customer.id), ("state", "=", "sale")],
            ["name", "date_order", "amount_total", "currency_id", "invoice_status", "user_id"],
            order="date_order desc, id desc",
            limit=CARD_ORDERS,
        )
        statuses = dict(SaleOrder._fields["invoice_status"]._description_selection(self.env))
        return [
            {
                "id": order.id,
                "name": order.name,
                "date": fields.Datetime.to_string(order.date_order),
                "amount_total": order.amount_total,
                "currency_id": order.currency_id.id,
                "invoice_status": order.invoice_status or "",
                "invoice_status_label": statuses.get(order.invoice_status, ""),
                "user": order.user_id.name or "",
            }
            for order in orders
        ]

    @api.model
    def _card_invoices(self, customer):
        """The customer's last posted invoices and credit notes with their payment state."""
        Move = self.env["account.move"]
        if not Move.has_access("read"):
            return []
        moves = Move.search_fetch(
            [
                ("commercial_partner_id", "=", customer.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
            ],
            [
                "name",
                "move_type",
                "invoice_date",
                "invoice_date_due",
                "amount_total",
                "amount_residual",
                "currency_id",
                "payment_state",
            ],
            order="invoice_date desc, id desc",
            limit=CARD_INVOICES,
        )
        payment_states = dict(Move._fields["payment_state"]._description_selection(self.env))
        move_types = dict(Move._fields["move_type"]._description_selection(self.env))
        today = fields.Date.context_today(self)
        return [
            {
                "id": move.id,
                "name": move.name,
                "move_type": move.move_type,
                "move_type_label": move_types.get(move.move_type, ""),
                "invoice_date": fields.Date.to_string(move.invoice_date),
                "invoice_date_due": fields.Date.to_string(move.invoice_date_due),
                "amount_total": move.amount_total,
                "amount_residual": move.amount_residual,
                "currency_id": move.currency_id.id,
                "payment_state": move.payment_state,
                "payment_state_label": payment_states.get(move.payment_state, ""),
                "overdue": bool(
                    move.move_type == "out_invoice"
                    and move.payment_state in ("not_paid", "partial")
                    and move.invoice_date_due
                    and move.invoice_date_due < today
                ),
            }
            for move in moves
        ]

    @api.model
    def _card_warranties(self, customer):
        """Warranty of each product the customer bought: from its last posted customer
        invoice of the product and the product's warranty months, in one grouped query
        over the invoice lines."""
        Line = self.env["account.move.line"]
        if not Line.has_access("read"):
            return []
        groups = Line._read_group(
            [
                (
                    "move_id",
                    "any",
                    [
                        ("commercial_partner_id", "=", customer.id),
                        ("move_type", "=", "out_invoice"),
                        ("state", "=", "posted"),
                    ],
                ),
                ("display_type", "=", "product"),
                ("product_id", "!=", False),
            ],
            ["product_id"],
            ["invoice_date:max", "quantity:sum"],
            order="invoice_date:max desc",
            limit=CARD_PRODUCTS,
        )
        Ticket = self.env["crm.support.ticket"]
        states = dict(Ticket._fields["warranty_state"]._description_selection(self.env))
        today = fields.Date.context_today(self)
        # product names and warranties are not sensitive; the products of the invoices the
        # user reads may belong to no company of theirs
        products = self.env["product.product"].sudo().browse(p.id for p, __, __ in groups)
        products.product_tmpl_id.fetch(["name", "warranty_months"])
        warranties = []
        for product, (__, last_date, quantity) in zip(products, groups, strict=True):
            months = product.product_tmpl_id.warranty_months
            # as the ticket computes it: from the purchase date, plus the product's months
            end_date = last_date and last_date + relativedelta(months=months)
            if not end_date:
                state = "unknown"
            elif end_date >= today:
                state = "under_warranty"
            else:
                state = "expired"
            warranties.append(
                {
                    "product_id": product.id,
                    "product": product.display_name,
                    "quantity": quantity,
                    "last_invoice_date": fields.Date.to_string(last_date),
                    "warranty_months": months,
                    "warranty_end_date": fields.Date.to_string(end_date),
                    "state": state,
                    "state_label": states.get(state, ""),
                }
            )
        return warranties

    @api.model
    def _card_contracts(self, customer):
        """The customer's contracts, once the contracts capability (``crm.contract``) is
        installed; it may override this to show more."""
        Contract = self.env["crm.contract"]
        if not Contract.has_access("read"):
            return []
        field = "commercial_partner_id" if "commercial_partner_id" in Contract._fields else None
        domain = [(field, "=", customer.id)] if field else [("partner_id", "child_of", customer.id)]
        wanted = [name for name in ("state", "date_start", "date_end") if name in Contract._fields]
        contracts = Contract.search_fetch(domain, ["display_name", *wanted], limit=CARD_CONTRACTS)
        states = (
            dict(Contract._fields["state"]._description_selection(self.env))
            if "state" in Contract._fields and Contract._fields["state"].type == "selection"
            else {}
        )
        return [
            {
                "id": contract.id,
                "name": contract.display_name,
                "state": contract.state if "state" in wanted else False,
                "state_label": states.get(contract.state, "") if states else "",
                "date_start": fields.Date.to_string(contract.date_start)
                if "date_start" in wanted
                else False,
                "date_end": fields.Date.to_string(contract.date_end)
                if "date_end" in wanted
                else False,
            }
            for contract in contracts
        ]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    @api.model
    def action_new_ticket(self, partner_id, phone=False, email=False):
        """The form of a new ticket for the caller ``partner_id`` (False: a caller nobody
        knows yet), taken by phone, with the number the operator found them by (``phone``)
        or the email typed (``email``) when given."""
        self._check_operator_access()
        Partner = self.env["res.partner"]
        caller = Partner.browse(int(partner_id)) if partner_id else Partner
        caller.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Ticket"),
            "res_model": "crm.support.ticket",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_partner_id": caller.id,
                "default_channel": "phone",
                "default_partner_phone": phone or caller.phone or caller.mobile or False,
                "default_partner_email": email or caller.email or False,
            },
        }

    @api.model
    def action_log_call(self, partner_id):
        """The quick form logging an inbound phone call with ``partner_id``, held now."""
        self._check_operator_access()
        caller = self.env["res.partner"].browse(int(partner_id))
        caller.check_access("read")
        action = caller.action_log_contact()
        action["name"] = self.env._("Log a Call")
        action["context"] = {
            **action["context"],
            "default_channel": "phone",
            "default_direction": "inbound",
        }
        return action

    # ------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------

    @api.model
    def _check_operator_access(self):
        if not self.env.su and not self.env.user.has_group(OPERATOR_GROUP):
            raise AccessError(
                self.env._(
                    "The operator screen is for customer care officers: ask your "
                    "administrator for the Customer Care Officer role."
                )
            )
