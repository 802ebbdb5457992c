from odoo import api, fields, models

# suggestions: the most specific scripts first, then in the order the managers set
SUGGESTION_ORDER = "criteria_count desc, sequence, id"


class CrmSalesScript(models.Model):
    """What to say to a customer in a given situation: opening, discovery questions,
    answers to objections and closing.

    A script applies when every criterion it sets is met by the situation (stage, lead tags,
    product categories, contact channel, customer language); a script that sets none is
    generic and applies everywhere. The more criteria a script sets, the more specific it is
    and the higher it is suggested (see ``_suggest``).
    """

    _name = "crm.sales.script"
    _description = "Sales Script"
    _order = "sequence, id"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(string="Title", required=True, index="trigram")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        default=lambda self: self.env.company,
        help="Leave empty to share the script with every company.",
    )
    color = fields.Integer()
    # when it applies
    lang_id = fields.Many2one(
        "res.lang",
        string="Language",
        domain="[('active', '=', True)]",
        help="Suggested only to customers speaking this language. Empty: any language.",
    )
    stage_ids = fields.Many2many(
        "crm.stage", string="Stages", help="Empty: whatever the stage of the opportunity."
    )
    tag_ids = fields.Many2many(
        "crm.tag",
        string="Lead Tags",
        help="Suggested for opportunities carrying one of these tags. Empty: any tags.",
    )
    product_category_ids = fields.Many2many(
        "product.category",
        string="Product Categories",
        help="Suggested when the opportunity or contact is about a product of one of these "
        "categories or of their sub-categories. Empty: any product.",
    )
    channel_ids = fields.Many2many(
        "crm.sales.script.channel",
        string="Channels",
        help="Suggested for contacts held through one of these channels. Empty: any channel.",
    )
    criteria_count = fields.Integer(
        compute="_compute_criteria_count",
        store=True,
        help="How many criteria the script sets: suggestions show the most specific first.",
    )
    # what to say
    opening = fields.Html(sanitize=True, help="How to open the conversation.")
    discovery = fields.Html(
        string="Discovery Questions", sanitize=True, help="What to ask to learn the need."
    )
    closing = fields.Html(sanitize=True, help="How to conclude and agree on the next step.")
    objection_ids = fields.One2many(
        "crm.sales.script.objection", "script_id", string="Objections", copy=True
    )
    # how it does
    lead_ids = fields.One2many("crm.lead", "sales_script_id", string="Leads and Opportunities")
    contact_log_count = fields.Integer(
        string="Times Used", compute="_compute_usage", help="Contacts held with this script."
    )
    opportunity_count = fields.Integer(
        string="Opportunities",
        compute="_compute_usage",
        help="Opportunities on which this script was used.",
    )
    won_count = fields.Integer(string="Won", compute="_compute_usage")
    lost_count = fields.Integer(string="Lost", compute="_compute_usage")
    win_rate = fields.Float(
        string="Win Rate (%)",
        compute="_compute_usage",
        digits=(16, 1),
        help="Won opportunities among the closed ones (won or lost) that used this script.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("lang_id", "stage_ids", "tag_ids", "product_category_ids", "channel_ids")
    def _compute_criteria_count(self):
        for script in self:
            script.criteria_count = sum(
                bool(criterion)
                for criterion in (
                    script.lang_id,
                    script.stage_ids,
                    script.tag_ids,
                    script.product_category_ids,
                    script.channel_ids,
                )
            )

    def _compute_usage(self):
        scripts = self.filtered("id")
        stats = scripts._get_usage_stats()
        log_counts = dict(
            self.env["crm.contact.log"]
            .sudo()
            ._read_group([("sales_script_id", "in", scripts.ids)], ["sales_script_id"], ["__count"])
        )
        for script in self:
            total, won, lost = stats.get(script.id, (0, 0, 0))
            script.contact_log_count = log_counts.get(script.sudo(), 0)
            script.opportunity_count = total
            script.won_count = won
            script.lost_count = lost
            script.win_rate = 100.0 * won / (won + lost) if won + lost else 0.0

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_script(self):
        """Open the script read-only, in a dialog over the opportunity or contact."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("crm_extended.crm_sales_script_view_form_read").id, "form")],
            "target": "new",
        }

    def action_view_opportunities(self):
        """The opportunities that used the script, won and lost ones included."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Opportunities using %(script)s", script=self.name),
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("sales_script_id", "=", self.id), ("type", "=", "opportunity")],
            "context": {"active_test": False, "default_sales_script_id": self.id},
        }

    def action_view_contact_logs(self):
        """The contacts held with the script."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Contacts using %(script)s", script=self.name),
            "res_model": "crm.contact.log",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("sales_script_id", "=", self.id)],
            "context": {"default_sales_script_id": self.id},
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_usage_stats(self):
        """{script id: (opportunities, won, lost)} for the opportunities that used the scripts.

        Won: in a won stage; lost: archived with a probability of zero (how Odoo marks a lost
        opportunity). One grouped query, whatever the number of scripts and opportunities.
        """
        if not self.ids:
            return {}
        # figures over every opportunity, not only those the user may open
        groups = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [("sales_script_id", "in", self.ids), ("type", "=", "opportunity")],
                ["sales_script_id", "stage_id", "active", "probability"],
                ["__count"],
            )
        )
        stats = {}
        for script, stage, active, probability, count in groups:
            total, won, lost = stats.get(script.id, (0, 0, 0))
            if active and stage.is_won:
                won += count
            elif not active and not probability:
                lost += count
            elif not active:
                continue  # archived, neither won nor lost: not an opportunity any more
            stats[script.id] = (total + count, won, lost)
        return stats

    @api.model
    def _suggest(self, situations):
        """The scripts that apply to each situation, best match first.

        ``situations`` is a list of dicts, one per record asking for suggestions, holding the
        facts known about it (a missing key is an unknown fact):

            company_id    id of the record's company (required)
            lang          language code of the customer
            stage_id      id of the opportunity's stage
            tag_ids       set of crm.tag ids of the opportunity
            category_ids  set of product.category ids of the products concerned
            channel       contact channel code (see ``CHANNELS``)

        A script applies when each criterion it sets is met by a known fact (a product
        category is met by its sub-categories too); an unknown fact meets no criterion. So
        every criterion of a suggested script matched, and its score is its
        ``criteria_count``: scripts come most specific first, then by sequence, generic ones
        (no criteria) last. Returns one recordset per situation, in that order. Costs a
        constant number of queries whatever the number of situations.
        """
        if not situations:
            return []
        if not self.has_access("read"):
            # users outside sales and customer care see no scripts rather than an error
            return [self.browse() for __ in situations]
        company_ids = {situation["company_id"] for situation in situations}
        scripts = self.search([("company_id", "in", [False, *company_ids])], order=SUGGESTION_ORDER)
        categories = self.env["product.category"].browse(
            {categ for situation in situations for categ in situation.get("category_ids", ())}
        )
        lineage = {
            categ.id: {int(part) for part in (categ.parent_path or "").split("/") if part}
            for categ in categories
        }
        criteria = [
            (
                script,
                script.company_id.id,
                {script.lang_id.code} if script.lang_id else set(),
                set(script.stage_ids.ids),
                set(script.tag_ids.ids),
                set(script.product_category_ids.ids),
                set(script.channel_ids.mapped("code")),
            )
            for script in scripts
        ]
        results = []
        for situation in situations:
            ancestors = set()
            for categ_id in situation.get("category_ids", ()):
                ancestors |= lineage.get(categ_id, {categ_id})
            facts = (
                {situation["lang"]} if situation.get("lang") else set(),
                {situation["stage_id"]} if situation.get("stage_id") else set(),
                set(situation.get("tag_ids", ())),
                ancestors,
                {situation["channel"]} if situation.get("channel") else set(),
            )
            suggested = [
                script
                for script, company, *wanted in criteria
                if (not company or company == situation["company_id"])
                and all(
                    not criterion or criterion & fact
                    for criterion, fact in zip(wanted, facts, strict=True)
                )
            ]
            results.append(self.browse([script.id for script in suggested]))
        return results

    @api.model
    def _product_categories_of_leads(self, lead_ids):
        """{lead id: set of product.category ids} of the products quoted on the opportunities
        (their non-cancelled quotations and orders), in a few grouped queries."""
        if not lead_ids:
            return {}
        groups = (
            self.env["sale.order.line"]
            .sudo()
            ._read_group(
                [
                    ("order_id.opportunity_id", "in", list(lead_ids)),
                    ("state", "!=", "cancel"),
                    ("product_id", "!=", False),
                ],
                ["order_id", "product_id"],
            )
        )
        result = {}
        for order, product in groups:
            lead_id = order.opportunity_id.id
            result.setdefault(lead_id, set()).add(product.categ_id.id)
        return result
