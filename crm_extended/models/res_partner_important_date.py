from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResPartnerImportantDate(models.Model):
    _name = "res.partner.important.date"
    _description = "Important Date of a Contact"
    _order = "partner_id, date_key, id"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", required=True, index=True, ondelete="cascade"
    )
    kind = fields.Selection(
        [
            ("family_birthday", "Birthday of a family member"),
            ("wedding", "Wedding anniversary"),
            ("customer_since", "Customer since"),
            ("founding", "Company founding"),
            ("custom", "Other"),
        ],
        required=True,
        default="custom",
    )
    name = fields.Char(
        string="Label",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    family_member_id = fields.Many2one(
        "res.partner.family.member",
        domain="[('partner_id', '=', partner_id)]",
        ondelete="cascade",
    )
    date = fields.Date(required=True)
    year_known = fields.Boolean(
        default=True, help="Untick when only the day and month are known (the year is ignored)."
    )
    date_key = fields.Char(
        compute="_compute_date_key",
        store=True,
        index=True,
        help="Month and day (MM-DD), to find the dates that come back in the next days.",
    )

    @api.depends("kind", "family_member_id")
    def _compute_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for date in self:
            if date.kind == "family_birthday" and date.family_member_id:
                date.name = self.env._("Birthday of %(name)s", name=date.family_member_id.name)
            elif not date.name or date.kind != "custom":
                date.name = labels.get(date.kind)

    @api.depends("date")
    def _compute_date_key(self):
        for date in self:
            date.date_key = date.date.strftime("%m-%d") if date.date else False

    @api.constrains("date", "kind", "year_known")
    def _check_date(self):
        today = fields.Date.context_today(self)
        for date in self:
            if date.kind in ("customer_since", "founding", "wedding") and date.year_known:
                if date.date > today:
                    raise ValidationError(
                        self.env._("“%(label)s” cannot be in the future.", label=date.name)
                    )
