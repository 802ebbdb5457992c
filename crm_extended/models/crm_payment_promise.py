from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_amount, format_date

from .crm_contact_log import CHANNELS

# payment states of an invoice nothing is left to pay on
PAID_STATES = ("paid", "in_payment", "reversed")


class CrmPaymentPromise(models.Model):
    """A customer's promise to pay some of their invoices by a date.

    While it is pending (open, its date not passed) the reminders leave its invoices out.
    The daily reminder job closes it: kept once all its invoices are paid, broken once its
    date passed with something still unpaid, and the reminders resume.
    """

    _name = "crm.payment.promise"
    _description = "Payment Promise"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_promised desc, id desc"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        help="Who made the promise: the customer or one of its contact persons.",
    )
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer Company",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users",
        string="Recorded By",
        default=lambda self: self.env.user,
        required=True,
        index=True,
        domain="[('share', '=', False)]",
    )
    invoice_ids = fields.Many2many(
        "account.move",
        relation="crm_payment_promise_account_move_rel",
        column1="promise_id",
        column2="move_id",
        string="Invoices",
        required=True,
        check_company=True,
        domain="[('commercial_partner_id', '=', commercial_partner_id), "
        "('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    date_promised = fields.Date(
        string="Promised Date",
        required=True,
        tracking=True,
        help="Reminders leave the invoices out until this day; if they are still unpaid the "
        "day after, the promise is broken and reminders resume.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    amount = fields.Monetary(string="Promised Amount", required=True, tracking=True)
    amount_residual = fields.Monetary(
        string="Still Due",
        compute="_compute_amount_residual",
        help="What remains to be paid on the promised invoices (in the promise's currency).",
    )
    channel = fields.Selection(
        CHANNELS,
        string="Received By",
        default="phone",
        required=True,
        help="How the customer made the promise: it is logged as a contact of that kind.",
    )
    note = fields.Text()
    state = fields.Selection(
        [("open", "Open"), ("kept", "Kept"), ("broken", "Broken"), ("cancelled", "Cancelled")],
        default="open",
        required=True,
        tracking=True,
        index=True,
        copy=False,
    )
    is_pending = fields.Boolean(
        string="Pending",
        compute="_compute_is_pending",
        search="_search_is_pending",
        help="Open and its date not passed: reminders leave its invoices out.",
    )
    contact_log_id = fields.Many2one(
        "crm.contact.log", readonly=True, copy=False, index="btree_not_null"
    )
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("partner_id", "date_promised")
    def _compute_name(self):
        for promise in self:
            promise.name = self.env._(
                "%(customer)s by %(date)s",
                customer=promise.partner_id.commercial_partner_id.name or "",
                date=format_date(self.env, promise.date_promised) if promise.date_promised else "",
            )

    @api.depends("invoice_ids", "company_id")
    def _compute_currency_id(self):
        for promise in self:
            promise.currency_id = (
                promise.invoice_ids[:1].currency_id
                or promise.currency_id
                or promise.company_id.currency_id
                or self.env.company.currency_id
            )

    @api.depends("invoice_ids.amount_residual", "currency_id")
    def _compute_amount_residual(self):
        for promise in self:
            promise.amount_residual = sum(
                invoice.currency_id._convert(
                    invoice.amount_residual,
                    promise.currency_id,
                    invoice.company_id,
                    fields.Date.context_today(self),
                )
                for invoice in promise.invoice_ids
            )

    @api.depends("state", "date_promised")
    @api.depends_context("date")
    def _compute_is_pending(self):
        today = fields.Date.context_today(self)
        for promise in self:
            promise.is_pending = (
                promise.state == "open"
                and bool(promise.date_promised)
                and promise.date_promised >= today
            )

    def _search_is_pending(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Search pending promises with “is set” or “is not set”."))
        domain = [("state", "=", "open"), ("date_promised", ">=", fields.Date.context_today(self))]
        if (operator == "=") != bool(value):
            return ["!", "&", *domain]
        return domain

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("date_promised")
    def _check_date_promised(self):
        today = fields.Date.context_today(self)
        for promise in self:
            if promise.state == "open" and promise.date_promised < today:
                raise ValidationError(
                    self.env._(
                        "A promise to pay cannot be made for a day already past "
                        "(%(date)s): enter today or a later date.",
                        date=format_date(self.env, promise.date_promised),
                    )
                )

    @api.constrains("amount")
    def _check_amount(self):
        for promise in self:
            if promise.currency_id.compare_amounts(promise.amount, 0.0) <= 0:
                raise ValidationError(
                    self.env._(
                        "Enter the amount %(customer)s promised to pay: it must be more "
                        "than zero.",
                        customer=promise.partner_id.display_name,
                    )
                )

    @api.constrains("invoice_ids", "partner_id")
    def _check_invoices(self):
        for promise in self:
            if not promise.invoice_ids:
                raise ValidationError(
                    self.env._("Choose the invoices the customer promises to pay.")
                )
            customer = promise.commercial_partner_id
            for invoice in promise.invoice_ids:
                if invoice.commercial_partner_id != customer:
                    raise ValidationError(
                        self.env._(
                            "Invoice %(invoice)s belongs to %(owner)s, not to %(customer)s: a "
                            "promise covers its customer's invoices only.",
                            invoice=invoice.display_name,
                            owner=invoice.commercial_partner_id.display_name,
                            customer=customer.display_name,
                        )
                    )
                if promise.state == "open" and (
                    invoice.move_type != "out_invoice"
                    or invoice.state != "posted"
                    or invoice.payment_state in PAID_STATES
                ):
                    raise ValidationError(
                        self.env._(
                            "%(invoice)s is not an open customer invoice: a promise covers "
                            "posted invoices still to be paid.",
                            invoice=invoice.display_name,
                        )
                    )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        promises = super().create(vals_list)
        promises._log_contacts()
        return promises

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_cancel(self):
        self.check_access("write")
        self.filtered(lambda promise: promise.state == "open").write(
            {"state": "cancelled", "date_closed": fields.Date.context_today(self)}
        )
        return True

    def action_reopen(self):
        """Reopen a cancelled or broken promise (its date must be today or later)."""
        self.check_access("write")
        self.filtered(lambda promise: promise.state in ("cancelled", "broken")).write(
            {"state": "open", "date_closed": False}
        )
        self._check_date_promised()
        return True

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update({"domain": [("id", "in", self.invoice_ids.ids)], "context": {}})
        return action

    @api.model
    def _action_record(self, partner, invoices):
        """The "Record a Promise" form, prefilled with ``partner`` and ``invoices``."""
        residual = sum(invoices.mapped("amount_residual"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record a Promise"),
            "res_model": self._name,
            "view_mode": "form",
            "views": [
                (self.env.ref("crm_extended.crm_payment_promise_view_form_quick").id, "form")
            ],
            "target": "new",
            "context": {
                "default_partner_id": partner.id,
                "default_company_id": (invoices[:1].company_id or self.env.company).id,
                "default_invoice_ids": [Command.set(invoices.ids)],
                "default_amount": residual if len(invoices.currency_id) == 1 else 0.0,
                "default_date_promised": fields.Date.context_today(self),
                "dialog_size": "medium",
            },
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _log_contacts(self):
        """Write each promise in the customer's history: a held contact, category payment."""
        category = self.env.ref(
            "crm_extended.crm_contact_log_category_payment", raise_if_not_found=False
        )
        logs = (
            self.env["crm.contact.log"]
            .sudo()
            .with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
            .create(
                [
                    {
                        "name": self.env._(
                            "Promise to pay %(amount)s by %(date)s",
                            amount=format_amount(self.env, promise.amount, promise.currency_id),
                            date=format_date(self.env, promise.date_promised),
                        ),
                        "partner_id": promise.partner_id.id,
                        "company_id": promise.company_id.id,
                        "user_id": promise.user_id.id,
                        "channel": promise.channel,
                        "direction": "inbound",
                        "state": "done",
                        "date": fields.Datetime.now(),
                        "duration": 0.0,
                        "invoice_id": promise.invoice_ids[:1].id,
                        "category_ids": [Command.set(category.ids)] if category else [],
                        "content": promise._get_summary_html(),
                    }
                    for promise in self
                ]
            )
        )
        for promise, log in zip(self, logs, strict=True):
            promise.contact_log_id = log

    def _get_summary_html(self):
        self.ensure_one()
        invoices = ", ".join(self.invoice_ids.mapped("name"))
        text = self.env._(
            "%(customer)s promised to pay %(amount)s by %(date)s for %(invoices)s.",
            customer=self.partner_id.display_name,
            amount=format_amount(self.env, self.amount, self.currency_id),
            date=format_date(self.env, self.date_promised),
            invoices=invoices,
        )
        html = Markup("<p>%s</p>") % text
        if self.note:
            html += Markup("<p>%s</p>") % self.note
        return html

    @api.model
    def _update_promise_states(self, today=None):
        """Close the open promises: kept when all their invoices are paid, broken when their
        date passed with something still unpaid. Two queries to find them, whatever their
        number; run by the reminder job before it plans the day's reminders.

        :return: (kept promises, broken promises)
        """
        today = today or fields.Date.context_today(self)
        self.flush_model(["state", "date_promised", "invoice_ids"])
        self.env["account.move"].flush_model(["payment_state", "state"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT promise.id,
                   bool_and(move.payment_state IN %(paid)s OR move.state = 'cancel') AS paid,
                   promise.date_promised < %(today)s AS expired
              FROM crm_payment_promise promise
              JOIN crm_payment_promise_account_move_rel rel ON rel.promise_id = promise.id
              JOIN account_move move ON move.id = rel.move_id
             WHERE promise.state = 'open'
          GROUP BY promise.id
            HAVING bool_and(move.payment_state IN %(paid)s OR move.state = 'cancel')
                OR promise.date_promised < %(today)s
                """,
                paid=PAID_STATES,
                today=today,
            )
        )
        Promise = self.sudo()
        kept = Promise.browse(pid for pid, paid, __ in rows if paid)
        broken = Promise.browse(pid for pid, paid, expired in rows if not paid and expired)
        kept.write({"state": "kept", "date_closed": today})
        broken.write({"state": "broken", "date_closed": today})
        for promise in broken:
            promise.message_post(
                body=self.env._(
                    "The promised date passed and invoices are still unpaid: the promise is "
                    "broken and payment reminders resume."
                ),
                subtype_xmlid="mail.mt_note",
                partner_ids=promise.user_id.partner_id.ids,
            )
        return kept, broken
