from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

REMINDER_READERS = (
    "sales_team.group_sale_salesman,account.group_account_invoice,account.group_account_readonly"
)
# aging buckets of the statement of account: (key, first day overdue, last day overdue)
AGING_BUCKETS = (
    ("current", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("90_plus", 91, None),
)


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    payment_reminder_blocked = fields.Boolean(
        string="No Payment Reminders",
        tracking=True,
        copy=False,
        help="Overdue invoices of this customer are never reminded automatically (they still "
        "show in the reminder preview, with this reason).",
    )
    payment_reminder_count = fields.Integer(
        string="Payment Reminders",
        compute="_compute_payment_reminder_count",
        compute_sudo=False,
        groups=REMINDER_READERS,
    )
    payment_promise_count = fields.Integer(
        string="Payment Promises",
        compute="_compute_payment_reminder_count",
        compute_sudo=False,
        groups=REMINDER_READERS,
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_payment_reminder_count(self):
        """Reminders and promises of the customer company (contact persons show their
        company's). One grouped query each, among what the user may read."""
        customers = self._origin.commercial_partner_id
        reminders = dict(
            self.env["crm.payment.reminder"]._read_group(
                [("commercial_partner_id", "in", customers.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        promises = dict(
            self.env["crm.payment.promise"]._read_group(
                [("commercial_partner_id", "in", customers.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            customer = partner._origin.commercial_partner_id
            partner.payment_reminder_count = reminders.get(customer, 0)
            partner.payment_promise_count = promises.get(customer, 0)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_send_payment_reminder(self):
        """ "Send Reminder Now": this customer's reminder of the current company, at once,
        without waiting for the interval since their last reminder."""
        self.ensure_one()
        reminders = self.env["crm.payment.reminder"]._send_now(self)
        return reminders._action_open()

    def action_record_payment_promise(self):
        """Record a promise to pay, prefilled with the customer's overdue invoices."""
        self.ensure_one()
        customer = self.commercial_partner_id
        invoices = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", customer.id),
                ("company_id", "=", self.env.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", fields.Date.context_today(self)),
            ]
        )
        return self.env["crm.payment.promise"]._action_record(self, invoices)

    def action_view_payment_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_payment_reminder_action"
        )
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_view_payment_promises(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_payment_promise_action"
        )
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_print_statement(self):
        self.ensure_one()
        return self.env.ref("crm_extended.action_report_statement_of_account").report_action(self)

    # ------------------------------------------------------------
    # STATEMENT OF ACCOUNT
    # ------------------------------------------------------------

    @api.model
    def _get_statement_aging_labels(self):
        return {
            "current": self.env._("Not Due"),
            "1_30": self.env._("1-30 Days"),
            "31_60": self.env._("31-60 Days"),
            "61_90": self.env._("61-90 Days"),
            "90_plus": self.env._("Over 90 Days"),
        }

    def _get_statement_data(self, company=None, today=None):
        """Open receivable items of this customer (and its contacts) in ``company`` for the
        statement of account: invoices, installments, credit notes and unallocated payments,
        with their aging bucket and contract, and totals per currency. One query.

        :return: {"lines": [dict], "totals": [{"currency", "total", <bucket>: amount}],
                  "buckets": [(key, label)], "date": today}
        """
        self.ensure_one()
        company = company or self.env.company
        today = today or fields.Date.context_today(self)
        customer = self.commercial_partner_id
        Line = self.env["account.move.line"]
        Line.flush_model()
        self.env["account.move"].flush_model()
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT aml.id, aml.move_id, move.name, move.move_type, move.ref,
                   move.invoice_date, aml.date, aml.date_maturity,
                   aml.amount_currency AS amount, aml.amount_residual_currency AS residual,
                   aml.currency_id, move.contract_id
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN account_account account ON account.id = aml.account_id
             WHERE aml.partner_id = %(customer)s
               AND aml.company_id = %(company)s
               AND aml.parent_state = 'posted'
               AND account.account_type = 'asset_receivable'
               AND aml.reconciled IS NOT TRUE
               AND aml.amount_residual != 0
          ORDER BY COALESCE(aml.date_maturity, aml.date), aml.id
                """,
                customer=customer.id,
                company=company.id,
            )
        )
        Currency = self.env["res.currency"]
        Move = self.env["account.move"]
        Contract = self.env["crm.contract"]
        move_types = dict(Move._fields["move_type"]._description_selection(self.env))
        totals = defaultdict(lambda: defaultdict(float))
        lines = []
        for row in rows:
            due = row["date_maturity"] or row["date"]
            days = (today - due).days
            bucket = next(
                key
                for key, low, high in AGING_BUCKETS
                if (low is None or days >= low) and (high is None or days <= high)
            )
            currency = Currency.browse(row["currency_id"])
            totals[currency][bucket] += row["residual"]
            totals[currency]["total"] += row["residual"]
            lines.append(
                {
                    "move": Move.browse(row["move_id"]),
                    "name": row["name"],
                    "type": move_types.get(row["move_type"], ""),
                    "reference": row["ref"] or "",
                    "date": row["invoice_date"] or row["date"],
                    "date_maturity": due,
                    "days_overdue": max(days, 0),
                    "amount": row["amount"],
                    "residual": row["residual"],
                    "currency": currency,
                    "bucket": bucket,
                    "contract": Contract.browse(row["contract_id"]).sudo(),
                }
            )
        return {
            "lines": lines,
            "totals": [
                {"currency": currency, **amounts}
                for currency, amounts in sorted(totals.items(), key=lambda item: item[0].name)
            ],
            "buckets": list(self._get_statement_aging_labels().items()),
            "date": today,
            "company": company,
        }
