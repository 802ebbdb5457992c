from odoo import fields, models

CONTRACT_READERS = (
    "sales_team.group_sale_salesman,account.group_account_invoice,account.group_account_readonly"
)


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    contract_count = fields.Integer(
        string="Contracts",
        compute="_compute_contract_count",
        compute_sudo=False,
        groups=CONTRACT_READERS,
    )

    def _compute_contract_count(self):
        """A customer company counts the contracts of itself and of its contact persons; a
        contact person its own. One grouped query, among the contracts the user may read."""
        companies = self.filtered(lambda p: p._origin.id and p.commercial_partner_id == p)
        persons = (self - companies).filtered(lambda p: p._origin.id)
        counts = {}
        if companies or persons:
            groups = self.env["crm.contract"]._read_group(
                [
                    "|",
                    ("commercial_partner_id", "in", companies._origin.ids),
                    ("partner_id", "in", persons._origin.ids),
                ],
                ["commercial_partner_id", "partner_id"],
                ["__count"],
            )
            for company, person, count in groups:
                # a contract counts for its customer company and for its contact person
                for partner in {company, person}:
                    counts[partner] = counts.get(partner, 0) + count
        for partner in self:
            partner.contract_count = counts.get(partner._origin, 0)

    def action_view_contracts(self):
        """The contracts of this customer (company: also of its contact persons)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_extended.crm_contract_action")
        if self.commercial_partner_id == self:
            action["domain"] = [("commercial_partner_id", "=", self.id)]
        else:
            action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        action["display_name"] = self.env._("Contracts of %(customer)s", customer=self.display_name)
        return action
