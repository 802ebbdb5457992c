import logging
from calendar import isleap
from datetime import datetime, time, timedelta

import psycopg2
import pytz
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from .crm_contact_log import CHANNELS

_logger = logging.getLogger(__name__)

PERSONAL = "crm_extended.group_personal_details"
PARAM_COURTESY_DAYS = "crm_extended.courtesy_days_before"
DEFAULT_COURTESY_DAYS = 3
# hour (salesperson's time) of the courtesy call planned on the day itself
COURTESY_HOUR = 9

# x2many personal fields: Odoo checks their groups only when a search goes through their records
PERSONAL_RELATIONS = {"family_member_ids", "hobby_ids", "important_date_ids"}

# Personal fields erased by "Forget personal details" (the do-not-contact wish is kept).
FORGET_FIELDS = {
    "birthdate_date": False,
    "hobby_ids": [Command.clear()],
    "preferred_channel": False,
    "preferred_day_part": False,
    "preferred_contact_time": False,
    "marketing_consent": False,
    "marketing_consent_date": False,
    "marketing_consent_source": False,
    "do_not_contact_reason": False,
}

# The History tab shows the newest events; "Full history" opens all of them, paginated by the
# server, so a customer with 100,000 events opens as fast as one with ten.
TIMELINE_TAB_LIMIT = 80


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

    # personal details: readable, writable and searchable by their group only
    birthdate_date = fields.Date(string="Birthdate", tracking=True, groups=PERSONAL, copy=False)
    age = fields.Integer(compute="_compute_age", groups=PERSONAL, copy=False)
    birthday_key = fields.Char(
        compute="_compute_birthday_key",
        store=True,
        index=True,
        groups=PERSONAL,
        help="Month and day of the birthday (MM-DD), to find the birthdays of the next days.",
    )
    family_member_ids = fields.One2many(
        "res.partner.family.member", "partner_id", string="Family", groups=PERSONAL, copy=False
    )
    hobby_ids = fields.Many2many(
        "res.partner.hobby",
        "res_partner_hobby_rel",
        "partner_id",
        "hobby_id",
        string="Hobbies and Interests",
        tracking=True,
        groups=PERSONAL,
        copy=False,
    )
    important_date_ids = fields.One2many(
        "res.partner.important.date",
        "partner_id",
        string="Important Dates",
        groups=PERSONAL,
        copy=False,
    )
    preferred_channel = fields.Selection(CHANNELS, tracking=True, groups=PERSONAL, copy=False)
    preferred_day_part = fields.Selection(
        [
            ("morning", "Morning"),
            ("noon", "Noon"),
            ("afternoon", "Afternoon"),
            ("evening", "Evening"),
        ],
        string="Preferred Time of Day",
        tracking=True,
        groups=PERSONAL,
        copy=False,
    )
    preferred_contact_time = fields.Char(
        string="Best Time to Contact", tracking=True, groups=PERSONAL, copy=False
    )
    marketing_consent = fields.Boolean(
        string="Accepts Marketing", tracking=True, groups=PERSONAL, copy=False
    )
    marketing_consent_date = fields.Date(string="Consent Date", groups=PERSONAL, copy=False)
    marketing_consent_source = fields.Char(
        string="Consent Given Through",
        groups=PERSONAL,
        copy=False,
        help="Where the consent was given: signed form, website, phone call…",
    )
    do_not_contact = fields.Boolean(
        tracking=True,
        groups=PERSONAL,
        copy=False,
        help="The contact asked not to be contacted: greetings, reminders and promotions "
        "skip them and say so.",
    )
    do_not_contact_reason = fields.Char(string="Reason", tracking=True, groups=PERSONAL, copy=False)

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("birthdate_date")
    @api.depends_context("tz")
    def _compute_age(self):
        today = fields.Date.context_today(self)
        for partner in self:
            born = partner.birthdate_date
            partner.age = (
                today.year - born.year - ((today.month, today.day) < (born.month, born.day))
                if born
                else 0
            )

    @api.depends("birthdate_date")
    def _compute_birthday_key(self):
        for partner in self:
            born = partner.birthdate_date
            partner.birthday_key = born.strftime("%m-%d") if born else False

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
        # one grouped query for both dates (archived contacts do not count): launching a
        # promotion plan recomputes tens of thousands of customers
        customer_ids = [cid for cid in self.commercial_partner_id._origin.ids if cid]
        dates = {}
        if customer_ids:
            self.env["crm.contact.log"].flush_model(
                ["commercial_partner_id", "state", "date", "planned_date", "active"]
            )
            rows = self.env.execute_query(
                SQL(
                    """
                SELECT commercial_partner_id,
                       max(date) FILTER (WHERE state = 'done'),
                       min(planned_date) FILTER (WHERE state IN ('planned', 'missed'))
                  FROM crm_contact_log
                 WHERE commercial_partner_id = ANY(%s) AND active
                 GROUP BY commercial_partner_id
                    """,
                    customer_ids,
                )
            )
            dates = {customer_id: (last, upcoming) for customer_id, last, upcoming in rows}
        for partner in self:
            last, upcoming = dates.get(partner.commercial_partner_id._origin.id, (False, False))
            partner.last_contact_date = last or False
            partner.next_contact_date = upcoming or False

    @api.depends_context("lang", "uid")
    @api.depends("commercial_partner_id", "timeline_event_type")
    def _compute_timeline_ids(self):
        Timeline = self.env["crm.customer.timeline"]
        for partner in self:
            customer_id = partner.commercial_partner_id._origin.id
            if not customer_id:
                partner.timeline_ids = Timeline
                continue
            ids = Timeline._recent_ids(
                customer_id, partner.timeline_event_type, limit=TIMELINE_TAB_LIMIT
            )
            # searching the ids applies the access rules (by id: indexed, see the view)
            partner.timeline_ids = Timeline.search([("id", "in", ids)])

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        # Odoo checks field groups on write, not on create
        if not self.env.su:
            personal = {
                name
                for vals in vals_list
                for name in vals
                if getattr(self._fields.get(name), "groups", None) == PERSONAL
            }
            if personal:
                self.check_field_access_rights("write", sorted(personal))
        return super().create(vals_list)

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        # "has hobbies / family / dates" must not be answerable without the group either
        if not self.env.su:
            used = {
                leaf[0].split(".", 1)[0]
                for leaf in domain
                if isinstance(leaf, list | tuple) and leaf and isinstance(leaf[0], str)
            } & PERSONAL_RELATIONS
            if used:
                self.check_field_access_rights("read", sorted(used))
        return super()._search(domain, offset=offset, limit=limit, order=order)

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("birthdate_date")
    def _check_birthdate_date(self):
        today = fields.Date.context_today(self)
        for partner in self.sudo():
            if partner.birthdate_date and partner.birthdate_date > today:
                raise ValidationError(
                    self.env._("The birthdate of %(name)s is in the future.", name=partner.name)
                )
            partner.family_member_ids._check_birthdate()

    # ------------------------------------------------------------
    # PRIVACY
    # ------------------------------------------------------------

    def action_forget_personal_details(self):
        """Erase the personal details of these contacts, leaving a trace of who did it and
        when, and none of the erased values (also not in the chatter's tracking)."""
        if not self.env.user.has_group(PERSONAL):
            raise ValidationError(
                self.env._("Only users allowed to see personal details may erase them.")
            )
        self.check_access("write")
        partners = self.sudo()
        field_ids = [
            self.env["ir.model.fields"]._get(self._name, name).id
            for name in FORGET_FIELDS.keys() | {"do_not_contact"}
        ]
        trackings = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("field_id", "in", field_ids),
                    ("mail_message_id.model", "=", self._name),
                    ("mail_message_id.res_id", "in", self.ids),
                ]
            )
        )
        trackings.unlink()
        partners.family_member_ids.unlink()
        partners.important_date_ids.unlink()
        partners.with_context(mail_notrack=True, tracking_disable=True).write(FORGET_FIELDS)
        courtesy = (
            self.env["crm.contact.log"]
            .sudo()
            .search([("partner_id", "in", self.ids), ("courtesy_key", "!=", False)])
        )
        # their subject and activity name the occasion (a birthdate, a family member)
        courtesy.with_context(mail_notrack=True).write(
            {"content": False, "name": self.env._("Courtesy call")}
        )
        for partner in self:
            partner.message_post(
                body=self.env._("Personal details erased by %(user)s.", user=self.env.user.name),
                subtype_xmlid="mail.mt_note",
            )
        return True

    # ------------------------------------------------------------
    # COURTESY REMINDERS
    # ------------------------------------------------------------

    @api.model
    def _courtesy_window(self, today, days):
        """Month-day keys (MM-DD) of the dates from ``today`` to ``today + days``, each with
        the day it falls on; 29 February is celebrated on 28 February in other years."""
        window = {}
        for offset in range(days + 1):
            day = today + timedelta(days=offset)
            window[day.strftime("%m-%d")] = day
            if day.month == 2 and day.day == 28 and not isleap(day.year):
                window["02-29"] = day
        return window

    @api.model
    def _courtesy_salesperson(self, partner):
        return partner.user_id or partner.commercial_partner_id.user_id

    @api.model
    def _cron_courtesy_reminders(self, today=None):
        """Plan a courtesy call, N days ahead, for each birthday and important date of the
        customers' contacts, for their salesperson. Runs any number of times a day: a date
        gets one reminder per year (a unique key on the contact log). Contacts who do not
        want to be contacted are skipped, and so are contacts without a salesperson.

        :return: (planned contact logs, {reason: partners skipped})
        """
        today = today or fields.Date.context_today(self)
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(PARAM_COURTESY_DAYS, DEFAULT_COURTESY_DAYS)
        )
        window = self._courtesy_window(today, days)
        Partner = self.sudo().with_context(active_test=True)
        occasions = []  # (partner, key, day, kind, subject_values)
        for partner in Partner.search([("birthday_key", "in", list(window))]):
            day = window[partner.birthday_key]
            occasions.append((partner, f"birthday:{partner.id}:{day}", day, "birthday", None))
        dates = (
            self.env["res.partner.important.date"]
            .sudo()
            .search([("date_key", "in", list(window)), ("partner_id.active", "=", True)])
        )
        for important in dates:
            day = window[important.date_key]
            occasions.append(
                (important.partner_id, f"date:{important.id}:{day}", day, "date", important)
            )
        if not occasions:
            return self.env["crm.contact.log"], {}

        existing = set(
            self.env["crm.contact.log"]
            .sudo()
            .with_context(active_test=False)
            .search([("courtesy_key", "in", [key for __, key, *__ in occasions])])
            .mapped("courtesy_key")
        )
        skipped = {"do_not_contact": Partner, "no_salesperson": Partner}
        values = []
        for partner, key, day, kind, important in occasions:
            if key in existing:
                continue
            if partner.do_not_contact or partner.commercial_partner_id.do_not_contact:
                skipped["do_not_contact"] |= partner
                continue
            salesperson = self._courtesy_salesperson(partner)
            if not salesperson:
                skipped["no_salesperson"] |= partner
                continue
            values.append(
                partner._prepare_courtesy_log_values(salesperson, key, day, kind, important)
            )
        logs = self._create_courtesy_logs(values)
        skipped = {reason: partners for reason, partners in skipped.items() if partners}
        for reason, partners in skipped.items():
            # ids only: the server log is no place for personal details
            _logger.info(
                "Courtesy reminders: %s contact(s) skipped (%s): ids %s",
                len(partners),
                reason,
                partners.ids,
            )
        return logs, skipped

    @api.model
    def _create_courtesy_logs(self, values):
        """Create the reminders in one go; if one is refused (a contact of another company,
        a duplicate planned meanwhile by a concurrent run), create them one by one so the
        others still are, and log the refused ones."""
        Log = self.env["crm.contact.log"].sudo()
        try:
            with self.env.cr.savepoint():
                return Log.create(values)
        except (ValidationError, UserError, psycopg2.IntegrityError):
            logs = Log
            for vals in values:
                try:
                    with self.env.cr.savepoint():
                        logs |= Log.create(vals)
                except (ValidationError, UserError, psycopg2.IntegrityError) as error:
                    _logger.warning(
                        "Courtesy reminder %s not planned: %s", vals["courtesy_key"], error
                    )
            return logs

    def _prepare_courtesy_log_values(self, salesperson, key, day, kind, important):
        """Values of the planned courtesy contact for one occasion of ``self`` (a contact),
        written in the salesperson's language."""
        self.ensure_one()
        env = self.with_context(lang=salesperson.lang or self.env.lang).env
        when = format_date(env, day)
        if kind == "birthday":
            age = day.year - self.birthdate_date.year
            subject = env._("Birthday of %(name)s (%(age)s) on %(date)s",
                            name=self.name, age=age, date=when)  # fmt: skip
        else:
            label = important.name
            if important.year_known and important.kind in ("wedding", "customer_since", "founding"):
                label = env._("%(label)s (%(years)s years)", label=label,
                              years=day.year - important.date.year)  # fmt: skip
            if important.kind == "family_birthday":
                subject = env._("%(label)s (family of %(name)s) on %(date)s",
                                label=label, name=self.name, date=when)  # fmt: skip
            else:
                subject = env._("%(label)s of %(name)s on %(date)s",
                                label=label, name=self.name, date=when)  # fmt: skip
        lines = [subject]
        if self.birthdate_date and kind != "birthday":
            lines.append(env._("Age: %(age)s", age=self.age))
        relations = dict(
            self.env["res.partner.family.member"]._fields["relation"]._description_selection(env)
        )
        for member in self.family_member_ids:
            lines.append(f"{relations[member.relation]}: {member.name}")
        if self.hobby_ids:
            lines.append(
                env._("Hobbies: %(hobbies)s", hobbies=", ".join(self.hobby_ids.mapped("name")))
            )
        tz = pytz.timezone(salesperson.tz or "UTC")
        planned = tz.localize(datetime.combine(day, time(COURTESY_HOUR))).astimezone(pytz.utc)
        courtesy = self.env.ref(
            "crm_extended.crm_contact_log_category_courtesy", raise_if_not_found=False
        )
        return {
            "name": subject,
            "partner_id": self.id,
            "user_id": salesperson.id,
            "company_id": (self.company_id or salesperson.company_id).id,
            "channel": "phone",
            "direction": "outbound",
            "state": "planned",
            "planned_date": planned.replace(tzinfo=None),
            "content": Markup("").join(Markup("<p>%s</p>") % line for line in lines),
            "category_ids": [Command.set(courtesy.ids)] if courtesy else [],
            "courtesy_key": key,
        }

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
                "default_company_id": (self.company_id or self.env.company).id,
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
