from odoo import api, fields, models
from odoo.exceptions import UserError


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    crm_promotion_plan_id = fields.Many2one(
        "crm.promotion.plan",
        string="Promotion Plan",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="Set when a promotion plan is launched with this program: its rewards then go "
        "only to the plan's target customers, and only while the plan is running.",
    )

    @api.model
    def _get_crm_promotion_domain(self, partner):
        """Domain restricting programs to those ``partner`` may use: programs of no promotion
        plan, and programs of the running plans where the customer (its commercial partner)
        is a target member. Control members and other customers never match. One query.

        :param partner: res.partner of the order (its commercial partner is looked up)
        """
        plan_ids = []
        customer = partner.commercial_partner_id
        if customer:
            members = (
                self.env["crm.promotion.member"]
                .sudo()
                ._read_group(
                    [
                        ("partner_id", "=", customer.id),
                        ("group", "=", "target"),
                        ("plan_id.state", "=", "running"),
                    ],
                    ["plan_id"],
                )
            )
            plan_ids = [plan.id for [plan] in members]
        return [
            "|",
            ("crm_promotion_plan_id", "=", False),
            ("crm_promotion_plan_id", "in", plan_ids),
        ]

    def write(self, vals):
        if "active" in vals and not vals["active"]:
            running = self.filtered(lambda p: p.crm_promotion_plan_id.state == "running")
            if running:
                raise UserError(
                    self.env._(
                        "The program %(program)s is the offer of the running promotion plan "
                        "%(plan)s: finish or cancel the plan before archiving its program.",
                        program=running[0].name,
                        plan=running[0].crm_promotion_plan_id.name,
                    )
                )
        return super().write(vals)
