import json
import logging

from odoo import http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

_logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Lead-Token"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
MAX_SOURCE_ID = 2**31 - 1
REPLAYED_HEADER = "Idempotent-Replayed"
# machine codes of the intake's refusals and their HTTP status
INTAKE_ERROR_STATUS = {"missing_contact": 400, "invalid_value": 400, "internal_error": 500}


class LeadWebhookError(Exception):
    """A call refused before its lead is taken in: HTTP status, machine code, field."""

    def __init__(self, status, code, message, field=False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field


class LeadWebhook(http.Controller):
    """``POST /crm_extended/leads/<source id>``: a lead from another system, as JSON.

    Headers: ``X-Lead-Token`` (or ``Authorization: Bearer``) with the source's token,
    ``Content-Type: application/json``, optionally ``Idempotency-Key``. Body: one JSON object
    with the keys of ``crm.lead.source._intake_leads`` (``contact_name``, ``company``,
    ``email``, ``phone``, ``country``, ``vat``, ``message``, ``product_interest``,
    ``utm_source``, ``utm_medium``, ``utm_campaign``) and an optional ``idempotency_key``.

    Answers JSON: ``{"status": "created" | "merged", "lead_id", "partner_id", "match"}``
    (200), or ``{"status": "rejected", "error", "field", "message"}`` with 400 (malformed
    JSON, missing contact data, invalid value: ``field`` says which), 401 (unknown source,
    unknown or revoked token, archived source), 411 (no Content-Length), 413 (body larger
    than the source's maximum), 429 (more calls than the source's limit in the last minute),
    409 (a call with the same idempotency key is still being processed), 500.

    Checks run from the cheapest up: source and token, rate, size, JSON, values. The source
    is found in sudo to compare the token (its hash is readable by the superuser only);
    everything after that runs as the technical intake user, in the source's company. Every
    call is journaled in ``crm.lead.source.call``.
    """

    @http.route(
        "/crm_extended/leads/<int:source_id>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def lead_webhook(self, source_id, **kwargs):
        journal = {
            "remote_addr": request.httprequest.remote_addr,
            "request_size": request.httprequest.content_length or 0,
        }
        # sudo: the token lookup, the only thing done before the caller is authenticated
        source = request.env["crm.lead.source"].sudo().browse(min(source_id, MAX_SOURCE_ID))
        source = source.exists()
        try:
            self._check_token(source)
            source = self._switch_to_intake_user(source)
        except LeadWebhookError as error:
            # sudo: no one is authenticated to write the journal as
            call_model = request.env["crm.lead.source.call"].sudo()
            return self._refuse(call_model, source, error, journal)
        call_model = request.env["crm.lead.source.call"]
        journal["authenticated"] = True
        try:
            return self._serve(source, call_model, journal)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # Odoo retries the whole request
        except LeadWebhookError as error:
            return self._refuse(call_model, source, error, journal)
        except Exception:
            _logger.exception("Lead webhook of source %s: unexpected error", source.id)
            request.env.cr.rollback()
            error = LeadWebhookError(
                500, "internal_error", request.env._("The call could not be processed.")
            )
            return self._refuse(call_model, source, error, journal)

    # ------------------------------------------------------------
    # steps
    # ------------------------------------------------------------

    def _check_token(self, source):
        headers = request.httprequest.headers
        token = headers.get(TOKEN_HEADER)
        authorization = headers.get("Authorization") or ""
        if not token and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        valid = bool(source) and source._token_matches(token)
        if not valid or not source.active or source.kind != "webhook":
            raise LeadWebhookError(
                401,
                "unauthorized",
                request.env._("Unknown source, or its token is wrong, revoked or archived."),
            )

    def _switch_to_intake_user(self, source):
        """Continue as the technical intake user, in the source's company only."""
        user = source._get_intake_user()
        if not user:
            raise LeadWebhookError(
                500, "internal_error", request.env._("The technical intake user is missing.")
            )
        if source.company_id not in user.company_ids:
            source._grant_intake_user_companies()
        request.update_env(
            user=user.id,
            context=dict(request.env.context, allowed_company_ids=source.company_id.ids),
        )
        return source.with_env(request.env)

    def _serve(self, source, call_model, journal):
        if call_model._count_recent_calls(source) >= source.rate_limit:
            raise LeadWebhookError(
                429,
                "rate_limited",
                request.env._(
                    "Too many calls: %(limit)s per minute at most for this source.",
                    limit=source.rate_limit,
                ),
            )
        payload = self._read_payload(source)
        key = self._idempotency_key(payload)
        journal["idempotency_key"] = key or False
        if not key:
            call = call_model.create(
                {
                    "source_id": source.id,
                    "company_id": source.company_id.id,
                    "outcome": "pending",
                    **journal,
                }
            )
        else:
            original = call_model._find_key_holder(source, key)
            if original:
                return self._replay(call_model, source, original, journal)
            call = call_model._claim_key(source, key, journal)
            if not call:
                original = call_model._find_key_holder(source, key)
                if original:
                    return self._replay(call_model, source, original, journal)
                raise LeadWebhookError(
                    409,
                    "conflict",
                    request.env._(
                        "A call with this idempotency key is being processed: retry later."
                    ),
                    field="idempotency_key",
                )
        result = source._intake_leads([payload])[0]
        if result["status"] == "rejected":
            status = INTAKE_ERROR_STATUS.get(result["code"], 400)
            call.write(
                {
                    "outcome": "rejected",
                    "http_status": status,
                    "error_code": result["code"],
                    "error_field": result["field"],
                    "reason": result["reason"],
                }
            )
            return self._error_response(status, result["code"], result["reason"], result["field"])
        call.write(
            {
                "outcome": result["status"],
                "http_status": 200,
                "lead_id": result["lead_id"],
                "partner_id": result["partner_id"],
                "match": result["match"],
            }
        )
        return self._success_response(call)

    def _read_payload(self, source):
        """The JSON object of the body, its size checked before it is read and parsed."""
        httprequest = request.httprequest
        max_bytes = source.max_body_kb * 1024
        too_large = LeadWebhookError(
            413,
            "too_large",
            request.env._(
                "The body is too large: %(limit)s KB at most for this source.",
                limit=source.max_body_kb,
            ),
        )
        length = httprequest.content_length
        if length is None or httprequest.headers.get("Transfer-Encoding"):
            raise LeadWebhookError(
                411, "length_required", request.env._("The Content-Length header is required.")
            )
        if length > max_bytes:
            raise too_large
        # cached by werkzeug: a request Odoo retries reads it again from memory
        body = httprequest.get_data(cache=True)
        if len(body) > max_bytes:
            raise too_large
        if httprequest.mimetype != "application/json":
            raise LeadWebhookError(
                400,
                "malformed_json",
                request.env._("The body must be JSON, sent as application/json."),
            )
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise LeadWebhookError(
                400,
                "malformed_json",
                request.env._("The body is not valid JSON: %(error)s", error=str(error)),
            ) from error
        if not isinstance(payload, dict):
            raise LeadWebhookError(
                400,
                "malformed_json",
                request.env._("The body must be one JSON object, not a list or a value."),
            )
        return payload

    def _idempotency_key(self, payload):
        header_key = (request.httprequest.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        body_key = payload.get("idempotency_key")
        if body_key is not None and not isinstance(body_key, str):
            raise LeadWebhookError(
                400,
                "invalid_value",
                request.env._("The idempotency key must be a text."),
                field="idempotency_key",
            )
        body_key = (body_key or "").strip()
        if header_key and body_key and header_key != body_key:
            raise LeadWebhookError(
                400,
                "invalid_value",
                request.env._("The idempotency keys of the header and of the body differ."),
                field="idempotency_key",
            )
        key = header_key or body_key
        if len(key) > MAX_KEY_LENGTH or "\x00" in key:
            raise LeadWebhookError(
                400,
                "invalid_value",
                request.env._(
                    "The idempotency key must be a text of %(limit)s characters at most.",
                    limit=MAX_KEY_LENGTH,
                ),
                field="idempotency_key",
            )
        return key

    def _replay(self, call_model, source, original, journal):
        call_model.create(
            {
                "source_id": source.id,
                "company_id": source.company_id.id,
                "outcome": "replayed",
                "http_status": 200,
                "replay_of_id": original.id,
                "lead_id": original.lead_id.id,
                "partner_id": original.partner_id.id,
                "match": original.match,
                "reason": request.env._("Answered as the call %(call)s.", call=original.id),
                **journal,
            }
        )
        response = self._success_response(original)
        response.headers[REPLAYED_HEADER] = "true"
        return response

    # ------------------------------------------------------------
    # answers
    # ------------------------------------------------------------

    def _refuse(self, call_model, source, error, journal):
        call_model.create(
            {
                "source_id": source.id,
                "company_id": source.company_id.id,
                "outcome": "rejected",
                "http_status": error.status,
                "error_code": error.code,
                "error_field": error.field,
                "reason": str(error),
                **journal,
            }
        )
        return self._error_response(error.status, error.code, str(error), error.field)

    def _success_response(self, call):
        return request.make_json_response(
            {
                "status": call.outcome,
                "lead_id": call.lead_id.id,
                "partner_id": call.partner_id.id or None,
                "match": call.match or None,
            }
        )

    def _error_response(self, status, code, message, field=False):
        return request.make_json_response(
            {"status": "rejected", "error": code, "field": field or None, "message": message},
            status=status,
        )
