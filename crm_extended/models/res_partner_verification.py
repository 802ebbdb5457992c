import json
import re

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, email_normalize, email_split, single_email_re
from odoo.tools.sql import column_exists, create_column, table_exists

from odoo.addons.phone_validation.tools import phone_validation

from .res_partner_support import phone_search_key

VERIFICATION_STATES = [
    ("unverified", "Unverified"),
    ("verified", "Verified"),
    ("needs_update", "Needs Update"),
]
# what a check may find wrong in the partner's own data (the duplicates are apart)
ISSUE_KINDS = [
    ("phone", "Invalid Phone"),
    ("mobile", "Invalid Mobile"),
    ("email", "Invalid Email"),
    ("vat", "Invalid Tax ID"),
    ("duplicate", "Possible Duplicate"),
]
# editing one of these on a verified customer asks for a new verification
VERIFIED_FIELDS = ("phone", "mobile", "email", "vat")
VERIFIER_GROUP = "crm_extended.group_care_officer"
# a phone search key this short is no evidence two partners are the same
MIN_PHONE_KEY_DIGITS = 7
VAT_FORMATTING = re.compile(r"[\s.\-/]")
# how many partners Odoo's merge wizard accepts at once
MERGE_MAX_PARTNERS = 3
DUPLICATE_RELATION = "res_partner_verification_duplicate_rel"


def compact_vat(vat):
    """The VAT without spaces or punctuation, in capitals ("vn 0101-234-567" → "VN0101234567")."""
    return VAT_FORMATTING.sub("", vat or "").upper()


class ResPartner(models.Model):
    # the verification of the customer's registration data (phone, email, VAT, duplicates)
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    # The state and who/when are computed only to be left out of Odoo's partner merge, which
    # copies every plain field of the merged partners onto the one kept: the kept partner
    # keeps its own verification. They are set by ``action_verification_mark_verified`` and
    # by ``write`` (needs update), never by their computes once the partner exists.
    verification_state = fields.Selection(
        VERIFICATION_STATES,
        compute="_compute_verification_state",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
        copy=False,
        tracking=True,
        help="Unverified: never checked by the care team. Verified: phone numbers, email and "
        "tax ID confirmed with the customer. Needs Update: verified, then one of them changed.",
    )
    verified_by_id = fields.Many2one(
        "res.users",
        compute="_compute_verification_state",
        store=True,
        readonly=False,
        precompute=True,
        copy=False,
    )
    verified_date = fields.Datetime(
        string="Verified On",
        compute="_compute_verification_state",
        store=True,
        readonly=False,
        precompute=True,
        copy=False,
    )
    # [{"kind": "phone", "value": "0123"}, ...]: kinds of ISSUE_KINDS but "duplicate"; the
    # sentences are made when read, in the reader's language
    verification_issues = fields.Json(
        compute="_compute_verification_issues",
        store=True,
        copy=False,
    )
    verification_duplicate_ids = fields.Many2many(
        "res.partner",
        DUPLICATE_RELATION,
        "partner_id",
        "duplicate_id",
        string="Possible Duplicates",
        compute="_compute_verification_duplicate_ids",
        store=True,
        copy=False,
        help="Other customers with the same email, phone number or tax ID.",
    )
    verification_has_issue = fields.Boolean(
        string="Has Data Issues",
        compute="_compute_verification_has_issue",
        store=True,
        copy=False,
    )
    verification_issue_kind = fields.Selection(
        ISSUE_KINDS,
        string="Data Issue",
        compute="_compute_verification_issue_kind",
        search="_search_verification_issue_kind",
    )
    verification_issues_html = fields.Html(
        string="Data Issues",
        compute="_compute_verification_issues_html",
        sanitize=True,
    )
    verification_can_verify = fields.Boolean(compute="_compute_verification_can_verify")

    def _auto_init(self):
        # On an existing database the columns are made here, empty (every partner
        # unverified, nothing checked yet), rather than by the ORM, which would run the checks
        # on every partner during the upgrade: they run on save and on demand ("Check Now").
        cr = self.env.cr
        if not column_exists(cr, "res_partner", "verification_state"):
            for column, column_type in (
                ("verification_state", "varchar"),
                ("verification_issues", "jsonb"),
                ("verification_has_issue", "boolean"),
                ("verified_by_id", "int4"),
                ("verified_date", "timestamp"),
            ):
                create_column(cr, "res_partner", column, column_type)
            cr.execute("UPDATE res_partner SET verification_state = 'unverified'")
        if not table_exists(cr, DUPLICATE_RELATION):
            cr.execute(
                SQL(
                    "CREATE TABLE %(rel)s (partner_id INTEGER NOT NULL, "
                    "duplicate_id INTEGER NOT NULL, PRIMARY KEY (partner_id, duplicate_id)); "
                    "CREATE INDEX ON %(rel)s (duplicate_id, partner_id)",
                    rel=SQL.identifier(DUPLICATE_RELATION),
                )
            )
        return super()._auto_init()

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_verification_state(self):
        # a new partner is unverified: a default that Odoo's partner merge does not copy
        for partner in self:
            partner.verification_state = partner.verification_state or "unverified"
            partner.verified_by_id = partner.verified_by_id
            partner.verified_date = partner.verified_date

    @api.depends(
        "phone", "mobile", "email", "vat", "country_id", "company_id", "commercial_partner_id"
    )
    def _compute_verification_issues(self):
        check_vat = self._verification_can_check_vat()
        for partner in self:
            partner.verification_issues = partner._verification_find_issues(check_vat) or False

    @api.depends(
        "phone",
        "mobile",
        "email",
        "vat",
        "company_id",
        "commercial_partner_id",
        "active",
    )
    def _compute_verification_duplicate_ids(self):
        """Other partners with the same normalized email, phone search key (phone or mobile,
        see ``res_partner_support.phone_search_key``) or VAT: one search for the whole batch.
        Left out: the partner's own company and contact persons, archived partners, partners
        of another company (a partner of no company is compared with partners of no company
        only: its readers may not see the others)."""
        country_codes = set(self.env["res.country"].search_fetch([], ["code"]).mapped("code"))
        keys_by_partner = {
            partner: partner._verification_duplicate_keys(country_codes) for partner in self
        }
        all_keys = set().union(*keys_by_partner.values()) if keys_by_partner else set()
        domains = []
        emails = [key for kind, key in all_keys if kind == "email"]
        if emails:
            domains.append([("email_normalized", "in", emails)])
        phones = [key for kind, key in all_keys if kind == "phone"]
        if phones:
            domains.append(
                ["|", ("phone_search_key", "in", phones), ("mobile_search_key", "in", phones)]
            )
        vats = [key for kind, key in all_keys if kind == "vat"]
        if vats:
            domains.append([("vat", "in", self._verification_vat_variants(vats))])
        if self._origin.ids:
            # the partners that list these ones: found by their own keys, which may be
            # written in a form this search does not know (a VAT with spaces)
            domains.append([("verification_duplicate_ids", "in", self._origin.ids)])
        by_key = {}
        if domains:
            domain = ["|"] * (len(domains) - 1) + [leaf for part in domains for leaf in part]
            candidates = self.with_context(active_test=True).search(domain, order="id")
            for candidate in candidates:
                for key in candidate._verification_duplicate_keys(country_codes) & all_keys:
                    by_key.setdefault(key, []).append(candidate)
        for partner, keys in keys_by_partner.items():
            found = self.browse()
            if partner.active:
                for key in keys:
                    found = found.union(*by_key.get(key, []))
            partner.verification_duplicate_ids = found.filtered(partner._verification_may_duplicate)

    @api.depends("verification_issues", "verification_duplicate_ids")
    def _compute_verification_has_issue(self):
        for partner in self:
            partner.verification_has_issue = bool(
                partner.verification_issues or partner.verification_duplicate_ids
            )

    @api.depends("verification_issues", "verification_duplicate_ids")
    def _compute_verification_issue_kind(self):
        for partner in self:
            kinds = [issue["kind"] for issue in partner.verification_issues or []]
            if partner.verification_duplicate_ids:
                kinds.append("duplicate")
            partner.verification_issue_kind = kinds[0] if kinds else False

    def _search_verification_issue_kind(self, operator, value):
        """Partners with an issue of that kind (``=``, ``in``), or with any issue (``!=``
        False); the kinds of the partner's own data are read in its stored issues."""
        if operator in ("!=", "=") and value is False:
            self.flush_model(["verification_has_issue"])
            return [("verification_has_issue", "=", operator == "!=")]
        if operator not in ("=", "in"):
            raise UserError(self.env._("This search on data issues is not supported."))
        kinds = [value] if isinstance(value, str) else list(value)
        # the search method's domain is read after Odoo flushed the searched fields
        self.flush_model(["verification_issues", "verification_duplicate_ids"])
        domains = []
        if "duplicate" in kinds:
            domains.append([("verification_duplicate_ids", "!=", False)])
        own = [kind for kind in kinds if kind != "duplicate"]
        if own:
            conditions = SQL(" OR ").join(
                SQL(
                    "verification_issues @> %(kind)s::jsonb",
                    kind=json.dumps([{"kind": kind}]),
                )
                for kind in own
            )
            domains.append([("id", "in", SQL("(SELECT id FROM res_partner WHERE %s)", conditions))])
        if not domains:
            return [("id", "=", False)]
        return ["|"] * (len(domains) - 1) + [leaf for part in domains for leaf in part]

    @api.depends_context("lang")
    @api.depends("verification_issues", "verification_duplicate_ids")
    def _compute_verification_issues_html(self):
        for partner in self:
            lines = [
                partner._verification_issue_message(issue)
                for issue in partner.verification_issues or []
            ]
            duplicates = partner.verification_duplicate_ids
            if duplicates:
                lines.append(
                    self.env._(
                        "Possible duplicate of %(partners)s: same email, phone number or tax ID.",
                        partners=", ".join(duplicates.mapped("display_name")),
                    )
                )
            partner.verification_issues_html = (
                Markup("<ul>%s</ul>")
                % Markup("").join(Markup("<li>%s</li>") % line for line in lines)
                if lines
                else False
            )

    @api.depends_context("uid")
    def _compute_verification_can_verify(self):
        allowed = self._verification_user_may_verify()
        for partner in self:
            partner.verification_can_verify = allowed

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if any(
            vals.get("verification_state", "unverified") != "unverified"
            or vals.get("verified_by_id")
            or vals.get("verified_date")
            for vals in vals_list
        ):
            self._verification_check_may_verify()
        partners = super().create(vals_list)
        partners._verification_refresh_duplicates_of(partners.verification_duplicate_ids)
        return partners

    def write(self, vals):
        protected = self._verification_protected_fields() & vals.keys()
        if protected and not self._verification_user_may_verify():
            # the form sends what it shows; only a change needs the right to verify
            new = self.new({field: vals[field] for field in protected})
            if any(partner[field] != new[field] for partner in self for field in protected):
                self._verification_check_may_verify()
        changed = self.browse()
        duplicates_before = self.browse()
        if set(VERIFIED_FIELDS) & vals.keys():
            changed = self.filtered(
                lambda partner: partner.verification_state == "verified"
                and any(
                    field in vals and (partner[field] or False) != (vals[field] or False)
                    for field in VERIFIED_FIELDS
                )
            )
            duplicates_before = self.verification_duplicate_ids
        result = super().write(vals)
        if changed:
            # sudo: the customer was edited, not verified; anyone who may edit it may do that
            changed.sudo().write({"verification_state": "needs_update"})
        if duplicates_before or set(VERIFIED_FIELDS) & vals.keys():
            self._verification_refresh_duplicates_of(
                duplicates_before | self.verification_duplicate_ids
            )
        return result

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_verification_check(self):
        """Run the checks again now (phone numbers, email, VAT, duplicates): what whoever may
        read the customers may do, as nothing but the checks' results is written."""
        self.check_access("read")
        duplicates_before = self.verification_duplicate_ids
        fnames = ["verification_issues", "verification_duplicate_ids", "verification_has_issue"]
        for fname in fnames:
            self.env.add_to_compute(self._fields[fname], self)
        self.flush_recordset(fnames)
        self._verification_refresh_duplicates_of(
            duplicates_before | self.verification_duplicate_ids
        )
        if len(self) > 1:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "info",
                    "message": self.env._(
                        "%(count)s customers checked, %(issues)s with data issues.",
                        count=len(self),
                        issues=len(self.filtered("verification_has_issue")),
                    ),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        return True

    def action_verification_mark_verified(self):
        """Record that the care team confirmed the customer's data, who and when.

        Refused while the customer's own data has issues (an invalid phone number, email or
        tax ID: fix them first). Possible duplicates do not block: two customers may share a
        phone number; the verification is logged with the duplicates that remained.
        """
        self._verification_check_may_verify()
        self.check_access("read")
        self.action_verification_check()
        blocked = self.filtered("verification_issues")
        if blocked:
            raise UserError(
                self.env._(
                    "Fix the data of %(customers)s before marking it verified:\n%(issues)s",
                    customers=", ".join(blocked.mapped("display_name")),
                    issues="\n".join(
                        blocked[:1]._verification_issue_message(issue)
                        for issue in blocked[:1].verification_issues
                    ),
                )
            )
        # sudo: the right to verify was checked above (see _verification_check_may_verify)
        self.sudo().write(
            {
                "verification_state": "verified",
                "verified_by_id": self.env.user.id,
                "verified_date": fields.Datetime.now(),
            }
        )
        for partner in self.filtered("verification_duplicate_ids"):
            partner.message_post(
                body=self.env._(
                    "Verified while possible duplicates remain: %(partners)s.",
                    partners=", ".join(partner.verification_duplicate_ids.mapped("display_name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_verification_reset(self):
        """Ask for a new verification (e.g. the customer said their data changed)."""
        self._verification_check_may_verify()
        self.check_access("read")
        self.sudo().filtered(lambda p: p.verification_state == "verified").write(
            {"verification_state": "needs_update"}
        )
        return True

    def action_verification_merge(self):
        """Odoo's own merge of contacts, prefilled with this customer (the one kept) and its
        possible duplicates; with ``verification_merge_with`` in the context, that duplicate
        only. The wizard merges three contacts at most: the first duplicates are proposed."""
        self.ensure_one()
        duplicates = self.verification_duplicate_ids
        merge_with = self.env.context.get("verification_merge_with")
        if merge_with:
            duplicates = duplicates.filtered(lambda partner: partner.id == merge_with)
        if not duplicates:
            raise UserError(self.env._("This customer has no possible duplicate to merge."))
        partners = self | duplicates[: MERGE_MAX_PARTNERS - 1]
        wizard = self.env["base.partner.merge.automatic.wizard"].create(
            {
                "state": "selection",
                "partner_ids": [Command.set(partners.ids)],
                "dst_partner_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Merge Duplicates"),
            "res_model": wizard._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def action_verification_merge_line(self):
        """The "Merge" button of a duplicate in the list of the customer being verified
        (``verification_partner_id`` in the context): merge that one into the customer."""
        self.ensure_one()
        partner = self.browse(self.env.context.get("verification_partner_id")).exists()
        if not partner:
            raise UserError(self.env._("Save the customer before merging its duplicates."))
        return partner.with_context(verification_merge_with=self.id).action_verification_merge()

    # ------------------------------------------------------------
    # BUSINESS: the checks
    # ------------------------------------------------------------

    @api.model
    def _verification_protected_fields(self):
        return {"verification_state", "verified_by_id", "verified_date"}

    @api.model
    def _verification_user_may_verify(self):
        """Care officers and managers verify customers (sales staff see the state only)."""
        return self.env.su or self.env.user.has_group(VERIFIER_GROUP)

    def _verification_check_may_verify(self):
        if not self._verification_user_may_verify():
            raise AccessError(
                self.env._("Only customer care officers and managers may verify customers' data.")
            )

    @api.model
    def _verification_can_check_vat(self):
        """Whether Odoo can check VAT formats: with the Base VAT module (not a dependency)."""
        return hasattr(self, "simple_vat_check")

    def _verification_country(self):
        """The country numbers without international prefix are read in."""
        self.ensure_one()
        return self.country_id or self.company_id.country_id or self.env.company.country_id

    def _verification_find_issues(self, check_vat):
        """The issues of the partner's own data, as stored in ``verification_issues``.

        :param bool check_vat: whether VAT formats can be checked (``base_vat``)
        :return list: ``{"kind": ..., "value": ...}`` dicts, kinds of ``ISSUE_KINDS``
        """
        self.ensure_one()
        issues = []
        country = self._verification_country()
        for fname in ("phone", "mobile"):
            number = self[fname]
            if number and not self._verification_phone_is_valid(number, country):
                issues.append({"kind": fname, "value": number})
        if self.email and not self._verification_email_is_valid(self.email):
            issues.append({"kind": "email", "value": self.email})
        # a contact person's VAT is its company's: checked there
        is_commercial = not self.parent_id or self.is_company
        if check_vat and self.vat and is_commercial:
            country_vat = self.commercial_partner_id.country_id or self.country_id
            if self._run_vat_test(self.vat, country_vat, self.is_company) is False:
                issues.append({"kind": "vat", "value": self.vat})
        return issues

    @api.model
    def _verification_phone_is_valid(self, number, country):
        try:
            phone_validation.phone_parse(number, country.code or None)
        except UserError:
            return False
        return True

    @api.model
    def _verification_email_is_valid(self, email):
        """Every address of the field (several may be separated by commas) is a plain, valid
        address: the same rules as the lead intake."""
        addresses = email_split(email)
        if not addresses or len(addresses) != len(
            [part for part in email.split(",") if part.strip()]
        ):
            return False
        for address in addresses:
            local_part = address.split("@")[0]
            if (
                not single_email_re.match(address)
                or not email_normalize(address, strict=True)
                or ".." in address
                or local_part.strip(".") != local_part
            ):
                return False
        return True

    def _verification_duplicate_keys(self, country_codes):
        """What identifies the partner for the duplicate search: ``(kind, key)`` pairs: the
        normalized emails, the phone search keys, the VAT compact and without a country
        prefix (one of ``country_codes``)."""
        self.ensure_one()
        keys = set()
        for address in email_split(self.email or ""):
            # an invalid address ("a@@b.vn") is reported as such, not compared
            if self._verification_email_is_valid(address):
                keys.add(("email", email_normalize(address)))
        for number in (self.phone, self.mobile):
            key = phone_search_key(number)
            if key and len(key) >= MIN_PHONE_KEY_DIGITS:
                keys.add(("phone", key))
        # contact persons carry their company's VAT: only companies compare theirs
        if self.vat and (not self.parent_id or self.is_company):
            vat = compact_vat(self.vat)
            if vat[:2] in country_codes:
                vat = vat[2:]
            if vat:
                keys.add(("vat", vat))
        return keys

    def _verification_vat_variants(self, vats):
        """The forms the VATs ``vats`` (compact, without country prefix) may be stored in:
        as is, or with the prefix of the batch's countries or of the company's. Exact
        matches, so that the VAT index is used."""
        prefixes = set(
            (self.commercial_partner_id.country_id | self.env.company.country_id).mapped("code")
        )
        return list(set(vats) | {f"{prefix}{vat}" for vat in vats for prefix in prefixes})

    def _verification_may_duplicate(self, other):
        """Whether ``other``, found with the same key, is listed as a possible duplicate."""
        own = self._origin
        commercial = self.commercial_partner_id._origin
        if other == own or (commercial and other.commercial_partner_id == commercial):
            return False
        return not other.company_id or other.company_id == self.company_id._origin

    def _verification_refresh_duplicates_of(self, others):
        """Keep "possible duplicate" both ways: the partners that were or became duplicates
        of ``self`` have theirs recomputed (one batch)."""
        others = (others - self).exists()
        if others:
            # the ORM recomputes what depends on a field only when the field is written
            for fname in ("verification_duplicate_ids", "verification_has_issue"):
                self.env.add_to_compute(self._fields[fname], others)

    def _verification_issue_message(self, issue):
        """The sentence of a stored issue, in the reader's language."""
        kind, value = issue.get("kind"), issue.get("value")
        country = self._verification_country()
        if kind in ("phone", "mobile"):
            return self.env._(
                "%(number)s is not a valid phone number for %(country)s.",
                number=value,
                country=country.name or self.env._("an unknown country"),
            )
        if kind == "email":
            return self.env._("%(email)s is not a valid email address.", email=value)
        if kind == "vat":
            return self.env._(
                "%(vat)s is not a valid tax ID for %(country)s.",
                vat=value,
                country=country.name or self.env._("an unknown country"),
            )
        return str(value)
