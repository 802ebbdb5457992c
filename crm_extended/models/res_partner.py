from odoo import api, fields, models

# The History tab shows the newest events; "Full history" opens all of them, paginated by the
# server, so a customer with 100,000 events opens as fast as one with ten.
TIMELINE_TAB_LIMIT = 200


class ResPartner(models.Model):
    _inherit = "res.partner"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    contact_log_ids = fields.One2many("crm.contact.log", "partner_id", string="Contact Logs")
    commercial_contact_log_ids = fields.One2many(
        "crm.contact.log",
        "commercial_partner_id",
        string="Contact Logs of the Company",
    )
    contact_log_count = fields.Integer(
        string="Contacts",
        compute="_compute_contact_log_count",
        compute_sudo=False,
        groups="crm_extended.group_contact_user",
    )
    last_contact_date = fields.Datetime(
        compute="_compute_contact_dates",
        store=True,
        index=True,
        help="When the customer (the company and its contact persons) was last contacted.",
    )
    next_contact_date = fields.Datetime(
        compute="_compute_contact_dates",
        store=True,
        index=True,
        help="The earliest contact still planned (or missed and not yet held) with the "
        "customer.",
    )
    timeline_ids = fields.One2many(
        "crm.customer.timeline",
        compute="_compute_timeline_ids",
        string="History",
        help="The newest events of the customer; the full history is one click away.",
        groups="crm_extended.group_contact_user",
    )
    timeline_event_type = fields.Selection(
        selection=lambda self: self.env["crm.customer.timeline"]
        ._fields["event_type"]
        ._description_selection(self.env),
        string="Show",
        store=False,
        groups="crm_extended.group_contact_user",
        help="Show only this kind of event in the history.",
    )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends_context("uid")
    def _compute_contact_log_count(self):
        """A customer company counts the contacts with itself and all its contact persons; a
        contact person its own. Two grouped queries whatever the number of partners."""
        Log = self.env["crm.contact.log"]
        companies = self.filtered(lambda p: p._origin.id and p.commercial_partner_id == p)
        persons = self - companies
        by_company = dict(
            Log._read_group(
                [("commercial_partner_id", "in", companies._origin.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        by_person = dict(
            Log._read_group(
                [("partner_id", "in", persons._origin.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in companies:
            partner.contact_log_count = by_company.get(partner._origin, 0)
        for partner in persons:
            partner.contact_log_count = by_person.get(partner._origin, 0)

    @api.depends(
        "commercial_partner_id",
        "commercial_partner_id.commercial_contact_log_ids.state",
        "commercial_partner_id.commercial_contact_log_ids.date",
        "commercial_partner_id.commercial_contact_log_ids.planned_date",
        "commercial_partner_id.commercial_contact_log_ids.active",
    )
    def _compute_contact_dates(self):
        customers = self.commercial_partner_id
        logs = self.env["crm.contact.log"].sudo()
        last = dict(
            logs._read_group(
                [("commercial_partner_id", "in", customers.ids), ("state", "=", "done")],
                ["commercial_partner_id"],
                ["date:max"],
            )
        )
        upcoming = dict(
            logs._read_group(
                [
                    ("commercial_partner_id", "in", customers.ids),
                    ("state", "in", ("planned", "missed")),
                ],
                ["commercial_partner_id"],
                ["planned_date:min"],
            )
        )
        for partner in self:
            partner.last_contact_date = last.get(partner.commercial_partner_id, False)
            partner.next_contact_date = upcoming.get(partner.commercial_partner_id, False)

    @api.depends_context("lang", "uid")
    @api.depends("commercial_partner_id", "timeline_event_type")
    def _compute_timeline_ids(self):
        Timeline = self.env["crm.customer.timeline"]
        for partner in self:
            customer_id = partner.commercial_partner_id._origin.id
            if not customer_id:
                partner.timeline_ids = Timeline
                continue
            domain = [("commercial_partner_id", "=", customer_id)]
            if partner.timeline_event_type:
                domain.append(("event_type", "=", partner.timeline_event_type))
            partner.timeline_ids = Timeline.search(domain, limit=TIMELINE_TAB_LIMIT)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def _contact_log_action(self, name, context):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "crm.contact.log",
            "view_mode": "form",
            "views": [(self.env.ref("crm_extended.crm_contact_log_view_form_quick").id, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.id,
                "dialog_size": "medium",
                **context,
            },
        }

    def action_log_contact(self):
        """Log a contact held just now with this partner (quick form)."""
        return self._contact_log_action(
            self.env._("Log a Contact"),
            {"default_state": "done", "default_date": fields.Datetime.now()},
        )

    def action_plan_contact(self):
        """Plan a contact with this partner (quick form)."""
        return self._contact_log_action(self.env._("Plan a Contact"), {"default_state": "planned"})

    def action_view_contact_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_contact_log_action"
        )
        if self.commercial_partner_id == self:
            action["domain"] = [("commercial_partner_id", "=", self.id)]
        else:
            action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id, "search_default_group_state": 0}
        return action

    def action_view_timeline(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_customer_timeline_action"
        )
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["display_name"] = self.env._(
            "History of %(customer)s", customer=self.commercial_partner_id.display_name
        )
        return action
