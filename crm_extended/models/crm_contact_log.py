from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_datetime

CHANNELS = [
    ("phone", "Phone"),
    ("fax", "Fax"),
    ("letter", "Letter"),
    ("email", "Email"),
    ("meeting", "Meeting"),
    ("visit", "Visit"),
    ("sms", "SMS"),
    ("chat", "Chat"),
    ("other", "Other"),
]

# Settings (ir.config_parameter) of the forgotten-call job, in hours.
PARAM_GRACE = "crm_extended.contact_log_missed_grace_hours"
PARAM_MANAGER_DELAY = "crm_extended.contact_log_missed_manager_hours"
DEFAULT_GRACE_HOURS = 24
DEFAULT_MANAGER_DELAY_HOURS = 48
CRON_BATCH_SIZE = 500


class CrmContactLog(models.Model):
    _name = "crm.contact.log"
    _description = "Contact Log"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sort_date desc, id desc"
    _check_company_auto = True
    _rec_names_search = ["name", "partner_id.complete_name"]

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(string="Subject", required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    state = fields.Selection(
        [
            ("planned", "Planned"),
            ("done", "Done"),
            ("missed", "Missed"),
            ("cancelled", "Cancelled"),
        ],
        default="planned",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    # who
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer Company",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        required=True,
        index=True,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        compute="_compute_team_id",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    # how
    channel = fields.Selection(CHANNELS, required=True, default="phone", tracking=True)
    direction = fields.Selection(
        [("outbound", "Outbound"), ("inbound", "Inbound")],
        required=True,
        default="outbound",
    )
    # when: what was planned stays when the contact is held
    planned_date = fields.Datetime(index=True, tracking=True, copy=False)
    planned_duration = fields.Float(string="Planned Duration (hours)", default=0.25)
    date = fields.Datetime(string="Held On", index=True, tracking=True, copy=False)
    duration = fields.Float(string="Duration (hours)", aggregator="avg")
    sort_date = fields.Datetime(
        compute="_compute_sort_date",
        store=True,
        index=True,
        help="When the contact happened, or is planned to happen.",
    )
    missed_date = fields.Datetime(readonly=True, copy=False)
    manager_notified = fields.Boolean(readonly=True, copy=False)
    planned_result = fields.Selection(
        [
            ("on_time", "Held on time"),
            ("late", "Held late"),
            ("missed", "Missed"),
            ("unplanned", "Not planned"),
        ],
        compute="_compute_planned_result",
        store=True,
        help="For planned contacts: held within the grace period, held later, or not held.",
    )
    # what
    content = fields.Html(sanitize=True)
    category_ids = fields.Many2many("crm.contact.log.category", string="Categories")
    outcome_id = fields.Many2one("crm.contact.log.outcome", index=True, tracking=True)
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "crm_contact_log_attachment_rel",
        "log_id",
        "attachment_id",
        string="Attachments",
    )
    # about what
    sale_order_id = fields.Many2one(
        "sale.order", string="Sales Order", index="btree_not_null", check_company=True
    )
    invoice_id = fields.Many2one(
        "account.move",
        index="btree_not_null",
        check_company=True,
        domain="[('move_type', 'in', ('out_invoice', 'out_refund'))]",
    )
    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", index="btree_not_null", check_company=True
    )
    ticket_id = fields.Many2one("crm.support.ticket", index="btree_not_null", check_company=True)
    # what was said
    sales_script_id = fields.Many2one(
        "crm.sales.script",
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        help="The script used in this contact.",
    )
    suggested_script_ids = fields.Many2many(
        "crm.sales.script",
        string="Suggested Scripts",
        compute="_compute_suggested_script_ids",
        help="The scripts that apply to this contact, best match first: its channel, the "
        "customer's language, the opportunity's stage and tags, the products concerned.",
    )
    # next step
    followup_date = fields.Datetime(
        string="Next Contact On",
        copy=False,
        help="When set on a held contact, saving plans the next contact at that time.",
    )
    followup_name = fields.Char(string="Next Contact Subject", copy=False)
    followup_channel = fields.Selection(CHANNELS, string="Next Contact Channel", copy=False)
    followup_log_id = fields.Many2one(
        "crm.contact.log", string="Next Contact", readonly=True, copy=False, index="btree_not_null"
    )
    previous_log_id = fields.Many2one(
        "crm.contact.log", string="Follows", readonly=True, copy=False, index="btree_not_null"
    )
    reschedule_ids = fields.One2many(
        "crm.contact.log.reschedule", "log_id", string="Reschedule History", readonly=True
    )
    reschedule_count = fields.Integer(compute="_compute_reschedule_count")
    courtesy_key = fields.Char(
        readonly=True,
        copy=False,
        help="Set on the courtesy reminders planned for a birthday or an important date: "
        "one reminder per occasion.",
    )
    is_birthday_reminder = fields.Boolean(compute="_compute_is_birthday_reminder")
    planned_activity_id = fields.Many2one(
        "mail.activity", readonly=True, copy=False, ondelete="set null", index="btree_not_null"
    )

    def init(self):
        # the partner's counter counts a customer's contacts from the index alone
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_contact_log_counter_idx "
            "ON crm_contact_log (commercial_partner_id, company_id) WHERE active"
        )
        # the forgotten-call job walks planned contacts by date, whatever the history size
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_contact_log_planned_queue_idx "
            "ON crm_contact_log (planned_date, id) WHERE state = 'planned' AND active"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_contact_log_missed_queue_idx "
            "ON crm_contact_log (missed_date, id) "
            "WHERE state = 'missed' AND active AND manager_notified IS NOT TRUE"
        )

    _sql_constraints = [
        (
            "courtesy_key_uniq",
            "unique (courtesy_key)",
            "A courtesy reminder for this occasion already exists.",
        ),
    ]

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("user_id", "company_id")
    def _compute_team_id(self):
        for log in self:
            if not log.user_id:
                continue
            teams = log.user_id.sudo().crm_team_ids.filtered(
                lambda team, log=log: not team.company_id or team.company_id == log.company_id
            )
            if log.team_id not in teams:
                log.team_id = teams[:1]

    @api.depends("state", "date", "planned_date")
    def _compute_sort_date(self):
        for log in self:
            log.sort_date = self._get_sort_date(log.state, log.date, log.planned_date)

    @api.depends("state", "date", "planned_date")
    def _compute_planned_result(self):
        grace = self._missed_grace()
        for log in self:
            log.planned_result = self._get_planned_result(
                log.state, log.date, log.planned_date, grace
            )

    @api.model
    def _get_sort_date(self, state, date, planned_date):
        """``sort_date`` of a contact in ``state``, held on ``date``, planned on
        ``planned_date`` (shared by its compute and the create values)."""
        return date if state == "done" and date else planned_date

    @api.model
    def _get_planned_result(self, state, date, planned_date, grace):
        """``planned_result`` of a contact (shared by its compute and the create values),
        ``grace`` being the missed grace period."""
        if not planned_date:
            return "unplanned"
        if state == "missed":
            return "missed"
        if state == "done" and date:
            return "on_time" if date <= planned_date + grace else "late"
        return False

    @api.depends("courtesy_key")
    def _compute_is_birthday_reminder(self):
        for log in self:
            log.is_birthday_reminder = (log.courtesy_key or "").startswith("birthday:")

    def _compute_reschedule_count(self):
        counts = dict(
            self.env["crm.contact.log.reschedule"]._read_group(
                [("log_id", "in", self.ids)], ["log_id"], ["__count"]
            )
        )
        for log in self:
            log.reschedule_count = counts.get(log, 0)

    @api.depends(
        "channel",
        "company_id",
        "partner_id.lang",
        "lead_id.stage_id",
        "lead_id.tag_ids",
        "sale_order_id.order_line.product_id",
    )
    def _compute_suggested_script_ids(self):
        Script = self.env["crm.sales.script"]
        categories_by_lead = Script._product_categories_of_leads(self.lead_id.ids)
        order_lines = self.sale_order_id.sudo().order_line.filtered("product_id")
        categories_by_order = {}
        for line in order_lines:
            categories_by_order.setdefault(line.order_id.id, set()).add(line.product_id.categ_id.id)
        situations = [
            log._prepare_script_situation(categories_by_lead, categories_by_order) for log in self
        ]
        for log, ranked in zip(self, Script._suggest(situations), strict=True):
            log.suggested_script_ids = [fields.Command.set(ranked.ids)]

    @api.depends("partner_id", "name", "channel")
    def _compute_display_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for log in self:
            log.display_name = log.name or channels.get(log.channel, "")

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("duration", "planned_duration")
    def _check_durations(self):
        for log in self:
            if log.duration < 0 or log.planned_duration < 0:
                raise ValidationError(
                    self.env._(
                        "The duration of a contact cannot be negative (contact “%(name)s”).",
                        name=log.display_name,
                    )
                )

    @api.constrains("state", "date", "planned_date")
    def _check_dates(self):
        for log in self:
            if log.state == "done" and not log.date:
                raise ValidationError(
                    self.env._(
                        "Say when the contact “%(name)s” was held: a done contact needs its date.",
                        name=log.display_name,
                    )
                )
            if log.state in ("planned", "missed") and not log.planned_date:
                raise ValidationError(
                    self.env._(
                        "Say when the contact “%(name)s” is planned: a planned contact needs "
                        "its planned date.",
                        name=log.display_name,
                    )
                )

    @api.constrains("partner_id", "sale_order_id", "invoice_id", "lead_id")
    def _check_documents_customer(self):
        for log in self:
            customer = log.commercial_partner_id
            if log.invoice_id:
                if log.invoice_id.move_type not in ("out_invoice", "out_refund"):
                    raise ValidationError(
                        self.env._(
                            "%(invoice)s is not a customer invoice or credit note.",
                            invoice=log.invoice_id.display_name,
                        )
                    )
                if log.invoice_id.commercial_partner_id != customer:
                    raise ValidationError(
                        self.env._(
                            "Invoice %(invoice)s belongs to %(owner)s, not to %(customer)s: "
                            "choose one of %(customer)s's invoices.",
                            invoice=log.invoice_id.display_name,
                            owner=log.invoice_id.commercial_partner_id.display_name,
                            customer=customer.display_name,
                        )
                    )
            order_customer = log.sale_order_id.partner_id.commercial_partner_id
            if log.sale_order_id and order_customer != customer:
                raise ValidationError(
                    self.env._(
                        "Sales order %(order)s belongs to %(owner)s, not to %(customer)s: "
                        "choose one of %(customer)s's orders.",
                        order=log.sale_order_id.display_name,
                        owner=order_customer.display_name,
                        customer=customer.display_name,
                    )
                )
            lead_customer = log.lead_id.partner_id.commercial_partner_id
            if log.lead_id and lead_customer and lead_customer != customer:
                raise ValidationError(
                    self.env._(
                        "Opportunity %(lead)s is about %(owner)s, not %(customer)s.",
                        lead=log.lead_id.display_name,
                        owner=lead_customer.display_name,
                        customer=customer.display_name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("state") == "done" and not vals.get("date"):
                vals["date"] = fields.Datetime.now()
        self._prefill_team_id(vals_list)
        self._prefill_stored_computes(vals_list)
        logs = super().create(vals_list)
        # files uploaded in the form before the contact existed belong to nobody yet
        for log in logs:
            orphans = log.attachment_ids.filtered(
                lambda a: not a.res_id and a.create_uid == self.env.user
            )
            orphans.sudo().write({"res_model": self._name, "res_id": log.id})
        logs._sync_planned_activity()
        logs._create_followups()
        return logs

    @api.model
    def _prefill_team_id(self, vals_list):
        """Set ``team_id`` in the values that give the salesperson and the company but no
        team, with the value ``_compute_team_id`` gives a new contact: Odoo precomputes a
        field record by record on create, which costs seconds when thousands of contacts
        are planned at once (a promotion plan's calls); here it is one lookup per
        salesperson and company."""
        teams = {}
        for vals in vals_list:
            if "team_id" in vals or not vals.get("user_id") or not vals.get("company_id"):
                continue
            key = (vals["user_id"], vals["company_id"])
            if key not in teams:
                user = self.env["res.users"].browse(key[0]).sudo()
                teams[key] = user.crm_team_ids.filtered(
                    lambda team, company_id=key[1]: not team.company_id
                    or team.company_id.id == company_id
                )[:1].id
            vals["team_id"] = teams[key]

    @api.model
    def _prefill_stored_computes(self, vals_list):
        """Give the values of the stored computed fields ``commercial_partner_id``,
        ``sort_date`` and ``planned_result`` that the values of a planned contact
        (partner, state, dates) determine, so that they are inserted with the contact.
        Odoo still computes them after the insert; as the values are the same, it does not
        update thousands of rows again (a promotion plan's calls), and the partners' contact
        dates are recomputed once. Values already given are left as they are."""
        todo = [
            vals
            for vals in vals_list
            if vals.get("state", "planned") == "planned" and vals.get("partner_id")
        ]
        if not todo:
            return
        partners = self.env["res.partner"].sudo().browse({vals["partner_id"] for vals in todo})
        partners.fetch(["commercial_partner_id"])
        customers = {partner.id: partner.commercial_partner_id.id for partner in partners}
        for vals in todo:
            planned_date = fields.Datetime.to_datetime(vals.get("planned_date")) or False
            vals.setdefault("commercial_partner_id", customers[vals["partner_id"]])
            vals.setdefault("sort_date", self._get_sort_date("planned", False, planned_date))
            vals.setdefault(
                "planned_result", self._get_planned_result("planned", False, planned_date, None)
            )

    def toggle_active(self):
        # archiving removes the activity quietly: it must not cancel the contact
        return super(CrmContactLog, self.with_context(crm_contact_log_sync=True)).toggle_active()

    def write(self, vals):
        if "active" in vals:
            self = self.with_context(crm_contact_log_sync=True)
        if "planned_date" in vals and not self.env.context.get("crm_contact_log_no_history"):
            new_date = fields.Datetime.to_datetime(vals["planned_date"])
            reason = self.env.context.get("crm_contact_log_reschedule_reason", "")
            history = [
                {
                    "log_id": log.id,
                    "old_date": log.planned_date,
                    "new_date": new_date,
                    "reason": reason,
                }
                for log in self
                if log.planned_date and log.planned_date != new_date
            ]
            if history:
                self.env["crm.contact.log.reschedule"].create(history)
                if "state" not in vals:
                    # a missed contact moved to a new time is planned again
                    self.filtered(lambda log: log.state == "missed").write(
                        {"state": "planned", "missed_date": False, "manager_notified": False}
                    )
        result = super().write(vals)
        if {"state", "planned_date", "user_id", "name", "active"} & vals.keys():
            self._sync_planned_activity()
        if "followup_date" in vals or vals.get("state") == "done":
            self._create_followups()
        return result

    def unlink(self):
        # the activities go with the contacts: cancelling the contacts first is pointless
        return super(CrmContactLog, self.with_context(crm_contact_log_sync=True)).unlink()

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            vals.setdefault("state", "planned")
        return vals_list

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_done(self):
        """Mark planned or missed contacts as held now (keeps what was planned)."""
        to_do = self.filtered(lambda log: log.state in ("planned", "missed"))
        for log in to_do:
            log.write(
                {
                    "state": "done",
                    "date": log.date or fields.Datetime.now(),
                    "duration": log.duration or log.planned_duration,
                }
            )
        return True

    def action_cancel(self):
        self.filtered(lambda log: log.state in ("planned", "missed")).write({"state": "cancelled"})
        return True

    def action_reset_planned(self):
        for log in self.filtered(lambda log: log.state == "cancelled"):
            log.write(
                {
                    "state": "planned",
                    "planned_date": log.planned_date or fields.Datetime.now(),
                }
            )
        return True

    def action_open_reschedule_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reschedule Contact"),
            "res_model": "crm.contact.log.reschedule.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_log_id": self.id, "default_new_date": self.planned_date},
        }

    def action_open_reschedule_history(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reschedule History"),
            "res_model": "crm.contact.log.reschedule",
            "view_mode": "list",
            "domain": [("log_id", "=", self.id)],
        }

    def action_send_greeting(self):
        """Send the greeting email of a courtesy reminder and record it as held by email."""
        self.ensure_one()
        if not self.is_birthday_reminder or self.state not in ("planned", "missed"):
            raise UserError(
                self.env._("A birthday greeting is sent from a planned birthday reminder only.")
            )
        partner = self.partner_id
        if not partner.email:
            raise UserError(
                self.env._(
                    "%(name)s has no email address: add one, or call them.", name=partner.name
                )
            )
        if partner.sudo().do_not_contact or partner.commercial_partner_id.sudo().do_not_contact:
            raise UserError(
                self.env._(
                    "%(name)s asked not to be contacted: no greeting is sent.", name=partner.name
                )
            )
        template = self.env.ref("crm_extended.mail_template_birthday_greeting")
        template.sudo().send_mail(partner.id, email_layout_xmlid="mail.mail_notification_light")
        self.write(
            {
                "channel": "email",
                "state": "done",
                "date": fields.Datetime.now(),
                "duration": 0.0,
            }
        )
        self.message_post(
            body=self.env._("Greeting sent to %(email)s.", email=partner.email),
            subtype_xmlid="mail.mt_note",
        )
        return True

    def action_create_ticket(self):
        """Open a new help desk ticket for what the caller reports, prefilled from the contact.

        The product and invoice are those of the contact's invoice or order when it has one,
        otherwise the customer's last invoice; the contact is linked to the ticket.
        """
        self.ensure_one()
        invoice, product = self._get_ticket_purchase()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Ticket"),
            "res_model": "crm.support.ticket",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_name": self.name,
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
                "default_channel": "phone" if self.channel == "phone" else "other",
                "default_description": self.content,
                "default_sale_order_id": self.sale_order_id.id,
                "default_invoice_id": invoice.id,
                "default_product_id": product.id,
                "crm_support_contact_log_id": self.id,
            },
        }

    def _get_ticket_purchase(self):
        """(invoice, product) a ticket opened from this contact is most likely about."""
        self.ensure_one()
        invoice = self.invoice_id
        if not invoice and self.sale_order_id:
            invoice = self.sale_order_id.sudo().invoice_ids.filtered(
                lambda move: move.state == "posted" and move.move_type == "out_invoice"
            )[-1:]
        if not invoice:
            invoice = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("commercial_partner_id", "=", self.commercial_partner_id.id),
                        ("move_type", "=", "out_invoice"),
                        ("state", "=", "posted"),
                        ("company_id", "=", self.company_id.id),
                    ],
                    order="invoice_date desc, id desc",
                    limit=1,
                )
            )
        lines = invoice.invoice_line_ids.filtered(lambda line: line.product_id)
        if not lines and self.sale_order_id:
            lines = self.sale_order_id.sudo().order_line.filtered("product_id")
        # the product with the longest warranty is what after-sales calls are about
        product = lines.product_id.sorted(
            lambda product: product.product_tmpl_id.warranty_months, reverse=True
        )[:1]
        return invoice.sudo(False), product

    def action_open_followup(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "form",
            "res_id": self.followup_log_id.id,
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _missed_grace(self):
        hours = self.env["ir.config_parameter"].sudo().get_param(PARAM_GRACE, DEFAULT_GRACE_HOURS)
        return timedelta(hours=float(hours))

    @api.model
    def _manager_delay(self):
        hours = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(PARAM_MANAGER_DELAY, DEFAULT_MANAGER_DELAY_HOURS)
        )
        return timedelta(hours=float(hours))

    def _prepare_script_situation(self, categories_by_lead, categories_by_order):
        """What is known of the contact to suggest scripts (see crm.sales.script._suggest):
        its channel, the customer's language, its opportunity's stage and tags, and the
        categories of the products of its order and opportunity.

        ``categories_by_lead`` / ``categories_by_order``: {id: product category ids}.
        Sub-modules may add facts to the returned dict.
        """
        self.ensure_one()
        situation = {"company_id": (self.company_id or self.env.company).id}
        if self.channel:
            situation["channel"] = self.channel
        if self.partner_id.lang:
            situation["lang"] = self.partner_id.lang
        if self.lead_id:
            situation["stage_id"] = self.lead_id.stage_id.id
            situation["tag_ids"] = set(self.lead_id.tag_ids.ids)
        categories = categories_by_lead.get(self.lead_id.id, set()) | categories_by_order.get(
            self.sale_order_id.id, set()
        )
        if categories:
            situation["category_ids"] = categories
        return situation

    def _prepare_followup_values(self):
        """Values of the contact planned as the next step of ``self`` (a held contact).

        Sub-modules may add their own links (ticket, contract ...) to the returned dict.
        """
        self.ensure_one()
        return {
            "name": self.followup_name or self.name,
            "partner_id": self.partner_id.id,
            "user_id": self.user_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "channel": self.followup_channel or self.channel,
            "direction": "outbound",
            "state": "planned",
            "planned_date": self.followup_date,
            "planned_duration": self.planned_duration,
            "category_ids": [fields.Command.set(self.category_ids.ids)],
            "sale_order_id": self.sale_order_id.id,
            "invoice_id": self.invoice_id.id,
            "lead_id": self.lead_id.id,
            "previous_log_id": self.id,
        }

    def _create_followups(self):
        todo = self.filtered(
            lambda log: log.state == "done" and log.followup_date and not log.followup_log_id
        )
        if not todo:
            return
        followups = self.create([log._prepare_followup_values() for log in todo])
        for log, followup in zip(todo, followups, strict=True):
            log.followup_log_id = followup

    def _sync_planned_activity(self):
        """Keep one activity per planned contact, so it shows in the activity systray.

        The contact is the source of truth: planned/missed contacts have an activity on the
        salesperson's list at the planned day; held or cancelled ones have none. Completing the
        activity marks the contact done (see ``mail.activity._action_done``).
        """
        activity_type = self.env.ref(
            "crm_extended.mail_activity_type_contact_log", raise_if_not_found=False
        )
        model_id = self.env["ir.model"]._get_id(self._name)
        to_close = self.env["mail.activity"]
        to_open = []  # (log, activity values): created in one batch
        for log in self:
            activity = log.planned_activity_id
            open_ = log.active and log.state in ("planned", "missed")
            if not open_:
                to_close |= activity
                continue
            deadline = fields.Date.context_today(log, log.planned_date)
            if not activity:
                to_open.append(
                    (
                        log,
                        {
                            "res_model_id": model_id,
                            # given rather than computed activity by activity
                            "res_model": self._name,
                            "res_name": log.display_name,
                            "res_id": log.id,
                            "activity_type_id": activity_type.id if activity_type else False,
                            "summary": log.name,
                            "user_id": log.user_id.id,
                            "date_deadline": deadline,
                            # inserted with the activity rather than updated after it
                            # (the same values as their computes give an open activity)
                            "date_done": False,
                            "user_tz": log.user_id.sudo().tz,
                        },
                    )
                )
            elif (activity.user_id, activity.date_deadline, activity.summary) != (
                log.user_id,
                deadline,
                log.name,
            ):
                activity.sudo().write(
                    {"user_id": log.user_id.id, "date_deadline": deadline, "summary": log.name}
                )
        if to_open:
            self._add_user_followers([(log.id, log.user_id.id) for log, __ in to_open])
            activities = self.env["mail.activity"].sudo().create([vals for __, vals in to_open])
            # one UPDATE rather than a write per contact (thousands for a promotion plan);
            # no field depends on the link
            self.flush_model(["planned_activity_id"])
            self.env.cr.execute(
                SQL(
                    """
                UPDATE crm_contact_log log
                   SET planned_activity_id = link.activity_id
                  FROM unnest(%s::int[], %s::int[]) AS link(log_id, activity_id)
                 WHERE log.id = link.log_id
                    """,
                    [log.id for log, __ in to_open],
                    activities.ids,
                )
            )
            self.browse(log.id for log, __ in to_open).invalidate_recordset(["planned_activity_id"])
        if to_close:
            to_close.sudo().with_context(crm_contact_log_sync=True).unlink()

    def _add_user_followers(self, pairs):
        """Make each salesperson a follower of their contact, ``pairs`` being (contact id,
        user id), with the default subtypes, as creating the activity does
        (``message_subscribe``): one statement for all the contacts rather than a follower
        record per contact (thousands for a promotion plan); the activity then finds its
        user following. Existing followers are left as they are."""
        if not pairs:
            return
        users = self.env["res.users"].sudo().browse({user_id for __, user_id in pairs})
        default, __, external = self.env["mail.message.subtype"].default_subtypes(self._name)
        self.env["mail.followers"].flush_model()
        self.env.cr.execute(
            SQL(
                """
            WITH link AS (
                SELECT DISTINCT link.res_id, users.partner_id
                  FROM unnest(%(log_ids)s::int[], %(user_ids)s::int[]) AS link(res_id, user_id)
                  JOIN res_users users ON users.id = link.user_id
            ), new AS (
                INSERT INTO mail_followers (res_model, res_id, partner_id)
                SELECT %(model)s, link.res_id, link.partner_id
                  FROM link
                ON CONFLICT (res_model, res_id, partner_id) DO NOTHING
             RETURNING id, partner_id
            )
            INSERT INTO mail_followers_mail_message_subtype_rel
                   (mail_followers_id, mail_message_subtype_id)
            SELECT new.id, subtype.id
              FROM new,
                   unnest(
                       CASE WHEN new.partner_id = ANY(%(share_partner_ids)s::int[])
                            THEN %(external_ids)s::int[]
                            ELSE %(default_ids)s::int[]
                       END
                   ) AS subtype(id)
                """,
                log_ids=[log_id for log_id, __ in pairs],
                user_ids=[user_id for __, user_id in pairs],
                model=self._name,
                share_partner_ids=users.partner_id.filtered("partner_share").ids,
                external_ids=external.ids,
                default_ids=default.ids,
            )
        )
        self.env["mail.followers"].invalidate_model()
        self.browse({log_id for log_id, __ in pairs}).invalidate_recordset(
            ["message_follower_ids", "message_partner_ids"]
        )

    def _mark_done_from_activity(self):
        """The salesperson completed the planned contact's activity: the contact is held."""
        now = fields.Datetime.now()
        for log in self.filtered(lambda log: log.state in ("planned", "missed")):
            log.with_context(crm_contact_log_sync=True).write(
                {
                    "state": "done",
                    "date": now,
                    "duration": log.duration or log.planned_duration,
                    "planned_activity_id": False,
                }
            )

    @api.model
    def _cron_mark_missed(self, limit=CRON_BATCH_SIZE):
        """Mark planned contacts not held by their planned time plus the grace period as missed,
        tell their salesperson, and tell the team leader once the second delay has passed too.

        Safe to run twice or concurrently: each run locks the rows it takes with
        ``FOR UPDATE SKIP LOCKED`` and only takes rows still in the state it acts on, so a
        contact is marked and notified once. Runs in batches of ``limit`` and asks the
        scheduler to come back while work remains.
        """
        now = fields.Datetime.now()
        missed_before = now - self._missed_grace()
        newly_missed = self._lock_batch(
            SQL("state = 'planned' AND active AND planned_date < %s", missed_before),
            SQL("planned_date, id"),
            limit,
        )
        # one digest per person instead of a message per contact: a batch costs a few queries
        quiet = {"tracking_disable": True, "mail_notrack": True}
        newly_missed.with_context(**quiet).write({"state": "missed", "missed_date": now})
        for user, logs in newly_missed.grouped("user_id").items():
            logs._notify_missed(user.partner_id, manager=False)

        to_escalate = self._lock_batch(
            SQL(
                "state = 'missed' AND active AND manager_notified IS NOT TRUE "
                "AND missed_date < %s",
                now - self._manager_delay(),
            ),
            SQL("missed_date, id"),
            limit,
        )
        to_escalate.with_context(**quiet).write({"manager_notified": True})
        for leader, logs in to_escalate.grouped(lambda log: log.team_id.user_id).items():
            logs = logs.filtered(lambda log, leader=leader: log.user_id != leader)
            if leader and logs:
                logs._notify_missed(leader.partner_id, manager=True)

        remaining = self.search_count(
            [("state", "=", "planned"), ("planned_date", "<", missed_before)]
        )
        self.env["ir.cron"]._notify_progress(
            done=len(newly_missed) + len(to_escalate), remaining=remaining
        )
        return newly_missed, to_escalate

    def _lock_batch(self, where, order, limit):
        """Lock up to ``limit`` contacts matching ``where`` that no concurrent transaction
        holds, and return them (the others are left to whoever holds them)."""
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM crm_contact_log WHERE %s ORDER BY %s LIMIT %s "
                "FOR UPDATE SKIP LOCKED",
                where,
                order,
                limit,
            )
        )
        return self.browse(row[0] for row in rows)

    def _notify_missed(self, partner, manager):
        """Tell ``partner`` (the salesperson, or the team leader) about these missed contacts,
        in one message in their language."""
        env = self.with_context(lang=partner.lang or self.env.lang).env
        lines = Markup("").join(
            Markup("<li>%s</li>")
            % env._(
                "%(date)s — %(customer)s: %(subject)s (%(user)s)",
                date=format_datetime(env, log.planned_date, tz=partner.tz, dt_format="short"),
                customer=log.partner_id.display_name,
                subject=log.name,
                user=log.user_id.name,
            )
            for log in self
        )
        if manager:
            intro = env._(
                "These contacts planned by your team were not held, and are still missed:"
            )
        else:
            intro = env._(
                "You did not hold these planned contacts: they are marked as missed. Hold them "
                "and mark them done, or reschedule them."
            )
        self.env["mail.thread"].sudo().message_notify(
            partner_ids=partner.ids,
            subject=env._("%(count)s missed contacts", count=len(self)),
            body=Markup("<p>%s</p><ul>%s</ul>") % (intro, lines),
            model=self._name,
            res_id=self[:1].id,
            subtype_xmlid="mail.mt_note",
        )
