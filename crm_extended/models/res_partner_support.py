import re

from odoo import api, fields, models, tools
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

# A phone number is found "in any format" by its last digits: "+84 912 345 678",
# "0912-345-678" and "912345678" all end with the same nine digits (a Vietnamese national
# number without its trunk prefix). Numbers with fewer digits keep all of them.
PHONE_KEY_DIGITS = 9
NON_DIGITS = re.compile(r"[^0-9]")


def phone_search_key(number):
    """The search key of a phone number: its last nine digits (ASCII digits only), or
    False when it has none. ``phone_search_key_sql`` computes the same in SQL."""
    digits = NON_DIGITS.sub("", number or "")
    return digits[-PHONE_KEY_DIGITS:] or False


# names searched without their accents, through a trigram index (see ResPartner.init)
NAME_SEARCH_INDEX = "res_partner_name_unaccent_trgm_idx"
NAME_SEARCH_EXPRESSION = SQL("public.crm_extended_unaccent(name)")


def phone_search_key_sql(number):
    """SQL expression of the search key of the phone number ``number`` (an SQL expression):
    the same value as ``phone_search_key``, NULL instead of False."""
    return SQL(
        "NULLIF(RIGHT(REGEXP_REPLACE(%s, '[^0-9]', '', 'g'), %s), '')",
        number,
        PHONE_KEY_DIGITS,
    )


class ResPartner(models.Model):
    # the help desk's side of the partner, apart from the contact logs' (res_partner.py)
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    phone_search_key = fields.Char(
        compute="_compute_phone_search_keys",
        store=True,
        index="btree_not_null",
        help="Last nine digits of the phone number: finds it whatever its format.",
    )
    mobile_search_key = fields.Char(
        compute="_compute_phone_search_keys",
        store=True,
        index="btree_not_null",
        help="Last nine digits of the mobile number: finds it whatever its format.",
    )
    support_ticket_count = fields.Integer(
        string="Tickets",
        compute="_compute_support_ticket_count",
        compute_sudo=False,
        groups="crm_extended.group_contact_user",
    )
    support_ticket_open_count = fields.Integer(
        string="Open Tickets",
        compute="_compute_support_ticket_count",
        compute_sudo=False,
        groups="crm_extended.group_contact_user",
    )

    def _auto_init(self):
        # filled in one UPDATE rather than recomputed partner by partner on large databases
        for column, source in (("phone_search_key", "phone"), ("mobile_search_key", "mobile")):
            if column_exists(self.env.cr, "res_partner", column):
                continue
            create_column(self.env.cr, "res_partner", column, "varchar")
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET %s = %s WHERE %s IS NOT NULL",
                    SQL.identifier(column),
                    phone_search_key_sql(SQL.identifier(source)),
                    SQL.identifier(source),
                )
            )
        return super()._auto_init()

    def init(self):
        result = super().init()
        cr = self.env.cr
        # the end of a number ("…345 678", a short foreign number): a prefix search on the
        # reversed key, so that it uses an index as well
        for column in ("phone_search_key", "mobile_search_key"):
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %(index)s ON res_partner "
                    "(REVERSE(%(column)s) text_pattern_ops) WHERE %(column)s IS NOT NULL",
                    index=SQL.identifier(f"res_partner_{column}_reverse_idx"),
                    column=SQL.identifier(column),
                )
            )
            # PostgreSQL keeps no statistics for the expression of a partial index: without
            # these it guesses thousands of matches and scans the table instead
            cr.execute(
                SQL(
                    "CREATE STATISTICS IF NOT EXISTS %(name)s ON (REVERSE(%(column)s)) "
                    "FROM res_partner",
                    name=SQL.identifier(f"res_partner_{column}_reverse_stat"),
                    column=SQL.identifier(column),
                )
            )
        # Odoo itself searches partners by normalized email without an index
        cr.execute(
            "CREATE INDEX IF NOT EXISTS res_partner_email_normalized_idx "
            "ON res_partner (email_normalized) WHERE email_normalized IS NOT NULL"
        )
        # the operator screen finds names without their accents through the immutable
        # unaccent function of crm_extended (hooks.py), which an index may use
        if self.env.registry.has_trigram and self._has_name_search_index_function():
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON res_partner USING gin (%s gin_trgm_ops)",
                    SQL.identifier(NAME_SEARCH_INDEX),
                    NAME_SEARCH_EXPRESSION,
                )
            )
        return result

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.model
    def _has_name_search_index_function(self):
        self.env.cr.execute(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace "
            "WHERE p.proname = 'crm_extended_unaccent' AND ns.nspname = 'public'"
        )
        return bool(self.env.cr.fetchone())

    @api.model
    @tools.ormcache()
    def _has_name_search_index(self):
        """Whether names can be searched without accents through an index (see ``init``)."""
        self.env.cr.execute(
            "SELECT 1 FROM pg_indexes WHERE tablename = 'res_partner' AND indexname = %s",
            [NAME_SEARCH_INDEX],
        )
        return bool(self.env.cr.fetchone())

    @api.depends("phone", "mobile")
    def _compute_phone_search_keys(self):
        for partner in self:
            partner.phone_search_key = phone_search_key(partner.phone)
            partner.mobile_search_key = phone_search_key(partner.mobile)

    @api.depends_context("uid")
    def _compute_support_ticket_count(self):
        """A customer company counts the tickets of itself and all its contact persons; a
        contact person its own. One grouped query, among the tickets the user may read."""
        companies = self.filtered(lambda p: p._origin.id and p.commercial_partner_id == p)
        persons = (self - companies).filtered(lambda p: p._origin.id)
        groups = self.env["crm.support.ticket"]._read_group(
            [
                "|",
                ("commercial_partner_id", "in", companies._origin.ids),
                ("partner_id", "in", persons._origin.ids),
            ],
            ["commercial_partner_id", "partner_id", "is_closed"],
            ["__count"],
        )
        total, open_ = {}, {}
        for company, person, closed, count in groups:
            # a ticket counts for its company and for its contact person
            for partner in {company, person}:
                total[partner] = total.get(partner, 0) + count
                if not closed:
                    open_[partner] = open_.get(partner, 0) + count
        for partner in self:
            partner.support_ticket_count = total.get(partner._origin, 0)
            partner.support_ticket_open_count = open_.get(partner._origin, 0)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_support_tickets(self):
        """The tickets of this customer (company: also of its contact persons)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_extended.crm_support_ticket_action"
        )
        if self.commercial_partner_id == self:
            action["domain"] = [("commercial_partner_id", "=", self.id)]
        else:
            action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        action["display_name"] = self.env._("Tickets of %(customer)s", customer=self.display_name)
        return action
