from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import html2plaintext
from odoo.tools.mail import parse_contact_from_email

from .crm_support_sla import PRIORITIES

CHANNELS = [
    ("phone", "Phone"),
    ("email", "Email"),
    ("portal", "Portal"),
    ("walk_in", "Walk-in"),
    ("other", "Other"),
]
CATEGORIES = [
    ("warranty", "Warranty"),
    ("how_to", "How to use"),
    ("maintenance", "Maintenance"),
    ("complaint", "Complaint"),
    ("billing", "Billing"),
    ("other", "Other"),
]
WARRANTY_STATES = [
    ("under_warranty", "Under warranty"),
    ("expired", "Warranty expired"),
    ("unknown", "Warranty unknown"),
]
SLA_STATES = [
    ("on_time", "On time"),
    ("at_risk", "At risk"),
    ("breached", "Breached"),
]
# Writing more tickets than this at once is a clean-up: assignees get one digest instead
# of one message per ticket, and customers are not emailed about the stage change.
MASS_UPDATE_THRESHOLD = 20
MUTED_STAGE_MAIL_KEY = "crm_extended.ticket_stage_mail_muted"


class CrmSupportTicket(models.Model):
    _name = "crm.support.ticket"
    _description = "Help Desk Ticket"
    _inherit = [
        "mail.thread.cc",
        "rating.mixin",
        "mail.activity.mixin",
        "portal.mixin",
        "crm.contact.log.document.mixin",
    ]
    _order = "priority desc, id desc"
    _rec_names_search = ["number", "name", "partner_id.complete_name"]
    _check_company_auto = True
    _mail_post_access = "read"
    _primary_email = "partner_email"
    _contact_log_field = "ticket_id"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    number = fields.Char(
        string="Ticket Number", readonly=True, copy=False, index="trigram", default="/"
    )
    name = fields.Char(string="Subject", required=True, tracking=True)
    description = fields.Html(sanitize=True)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    # who calls
    partner_id = fields.Many2one(
        "res.partner", string="Customer", index=True, tracking=True, check_company=True
    )
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer Company",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
        precompute=True,
    )
    partner_name = fields.Char(
        string="Caller Name",
        compute="_compute_partner_contact",
        store=True,
        readonly=False,
        precompute=True,
    )
    partner_email = fields.Char(
        string="Caller Email",
        compute="_compute_partner_contact",
        store=True,
        readonly=False,
        precompute=True,
    )
    partner_phone = fields.Char(
        string="Caller Phone",
        compute="_compute_partner_contact",
        store=True,
        readonly=False,
        precompute=True,
    )
    channel = fields.Selection(CHANNELS, required=True, default="phone")
    # who handles it
    team_id = fields.Many2one(
        "crm.support.team",
        index=True,
        tracking=True,
        check_company=True,
        compute="_compute_team_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned to",
        index=True,
        tracking=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    stage_id = fields.Many2one(
        "crm.support.stage",
        index=True,
        tracking=True,
        copy=False,
        ondelete="restrict",
        group_expand="_read_group_stage_ids",
        domain="['|', ('team_ids', '=', False), ('team_ids', 'in', team_id)]",
        compute="_compute_stage_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True, index=True)
    priority = fields.Selection(PRIORITIES, default="1", required=True, index=True, tracking=True)
    category = fields.Selection(CATEGORIES, default="other", required=True, tracking=True)
    tag_ids = fields.Many2many("crm.support.tag", string="Tags")
    # what it is about
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Sales Order",
        index="btree_not_null",
        check_company=True,
        domain="[('partner_id', 'child_of', commercial_partner_id)]",
    )
    invoice_id = fields.Many2one(
        "account.move",
        index="btree_not_null",
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('commercial_partner_id', '=', commercial_partner_id)]",
        compute="_compute_invoice_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    product_id = fields.Many2one("product.product", index="btree_not_null", tracking=True)
    contact_log_ids = fields.One2many("crm.contact.log", "ticket_id", string="Contact History")
    # warranty
    warranty_source_date = fields.Date(
        string="Bought On",
        compute="_compute_warranty",
        store=True,
        help="Delivery date of the product if the sale is delivered, otherwise its invoice date.",
    )
    warranty_end_date = fields.Date(
        string="Warranty Until", compute="_compute_warranty", store=True, index="btree_not_null"
    )
    warranty_state = fields.Selection(
        WARRANTY_STATES,
        string="Warranty",
        compute="_compute_warranty_state",
        search="_search_warranty_state",
    )
    # service level
    open_date = fields.Datetime(
        string="Opened On",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        default=fields.Datetime.now,
        help="When the customer reached us: the service level clocks start here.",
    )
    response_deadline = fields.Datetime(
        string="Respond Before", compute="_compute_sla_deadlines", store=True, copy=False
    )
    resolution_deadline = fields.Datetime(
        string="Solve Before", compute="_compute_sla_deadlines", store=True, copy=False
    )
    response_risk_date = fields.Datetime(compute="_compute_sla_deadlines", store=True, copy=False)
    resolution_risk_date = fields.Datetime(compute="_compute_sla_deadlines", store=True, copy=False)
    first_response_date = fields.Datetime(readonly=True, copy=False)
    closed_date = fields.Datetime(
        compute="_compute_closed_date", store=True, copy=False, index="btree_not_null"
    )
    response_hours = fields.Float(
        string="Hours to First Response",
        compute="_compute_working_hours",
        store=True,
        aggregator="avg",
        help="Working hours of the team's calendar between the creation and the first answer.",
    )
    resolution_hours = fields.Float(
        string="Hours to Resolution",
        compute="_compute_working_hours",
        store=True,
        aggregator="avg",
        help="Working hours of the team's calendar between the creation and the closing.",
    )
    response_late = fields.Boolean(compute="_compute_sla_late", store=True)
    resolution_late = fields.Boolean(compute="_compute_sla_late", store=True)
    sla_state = fields.Selection(
        SLA_STATES,
        string="Service Level",
        compute="_compute_sla_state",
        search="_search_sla_state",
    )

    _sql_constraints = [
        (
            "number_company_unique",
            "UNIQUE(company_id, number)",
            "A ticket with this number already exists in this company.",
        ),
    ]

    def init(self):
        # the help desk's default list: open tickets by priority then age
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_support_ticket_open_idx "
            "ON crm_support_ticket (priority DESC, id DESC) WHERE active AND is_closed IS NOT TRUE"
        )
        # a customer's tickets, newest first (operator card, portal, history)
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_support_ticket_customer_idx "
            "ON crm_support_ticket (commercial_partner_id, id DESC)"
        )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("team_id")
    def _compute_company_id(self):
        for ticket in self:
            ticket.company_id = ticket.team_id.company_id or ticket.company_id or self.env.company

    @api.depends("partner_id")
    def _compute_partner_contact(self):
        for ticket in self:
            partner = ticket.partner_id
            ticket.partner_name = partner.name or ticket.partner_name
            ticket.partner_email = partner.email or ticket.partner_email
            ticket.partner_phone = partner.phone or partner.mobile or ticket.partner_phone

    @api.depends("company_id")
    def _compute_team_id(self):
        for ticket in self:
            ticket.team_id = ticket.team_id
            if not ticket.team_id or ticket.team_id.company_id != ticket.company_id:
                ticket.team_id = (
                    self.env["crm.support.team"].with_company(ticket.company_id)._get_default_team()
                )

    @api.depends("team_id")
    def _compute_user_id(self):
        to_assign = self.filtered(
            lambda ticket: ticket.team_id
            and (not ticket.user_id or ticket.user_id not in ticket.team_id.member_ids)
        )
        for ticket in self - to_assign:
            ticket.user_id = ticket.user_id
        # one load count per team, and tickets created together spread over its members
        for team, tickets in to_assign.grouped("team_id").items():
            assignees = team._get_assignees(len(tickets))
            for index, ticket in enumerate(tickets):
                ticket.user_id = assignees[index] if assignees else ticket.user_id

    @api.depends("team_id")
    def _compute_stage_id(self):
        first_stages = {}  # one search per team, not per ticket
        for ticket in self:
            ticket.stage_id = ticket.stage_id
            if not ticket.stage_id or (
                ticket.stage_id.team_ids and ticket.team_id not in ticket.stage_id.team_ids
            ):
                if ticket.team_id not in first_stages:
                    first_stages[ticket.team_id] = ticket._get_first_stage()
                ticket.stage_id = first_stages[ticket.team_id]

    @api.depends("product_id", "commercial_partner_id", "sale_order_id")
    def _compute_invoice_id(self):
        for ticket in self:
            ticket.invoice_id = ticket.invoice_id
            if not ticket.invoice_id and ticket.product_id and ticket.commercial_partner_id:
                ticket.invoice_id = ticket._get_purchase_line().move_id

    @api.depends("product_id", "commercial_partner_id", "invoice_id", "sale_order_id")
    def _compute_warranty(self):
        for ticket in self:
            source_date = ticket._get_warranty_source_date()
            months = ticket.product_id.product_tmpl_id.warranty_months
            ticket.warranty_source_date = source_date
            ticket.warranty_end_date = source_date and source_date + relativedelta(months=months)

    @api.depends("warranty_end_date")
    @api.depends_context("date")
    def _compute_warranty_state(self):
        today = fields.Date.context_today(self)
        for ticket in self:
            if not ticket.warranty_end_date:
                ticket.warranty_state = "unknown"
            elif ticket.warranty_end_date >= today:
                ticket.warranty_state = "under_warranty"
            else:
                ticket.warranty_state = "expired"

    def _search_warranty_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise ValidationError(self.env._("Unsupported search on the warranty state."))
        values = {value} if isinstance(value, str) or not value else set(value)
        today = fields.Date.context_today(self)
        by_state = {
            "under_warranty": [("warranty_end_date", ">=", today)],
            "expired": [("warranty_end_date", "<", today)],
            "unknown": [("warranty_end_date", "=", False)],
        }
        domain = expression.OR([by_state[state] for state in values if state in by_state])
        if operator in ("!=", "not in"):
            domain = ["!", *domain] if domain else []
        return domain or expression.FALSE_DOMAIN

    @api.depends("team_id", "priority", "open_date")
    def _compute_sla_deadlines(self):
        for ticket in self:
            start = ticket.open_date or fields.Datetime.now()
            sla = ticket.team_id._get_sla(ticket.priority) if ticket.team_id else False
            if not sla:
                ticket.update(
                    {
                        "response_deadline": False,
                        "resolution_deadline": False,
                        "response_risk_date": False,
                        "resolution_risk_date": False,
                    }
                )
                continue
            share = ticket.team_id.at_risk_percent / 100.0
            plan = ticket._plan_working_hours
            ticket.response_deadline = plan(start, sla.response_hours)
            ticket.resolution_deadline = plan(start, sla.resolution_hours)
            ticket.response_risk_date = plan(start, sla.response_hours * share)
            ticket.resolution_risk_date = plan(start, sla.resolution_hours * share)

    @api.depends("stage_id")
    def _compute_closed_date(self):
        for ticket in self:
            if not ticket.is_closed:
                ticket.closed_date = False
            elif not ticket.closed_date:
                ticket.closed_date = fields.Datetime.now()

    @api.depends("first_response_date", "closed_date", "team_id", "open_date")
    def _compute_working_hours(self):
        for ticket in self:
            start = ticket.open_date or fields.Datetime.now()
            calendar = ticket.team_id.resource_calendar_id
            response = ticket.first_response_date or ticket.closed_date
            ticket.response_hours = (
                calendar and response and ticket._count_working_hours(start, response)
            )
            ticket.resolution_hours = (
                calendar
                and ticket.closed_date
                and ticket._count_working_hours(start, ticket.closed_date)
            )

    @api.depends("first_response_date", "closed_date", "response_deadline", "resolution_deadline")
    def _compute_sla_late(self):
        for ticket in self:
            response = ticket.first_response_date or ticket.closed_date
            ticket.response_late = bool(
                response and ticket.response_deadline and response > ticket.response_deadline
            )
            ticket.resolution_late = bool(
                ticket.closed_date
                and ticket.resolution_deadline
                and ticket.closed_date > ticket.resolution_deadline
            )

    @api.depends(
        "response_late",
        "resolution_late",
        "response_deadline",
        "resolution_deadline",
        "response_risk_date",
        "resolution_risk_date",
        "first_response_date",
        "closed_date",
    )
    def _compute_sla_state(self):
        now = fields.Datetime.now()
        for ticket in self:
            waiting_response = not ticket.first_response_date and not ticket.closed_date
            waiting_resolution = not ticket.closed_date

            def passed(date, waiting):
                return bool(waiting and date and date <= now)

            if (
                ticket.response_late
                or ticket.resolution_late
                or passed(ticket.response_deadline, waiting_response)
                or passed(ticket.resolution_deadline, waiting_resolution)
            ):
                ticket.sla_state = "breached"
            elif passed(ticket.response_risk_date, waiting_response) or passed(
                ticket.resolution_risk_date, waiting_resolution
            ):
                ticket.sla_state = "at_risk"
            else:
                ticket.sla_state = "on_time"

    @api.model
    def _sla_state_domains(self):
        """Domains of the service-level states at this moment, from stored dates only.

        Searching is a comparison with "now" on indexed columns: no job has to walk every
        open ticket to flip a stored state when a deadline passes.
        """
        now = fields.Datetime.now()
        no_response = [("first_response_date", "=", False), ("closed_date", "=", False)]

        def passed(field):
            # "set and passed": negating it also matches tickets without that date
            return [(field, "!=", False), (field, "<=", now)]

        breached = expression.OR(
            [
                [("response_late", "=", True)],
                [("resolution_late", "=", True)],
                expression.AND([no_response, passed("response_deadline")]),
                expression.AND([[("closed_date", "=", False)], passed("resolution_deadline")]),
            ]
        )
        at_risk = expression.AND(
            [
                ["!", *breached],
                expression.OR(
                    [
                        expression.AND([no_response, passed("response_risk_date")]),
                        expression.AND(
                            [[("closed_date", "=", False)], passed("resolution_risk_date")]
                        ),
                    ]
                ),
            ]
        )
        on_time = expression.AND([["!", *breached], ["!", *at_risk]])
        return {"breached": breached, "at_risk": at_risk, "on_time": on_time}

    def _search_sla_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise ValidationError(self.env._("Unsupported search on the service level."))
        values = {value} if isinstance(value, str) or not value else set(value)
        domains = self._sla_state_domains()
        domain = expression.OR([domains[state] for state in values if state in domains])
        if not domain:
            return expression.FALSE_DOMAIN if operator in ("=", "in") else []
        if operator in ("!=", "not in"):
            return ["!", *domain]
        return domain

    @api.model
    def read_progress_bar(self, domain, group_by, progress_bar):
        """Kanban progress bars on the service level, counted per state from its domains.

        The state depends on the current time and is not stored: one grouped count per
        state, whatever the number of tickets.
        """
        if progress_bar.get("field") != "sla_state":
            return super().read_progress_bar(domain, group_by, progress_bar)
        result = {}
        for state, state_domain in self._sla_state_domains().items():
            groups = self.read_group(
                expression.AND([domain, state_domain]), ["__count"], [group_by], lazy=False
            )
            for group in groups:
                value = group[group_by]
                key = str(value[0] if isinstance(value, tuple) else value)
                counts = result.setdefault(key, dict.fromkeys(progress_bar["colors"], 0))
                if state in counts:
                    counts[state] += group["__count"]
        return result

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"
        return result

    def _compute_display_name(self):
        for ticket in self:
            if ticket.number and ticket.number != "/":
                ticket.display_name = f"{ticket.number} {ticket.name or ''}".strip()
            else:
                ticket.display_name = ticket.name or ""

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("number") or vals["number"] == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["number"] = (
                    self.env["ir.sequence"].with_company(company).next_by_code("crm.support.ticket")
                    or "/"
                )
        tickets = super().create(vals_list)
        # the caller becomes a follower so replies and stage emails reach them
        # (also when a salesperson, who may open but not edit tickets, opened it)
        for ticket in tickets.filtered("partner_id"):
            ticket.sudo().message_subscribe(partner_ids=ticket.partner_id.ids)
        tickets._link_contact_log_from_context()
        tickets._track_initial_stage(vals_list)
        return tickets

    def _track_initial_stage(self, vals_list):
        """Send the first stage's email (the acknowledgement) to new tickets.

        Odoo posts stage templates at creation only when the stage was given in the values;
        ours is computed, so it is added to the creation changes the same way.
        """
        if self.env.context.get("tracking_disable") or self.env.context.get("mail_notrack"):
            return
        precommit = self.env.cr.precommit
        for ticket, vals in zip(self, vals_list, strict=True):
            if "stage_id" in vals or not ticket.stage_id.notify_customer:
                continue
            key = f"mail.tracking.create.{self._name}.{ticket.id}"
            if key not in precommit.data:
                precommit.add(ticket._track_post_template_finalize)
            precommit.data.setdefault(key, []).append("stage_id")

    def _link_contact_log_from_context(self):
        """Link the contact a ticket was opened from ("the caller reports a fault").

        The operator may not own that contact (a salesperson logged it): reading it is
        enough to attach the ticket to it.
        """
        log_id = self.env.context.get("crm_support_contact_log_id")
        if not log_id or not self:
            return
        log = self.env["crm.contact.log"].browse(log_id).exists()
        if not log or log.sudo().ticket_id:
            return
        log.check_access("read")
        log.sudo().ticket_id = self[:1]

    def write(self, vals):
        if len(self) > MASS_UPDATE_THRESHOLD and ("user_id" in vals or "stage_id" in vals):
            previous = {ticket: ticket.user_id for ticket in self}
            if "stage_id" in vals:
                # stage emails go out with the tracking, at commit: remember to skip them
                self.env.cr.precommit.data.setdefault(MUTED_STAGE_MAIL_KEY, set()).update(self.ids)
            result = super(
                CrmSupportTicket, self.with_context(mail_auto_subscribe_no_notify=True)
            ).write(vals)
            if vals.get("user_id"):
                self._notify_mass_assignment(
                    self.filtered(lambda ticket: previous[ticket] != ticket.user_id)
                )
            return result
        return super().write(vals)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for ticket, vals in zip(self, vals_list, strict=True):
            vals.setdefault("name", self.env._("%(subject)s (copy)", subject=ticket.name))
        return vals_list

    # ------------------------------------------------------------
    # MAIL
    # ------------------------------------------------------------

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An email to a team's alias opens a ticket for its sender."""
        values = dict(custom_values or {})
        email = msg_dict.get("email_from") or ""
        partner = self.env["res.partner"].browse(msg_dict.get("author_id") or [])
        if not partner and email:
            partner = self._mail_find_partner_from_emails([email])[0]
        values.setdefault("name", msg_dict.get("subject") or self.env._("No subject"))
        values.setdefault("channel", "email")
        values.setdefault("description", msg_dict.get("body"))
        if partner:
            values.setdefault("partner_id", partner.id)
        else:
            name, address = parse_contact_from_email(email)
            values.setdefault("partner_name", name or address)
        ticket = super().message_new(msg_dict, custom_values=values)
        if not ticket.partner_id:
            # the gateway stores the whole "Name <address>"; keep the address alone
            ticket.partner_email = parse_contact_from_email(email)[1]
        return ticket

    def message_update(self, msg_dict, update_vals=None):
        """A customer writing again about a solved ticket reopens it."""
        author = self.env["res.partner"].browse(msg_dict.get("author_id") or [])
        from_customer = not author or not any(not user.share for user in author.sudo().user_ids)
        reopen = self.filtered(lambda ticket: ticket.is_closed) if from_customer else self.browse()
        result = super().message_update(msg_dict, update_vals=update_vals)
        for ticket in reopen:
            ticket.write({"stage_id": ticket._get_reopen_stage().id})
            ticket._message_log(
                body=self.env._("Reopened: the customer wrote again after the ticket was solved.")
            )
        return result

    def _message_post_after_hook(self, message, msg_vals):
        # the first answer of the team to the customer stops the first-response clock
        if (
            not self.first_response_date
            and message.message_type in ("comment", "email_outgoing")
            and message.subtype_id == self.env.ref("mail.mt_comment")
            and message.author_id
            and message.author_id.user_ids
            and not message.author_id.user_ids[:1].share
        ):
            self.sudo().first_response_date = message.date or fields.Datetime.now()
        return super()._message_post_after_hook(message, msg_vals)

    def _track_template(self, changes):
        res = super()._track_template(changes)
        ticket = self[0]
        muted = self.env.cr.precommit.data.get(MUTED_STAGE_MAIL_KEY, set())
        if (
            "stage_id" in changes
            and ticket.stage_id.notify_customer
            and ticket.stage_id.mail_template_id
            and ticket.partner_id
            and ticket.id not in muted
        ):
            post_kwargs = {
                "auto_delete_keep_log": False,
                "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                "email_layout_xmlid": "mail.mail_notification_light",
            }
            res["stage_id"] = (ticket.stage_id.mail_template_id, post_kwargs)
        return res

    def _message_track_post_template(self, changes):
        # a customer who opened the ticket themselves (portal, email as a portal user) is
        # the message's "author" for Odoo, which never notifies authors: they still get
        # their acknowledgement
        return super(
            CrmSupportTicket, self.with_context(mail_notify_author=True)
        )._message_track_post_template(changes)

    def _track_subtype(self, init_values):
        self.ensure_one()
        if "stage_id" in init_values and self.is_closed:
            return self.env.ref("crm_extended.mt_crm_support_ticket_closed")
        if "stage_id" in init_values:
            return self.env.ref("crm_extended.mt_crm_support_ticket_stage")
        return super()._track_subtype(init_values)

    def _creation_subtype(self):
        return self.env.ref("crm_extended.mt_crm_support_ticket_new")

    def _notify_mass_assignment(self, tickets):
        """One message per assignee listing the tickets they received, instead of one each."""
        for user, user_tickets in tickets.grouped("user_id").items():
            if not user:
                continue
            items = Markup("").join(
                Markup("<li>%s</li>") % ticket.display_name for ticket in user_tickets[:50]
            )
            more = len(user_tickets) - 50
            body = Markup("<p>%s</p><ul>%s</ul>") % (
                self.env._(
                    "%(count)s help desk tickets were assigned to you.",
                    count=len(user_tickets),
                ),
                items,
            )
            if more > 0:
                body += Markup("<p>%s</p>") % self.env._("and %(count)s more.", count=more)
            self.env["mail.thread"].sudo().message_notify(
                partner_ids=user.partner_id.ids,
                subject=self.env._("Help desk tickets assigned to you"),
                body=body,
                model_description=self._description,
            )

    def _message_get_suggested_recipients(self):
        recipients = super()._message_get_suggested_recipients()
        if self.partner_id:
            self._message_add_suggested_recipient(
                recipients, partner=self.partner_id, reason=self.env._("Customer")
            )
        elif self.partner_email:
            self._message_add_suggested_recipient(
                recipients, email=self.partner_email, reason=self.env._("Caller Email")
            )
        return recipients

    def _rating_get_parent_field_name(self):
        return "team_id"

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_first_stage(self):
        self.ensure_one()
        domain = ["|", ("team_ids", "=", False), ("team_ids", "in", self.team_id.ids)]
        return self.env["crm.support.stage"].search(
            expression.AND([domain, [("is_closed", "=", False)]]), limit=1
        ) or self.env["crm.support.stage"].search(domain, limit=1)

    def _get_reopen_stage(self):
        """Where a reopened ticket goes: the first open stage after the intake one."""
        self.ensure_one()
        stages = self.env["crm.support.stage"].search(
            [
                "|",
                ("team_ids", "=", False),
                ("team_ids", "in", self.team_id.ids),
                ("is_closed", "=", False),
            ]
        )
        return stages[1:2] or stages[:1]

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        team_id = self.env.context.get("default_team_id")
        stage_domain = [("team_ids", "=", False)]
        if team_id:
            stage_domain = ["|", *stage_domain, ("team_ids", "in", [team_id])]
        return stages.search(stage_domain)

    def _get_purchase_line(self):
        """The posted customer-invoice line by which this customer bought the product.

        Prefers the ticket's invoice, then the invoices of its sales order, then the
        customer's most recent invoice of that product. Credit notes are ignored.
        """
        self.ensure_one()
        if not self.product_id or not self.commercial_partner_id:
            return self.env["account.move.line"]
        domain = [
            ("product_id", "=", self.product_id.id),
            ("move_id.move_type", "=", "out_invoice"),
            ("parent_state", "=", "posted"),
            ("display_type", "=", "product"),
            ("move_id.commercial_partner_id", "=", self.commercial_partner_id.id),
        ]
        Line = self.env["account.move.line"].sudo()
        if self.invoice_id:
            line = Line.search([*domain, ("move_id", "=", self.invoice_id.id)], limit=1)
            if line:
                return line
        if self.sale_order_id:
            line = Line.search(
                [*domain, ("sale_line_ids.order_id", "=", self.sale_order_id.id)],
                order="date desc, id desc",
                limit=1,
            )
            if line:
                return line
        return Line.search(domain, order="date desc, id desc", limit=1)

    def _get_warranty_source_date(self):
        """When the warranty of the ticket's product started for this customer, or False.

        The delivery date when the sale is delivered (``effective_date``, set by the
        inventory app), otherwise the invoice date.
        """
        self.ensure_one()
        line = self._get_purchase_line()
        if not line:
            return False
        order = self.sale_order_id or line.sale_line_ids.order_id[:1]
        delivered = order and "effective_date" in order._fields and order.sudo().effective_date
        if delivered:
            return fields.Date.to_date(delivered)
        return line.move_id.invoice_date or line.date

    def _plan_working_hours(self, start, hours):
        calendar = self.team_id.resource_calendar_id
        if not calendar:
            return False
        deadline = calendar.plan_hours(hours, start, compute_leaves=True)
        return deadline and deadline.replace(tzinfo=None)

    def _count_working_hours(self, start, end):
        if end <= start:
            return 0.0
        hours = self.team_id.resource_calendar_id.get_work_hours_count(
            start, end, compute_leaves=True
        )
        return round(hours, 2)

    def _contact_log_defaults(self):
        defaults = super()._contact_log_defaults()
        defaults.update(
            {
                "default_name": self.display_name,
                "default_sale_order_id": self.sale_order_id.id,
                "default_invoice_id": self.invoice_id.id,
            }
        )
        return defaults

    def _prepare_description_text(self):
        """Plain text of subject and description, what article suggestions match on."""
        self.ensure_one()
        return f"{self.name or ''} {html2plaintext(self.description or '')}".strip()

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_assign_to_me(self):
        self.write({"user_id": self.env.uid})

    def action_close(self):
        """Move the tickets to the first closing stage of their team (normally "Solved")."""
        for team, tickets in self.grouped("team_id").items():
            stage = self.env["crm.support.stage"].search(
                [
                    ("is_closed", "=", True),
                    "|",
                    ("team_ids", "=", False),
                    ("team_ids", "in", team.ids),
                ],
                limit=1,
            )
            if not stage:
                raise UserError(
                    self.env._(
                        "No closing stage is available for the team %(team)s: ask a manager to "
                        "mark a stage as closing in the help desk configuration.",
                        team=team.display_name or self.env._("(no team)"),
                    )
                )
            tickets.write({"stage_id": stage.id})
        return True
