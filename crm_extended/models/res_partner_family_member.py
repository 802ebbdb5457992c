from odoo import api, fields, models
from odoo.exceptions import ValidationError

RELATIONS = [
    ("spouse", "Spouse"),
    ("child", "Child"),
    ("parent", "Parent"),
    ("sibling", "Sibling"),
    ("other", "Other"),
]


class ResPartnerFamilyMember(models.Model):
    _name = "res.partner.family.member"
    _description = "Family Member of a Contact"
    _order = "partner_id, sequence, id"

    partner_id = fields.Many2one(
        "res.partner", string="Contact", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    relation = fields.Selection(RELATIONS, required=True, default="spouse")
    name = fields.Char(required=True)
    birthdate = fields.Date(string="Birth Date")
    related_partner_id = fields.Many2one(
        "res.partner", string="Also a Contact", help="The family member's own contact, if any."
    )
    notes = fields.Text()

    @api.constrains("name")
    def _check_name(self):
        for member in self:
            if not (member.name or "").strip():
                raise ValidationError(self.env._("Give the family member a name."))

    @api.constrains("birthdate", "relation", "partner_id")
    def _check_birthdate(self):
        today = fields.Date.context_today(self)
        for member in self:
            if not member.birthdate:
                continue
            if member.birthdate > today:
                raise ValidationError(
                    self.env._("The birth date of %(name)s is in the future.", name=member.name)
                )
            parent_birthdate = member.partner_id.sudo().birthdate_date
            if member.relation == "child" and parent_birthdate:
                if member.birthdate <= parent_birthdate:
                    raise ValidationError(
                        self.env._(
                            "%(child)s cannot be born before their parent %(parent)s.",
                            child=member.name,
                            parent=member.partner_id.name,
                        )
                    )
            if member.relation == "parent" and parent_birthdate:
                if member.birthdate >= parent_birthdate:
                    raise ValidationError(
                        self.env._(
                            "%(parent)s cannot be born after their child %(child)s.",
                            parent=member.name,
                            child=member.partner_id.name,
                        )
                    )
