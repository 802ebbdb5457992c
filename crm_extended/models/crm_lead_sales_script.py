from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    sales_script_id = fields.Many2one(
        "crm.sales.script",
        compute="_compute_sales_script_id",
        store=True,
        readonly=False,
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        tracking=True,
        help="The script used on this opportunity: the win rate of each script is measured "
        "on it. Taken from the last contact held with a script, unless set here.",
    )
    suggested_script_ids = fields.Many2many(
        "crm.sales.script",
        string="Suggested Scripts",
        compute="_compute_suggested_script_ids",
        help="The scripts that apply to this opportunity, best match first.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("contact_log_ids.sales_script_id")
    def _compute_sales_script_id(self):
        for lead in self:
            if lead.sales_script_id:
                continue
            logs = lead.contact_log_ids.filtered(
                lambda log: log.sales_script_id and log.state == "done"
            )
            if logs:
                lead.sales_script_id = logs.sorted(
                    lambda log: (log.sort_date or log.create_date, log.id)
                )[-1].sales_script_id

    @api.depends("stage_id", "tag_ids", "lang_id", "company_id", "order_ids.order_line.product_id")
    def _compute_suggested_script_ids(self):
        # also while the form is being edited: the records are then new ones, of an origin
        categories = self.env["crm.sales.script"]._product_categories_of_leads(self._origin.ids)
        situations = [lead._prepare_script_situation(categories) for lead in self]
        suggestions = self.env["crm.sales.script"]._suggest(situations)
        for lead, ranked in zip(self, suggestions, strict=True):
            lead.suggested_script_ids = [fields.Command.set(ranked.ids)]

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _merge_get_fields(self):
        # the merged opportunity keeps the script used, for the win rate
        return [*super()._merge_get_fields(), "sales_script_id"]

    def _prepare_script_situation(self, categories_by_lead):
        """What is known of the opportunity to suggest scripts (see crm.sales.script._suggest).

        ``categories_by_lead``: {lead id: product category ids} of its quoted products.
        Sub-modules may add facts to the returned dict.
        """
        self.ensure_one()
        situation = {
            "company_id": (self.company_id or self.env.company).id,
            "stage_id": self.stage_id.id,
            "tag_ids": set(self.tag_ids.ids),
        }
        if categories_by_lead.get(self._origin.id):
            situation["category_ids"] = categories_by_lead[self._origin.id]
        lang = self.lang_id.code or self.partner_id.lang
        if lang:
            situation["lang"] = lang
        return situation
