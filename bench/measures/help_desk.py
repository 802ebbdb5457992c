"""Help desk and knowledge base: 100,000 tickets and 100,000 articles at scale 1.

The issue's promises: the ticket list and kanban open with a constant number of queries (the
same for all the tickets as for the small team's 300, of which 250 open: enough to fill a page
and every column, so that both count their rows the same way), the knowledge search returns
its first page in under 50 ms and the operator screen finds a caller by phone in under 100 ms.

- ``ticket_list_*``: the "All Tickets" list as the web client loads it with the action's
  default filter (Open): ``web_search_read`` of the list's fields, first page of 80, counted up
  to 10,001 rows.
- ``ticket_kanban_*``: the kanban grouped by stage: ``web_read_group`` (with the empty
  stages the kanban shows), then the cards of every unfolded, non-empty column (40 each), one
  request per column as the client sends them (the cache is emptied between them).
- ``ticket_kanban_progressbar``: the columns' service-level bars (``read_progress_bar``).
- ``kb_search_*``: first page (20) of ``crm.kb.article._search_ranked``, for words found in
  thousands of articles, in a few hundred (typed without accents), in a handful, and the
  frequent words with a product bonus.
- ``operator_search_phone*``: ``crm.support.operator.search_callers`` with the whale's phone
  number typed in another format, and with its last six digits only.
"""

import re

from measurements import measurement
from webclient import kanban_fields_spec, list_fields_spec

from odoo.tools import SQL

# the list's page size and count limit, and the cards per kanban column, as the client asks
LIST_LIMIT = 80
LIST_COUNT_LIMIT = 10_001
KANBAN_COLUMN_LIMIT = 40
KB_PAGE = 20
# the action's default filter (search_default_filter_open)
OPEN_TICKETS = [("is_closed", "=", False)]
SMALL_TEAM_NAME = "Khách hàng doanh nghiệp"
KB_FREQUENT = "máy lọc nước"
KB_WORDS = "dieu hoa khong lanh"


def _small_team(bench):
    team = bench.env["crm.support.team"].search([("name", "=", SMALL_TEAM_NAME)], limit=1)
    if not team:
        raise RuntimeError("no small help desk team: was the database generated?")
    return team


def _ticket_list(bench, domain, context=None):
    tickets = bench.env["crm.support.ticket"].with_context(**(context or {}))
    spec, order = list_fields_spec(tickets)
    domain = OPEN_TICKETS + domain
    rows = tickets.search_count(domain)
    return bench.measure(
        lambda: tickets.web_search_read(
            domain, spec, limit=LIST_LIMIT, order=order or None, count_limit=LIST_COUNT_LIMIT
        ),
        rows=rows,
    )


def _ticket_kanban(bench, domain, context=None):
    tickets = bench.env["crm.support.ticket"].with_context(**(context or {}))
    spec, group_by, _progressbar = kanban_fields_spec(tickets)
    domain = OPEN_TICKETS + domain
    rows = tickets.search_count(domain)

    def open_kanban():
        groups = tickets.web_read_group(domain, [], [group_by], lazy=True)["groups"]
        for group in groups:
            if group.get("__fold") or not group[f"{group_by}_count"]:
                continue
            # each column is a request of its own: it starts with an empty cache
            bench.env.invalidate_all()
            tickets.web_search_read(group["__domain"], spec, limit=KANBAN_COLUMN_LIMIT)

    return bench.measure(open_kanban, rows=rows)


@measurement("ticket_list_all")
def ticket_list_all(bench):
    """Ticket list, default filter (open), first page of 80, all the open tickets."""
    return _ticket_list(bench, [])


@measurement("ticket_list_small_team")
def ticket_list_small_team(bench):
    """Ticket list, default filter (open), the small team's 250 open tickets."""
    team = _small_team(bench)
    return _ticket_list(bench, [("team_id", "=", team.id)], {"default_team_id": team.id})


@measurement("ticket_kanban_all")
def ticket_kanban_all(bench):
    """Ticket kanban by stage, default filter (open): columns and their first 40 cards."""
    return _ticket_kanban(bench, [])


@measurement("ticket_kanban_small_team")
def ticket_kanban_small_team(bench):
    """Ticket kanban by stage, default filter (open), the small team's tickets."""
    team = _small_team(bench)
    return _ticket_kanban(bench, [("team_id", "=", team.id)], {"default_team_id": team.id})


@measurement("ticket_kanban_progressbar")
def ticket_kanban_progressbar(bench):
    """The kanban columns' progress bars (service level), default filter (open)."""
    tickets = bench.env["crm.support.ticket"]
    _spec, group_by, progressbar = kanban_fields_spec(tickets)
    if not progressbar:
        raise RuntimeError("the ticket kanban has no progress bar")
    rows = tickets.search_count(OPEN_TICKETS)
    return bench.measure(
        lambda: tickets.read_progress_bar(OPEN_TICKETS, group_by, progressbar), rows=rows
    )


def _kb_search(bench, query, products=None):
    articles = bench.env["crm.kb.article"]
    bench.cr.execute(
        SQL(
            "SELECT count(*) FROM crm_kb_article"
            " WHERE active AND search_tsv @@ public.crm_extended_kb_tsquery(%s)",
            query,
        )
    )
    matches = bench.cr.fetchone()[0]
    return bench.measure(
        lambda: articles._search_ranked(query, limit=KB_PAGE, products=products).ids,
        rows=matches,
    )


@measurement("kb_search_frequent")
def kb_search_frequent(bench):
    """Knowledge search, first page (20), words found in thousands of articles."""
    return _kb_search(bench, KB_FREQUENT)


@measurement("kb_search_words")
def kb_search_words(bench):
    """Knowledge search, first page (20), four words typed without accents."""
    return _kb_search(bench, KB_WORDS)


@measurement("kb_search_rare")
def kb_search_rare(bench):
    """Knowledge search, first page, a model code found in a handful of articles."""
    bench.cr.execute("SELECT keywords FROM crm_kb_article WHERE active ORDER BY id LIMIT 1")
    code = re.findall(r"KT\d+", bench.cr.fetchone()[0])[0]
    return _kb_search(bench, code)


@measurement("kb_search_product")
def kb_search_product(bench):
    """Knowledge search, first page, frequent words and a product bonus (operator screen)."""
    bench.cr.execute(
        "SELECT product_tmpl_id FROM crm_kb_article_product_rel GROUP BY 1 ORDER BY count(*) DESC"
        " LIMIT 1"
    )
    template = bench.env["product.template"].browse(bench.cr.fetchone()[0])
    return _kb_search(bench, KB_FREQUENT, products=template)


def _operator_search(bench, query):
    operator = bench.env["crm.support.operator"]
    candidates = operator.search_callers(query)
    return bench.measure(lambda: operator.search_callers(query), rows=len(candidates))


def _whale_phone_digits(bench):
    partner_id, _rows = bench.largest_customer()
    phone = bench.env["res.partner"].browse(partner_id).phone
    digits = re.sub(r"[^0-9]", "", phone or "")
    if len(digits) < 9:
        raise RuntimeError(f"the largest customer has no usable phone number ({phone!r})")
    return digits


@measurement("operator_search_phone")
def operator_search_phone(bench):
    """Operator screen: find the caller by a full phone number in another format."""
    digits = _whale_phone_digits(bench)
    # +84 2x xxxx xxxx → 02x xxxx xxxx, as a caller gives it
    national = "0" + digits[2:] if digits.startswith("84") else digits
    return _operator_search(bench, f"{national[:3]} {national[3:7]} {national[7:]}")


@measurement("operator_search_phone_end")
def operator_search_phone_end(bench):
    """Operator screen: find the caller by the last six digits of a phone number."""
    digits = _whale_phone_digits(bench)
    return _operator_search(bench, f"{digits[-6:-3]} {digits[-3:]}")
