import hashlib
import hmac
import logging
import re
import secrets

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import email_normalize, escape_psql, plaintext2html, single_email_re

from odoo.addons.phone_validation.tools import phone_validation

from .res_partner_support import phone_search_key

_logger = logging.getLogger(__name__)

KINDS = [
    ("webhook", "Webhook"),
    ("file", "File Import"),
    ("email", "Email"),
]
# the token is shown once, in the dialog opened by ``action_rotate_token``, through this key
NEW_TOKEN_CONTEXT_KEY = "crm_extended_new_lead_source_token"
TOKEN_BYTES = 32
TOKEN_HINT_LENGTH = 6

# What an incoming lead may carry (webhook JSON keys, file import columns).
INTAKE_TEXT_FIELDS = (
    "contact_name",
    "company",
    "email",
    "phone",
    "country",
    "vat",
    "message",
    "product_interest",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)
INTAKE_MAX_LENGTH = 255
INTAKE_MAX_MESSAGE_LENGTH = 20000
VAT_FORMATTING = re.compile(r"[\s.\-/]")
VAT_PATTERN = re.compile(r"^[A-Z0-9]{2,32}$")
# partners whose numbers share a search key are few; more than this is not a real duplicate
PHONE_CANDIDATES_LIMIT = 20


def hash_token(token):
    """The stored form of a source token: its SHA-256, in hexadecimal."""
    return hashlib.sha256(token.encode()).hexdigest()


class LeadIntakeError(UserError):
    """A lead refused by the intake, with the input field at fault and a machine code.

    ``code`` is one of ``missing_contact`` (no name, or neither email nor phone) and
    ``invalid_value`` (the value of ``field`` cannot be used).
    """

    def __init__(self, message, field=False, code="invalid_value"):
        super().__init__(message)
        self.field = field
        self.code = code


class CrmLeadSource(models.Model):
    """An external source of leads: a web form, a reseller's system, a file, an email alias.

    A webhook source is called over HTTP (``controllers/lead_webhook.py``) with a secret
    token: only its SHA-256 is stored, in a field no one but the superuser reads; the token
    itself is shown once, when it is generated (``action_rotate_token``).

    Every lead, whatever the way it came in, goes through ``_intake_leads``: the one
    normalization and de-duplication of crm_extended.
    """

    _name = "crm.lead.source"
    _description = "Lead Source"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    kind = fields.Selection(KINDS, required=True, default="webhook", tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    # what the leads of the source get
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        tracking=True,
        help="Sales team of the new leads. Empty: the salesperson's team, if any.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        check_company=True,
        domain="[('share', '=', False)]",
        tracking=True,
        help="Salesperson of the new leads. Empty: the leads wait to be assigned.",
    )
    tag_ids = fields.Many2many("crm.tag", string="Tags", help="Tags of the new leads.")
    utm_source_id = fields.Many2one(
        "utm.source",
        string="UTM Source",
        help="Source of the new leads when the call names none Odoo knows.",
    )
    utm_medium_id = fields.Many2one(
        "utm.medium",
        string="UTM Medium",
        help="Medium of the new leads when the call names none Odoo knows.",
    )
    # webhook
    rate_limit = fields.Integer(
        string="Calls per Minute",
        default=60,
        help="Calls accepted per minute; beyond it the webhook answers 429 (too many requests).",
    )
    max_body_kb = fields.Integer(
        string="Maximum Body Size (KB)",
        default=64,
        help="Larger calls are refused with 413 (body too large) before they are read.",
    )
    token_hash = fields.Char(
        copy=False,
        groups="base.group_system",
        help="SHA-256 of the token; the token itself is never stored.",
    )
    token_hint = fields.Char(
        string="Token Starts With",
        copy=False,
        readonly=True,
        help="The first characters of the token, to tell which one a system uses.",
    )
    token_date = fields.Datetime(string="Token Generated On", copy=False, readonly=True)
    has_token = fields.Boolean(compute="_compute_has_token")
    new_token = fields.Char(
        compute="_compute_new_token",
        groups="sales_team.group_sale_manager",
        help="The token just generated, shown once.",
    )
    endpoint_url = fields.Char(string="Webhook URL", compute="_compute_endpoint_url")
    # file import
    import_mapping = fields.Json(
        string="Remembered Column Mapping",
        copy=False,
        groups="sales_team.group_sale_manager",
        help="Header of the column of each lead field in the last file imported: the next "
        "file is mapped the same way.",
    )
    import_mapping_text = fields.Char(
        string="Column Mapping",
        compute="_compute_import_mapping_text",
        groups="sales_team.group_sale_manager",
    )
    import_count = fields.Integer(
        string="Imports",
        compute="_compute_import_count",
        groups="sales_team.group_sale_manager",
    )
    # email
    team_alias_email = fields.Char(
        string="Team Email Alias",
        compute="_compute_team_alias_email",
        help="Leads created from the emails sent to this address carry the source.",
    )
    # figures
    lead_count = fields.Integer(string="Leads", compute="_compute_lead_count")
    call_count = fields.Integer(
        string="Calls",
        compute="_compute_call_count",
        groups="sales_team.group_sale_manager",
    )

    _sql_constraints = [
        (
            "rate_limit_range",
            "CHECK(rate_limit BETWEEN 1 AND 100000)",
            "The calls per minute must be between 1 and 100000.",
        ),
        (
            "max_body_kb_range",
            "CHECK(max_body_kb BETWEEN 1 AND 10240)",
            "The maximum body size must be between 1 KB and 10240 KB.",
        ),
    ]

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("token_hash")
    def _compute_has_token(self):
        # sudo: whether a hash is set, never the hash itself
        hashes = {source.id: source.token_hash for source in self.sudo()}
        for source in self:
            source.has_token = bool(hashes.get(source.id))

    @api.depends("token_hash")
    @api.depends_context(NEW_TOKEN_CONTEXT_KEY)
    def _compute_new_token(self):
        """The token passed in the context by ``action_rotate_token``, if it is the source's
        current one: the dialog shows it, no one can make it show anything else."""
        token = self.env.context.get(NEW_TOKEN_CONTEXT_KEY)
        for source in self:
            source.new_token = token if token and source._token_matches(token) else False

    def _compute_endpoint_url(self):
        for source in self:
            source.endpoint_url = (
                f"{source.get_base_url()}/crm_extended/leads/{source.id}"
                if source.id and source.kind == "webhook"
                else False
            )

    @api.depends("import_mapping")
    def _compute_import_mapping_text(self):
        labels = dict(
            self.env["crm.lead.import.column"]
            ._fields["intake_key"]
            ._description_selection(self.env)
        )
        for source in self:
            mapping = source.import_mapping or {}
            source.import_mapping_text = "; ".join(
                f"{label} ← {mapping[key]}" for key, label in labels.items() if mapping.get(key)
            )

    def _compute_import_count(self):
        counts = dict(
            self.env["crm.lead.import"]._read_group(
                [("source_id", "in", self.ids)], ["source_id"], ["__count"]
            )
        )
        for source in self:
            source.import_count = counts.get(source._origin, 0)

    @api.depends("kind", "team_id")
    def _compute_team_alias_email(self):
        for source in self:
            source.team_alias_email = source.kind == "email" and source.team_id.alias_email

    def _compute_lead_count(self):
        counts = dict(
            self.env["crm.lead"]._read_group(
                [("lead_source_id", "in", self.ids)], ["lead_source_id"], ["__count"]
            )
        )
        for source in self:
            source.lead_count = counts.get(source._origin, 0)

    def _compute_call_count(self):
        counts = dict(
            self.env["crm.lead.source.call"]._read_group(
                [("source_id", "in", self.ids)], ["source_id"], ["__count"]
            )
        )
        for source in self:
            source.call_count = counts.get(source._origin, 0)

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("kind", "team_id", "active")
    def _check_email_team(self):
        """An email source is tied to a sales team's alias, and a team to one source."""
        email_sources = self.filtered(lambda source: source.kind == "email" and source.active)
        for source in email_sources:
            if not source.team_id:
                raise ValidationError(
                    self.env._(
                        "The email source %(name)s needs a sales team: its leads are the "
                        "ones created from the emails sent to the team's alias.",
                        name=source.name,
                    )
                )
        if not email_sources:
            return
        groups = self._read_group(
            [("kind", "=", "email"), ("team_id", "in", email_sources.team_id.ids)],
            ["team_id"],
            ["__count"],
            having=[("__count", ">", 1)],
        )
        if groups:
            raise ValidationError(
                self.env._(
                    "The sales team %(team)s is already tied to another email source: a "
                    "team's emails can carry one source only.",
                    team=groups[0][0].display_name,
                )
            )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        sources = super().create(vals_list)
        sources._grant_intake_user_companies()
        return sources

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            self._grant_intake_user_companies()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        """Where leads came from is history: a source that brought leads or was called is
        archived, not deleted."""
        used = self.env["crm.lead"].with_context(active_test=False).search_count(
            [("lead_source_id", "in", self.ids)], limit=1
        ) or self.env["crm.lead.source.call"].sudo().search_count(
            [("source_id", "in", self.ids)], limit=1
        )
        if used:
            raise UserError(
                self.env._(
                    "A source that brought leads or received calls cannot be deleted: "
                    "archive it instead."
                )
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_rotate_token(self):
        """Generate a new token and show it once; the previous one stops working at once.

        Only the SHA-256 of the token is stored. The token travels back to the browser in the
        context of the dialog that shows it, and nowhere else.
        """
        self.ensure_one()
        self.check_access("write")
        if self.kind != "webhook":
            raise UserError(self.env._("Only webhook sources are called with a token."))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._set_token(token)
        self.message_post(
            body=self.env._("A new token was generated; the previous one no longer works."),
            subtype_xmlid="mail.mt_note",
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Token"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("crm_extended.crm_lead_source_view_form_token").id, "form")],
            "target": "new",
            "context": {NEW_TOKEN_CONTEXT_KEY: token},
        }

    def action_revoke_token(self):
        """Remove the token: every call is refused until a new one is generated."""
        self.check_access("write")
        # sudo: the hash is written by no one but the superuser (see the field's groups)
        self.sudo().write({"token_hash": False, "token_hint": False, "token_date": False})
        for source in self:
            source.message_post(
                body=self.env._("The token was revoked: calls are refused until a new one."),
                subtype_xmlid="mail.mt_note",
            )

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action["domain"] = [("lead_source_id", "=", self.id)]
        action["context"] = {"default_lead_source_id": self.id, "active_test": True}
        return action

    def action_import_file(self):
        """Open a new import of a file of leads into this source."""
        self.ensure_one()
        if self.kind != "file":
            raise UserError(self.env._("Only file sources import files."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import a File"),
            "res_model": "crm.lead.import",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {"default_source_id": self.id},
        }

    def action_view_imports(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_lead_import_action"
        )
        action["domain"] = [("source_id", "=", self.id)]
        action["context"] = {"default_source_id": self.id}
        return action

    def action_view_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_lead_source_call_action"
        )
        action["domain"] = [("source_id", "=", self.id)]
        action["context"] = {"search_default_source_id": self.id}
        return action

    # ------------------------------------------------------------
    # EMAIL
    # ------------------------------------------------------------

    @api.model
    def _get_email_source(self, team_id):
        """The active email source tied to the sales team ``team_id`` (an id), if any."""
        if not team_id:
            return self.browse()
        # sudo: the mail gateway may run as a user who cannot read sources; only the source's
        # own lead defaults are read from it
        return self.sudo().search([("kind", "=", "email"), ("team_id", "=", team_id)], limit=1)

    def _prepare_email_lead_values(self, values):
        """Values the source adds to a lead created from an email, on top of ``values``
        (the alias defaults and the mail gateway's own): the source itself, its tags and its
        UTM source and medium where the email brought none; the team and salesperson stay
        the alias's. The lead is the source's company's, as leads of a team without
        company would otherwise belong to none."""
        self.ensure_one()
        lead_values = {"lead_source_id": self.id}
        if not values.get("company_id"):
            lead_values["company_id"] = self.company_id.id
        if self.tag_ids and "tag_ids" not in values:
            lead_values["tag_ids"] = [Command.set(self.tag_ids.ids)]
        if self.utm_source_id and not values.get("source_id"):
            lead_values["source_id"] = self.utm_source_id.id
        if self.utm_medium_id and not values.get("medium_id"):
            lead_values["medium_id"] = self.utm_medium_id.id
        return lead_values

    # ------------------------------------------------------------
    # TOKEN AND TECHNICAL USER
    # ------------------------------------------------------------

    def _set_token(self, token):
        # sudo: the hash is written by no one but the superuser (see the field's groups)
        self.sudo().write(
            {
                "token_hash": hash_token(token),
                "token_hint": token[:TOKEN_HINT_LENGTH],
                "token_date": fields.Datetime.now(),
            }
        )

    def _token_matches(self, token):
        """Whether ``token`` is the source's current token (constant-time comparison)."""
        self.ensure_one()
        # sudo: the hash is read by no one but the superuser (see the field's groups)
        stored = self.sudo().token_hash
        if not stored or not isinstance(token, str) or not token:
            return False
        return hmac.compare_digest(stored, hash_token(token))

    @api.model
    def _get_intake_user(self):
        """The technical user the webhook creates leads as (see data/crm_lead_source_data.xml):
        an internal user without login, with only the rights the intake needs."""
        return self.env.ref("crm_extended.user_lead_intake", raise_if_not_found=False)

    def _grant_intake_user_companies(self):
        """Let the technical user work in the companies of the sources."""
        user = self._get_intake_user()
        if not user:
            return
        # sudo: the technical user is not one the sales manager may edit otherwise
        user = user.sudo()
        missing = self.company_id - user.company_ids
        if missing:
            user.write({"company_ids": [Command.link(company.id) for company in missing]})

    # ------------------------------------------------------------
    # INTAKE: normalization, de-duplication, creation
    # ------------------------------------------------------------

    def _intake_leads(self, rows):
        """Take in leads for this source: normalize, de-duplicate, create or merge.

        The one entry point of every lead that comes from outside (webhook, file import).
        Each row is processed in its own savepoint: a refused or failing row leaves nothing
        behind and does not affect the others. It runs with the rights of the current user
        (the technical user for the webhook).

        :param list rows: dicts with the keys of ``INTAKE_TEXT_FIELDS`` (strings; missing
            keys are empty; other keys are ignored)
        :return: one dict per row, in order::

            status      "created" | "merged" | "rejected"
            lead_id     the new lead (created), the existing open lead (merged), or False
            partner_id  the customer linked to the lead, or False
            match       what found the duplicate: "email" | "phone" | "vat" | False
            code        False, or why it was rejected: "missing_contact" | "invalid_value"
                        | "internal_error"
            field       the input key at fault, or False
            reason      a sentence for people, or False

        De-duplication, in this order, within the source's company (and records of no
        company), with the normalized values:

        1. an open lead (active, not in a won stage) with the same email, else the same
           phone number (its sanitized E.164 number), else whose customer has the same VAT:
           the most recent one gets a note with what was received (``merged``) and nothing
           else is changed on it;
        2. otherwise a new lead is created (``created``). If an existing customer (a partner
           that is not one of the company's users) has the same email, else phone (phone or
           mobile), else VAT, the oldest one is linked as the lead's customer: the lead takes
           its contact details, and what was received is kept in the lead's notes. Partners
           are never created or changed by the intake.
        """
        self.ensure_one()
        return [self._intake_lead(row) for row in rows]

    def _intake_lead(self, row):
        try:
            with self.env.cr.savepoint():
                values = self._intake_normalize(row)
                return self._intake_normalized(values)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # the whole request is retried by Odoo
        except LeadIntakeError as error:
            return self._intake_result(
                "rejected", code=error.code, field=error.field, reason=error.args[0]
            )
        except AccessError as error:
            _logger.warning("Lead source %s: intake refused by access rights: %s", self.id, error)
            return self._intake_result(
                "rejected",
                code="internal_error",
                reason=self.env._("The lead could not be saved: access rights are missing."),
            )
        except (UserError, ValidationError) as error:
            return self._intake_result("rejected", code="invalid_value", reason=error.args[0])
        except Exception:
            _logger.exception("Lead source %s: unexpected error while taking in a lead", self.id)
            return self._intake_result(
                "rejected",
                code="internal_error",
                reason=self.env._("The lead could not be saved because of an unexpected error."),
            )

    @api.model
    def _intake_result(self, status, lead=None, partner=None, match=False, **error):
        return {
            "status": status,
            "lead_id": lead.id if lead else False,
            "partner_id": partner.id if partner else False,
            "match": match,
            "code": error.get("code", False),
            "field": error.get("field", False),
            "reason": error.get("reason", False),
        }

    def _intake_normalized(self, values):
        lead, match = self._intake_find_open_lead(values)
        if lead:
            # a note changes the lead: the same right as editing it. Logged: an internal
            # note for the people working the lead, no one is notified.
            lead.check_access("write")
            lead._message_log(body=self._intake_note(values, match), message_type="comment")
            return self._intake_result("merged", lead=lead, partner=lead.partner_id, match=match)
        partner, match = self._intake_find_customer(values)
        lead = (
            self.env["crm.lead"]
            .with_context(mail_create_nosubscribe=True)
            .create(self._prepare_intake_lead_values(values, partner))
        )
        return self._intake_result("created", lead=lead, partner=partner, match=match)

    # normalization

    def _intake_normalize(self, row):
        """Check and normalize one incoming lead.

        :param dict row: the raw values (see ``_intake_leads``)
        :return dict: the texts stripped, ``email`` lower-cased, ``phone`` in E.164
            (``+84912345678``, for matching) and ``phone_international`` (``+84 912 345 678``,
            for the lead) read in the country of the lead (else of the source's company),
            ``vat`` without spaces or punctuation and in capitals, and the records
            ``country`` (res.country), ``utm_source``, ``utm_medium``, ``utm_campaign``
            (existing ones found by name, else the source's defaults; never created)
        :raise LeadIntakeError: with the field at fault
        """
        self.ensure_one()
        if not isinstance(row, dict):
            raise LeadIntakeError(self.env._("A lead must be a JSON object of named values."))
        values = {key: self._intake_text(row, key) for key in INTAKE_TEXT_FIELDS}
        if not (values["contact_name"] or values["company"]):
            raise LeadIntakeError(
                self.env._("A contact name or a company name is required."),
                field="contact_name",
                code="missing_contact",
            )
        if not (values["email"] or values["phone"]):
            raise LeadIntakeError(
                self.env._("An email address or a phone number is required to reach the contact."),
                field="email",
                code="missing_contact",
            )
        country = self.env["res.country"]
        if values["country"]:
            code = values["country"].upper()
            country = country.search([("code", "=", code)], limit=1) if len(code) == 2 else country
            if not country:
                raise LeadIntakeError(
                    self.env._(
                        "Unknown country code %(code)s: give the two-letter ISO code, "
                        "such as VN.",
                        code=values["country"],
                    ),
                    field="country",
                )
        values["country"] = country
        values["email"] = values["email"] and self._intake_normalize_email(values["email"])
        values["phone"] = values["phone"] and self._intake_normalize_phone(values["phone"], country)
        if values["phone"] and not country:
            values["country"] = self._intake_phone_country(values["phone"])
        # what people read: "+84 912 345 678"
        values["phone_international"] = values["phone"] and phone_validation.phone_format(
            values["phone"], None, None, force_format="INTERNATIONAL", raise_exception=False
        )
        values["vat"] = values["vat"] and self._intake_normalize_vat(values["vat"])
        values["utm_source"] = (
            self._intake_find_utm("utm.source", values["utm_source"]) or self.utm_source_id
        )
        values["utm_medium"] = (
            self._intake_find_utm("utm.medium", values["utm_medium"]) or self.utm_medium_id
        )
        values["utm_campaign"] = self._intake_find_utm("utm.campaign", values["utm_campaign"])
        return values

    @api.model
    def _intake_text(self, row, key):
        value = row.get(key)
        if value is None or value is False:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise LeadIntakeError(
                self.env._("The value of %(field)s must be a text.", field=key), field=key
            )
        value = str(value).strip()
        limit = INTAKE_MAX_MESSAGE_LENGTH if key == "message" else INTAKE_MAX_LENGTH
        if len(value) > limit:
            raise LeadIntakeError(
                self.env._(
                    "The value of %(field)s is too long: %(limit)s characters at most.",
                    field=key,
                    limit=limit,
                ),
                field=key,
            )
        if "\x00" in value:
            raise LeadIntakeError(
                self.env._("The value of %(field)s contains a null character.", field=key),
                field=key,
            )
        return value

    @api.model
    def _intake_normalize_email(self, email):
        """The email address lower-cased, if it is one plain address (no display name)."""
        local_part = email.split("@")[0]
        normalized = single_email_re.match(email) and email_normalize(email, strict=True)
        if not normalized or ".." in email or local_part.strip(".") != local_part:
            raise LeadIntakeError(
                self.env._("%(email)s is not a valid email address.", email=email),
                field="email",
            )
        return normalized

    def _intake_normalize_phone(self, phone, country):
        """The phone number in E.164 form, read with ``country`` (else the source company's
        country) for numbers written without their international prefix."""
        country = country or self.company_id.country_id
        try:
            return phone_validation.phone_format(
                phone,
                country.code or None,
                country.phone_code or None,
                force_format="E164",
                raise_exception=True,
            )
        except UserError as error:
            raise LeadIntakeError(
                self.env._(
                    "%(phone)s is not a valid phone number%(country)s: %(error)s",
                    phone=phone,
                    country=" (" + country.code + ")" if country else "",
                    error=error.args[0],
                ),
                field="phone",
            ) from error

    @api.model
    def _intake_phone_country(self, phone):
        code = phone_validation.phone_get_country_code_for_number(phone)
        country = self.env["res.country"]
        return country.search([("code", "=", code)], limit=1) if code else country

    @api.model
    def _intake_normalize_vat(self, vat):
        compact = VAT_FORMATTING.sub("", vat).upper()
        if not VAT_PATTERN.match(compact):
            raise LeadIntakeError(
                self.env._(
                    "%(vat)s is not a tax identification number: letters and digits only.",
                    vat=vat,
                ),
                field="vat",
            )
        return compact

    @api.model
    def _intake_vat_variants(self, vat, country):
        """The forms a VAT may be stored in on a partner: as received, with or without the
        country prefix. Exact matches only, so that the VAT index is used."""
        variants = {vat}
        prefix = country.code if country else vat[:2]
        if prefix and vat.startswith(prefix) and not prefix.isdigit():
            variants.add(vat[len(prefix) :])
        elif country:
            variants.add(f"{country.code}{vat}")
        return list(variants)

    @api.model
    def _intake_find_utm(self, model, name):
        """The existing UTM record of that name (ignoring case); never created."""
        if not name:
            return self.env[model]
        field = "title" if model == "utm.campaign" else "name"
        return self.env[model].search([(field, "=ilike", escape_psql(name))], limit=1)

    # de-duplication

    def _get_intake_open_lead_domain(self):
        """Leads a new one is a duplicate of: the open ones (active, not won)."""
        return ["|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)]

    def _intake_find_open_lead(self, values):
        """The open lead the incoming one duplicates, and what matched (see ``_intake_leads``)."""
        Lead = self.env["crm.lead"]
        domain = self._get_intake_open_lead_domain()
        searches = [
            ("email", values["email"], [("email_normalized", "=", values["email"])]),
            ("phone", values["phone"], [("phone_sanitized", "=", values["phone"])]),
            (
                "vat",
                values["vat"],
                [
                    (
                        "partner_id.commercial_partner_id.vat",
                        "in",
                        self._intake_vat_variants(values["vat"], values["country"]),
                    )
                ],
            ),
        ]
        for match, value, match_domain in searches:
            if value:
                lead = Lead.search(domain + match_domain, order="id desc", limit=1)
                if lead:
                    return lead, match
        return Lead, False

    def _get_intake_customer_domain(self):
        """Partners a new lead may be linked to: customers, not the company's own users."""
        return [("partner_share", "=", True)]

    def _intake_find_customer(self, values):
        """The existing customer of the incoming lead, and what matched (see
        ``_intake_leads``)."""
        Partner = self.env["res.partner"]
        domain = self._get_intake_customer_domain()
        if values["email"]:
            partner = Partner.search(
                [*domain, ("email_normalized", "=", values["email"])], order="id", limit=1
            )
            if partner:
                return partner, "email"
        if values["phone"]:
            keys = self._intake_phone_keys(values["phone"])
            candidates = Partner.search(
                [*domain, "|", ("phone_search_key", "in", keys), ("mobile_search_key", "in", keys)],
                order="id",
                limit=PHONE_CANDIDATES_LIMIT,
            )
            for partner in candidates:
                if values["phone"] in self._intake_partner_numbers(partner):
                    return partner, "phone"
        if values["vat"]:
            partner = Partner.search(
                [
                    *domain,
                    ("vat", "in", self._intake_vat_variants(values["vat"], values["country"])),
                ],
                order="id",
                limit=1,
            )
            if partner:
                return partner, "vat"
        return Partner, False

    @api.model
    def _intake_phone_keys(self, phone):
        """Search keys (see ``res_partner_support.phone_search_key``) of the E.164 number
        ``phone`` as partners may have written it: with its country prefix, or without it
        (a national number shorter than the key keeps fewer digits)."""
        national = phone_validation.phone_get_region_data_for_number(phone)["national_number"]
        return list({phone_search_key(phone), phone_search_key(national)} - {False})

    def _intake_partner_numbers(self, partner):
        """The partner's phone and mobile in E.164, read with its country (else the source
        company's); numbers that cannot be read are left out."""
        country = partner.country_id or self.company_id.country_id
        return {
            partner._phone_format(number=number, country=country, force_format="E164")
            for number in (partner.phone, partner.mobile)
            if number
        } - {False}

    # lead values

    def _prepare_intake_lead_values(self, values, partner):
        """Values of the lead created from the normalized ``values`` (see
        ``_intake_normalize``), for the existing customer ``partner`` if any.

        With a customer, the lead takes the customer's contact details (Odoo's own computes)
        rather than writing the received ones onto the customer: those are kept in the notes.
        """
        self.ensure_one()
        name = values["company"] or values["contact_name"]
        if values["product_interest"]:
            name = f"{name} - {values['product_interest']}"
        lead_values = {
            "type": self._get_intake_lead_type(),
            "name": name,
            "lead_source_id": self.id,
            "company_id": self.company_id.id,
            # explicit: never the technical user the webhook runs as
            "user_id": self.user_id.id,
            "tag_ids": [Command.set(self.tag_ids.ids)],
            "source_id": values["utm_source"].id,
            "medium_id": values["utm_medium"].id,
            "campaign_id": values["utm_campaign"].id,
            "product_interest": values["product_interest"] or False,
            "description": self._intake_description(values, partner),
        }
        if self.team_id:
            lead_values["team_id"] = self.team_id.id
        if partner:
            lead_values["partner_id"] = partner.id
        else:
            lead_values.update(
                {
                    "contact_name": values["contact_name"] or False,
                    "partner_name": values["company"] or False,
                    "email_from": values["email"] or False,
                    "phone": values["phone_international"] or False,
                    "country_id": values["country"].id,
                }
            )
        return lead_values

    @api.model
    def _get_intake_lead_type(self):
        """``lead`` when the database works with leads (CRM settings), else ``opportunity``:
        leads would be out of sight in a pipeline without them, as for Odoo's web forms.
        Read from the employees' groups rather than from the archived technical user, whose
        groups do not follow the settings."""
        use_lead = self.env.ref("crm.group_use_lead", raise_if_not_found=False)
        employees = self.env.ref("base.group_user")
        return "lead" if use_lead and use_lead in employees.trans_implied_ids else "opportunity"

    def _intake_received_lines(self, values):
        return [
            (label, value)
            for label, value in (
                (self.env._("Contact"), values["contact_name"]),
                (self.env._("Company"), values["company"]),
                (self.env._("Email"), values["email"]),
                (self.env._("Phone"), values["phone_international"]),
                (self.env._("Country"), values["country"].name),
                (self.env._("Tax ID"), values["vat"]),
                (self.env._("Product interest"), values["product_interest"]),
            )
            if value
        ]

    def _intake_received_list(self, values):
        items = Markup("").join(
            Markup("<li>%s: %s</li>") % (label, value)
            for label, value in self._intake_received_lines(values)
        )
        return Markup("<ul>%s</ul>") % items

    def _intake_description(self, values, partner):
        parts = []
        if values["message"]:
            parts.append(plaintext2html(values["message"]))
        if partner:
            parts.append(
                Markup("<p>%s</p>")
                % self.env._(
                    "Received from %(origin)s for the existing customer %(customer)s:",
                    origin=self.name,
                    customer=partner.display_name,
                )
            )
            parts.append(self._intake_received_list(values))
        elif values["product_interest"]:
            parts.append(
                Markup("<p>%s</p>")
                % self.env._("Interested in: %(product)s", product=values["product_interest"])
            )
        return Markup("").join(parts) or False

    def _intake_note(self, values, match):
        labels = {
            "email": self.env._("the same email"),
            "phone": self.env._("the same phone number"),
            "vat": self.env._("the same tax ID"),
        }
        note = Markup("<p>%s</p>") % self.env._(
            "New request from %(origin)s, recognized by %(match)s:",
            origin=self.name,
            match=labels[match],
        )
        note += self._intake_received_list(values)
        if values["message"]:
            note += plaintext2html(values["message"])
        return note
