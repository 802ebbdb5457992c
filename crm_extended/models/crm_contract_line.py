from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmContractLine(models.Model):
    """What a contract sells: a product, a quantity and a price in the contract's currency.

    The amounts are computed by Odoo's generic tax engine (``account.tax``), like sales order
    lines, so a contract line and the invoice line made from it agree to the cent.
    """

    _name = "crm.contract.line"
    _description = "Contract Line"
    _order = "contract_id, sequence, id"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    contract_id = fields.Many2one(
        "crm.contract", required=True, index=True, ondelete="cascade", check_company=True
    )
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        related="contract_id.company_id", store=True, index=True, precompute=True
    )
    partner_id = fields.Many2one(related="contract_id.partner_id")
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        domain="[('sale_ok', '=', True)]",
        ondelete="restrict",
        index="btree_not_null",
    )
    name = fields.Text(
        string="Description",
        required=True,
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure", required=True)
    # a real field, not a related one: a line keeps the currency its price was agreed in,
    # and a contract whose currency changes afterwards is refused (see _check_currency)
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    price_unit = fields.Monetary(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
    )
    tax_ids = fields.Many2many(
        "account.tax",
        string="Taxes",
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
        compute="_compute_tax_ids",
        store=True,
        readonly=False,
        precompute=True,
    )
    price_subtotal = fields.Monetary(string="Subtotal", compute="_compute_amount", store=True)
    price_tax = fields.Monetary(string="Tax", compute="_compute_amount", store=True)
    price_total = fields.Monetary(string="Total", compute="_compute_amount", store=True)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            if line.product_id:
                product = line.product_id.with_context(lang=line.contract_id.partner_id.lang)
                line.name = product.get_product_multiline_description_sale()
            else:
                line.name = line.name

    @api.depends("contract_id")
    def _compute_currency_id(self):
        for line in self:
            line.currency_id = (
                line.currency_id
                or line.contract_id.currency_id
                or line.contract_id.company_id.currency_id
                or self.env.company.currency_id
            )

    @api.depends("product_id", "currency_id")
    def _compute_price_unit(self):
        today = fields.Date.context_today(self)
        for line in self:
            if not line.product_id:
                line.price_unit = line.price_unit
                continue
            company = line.company_id or self.env.company
            line.price_unit = line.product_id.currency_id._convert(
                line.product_id.lst_price,
                line.currency_id or company.currency_id,
                company,
                today,
            )

    @api.depends("product_id", "company_id")
    def _compute_tax_ids(self):
        for line in self:
            if not line.product_id:
                line.tax_ids = line.tax_ids
                continue
            company = line.company_id or self.env.company
            taxes = line.product_id.taxes_id._filter_taxes_by_company(company)
            fiscal_position = (
                self.env["account.fiscal.position"]
                .with_company(company)
                ._get_fiscal_position(line.contract_id.partner_id)
            )
            line.tax_ids = fiscal_position.map_tax(taxes)

    @api.depends("quantity", "price_unit", "tax_ids", "currency_id")
    def _compute_amount(self):
        AccountTax = self.env["account.tax"]
        for line in self:
            base_line = line._prepare_base_line_for_taxes_computation()
            AccountTax._add_tax_details_in_base_line(base_line, line.company_id or self.env.company)
            line.price_subtotal = base_line["tax_details"]["raw_total_excluded_currency"]
            line.price_total = base_line["tax_details"]["raw_total_included_currency"]
            line.price_tax = line.price_total - line.price_subtotal

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("quantity", "price_unit")
    def _check_amounts(self):
        for line in self:
            if line.quantity < 0:
                raise ValidationError(
                    self.env._(
                        "The quantity of the contract line “%(line)s” is negative: "
                        "enter a quantity of zero or more.",
                        line=line._get_label(),
                    )
                )
            if line.currency_id.compare_amounts(line.price_unit, 0.0) < 0:
                raise ValidationError(
                    self.env._(
                        "The unit price of the contract line “%(line)s” is negative: "
                        "enter a price of zero or more (a discount is a separate contract).",
                        line=line._get_label(),
                    )
                )
        # a cheaper contract may no longer cover its milestones
        self.contract_id._check_milestone_totals()

    @api.constrains("currency_id", "contract_id")
    def _check_currency(self):
        for line in self:
            if line.currency_id != line.contract_id.currency_id:
                raise ValidationError(
                    self.env._(
                        "The contract line “%(line)s” is in %(line_currency)s while the "
                        "contract %(contract)s is in %(contract_currency)s: a contract is "
                        "invoiced in one currency, enter its lines in that currency.",
                        line=line._get_label(),
                        line_currency=line.currency_id.name,
                        contract=line.contract_id.display_name,
                        contract_currency=line.contract_id.currency_id.name,
                    )
                )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_label(self):
        self.ensure_one()
        return (self.name or self.product_id.display_name or "").split("\n")[0]

    def _prepare_base_line_for_taxes_computation(self, **kwargs):
        """This line as a base line of Odoo's generic tax computation (``account.tax``)."""
        self.ensure_one()
        return self.env["account.tax"]._prepare_base_line_for_taxes_computation(
            self,
            **{
                "partner_id": self.contract_id.partner_id,
                "currency_id": self.currency_id or self.contract_id.currency_id,
                **kwargs,
            },
        )

    def _prepare_invoice_line_values(self, ratio=1.0, name=None):
        """Values of the invoice line billing this contract line.

        :param float ratio: share of the line billed (a milestone bills a share of each line;
            the whole line is billed at its price for one quantity of ``ratio`` times the
            line's amount, so lines with different taxes keep their own taxes)
        :param str name: the invoice line's label, the line's description by default
        :return: values for ``account.move.line`` (``invoice_line_ids`` command)
        """
        self.ensure_one()
        values = {
            "product_id": self.product_id.id,
            "name": name or self.name,
            "tax_ids": [fields.Command.set(self.tax_ids.ids)],
        }
        if ratio == 1.0:
            values.update({"quantity": self.quantity, "price_unit": self.price_unit})
        else:
            values.update(
                {
                    "quantity": 1.0,
                    "price_unit": self.currency_id.round(self.quantity * self.price_unit * ratio),
                }
            )
        return values
