import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup
from psycopg2.errors import SerializationFailure

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, format_date, split_every

from ..tools import scheduler_may_commit

_logger = logging.getLogger(__name__)

CRON_BATCH_SIZE = 200
LETTER_REPORT = "crm_extended.action_report_payment_reminder_letter"
# letters rendered per wkhtmltopdf run, and per call of the letters job
LETTER_BATCH_SIZE = 20
LETTER_CRON_LIMIT = 200
# states of a reminder that reached the customer (or is on its way): they count for the
# interval between reminders and their levels are never sent again for the same items
DELIVERED_STATES = ("to_print", "sent")


# ------------------------------------------------------------
# THE PLAN: what a run would do, computed once, executed by the job, shown by the preview
# ------------------------------------------------------------


@dataclass
class ReminderItem:
    """One overdue receivable item (an invoice, or one installment of it)."""

    move_line_id: int
    move_id: int
    move_name: str
    invoice_date: date | None
    date_maturity: date
    days_overdue: int
    amount: float  # residual, in currency_id
    currency_id: int
    level_id: int | None  # highest level the item reached
    is_new: bool  # that level was never sent for this item
    excluded: str | None  # "dispute" / "promise": not reminded
    contract_id: int | None = None


@dataclass
class ReminderPlanEntry:
    """What a run does for one customer of one company.

    ``level_id`` is the level to send when ``skip_reason`` is empty; ``items`` are the
    overdue items the message lists, ``excluded_items`` the disputed or promised ones it
    leaves out.
    """

    partner_id: int
    company_id: int
    level_id: int | None = None
    items: list = field(default_factory=list)
    excluded_items: list = field(default_factory=list)
    skip_reason: str | None = None
    last_reminder_date: date | None = None

    @property
    def to_send(self):
        return bool(self.level_id) and not self.skip_reason

    @property
    def move_ids(self):
        return list(dict.fromkeys(item.move_id for item in self.items))

    @property
    def days_overdue(self):
        return max((item.days_overdue for item in self.items or self.excluded_items), default=0)


class CrmPaymentReminder(models.Model):
    """A payment reminder sent to a customer: one message listing all the customer's overdue
    invoices of a company, at the highest level one of them newly reached.

    Reminders are made by the daily job (:meth:`_cron_send_reminders`) or by an accountant
    ("Send Reminder Now"), both through :meth:`_get_reminder_plan` then
    :meth:`_send_plan`. Each one is also written in the customer's history as a contact log.
    """

    _name = "crm.payment.reminder"
    _description = "Payment Reminder"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer Company",
        related="partner_id.commercial_partner_id",
        store=True,
        precompute=True,
        index=True,
    )
    recipient_id = fields.Many2one(
        "res.partner",
        string="Sent To",
        readonly=True,
        help="The invoicing contact the email was addressed to.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        index="btree_not_null",
        help="The customer's salesperson when the reminder was sent.",
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    level_id = fields.Many2one(
        "crm.payment.reminder.level", readonly=True, index=True, check_company=True
    )
    channel = fields.Selection(
        [("email", "Email"), ("letter", "Letter"), ("phone", "Phone Call")],
        readonly=True,
        help="How the reminder reached the customer: a level by email falls back to a letter "
        "when the customer has no email address.",
    )
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today, index=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("to_print", "To Print"),
            ("sent", "Sent"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
        copy=False,
    )
    manual = fields.Boolean(
        string="Sent by Hand",
        readonly=True,
        help="Sent with “Send Reminder Now” rather than by the daily job.",
    )
    line_ids = fields.One2many(
        "crm.payment.reminder.line", "reminder_id", string="Overdue Invoices", readonly=True
    )
    invoice_ids = fields.Many2many(
        "account.move",
        relation="crm_payment_reminder_account_move_rel",
        column1="reminder_id",
        column2="move_id",
        string="Invoices",
        readonly=True,
        copy=False,
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    days_overdue = fields.Integer(
        compute="_compute_amounts",
        store=True,
        aggregator="max",
        help="Days the oldest listed invoice was overdue when the reminder was sent.",
    )
    amount_summary = fields.Char(
        string="Amount Due",
        compute="_compute_amounts",
        store=True,
        help="Total of the listed invoices, per currency.",
    )
    mail_message_id = fields.Many2one("mail.message", string="Email", readonly=True, copy=False)
    attachment_id = fields.Many2one("ir.attachment", string="Letter", readonly=True, copy=False)
    contact_log_id = fields.Many2one(
        "crm.contact.log", readonly=True, copy=False, index="btree_not_null"
    )
    call_log_id = fields.Many2one(
        "crm.contact.log", string="Planned Call", readonly=True, copy=False
    )
    manager_user_id = fields.Many2one(
        "res.users",
        string="Manager Notified",
        readonly=True,
        help="Who got the to-do of a level that notifies the manager.",
    )
    error = fields.Text(readonly=True, copy=False)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("line_ids.days_overdue", "line_ids.amount_residual", "line_ids.currency_id")
    def _compute_amounts(self):
        for reminder in self:
            reminder.days_overdue = max(reminder.line_ids.mapped("days_overdue"), default=0)
            reminder.amount_summary = " + ".join(
                format_amount(self.env, amount, currency)
                for currency, amount in reminder._get_currency_totals()
            )

    def _compute_invoice_count(self):
        for reminder in self:
            reminder.invoice_count = len(reminder.invoice_ids)

    def _get_currency_totals(self):
        """[(currency, total residual)] of the listed invoices, one per currency."""
        self.ensure_one()
        totals = defaultdict(float)
        for line in self.line_ids:
            totals[line.currency_id] += line.amount_residual
        return sorted(totals.items(), key=lambda item: item[0].name)

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        unnamed = [vals for vals in vals_list if vals.get("name", "/") == "/"]
        for vals, number in zip(unnamed, self._next_numbers(len(unnamed)), strict=True):
            vals["name"] = number
        return super().create(vals_list)

    @api.model
    def _next_numbers(self, count):
        """``count`` reminder numbers from the reminders' sequence, in one query when it is
        a plain PostgreSQL sequence (the job numbers a batch of reminders at once)."""
        if not count:
            return []
        sequence = (
            self.env["ir.sequence"]
            .sudo()
            .search(
                [
                    ("code", "=", "crm.payment.reminder"),
                    ("company_id", "in", [self.env.company.id, False]),
                ],
                order="company_id",
                limit=1,
            )
        )
        if not sequence:
            return ["/"] * count
        if sequence.implementation != "standard" or sequence.use_date_range:
            return [sequence._next() for __ in range(count)]
        # the sequence's own PostgreSQL sequence (see ir.sequence._next_do)
        rows = self.env.execute_query(
            SQL(
                "SELECT nextval(%s) FROM generate_series(1, %s)",
                f"ir_sequence_{sequence.id:03d}",
                count,
            )
        )
        return [sequence.get_next_char(number) for [number] in rows]

    @api.ondelete(at_uninstall=False)
    def _unlink_except_delivered(self):
        if any(reminder.state in DELIVERED_STATES for reminder in self):
            raise UserError(
                self.env._(
                    "A reminder that reached the customer stays in their history: cancel it "
                    "instead of deleting it."
                )
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_mark_sent(self):
        """The letter was printed and posted."""
        self.check_access("write")
        self.filtered(lambda reminder: reminder.state == "to_print").write({"state": "sent"})
        return True

    def action_cancel(self):
        """Cancel draft, failed or unprinted reminders. A cancelled letter is not in the
        customer's hands: its levels can be sent again."""
        self.check_access("write")
        to_cancel = self.filtered(lambda r: r.state in ("draft", "failed", "to_print"))
        printed = to_cancel.filtered(lambda r: r.state == "to_print")
        to_cancel.write({"state": "cancelled"})
        if printed:
            printed._unmark_items_reminded()
        return True

    def action_retry(self):
        """Send a new reminder to the customers of these failed reminders, now."""
        self.check_access("write")
        failed = self.filtered(lambda reminder: reminder.state == "failed")
        if not failed:
            raise UserError(self.env._("Only failed reminders can be sent again."))
        reminders = self.browse()
        for company, company_failed in failed.grouped("company_id").items():
            reminders |= self._send_now(company_failed.partner_id, company)
        failed.write({"state": "cancelled"})
        return reminders._action_open()

    def action_print_letter(self):
        self.ensure_one()
        return self.env.ref(LETTER_REPORT).report_action(self)

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update({"domain": [("id", "in", self.invoice_ids.ids)], "context": {}})
        return action

    def action_open_contact_log(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.contact.log",
            "view_mode": "form",
            "res_id": (self.contact_log_id or self.call_log_id).id,
        }

    def _action_open(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_payment_reminder_action"
        )
        if len(self) == 1:
            action.update({"res_id": self.id, "views": [(False, "form")], "view_mode": "form"})
        else:
            action["domain"] = [("id", "in", self.ids)]
        return action

    # ------------------------------------------------------------
    # THE JOB
    # ------------------------------------------------------------

    @api.model
    def _cron_send_reminders(self, batch_size=CRON_BATCH_SIZE):
        """The daily reminder run, for every company.

        1. promises: those fully paid are kept, those whose date passed are broken (their
           invoices are reminded again);
        2. the plan: who gets which level, who is skipped and why (:meth:`_get_reminder_plan`);
        3. its execution, ``batch_size`` customers at a time (:meth:`_send_plan`): emails
           queued, letters to print (their PDF rendered next by :meth:`_cron_prepare_letters`),
           calls planned, contacts logged.

        Safe to run twice a day: a level is never sent twice for the same item, and the
        interval between reminders is respected.

        :return: the reminders made (sent, to print or failed)
        """
        today = fields.Date.context_today(self)
        companies = self.env["res.company"].sudo().search([("active", "=", True)])
        self.env["crm.payment.reminder.level"]._get_or_create_default_levels(companies)
        self.env["crm.payment.promise"]._update_promise_states(today)
        plan = self._get_reminder_plan(today=today, companies=companies)
        reminders = self._send_plan(plan, today=today, batch_size=batch_size)
        if any(reminder.channel == "letter" for reminder in reminders):
            self.env.ref("crm_extended.ir_cron_payment_reminder_letters")._trigger()
        return reminders

    @api.model
    def _send_now(self, partners, company=None):
        """Send their reminder now to ``partners`` (customers) of ``company`` (the current
        one by default): the same plan as the job, but the interval since their last
        reminder is not waited for. Raises when there is nothing to send.
        """
        self.check_access("create")
        company = company or self.env.company
        today = fields.Date.context_today(self)
        customers = partners.commercial_partner_id
        self.env["crm.payment.reminder.level"]._get_or_create_default_levels(company)
        plan = self._get_reminder_plan(
            today=today, companies=company, partners=customers, ignore_interval=True
        )
        to_send = [entry for entry in plan if entry.to_send]
        if not to_send:
            reasons = dict(self._get_skip_reasons())
            skipped = [entry for entry in plan if entry.skip_reason]
            if skipped:
                raise UserError(
                    self.env._(
                        "No reminder sent to %(customer)s: %(reason)s.",
                        customer=customers[:1].display_name,
                        reason=reasons[skipped[0].skip_reason],
                    )
                )
            raise UserError(
                self.env._(
                    "%(customer)s has no overdue invoice that reached a reminder level not "
                    "already sent: there is nothing to remind.",
                    customer=customers[:1].display_name,
                )
            )
        reminders = self.sudo()._send_plan(to_send, today=today, manual=True)
        if not reminders:
            raise UserError(
                self.env._(
                    "%(customer)s is being reminded at this very moment (by the daily job or "
                    "another accountant): open their reminders in a minute.",
                    customer=customers[:1].display_name,
                )
            )
        return reminders.sudo(False)

    @api.model
    def _get_skip_reasons(self):
        return [
            ("blocked", self.env._("reminders are blocked for this customer")),
            ("do_not_contact", self.env._("the customer asked not to be contacted")),
            ("dispute", self.env._("the overdue invoices are disputed")),
            ("promise", self.env._("the customer promised to pay them")),
            ("interval", self.env._("the customer was reminded recently")),
        ]

    @api.model
    def _get_reminder_plan(self, today=None, companies=None, partners=None, ignore_interval=False):
        """Who would be reminded on ``today``, of which invoices, at which level, and who is
        skipped and why. Sends nothing: the job and the preview both call it.

        A customer is in the plan when at least one of their overdue receivable items (an
        invoice, or an installment of it, posted, unpaid, past its due date) reached a level
        never sent for it. The level sent is the highest such level among items that are
        neither disputed nor covered by a pending promise; the message lists all those
        items. Customers blocked from reminders or not to be contacted, whose items needing
        a reminder are all disputed or promised, or reminded within the company's interval,
        are in the plan with their reason.

        A constant number of queries, whatever the number of customers and invoices.

        :param companies: res.company (all the user's companies by default)
        :param partners: restrict to these customers (commercial partners)
        :param ignore_interval: do not skip customers reminded recently ("send now")
        :return: list of :class:`ReminderPlanEntry`, in customer order
        """
        today = today or fields.Date.context_today(self)
        companies = companies if companies is not None else self.env.companies
        if not companies:
            return []
        rows = self._query_overdue_items(today, companies, partners)
        plan = {}
        for row in rows:
            key = (row["partner_id"], row["company_id"])
            entry = plan.get(key)
            if entry is None:
                entry = plan[key] = ReminderPlanEntry(row["partner_id"], row["company_id"])
            excluded = "dispute" if row["disputed"] else "promise" if row["promised"] else None
            item = ReminderItem(
                move_line_id=row["line_id"],
                move_id=row["move_id"],
                move_name=row["move_name"],
                invoice_date=row["invoice_date"],
                date_maturity=row["date_maturity"],
                days_overdue=row["days_overdue"],
                amount=row["amount"],
                currency_id=row["currency_id"],
                level_id=row["level_id"],
                is_new=row["is_new"],
                excluded=excluded,
                contract_id=row["contract_id"],
            )
            (entry.excluded_items if excluded else entry.items).append(item)
        if not plan:
            return []

        level_days = {
            level.id: level.days
            for level in self.env["crm.payment.reminder.level"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "in", companies.ids)])
        }
        customers = self.env["res.partner"].sudo().browse({key[0] for key in plan})
        customers.fetch(["do_not_contact", "payment_reminder_blocked"])
        last_dates = {}
        if not ignore_interval:
            last_dates = {
                (partner.id, company.id): last
                for partner, company, last in self.sudo()._read_group(
                    [
                        ("partner_id", "in", customers.ids),
                        ("company_id", "in", companies.ids),
                        ("state", "in", DELIVERED_STATES),
                    ],
                    ["partner_id", "company_id"],
                    ["date:max"],
                )
            }
        intervals = {company.id: company.crm_payment_reminder_interval for company in companies}

        for (partner_id, company_id), entry in plan.items():
            customer = customers.browse(partner_id)
            new_items = [item for item in entry.items if item.is_new]
            if new_items:
                entry.level_id = max(
                    (item.level_id for item in new_items), key=lambda lid: level_days[lid]
                )
            entry.last_reminder_date = last_dates.get((partner_id, company_id))
            if customer.payment_reminder_blocked:
                entry.skip_reason = "blocked"
            elif customer.do_not_contact:
                entry.skip_reason = "do_not_contact"
            elif not new_items:
                # what is new is disputed or promised: say which level it would have been
                pending = [item for item in entry.excluded_items if item.is_new]
                entry.level_id = max(
                    (item.level_id for item in pending), key=lambda lid: level_days[lid]
                )
                entry.skip_reason = (
                    "dispute" if any(item.excluded == "dispute" for item in pending) else "promise"
                )
            elif entry.last_reminder_date and today < entry.last_reminder_date + timedelta(
                days=intervals[company_id]
            ):
                entry.skip_reason = "interval"
        return list(plan.values())

    @api.model
    def _query_overdue_items(self, today, companies, partners=None):
        """Rows of the overdue receivable items of the customers needing a reminder: those
        with at least one item that reached a level not yet sent for it (one query)."""
        for model, fnames in (
            ("account.move.line", None),
            (
                "account.move",
                ["move_type", "commercial_partner_id", "payment_disputed", "contract_id", "name"],
            ),
            ("crm.payment.promise", ["state", "date_promised", "invoice_ids"]),
            ("crm.payment.reminder.level", ["active", "company_id", "days"]),
        ):
            self.env[model].flush_model(fnames)
        partner_filter = SQL()
        if partners is not None:
            partner_filter = SQL(
                "AND move.commercial_partner_id = ANY(%s)", partners.commercial_partner_id.ids
            )
        return self.env.execute_query_dict(
            SQL(
                """
            WITH items AS (
                SELECT aml.id AS line_id,
                       aml.move_id,
                       move.name AS move_name,
                       move.invoice_date,
                       aml.company_id,
                       move.commercial_partner_id AS partner_id,
                       aml.date_maturity,
                       %(today)s::date - aml.date_maturity AS days_overdue,
                       aml.amount_residual_currency AS amount,
                       aml.currency_id,
                       due.id AS level_id,
                       COALESCE(due.days, -1) > COALESCE(sent.days, -1) AS is_new,
                       COALESCE(move.payment_disputed, FALSE) AS disputed,
                       EXISTS (
                           SELECT 1
                             FROM crm_payment_promise_account_move_rel rel
                             JOIN crm_payment_promise promise ON promise.id = rel.promise_id
                            WHERE rel.move_id = aml.move_id
                              AND promise.state = 'open'
                              AND promise.date_promised >= %(today)s
                       ) AS promised,
                       move.contract_id
                  FROM account_move_line aml
                  JOIN account_move move ON move.id = aml.move_id
             LEFT JOIN crm_payment_reminder_level sent
                        ON sent.id = aml.payment_reminder_level_id
             LEFT JOIN LATERAL (
                           SELECT level.id, level.days
                             FROM crm_payment_reminder_level level
                            WHERE level.company_id = aml.company_id
                              AND level.active
                              AND level.days <= %(today)s::date - aml.date_maturity
                         ORDER BY level.days DESC
                            LIMIT 1
                       ) due ON TRUE
                 WHERE aml.display_type = 'payment_term'
                   AND aml.parent_state = 'posted'
                   AND aml.reconciled IS NOT TRUE
                   AND aml.amount_residual > 0
                   AND aml.date_maturity < %(today)s
                   AND aml.company_id = ANY(%(company_ids)s)
                   AND move.move_type = 'out_invoice'
                   %(partner_filter)s
            )
            SELECT *
              FROM (
                    SELECT items.*,
                           bool_or(is_new) OVER (PARTITION BY company_id, partner_id) AS due
                      FROM items
                   ) AS items
             WHERE due
          ORDER BY partner_id, company_id, date_maturity, move_id, line_id
                """,
                today=today,
                company_ids=companies.ids,
                partner_filter=partner_filter,
            )
        )

    # ------------------------------------------------------------
    # EXECUTION
    # ------------------------------------------------------------

    @api.model
    def _send_plan(self, plan, today=None, batch_size=CRON_BATCH_SIZE, manual=False):
        """Send the reminders of ``plan`` (entries to skip are ignored), ``batch_size``
        customers at a time. A batch is sent in one go; when it fails, its customers are sent
        one by one so that only the failing ones are left out, each recorded as a failed
        reminder with its error. Under the scheduler, each batch is committed and reported.
        """
        today = today or fields.Date.context_today(self)
        to_send = [entry for entry in plan if entry.to_send]
        auto_commit = scheduler_may_commit(self.env)
        reminders = self.browse()
        done = 0
        for batch in split_every(batch_size, to_send, list):
            reminders |= self._send_batch(batch, today, manual)
            done += len(batch)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(to_send) - done)
            if auto_commit:
                # the batch's emails are queued and its items marked: a later timeout of the
                # scheduler must not roll them back and send them again on the next run
                self.env.cr.commit()  # pylint: disable=invalid-commit
                self.env.invalidate_all()  # keep the worker's memory flat
        if to_send:
            _logger.info(
                "Payment reminders: %s customer(s) reminded, %s failed",
                len(reminders.filtered(lambda r: r.state != "failed")),
                len(reminders.filtered(lambda r: r.state == "failed")),
            )
        return reminders

    @api.model
    def _send_batch(self, entries, today, manual=False):
        """Send a batch in one go; when it fails, send its customers one by one, so only
        the failing ones are left out, each recorded as a failed reminder. A customer whose
        invoices changed in another transaction meanwhile is left for the next run."""
        try:
            with self.env.cr.savepoint():
                return self._create_and_send(entries, today, manual)
        except SerializationFailure:
            if len(entries) == 1:
                _logger.info(
                    "Payment reminder of customer %s left for the next run: its invoices "
                    "changed meanwhile",
                    entries[0].partner_id,
                )
                return self.browse()
        except Exception as error:  # whatever the cause, the run goes on
            if len(entries) == 1:
                return self._record_failure(entries[0], today, manual, error)
        reminders = self.browse()
        for entry in entries:
            reminders |= self._send_batch([entry], today, manual)
        return reminders

    @api.model
    def _lock_entries(self, entries):
        """Lock the items of ``entries`` for this transaction and bring the entries up to
        date with them. Items paid since the plan was made are dropped; so are entries whose
        level was sent meanwhile (by "Send Reminder Now", or a run in another worker) and
        entries whose items another transaction holds (they are reminded next run). This
        is what keeps a level from being sent twice when two transactions remind the same
        customer at the same time. One query."""
        line_ids = [item.move_line_id for entry in entries for item in entry.items]
        self.env["account.move.line"].flush_model(
            ["payment_reminder_level_id", "reconciled", "amount_residual"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            SELECT aml.id, COALESCE(sent.days, -1), aml.reconciled OR aml.amount_residual <= 0
              FROM account_move_line aml
         LEFT JOIN crm_payment_reminder_level sent ON sent.id = aml.payment_reminder_level_id
             WHERE aml.id = ANY(%s)
               FOR UPDATE OF aml SKIP LOCKED
                """,
                line_ids,
            )
        )
        current = {line_id: (sent_days, paid) for line_id, sent_days, paid in rows}
        levels = self.env["crm.payment.reminder.level"].sudo()
        level_days = {
            level.id: level.days
            for level in levels.browse(
                {item.level_id for entry in entries for item in entry.items if item.level_id}
            )
        }
        locked = []
        for entry in entries:
            if any(item.move_line_id not in current for item in entry.items):
                continue
            items = [item for item in entry.items if not current[item.move_line_id][1]]
            new_items = [
                item
                for item in items
                if item.level_id and level_days[item.level_id] > current[item.move_line_id][0]
            ]
            if not new_items:
                continue
            entry.items = items
            entry.level_id = max(
                (item.level_id for item in new_items), key=lambda lid: level_days[lid]
            )
            locked.append(entry)
        return locked

    @api.model
    def _record_failure(self, entry, today, manual, error):
        """A failed reminder for ``entry``, with the error, listing what it was about."""
        message = str(error) or repr(error)
        _logger.warning(
            "Payment reminder of customer %s (company %s) failed: %s",
            entry.partner_id,
            entry.company_id,
            message,
        )
        Reminder = self.with_context(**self._quiet_context())
        vals = self._prepare_reminder_values(entry, today, manual)
        vals.update({"state": "failed", "error": message})
        try:
            with self.env.cr.savepoint():
                return Reminder.create(vals)
        except Exception:  # the lines themselves may be the problem
            vals.pop("line_ids")
            vals.pop("invoice_ids")
            return Reminder.create(vals)

    @api.model
    def _quiet_context(self):
        return {
            "mail_create_nolog": True,
            "mail_create_nosubscribe": True,
            "tracking_disable": True,
            "mail_notrack": True,
            "mail_activity_quick_update": True,
        }

    @api.model
    def _create_and_send(self, entries, today, manual=False):
        """Create and send the reminders of ``entries`` (one batch, all or nothing)."""
        entries = self._lock_entries(entries)
        if not entries:
            return self.browse()
        Reminder = self.with_context(**self._quiet_context())
        customers = self.env["res.partner"].browse(entry.partner_id for entry in entries)
        customers.fetch(["name", "email", "lang", "user_id", "company_id"])
        recipients = self._get_recipients(customers)
        vals_list = []
        for entry in entries:
            vals = self._prepare_reminder_values(entry, today, manual)
            recipient = recipients.get(entry.partner_id)
            level = self.env["crm.payment.reminder.level"].browse(entry.level_id)
            channel = level.channel
            if channel == "email" and not recipient:
                channel = "letter"  # nobody to write to: the letter goes by post
            vals.update({"recipient_id": recipient.id if recipient else False, "channel": channel})
            vals_list.append(vals)
        reminders = Reminder.create(vals_list)
        reminders._deliver(render_letters=manual)
        return reminders

    @api.model
    def _get_recipients(self, customers):
        """{customer id: contact the email goes to}: the customer's first invoicing contact
        with an email address, else the customer if it has one. Contacts who do not want to
        be contacted are left out. One query for all ``customers``."""
        contacts = (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("parent_id", "in", customers.ids),
                    ("type", "=", "invoice"),
                    ("email", "!=", False),
                ],
                order="id",
            )
        )
        contacts.fetch(["do_not_contact"])
        recipients = {}
        for contact in contacts:
            if not contact.do_not_contact:
                recipients.setdefault(contact.parent_id.id, contact.sudo(False))
        for customer in customers:
            if customer.id not in recipients and customer.email:
                recipients[customer.id] = customer
        return recipients

    @api.model
    def _prepare_reminder_values(self, entry, today, manual=False):
        """Values of the reminder of one :class:`ReminderPlanEntry`: its lines snapshot the
        listed items as they are today."""
        customer = self.env["res.partner"].browse(entry.partner_id)
        moves = self.env["account.move"].browse(entry.move_ids)
        lines = [
            Command.create(
                {
                    "move_line_id": item.move_line_id,
                    "move_id": item.move_id,
                    "name": item.move_name,
                    "invoice_date": item.invoice_date,
                    "date_maturity": item.date_maturity,
                    "days_overdue": item.days_overdue,
                    "amount_residual": item.amount,
                    "currency_id": item.currency_id,
                    "level_id": item.level_id,
                    "contract_id": item.contract_id,
                }
            )
            for item in entry.items
        ]
        return {
            "partner_id": entry.partner_id,
            "company_id": entry.company_id,
            "level_id": entry.level_id,
            "user_id": customer.user_id.id,
            "date": today,
            "manual": manual,
            "line_ids": lines,
            "invoice_ids": [Command.set(moves.ids)],
        }

    def _deliver(self, render_letters=False):
        """Send draft reminders through their channel, write them in the customers' history,
        plan the calls and tell the managers their level asks for, and remember the level
        sent for each listed item. Batched: a few queries per step for all of ``self``.

        Letters are left to print; their PDF is rendered by the letters job
        (:meth:`_cron_prepare_letters`), which the reminder job wakes up, or at once when
        ``render_letters`` (an accountant sending one customer's reminder).
        """
        for template, reminders in (
            self.filtered(lambda r: r.channel == "email")
            .grouped(lambda r: r.level_id.mail_template_id)
            .items()
        ):
            reminders._send_emails(template)
        letters = self.filtered(lambda r: r.channel == "letter")
        (self - letters).write({"state": "sent"})
        letters.write({"state": "to_print"})
        self._create_contact_logs()
        self.filtered(lambda r: r.level_id.notify_manager)._notify_managers()
        self._mark_items_reminded()
        if letters and render_letters:
            letters._prepare_letters()

    def _send_emails(self, template):
        mails = template.sudo().send_mail_batch(
            self.ids, email_layout_xmlid="mail.mail_notification_light"
        )
        for mail in mails:
            self.browse(mail.res_id).mail_message_id = mail.mail_message_id

    # ------------------------------------------------------------
    # LETTERS
    # ------------------------------------------------------------

    @api.model
    def _cron_prepare_letters(self, limit=LETTER_CRON_LIMIT, batch_size=LETTER_BATCH_SIZE):
        """Render the PDF of the letters to print that have none yet, ``batch_size`` letters
        per rendering and at most ``limit`` per call; the scheduler calls again while some
        remain. Each batch is committed under the scheduler.

        :return: the reminders whose letter was rendered
        """
        domain = [
            ("channel", "=", "letter"),
            ("state", "=", "to_print"),
            ("attachment_id", "=", False),
        ]
        pending = self.search(domain, limit=limit, order="id")
        remaining = self.search_count(domain) - len(pending)
        auto_commit = scheduler_may_commit(self.env)
        done = self.browse()
        for batch in split_every(batch_size, pending.ids, self.browse):
            batch._prepare_letters()
            done |= batch
            self.env["ir.cron"]._notify_progress(
                done=len(done), remaining=len(pending) - len(done) + remaining
            )
            if auto_commit:
                # each letter rendered (about a second) is kept even if a later one times out
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return done

    def _prepare_letters(self):
        """Render the reminder letters of ``self`` (one PDF rendering for all of them where
        wkhtmltopdf can render several documents at once, else one each) and attach each
        to its reminder and to its contact log."""
        if not self:
            return
        Report = self.env["ir.actions.report"].sudo()
        streams, kind = {}, "pdf"
        one_by_one = self.env.cr.cache.get("crm_payment_reminder_letters_one_by_one")
        if len(self) > 1 and not one_by_one:
            try:
                streams, kind = Report._pre_render_qweb_pdf(LETTER_REPORT, res_ids=self.ids)
            except Exception:  # e.g. a wkhtmltopdf built to render one document at a time
                # do not try again in this transaction
                self.env.cr.cache["crm_payment_reminder_letters_one_by_one"] = True
        contents = {}
        for reminder in self:
            stream = streams.get(reminder.id, {}).get("stream") if kind == "pdf" else None
            if stream:
                contents[reminder.id] = stream.getvalue()
            else:
                # tests render HTML, and letters a batch could not be split for go one by one
                contents[reminder.id], kind = Report._render_qweb_pdf(LETTER_REPORT, reminder.ids)
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": reminder._get_letter_filename(),
                        "raw": contents[reminder.id],
                        "mimetype": "application/pdf" if kind == "pdf" else "text/html",
                        "res_model": self._name,
                        "res_id": reminder.id,
                    }
                    for reminder in self
                ]
            )
        )
        for reminder, attachment in zip(self, attachments, strict=True):
            reminder.attachment_id = attachment
            if reminder.contact_log_id.channel == "letter":
                reminder.contact_log_id.sudo().attachment_ids = [Command.link(attachment.id)]

    def _get_letter_address(self):
        """Who the letter is addressed to: the contact the email would go to, else the
        customer's invoicing address."""
        self.ensure_one()
        if self.recipient_id:
            return self.recipient_id
        address = self.partner_id.sudo().address_get(["invoice"])["invoice"]
        return self.env["res.partner"].browse(address)

    def _get_letter_filename(self):
        self.ensure_one()
        return self.env._("Payment reminder %(number)s.pdf", number=self.name.replace("/", "-"))

    def _create_contact_logs(self):
        """Write each reminder in its customer's history: a held contact (email, letter)
        and, when the level asks for it or is a phone level, a call planned for the
        salesperson (which puts it in their activities)."""
        Log = self.env["crm.contact.log"].sudo().with_context(**self._quiet_context())
        now = fields.Datetime.now()
        category = self.env.ref(
            "crm_extended.crm_contact_log_category_payment", raise_if_not_found=False
        )
        held = self.filtered(lambda r: r.channel in ("email", "letter"))
        calls = self.filtered(lambda r: r.channel == "phone" or r.level_id.plan_call)
        held_logs = Log.create(
            [reminder._prepare_contact_log_values(now, category=category) for reminder in held]
        )
        call_logs = Log.create(
            [
                reminder._prepare_contact_log_values(now, planned=True, category=category)
                for reminder in calls
            ]
        )
        for reminder, log in zip(held, held_logs, strict=True):
            reminder.contact_log_id = log
        for reminder, log in zip(calls, call_logs, strict=True):
            reminder.call_log_id = log
            if reminder.channel == "phone":
                reminder.contact_log_id = log

    def _prepare_contact_log_values(self, now, planned=False, category=None):
        """Values of the contact log of a reminder in the customer's history, about its
        oldest overdue invoice, in the salesperson's name (without one: the manager, else
        the user sending); ``planned``: the call planned for them. ``category``: the
        payment category of contact logs."""
        self.ensure_one()
        salesperson = self.user_id if self.user_id.active else self.env["res.users"]
        user = salesperson or self._get_manager() or self.env.user
        env = self.with_context(lang=user.lang or self.env.lang).env
        values = {
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "user_id": user.id,
            "direction": "outbound",
            "invoice_id": (self.line_ids[:1].move_id or self.invoice_ids[:1]).id,
            "category_ids": [Command.set(category.ids)] if category else [],
            "content": self._get_summary_html(env),
        }
        if planned:
            values.update(
                {
                    "name": env._(
                        "Call %(customer)s about overdue invoices (%(number)s)",
                        customer=self.partner_id.name,
                        number=self.name,
                    ),
                    "channel": "phone",
                    "state": "planned",
                    "planned_date": now,
                }
            )
        else:
            values.update(
                {
                    "name": env._(
                        "Payment reminder %(number)s: %(level)s",
                        number=self.name,
                        level=self.level_id.with_env(env).name,
                    ),
                    "channel": self.channel,
                    "state": "done",
                    "date": now,
                    "duration": 0.0,
                }
            )
        return values

    def _get_summary_html(self, env=None):
        """Short HTML summary of the reminder: its level and channel, the listed invoices
        with their amount due and days overdue, totals per currency."""
        self.ensure_one()
        env = env or self.env
        channels = dict(self._fields["channel"]._description_selection(env))
        rows = Markup("").join(
            Markup("<li>%s</li>") % self._get_summary_line(env, line) for line in self.line_ids
        )
        totals = ", ".join(
            format_amount(env, amount, currency) for currency, amount in self._get_currency_totals()
        )
        intro = env._(
            "%(level)s sent by %(channel)s for %(count)s overdue invoice(s):",
            level=self.level_id.with_env(env).name or "",
            channel=channels.get(self.channel, ""),
            count=len(self.invoice_ids),
        )
        total = env._("Total due: %(totals)s", totals=totals)
        return Markup("<p>%s</p><ul>%s</ul><p><strong>%s</strong></p>") % (intro, rows, total)

    @api.model
    def _get_summary_line(self, env, line):
        values = {
            "invoice": line.name or line.move_id.name,
            "due": format_date(env, line.date_maturity),
            "amount": format_amount(env, line.amount_residual, line.currency_id),
            "days": line.days_overdue,
        }
        if line.contract_id:
            return env._(
                "%(invoice)s (contract %(contract)s) due %(due)s: %(amount)s, "
                "%(days)s days overdue",
                contract=line.contract_id.sudo().name,
                **values,
            )
        return env._("%(invoice)s due %(due)s: %(amount)s, %(days)s days overdue", **values)

    def _get_manager(self):
        """Who hears about this reminder when its level notifies the manager: the leader of
        the salesperson's sales team, else the company's first accounting manager."""
        self.ensure_one()
        leader = self.user_id.sudo().sale_team_id.user_id
        if leader.active:
            return leader.sudo(False)
        return self._get_accounting_manager(self.company_id)

    @api.model
    def _get_accounting_manager(self, company):
        """The first (oldest) internal user of ``company`` who is an accounting manager;
        looked up once per company and transaction."""
        cache = self.env.cr.cache.setdefault("crm_payment_reminder_accounting_manager", {})
        if company.id not in cache:
            cache[company.id] = (
                self.env["res.users"]
                .sudo()
                .search(
                    [
                        ("groups_id", "in", self.env.ref("account.group_account_manager").ids),
                        ("share", "=", False),
                        ("company_ids", "in", company.ids),
                    ],
                    order="id",
                    limit=1,
                )
                .id
            )
        return self.env["res.users"].browse(cache[company.id])

    def _notify_managers(self):
        """Tell each manager about their reminders (of a level that notifies the manager):
        one message per manager listing the customers, in their inbox or by email as they
        chose, rather than a to-do per customer."""
        by_manager = defaultdict(lambda: self.browse())
        for reminder in self:
            manager = reminder._get_manager()
            if manager:
                reminder.manager_user_id = manager
                by_manager[manager] |= reminder
        for manager, reminders in by_manager.items():
            env = self.with_context(lang=manager.lang or self.env.lang).env
            lines = Markup("").join(
                Markup('<li><a href="/odoo/%s/%s">%s</a> — %s: %s</li>')
                % (
                    self._name,
                    reminder.id,
                    reminder.name,
                    reminder.partner_id.name,
                    env._(
                        "%(level)s, %(amount)s, %(days)s days overdue",
                        level=reminder.level_id.with_env(env).name,
                        amount=reminder.amount_summary,
                        days=reminder.days_overdue,
                    ),
                )
                for reminder in reminders
            )
            intro = env._(
                "These customers were sent a reminder that asks for your attention: call "
                "them, or decide what comes next."
            )
            self.env["mail.thread"].sudo().message_notify(
                partner_ids=manager.partner_id.ids,
                subject=env._(
                    "Overdue invoices: %(count)s customer(s) need your attention",
                    count=len(reminders),
                ),
                body=Markup("<p>%s</p><ul>%s</ul>") % (intro, lines),
                model=self._name,
                res_id=reminders[0].id,
                subtype_xmlid="mail.mt_note",
            )

    def _mark_items_reminded(self):
        """Remember, on each listed item, the level it reached and the day it was reminded:
        that level is never sent again for it. The level only rises: an item listed in a
        reminder below the level it already had keeps it. One query for all of ``self``."""
        lines = self.line_ids.filtered("move_line_id")
        if not lines:
            return
        AccountMoveLine = self.env["account.move.line"]
        AccountMoveLine.flush_model(["payment_reminder_level_id", "payment_reminder_date"])
        values = SQL(", ").join(
            SQL(
                "(%s, %s::int, %s::date)",
                line.move_line_id.id,
                line.level_id.id or None,
                line.reminder_id.date,
            )  # fmt: skip
            for line in lines
        )
        self.env.cr.execute(
            SQL(
                """
            UPDATE account_move_line aml
               SET payment_reminder_level_id = CASE
                       WHEN COALESCE(new_level.days, -1) > COALESCE(
                           (SELECT old.days
                              FROM crm_payment_reminder_level old
                             WHERE old.id = aml.payment_reminder_level_id), -1)
                       THEN new_level.id
                       ELSE aml.payment_reminder_level_id
                   END,
                   payment_reminder_date = todo.date
              FROM (VALUES %s) AS todo(line_id, level_id, date)
         LEFT JOIN crm_payment_reminder_level new_level ON new_level.id = todo.level_id
             WHERE aml.id = todo.line_id
                """,
                values,
            )
        )
        AccountMoveLine.invalidate_model(["payment_reminder_level_id", "payment_reminder_date"])

    def _unmark_items_reminded(self):
        """Give the items of these (cancelled) reminders back the highest level and last date
        of the reminders that still reached the customer."""
        items = self.line_ids.move_line_id
        if not items:
            return
        self.flush_model(["state", "date"])
        self.env["crm.payment.reminder.line"].flush_model(["move_line_id", "level_id"])
        AccountMoveLine = self.env["account.move.line"]
        AccountMoveLine.flush_model(["payment_reminder_level_id", "payment_reminder_date"])
        self.env.cr.execute(
            SQL(
                """
            UPDATE account_move_line aml
               SET payment_reminder_level_id = (
                       SELECT line.level_id
                         FROM crm_payment_reminder_line line
                         JOIN crm_payment_reminder reminder ON reminder.id = line.reminder_id
                         JOIN crm_payment_reminder_level level ON level.id = line.level_id
                        WHERE line.move_line_id = aml.id
                          AND reminder.state IN %(delivered)s
                     ORDER BY level.days DESC
                        LIMIT 1
                   ),
                   payment_reminder_date = (
                       SELECT max(reminder.date)
                         FROM crm_payment_reminder_line line
                         JOIN crm_payment_reminder reminder ON reminder.id = line.reminder_id
                        WHERE line.move_line_id = aml.id
                          AND reminder.state IN %(delivered)s
                   )
             WHERE aml.id = ANY(%(ids)s)
                """,
                delivered=DELIVERED_STATES,
                ids=items.ids,
            )
        )
        AccountMoveLine.invalidate_model(["payment_reminder_level_id", "payment_reminder_date"])


class CrmPaymentReminderLine(models.Model):
    """An overdue invoice (or installment) listed in a reminder, as it was that day."""

    _name = "crm.payment.reminder.line"
    _description = "Payment Reminder Line"
    _order = "reminder_id, date_maturity, id"

    reminder_id = fields.Many2one(
        "crm.payment.reminder", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="reminder_id.company_id", store=True, precompute=True)
    move_line_id = fields.Many2one(
        "account.move.line", string="Journal Item", ondelete="set null", index="btree_not_null"
    )
    move_id = fields.Many2one(
        "account.move", string="Invoice", ondelete="set null", index="btree_not_null"
    )
    # a snapshot: the number and dates stay if the invoice is later cancelled or deleted
    name = fields.Char(string="Number")
    invoice_date = fields.Date()
    date_maturity = fields.Date(string="Due Date")
    days_overdue = fields.Integer()
    amount_residual = fields.Monetary(string="Amount Due", currency_field="currency_id")
    currency_id = fields.Many2one("res.currency")
    level_id = fields.Many2one(
        "crm.payment.reminder.level",
        string="Level Reached",
        help="The level this invoice (or installment) had reached that day.",
    )
    contract_id = fields.Many2one("crm.contract")
