import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

OUTCOMES = [
    ("pending", "In Progress"),
    ("created", "Created"),
    ("merged", "Merged"),
    ("replayed", "Replayed"),
    ("rejected", "Rejected"),
]
# outcomes that hold their idempotency key: a second call with it is answered the same
KEY_HOLDING_OUTCOMES = ("pending", "created", "merged")
IDEMPOTENCY_INDEX = "crm_lead_source_call_idempotency_key_uniq"
RETENTION_PARAM = "crm_extended.lead_source_call_retention_days"
DEFAULT_RETENTION_DAYS = 90
PURGE_BATCH_SIZE = 10000


class CrmLeadSourceCall(models.Model):
    """The journal of the lead webhook: one row per call, whatever its outcome.

    Rows are written by the webhook (``controllers/lead_webhook.py``), read by sales managers
    only. A call that created or merged a lead holds its idempotency key: a unique index on
    (source, key) over those rows makes a retried call find the first one and answer the
    same, even when both arrive at once on two workers.
    """

    _name = "crm.lead.source.call"
    _description = "Lead Source Call"
    _order = "id desc"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    source_id = fields.Many2one(
        "crm.lead.source",
        readonly=True,
        ondelete="restrict",
        help="Empty when the call named a source that does not exist.",
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    outcome = fields.Selection(OUTCOMES, required=True, readonly=True, index=True)
    http_status = fields.Integer(string="HTTP Status", readonly=True, aggregator=None)
    error_code = fields.Char(readonly=True)
    error_field = fields.Char(string="Field at Fault", readonly=True)
    reason = fields.Char(readonly=True)
    remote_addr = fields.Char(string="Remote Address", readonly=True)
    request_size = fields.Integer(string="Size (bytes)", readonly=True, aggregator=None)
    authenticated = fields.Boolean(readonly=True, help="The call carried the source's valid token.")
    idempotency_key = fields.Char(readonly=True)
    replay_of_id = fields.Many2one(
        "crm.lead.source.call",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The first call with the same idempotency key, whose answer was given again.",
    )
    lead_id = fields.Many2one(
        "crm.lead", readonly=True, index="btree_not_null", ondelete="set null"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, ondelete="set null"
    )
    match = fields.Selection(
        [("email", "Email"), ("phone", "Phone"), ("vat", "Tax ID")],
        string="Matched By",
        readonly=True,
    )

    def init(self):
        # the rate limit counts a source's calls of the last minute
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_lead_source_call_source_date_idx "
            "ON crm_lead_source_call (source_id, create_date)"
        )
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON crm_lead_source_call "
                "(source_id, idempotency_key) WHERE outcome IN %s",
                SQL.identifier(IDEMPOTENCY_INDEX),
                KEY_HOLDING_OUTCOMES,
            )
        )

    @api.depends("source_id", "create_date")
    def _compute_display_name(self):
        for call in self:
            call.display_name = self.env._(
                "Call %(number)s to %(origin)s",
                number=call.id or "",
                origin=call.source_id.name or self.env._("an unknown source"),
            )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _count_recent_calls(self, source, seconds=60):
        """Authenticated calls of ``source`` in the last ``seconds``, refused ones for too
        many calls excepted. Counted in the database so that every worker sees the same."""
        self.flush_model(["source_id", "authenticated", "http_status"])
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*) FROM crm_lead_source_call WHERE source_id = %(source)s "
                "AND authenticated AND http_status IS DISTINCT FROM 429 "
                "AND create_date > (NOW() AT TIME ZONE 'UTC') - %(window)s",
                source=source.id,
                window=timedelta(seconds=seconds),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _find_key_holder(self, source, key):
        """The call that created or merged a lead with this idempotency key, if any."""
        return self.search(
            [
                ("source_id", "=", source.id),
                ("idempotency_key", "=", key),
                ("outcome", "in", ("created", "merged")),
            ],
            limit=1,
        )

    @api.model
    def _claim_key(self, source, key, values):
        """Journal the call as in progress and claim its idempotency key.

        :return: the new call, or an empty recordset when another call holds the key.
            When that other call is not committed yet, PostgreSQL waits for it; if it
            commits, the transaction fails with a serialization error and Odoo retries the
            whole request, which then finds the first call (``_find_key_holder``).
        """
        self.flush_model()
        now = self.env.cr.now()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_lead_source_call (
                    source_id, company_id, outcome, authenticated, idempotency_key,
                    remote_addr, request_size, create_uid, create_date, write_uid, write_date
                )
                VALUES (
                    %(source)s, %(company)s, 'pending', TRUE, %(key)s,
                    %(remote_addr)s, %(size)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                )
                ON CONFLICT (source_id, idempotency_key) WHERE outcome IN %(holding)s
                DO NOTHING
                RETURNING id
                """,
                source=source.id,
                company=source.company_id.id,
                key=key,
                remote_addr=values.get("remote_addr"),
                size=values.get("request_size") or 0,
                uid=self.env.uid,
                now=now,
                holding=KEY_HOLDING_OUTCOMES,
            )
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else self.browse()

    @api.model
    def _cron_purge_rejected_calls(self, batch_size=PURGE_BATCH_SIZE):
        """Delete the rows of refused calls older than the retention (days, system parameter
        ``crm_extended.lead_source_call_retention_days``, 90 by default; 0 keeps them).

        Calls that created or merged a lead are kept: they tell where each lead came from.
        """
        days = int(
            self.env["ir.config_parameter"].sudo().get_param(RETENTION_PARAM)
            or DEFAULT_RETENTION_DAYS
        )
        if days <= 0:
            return 0
        domain = [
            ("outcome", "=", "rejected"),
            ("create_date", "<", fields.Datetime.now() - timedelta(days=days)),
        ]
        calls = self.search(domain, limit=batch_size, order="id")
        count = len(calls)
        calls.unlink()
        self.env["ir.cron"]._notify_progress(done=count, remaining=self.search_count(domain))
        _logger.info("Lead source journal: %s rejected calls purged", count)
        return count
