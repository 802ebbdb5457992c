from odoo import api, fields, models
from odoo.exceptions import UserError

REMINDER_READERS = (
    "sales_team.group_sale_salesman,account.group_account_invoice,account.group_account_readonly"
)


class AccountMove(models.Model):
    """Disputes and payment promises on customer invoices, for the payment reminders."""

    _inherit = "account.move"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    payment_disputed = fields.Boolean(string="Disputed", tracking=True, copy=False)
    payment_dispute_reason = fields.Text(string="Dispute Reason", tracking=True, copy=False)
    payment_promise_ids = fields.Many2many(
        "crm.payment.promise",
        relation="crm_payment_promise_account_move_rel",
        column1="move_id",
        column2="promise_id",
        string="Payment Promises",
        copy=False,
    )
    payment_promise_pending = fields.Boolean(
        string="Payment Promised",
        compute="_compute_payment_promise_pending",
        help="An open promise to pay this invoice, whose date has not passed: reminders "
        "leave it out.",
    )
    payment_promise_date = fields.Date(
        string="Promised For", compute="_compute_payment_promise_pending"
    )
    payment_promise_count = fields.Integer(
        string="Promises", compute="_compute_payment_promise_pending", groups=REMINDER_READERS
    )
    payment_reminder_count = fields.Integer(
        string="Reminders",
        compute="_compute_payment_reminder_count",
        compute_sudo=False,
        groups=REMINDER_READERS,
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("payment_promise_ids.state", "payment_promise_ids.date_promised")
    @api.depends_context("date")
    def _compute_payment_promise_pending(self):
        # whoever may read the invoice may know it is promised (care officers too)
        today = fields.Date.context_today(self)
        for move in self:
            promises = move.sudo().payment_promise_ids
            pending = promises.filtered(
                lambda promise: promise.state == "open" and promise.date_promised >= today
            )
            move.payment_promise_pending = bool(pending)
            move.payment_promise_date = max(pending.mapped("date_promised"), default=False)
            move.payment_promise_count = len(promises)

    def _compute_payment_reminder_count(self):
        counts = dict(
            self.env["crm.payment.reminder"]._read_group(
                [("invoice_ids", "in", self._origin.ids)], ["invoice_ids"], ["__count"]
            )
        )
        for move in self:
            move.payment_reminder_count = counts.get(move._origin, 0)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_dispute_wizard(self):
        """Flag the invoice as disputed (with the reason), or settle its dispute."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(self.env._("Only posted customer invoices can be disputed."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Settle the Dispute")
            if self.payment_disputed
            else self.env._("Flag as Disputed"),
            "res_model": "account.move.dispute.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_move_id": self.id,
                "default_disputed": not self.payment_disputed,
                "default_reason": self.payment_dispute_reason if not self.payment_disputed else "",
            },
        }

    def action_record_payment_promise(self):
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(
                self.env._("A promise to pay is recorded on a posted customer invoice.")
            )
        if self.payment_state not in ("not_paid", "partial"):
            raise UserError(self.env._("%(invoice)s is already paid.", invoice=self.display_name))
        return self.env["crm.payment.promise"]._action_record(self.partner_id, self)

    def action_view_payment_promises(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_payment_promise_action"
        )
        action["domain"] = [("invoice_ids", "in", self.ids)]
        action["context"] = {}
        return action

    def action_view_payment_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_payment_reminder_action"
        )
        action["domain"] = [("invoice_ids", "in", self.ids)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _set_payment_dispute(self, disputed, reason=None):
        """Flag these invoices as disputed with ``reason``, or settle their dispute (the
        reason given then explains how, in the chatter). Tracked on the invoices."""
        if disputed:
            if not reason:
                raise UserError(self.env._("Say why the customer disputes the invoice."))
            self.write({"payment_disputed": True, "payment_dispute_reason": reason})
            return
        self.write({"payment_disputed": False, "payment_dispute_reason": False})
        if reason:
            for move in self:
                move.message_post(
                    body=self.env._("Dispute settled: %(how)s", how=reason),
                    subtype_xmlid="mail.mt_note",
                )
