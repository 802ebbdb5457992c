from odoo import api, fields, models
from odoo.exceptions import ValidationError

VALUE_TYPES = [
    ("percent", "Percentage of the Total"),
    ("amount", "Fixed Amount"),
]
MILESTONE_STATES = [
    ("to_invoice", "To Invoice"),
    ("invoiced", "Invoiced"),
]


class CrmContractMilestone(models.Model):
    """A dated share of a contract to invoice: a percentage of its total or a fixed amount.

    Amounts are taxes included, in the contract's currency. On its date the daily invoicing
    job bills it (see ``crm.contract._create_due_invoices``); a milestone whose invoice is
    cancelled is to invoice again.
    """

    _name = "crm.contract.milestone"
    _description = "Contract Invoicing Milestone"
    _order = "contract_id, date, sequence, id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    contract_id = fields.Many2one("crm.contract", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="contract_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="contract_id.currency_id")
    name = fields.Char(string="Milestone", required=True)
    date = fields.Date(string="Invoice On", required=True, index=True)
    value_type = fields.Selection(VALUE_TYPES, string="Based On", required=True, default="percent")
    percent = fields.Float(string="Percentage", digits=(5, 2))
    amount_fixed = fields.Monetary(string="Fixed Amount")
    amount = fields.Monetary(
        compute="_compute_amount",
        store=True,
        help="Amount to invoice, taxes included, in the contract's currency.",
    )
    invoice_id = fields.Many2one(
        "account.move", readonly=True, copy=False, index="btree_not_null", ondelete="set null"
    )
    state = fields.Selection(
        MILESTONE_STATES, compute="_compute_state", store=True, index=True, copy=False
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("value_type", "percent", "amount_fixed", "contract_id.amount_total")
    def _compute_amount(self):
        for milestone in self:
            if milestone.value_type == "percent":
                total = milestone.contract_id.amount_total
                milestone.amount = milestone.currency_id.round(total * milestone.percent / 100.0)
            else:
                milestone.amount = milestone.amount_fixed

    @api.depends("invoice_id.state")
    def _compute_state(self):
        for milestone in self:
            invoiced = milestone.invoice_id and milestone.invoice_id.state != "cancel"
            milestone.state = "invoiced" if invoiced else "to_invoice"

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("value_type", "percent", "amount_fixed")
    def _check_value(self):
        for milestone in self:
            if milestone.value_type == "percent" and not 0 < milestone.percent <= 100:
                raise ValidationError(
                    self.env._(
                        "The milestone “%(milestone)s” must be a percentage between 0 and 100.",
                        milestone=milestone.name,
                    )
                )
            if (
                milestone.value_type == "amount"
                and milestone.currency_id.compare_amounts(milestone.amount_fixed, 0.0) <= 0
            ):
                raise ValidationError(
                    self.env._(
                        "The amount of the milestone “%(milestone)s” must be positive.",
                        milestone=milestone.name,
                    )
                )
        self.contract_id._check_milestone_totals()
