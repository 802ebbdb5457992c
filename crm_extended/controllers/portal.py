from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request
from odoo.tools import plaintext2html

from odoo.addons.portal.controllers.portal import (
    CustomerPortal,
    pager as portal_pager,
)


class SupportPortal(CustomerPortal):
    """Customer portal of the help desk: "My tickets" and the knowledge base.

    Lists and counters run with the visitor's own rights, so the record rules decide what a
    customer sees (their commercial partner's tickets, published articles). A ticket page is
    opened through ``_document_check_access`` (rights, or the ticket's access token); the only
    ``sudo()`` on client input is the ticket creation, whose every value is checked first against
    the visitor's commercial partner.
    """

    _ticket_history_key = "my_tickets_history"
    _kb_items_per_page = 20
    _ticket_form_choices_limit = 80

    # ------------------------------------------------------------
    # HOME
    # ------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "ticket_count" in counters:
            Ticket = request.env["crm.support.ticket"]
            values["ticket_count"] = (
                Ticket.search_count(self._prepare_tickets_domain())
                if Ticket.has_access("read")
                else 0
            )
        return values

    # ------------------------------------------------------------
    # MY TICKETS: list
    # ------------------------------------------------------------

    def _prepare_tickets_domain(self):
        """Domain of the tickets listed under "My tickets".

        The tickets of the visitor's company (their commercial partner). For a portal user the
        record rule already says so; the domain keeps an employee's list to their own company's
        tickets rather than every ticket their help-desk rights reach.
        """
        partner = request.env.user.partner_id
        return [("commercial_partner_id", "=", partner.commercial_partner_id.id)]

    def _get_ticket_searchbar_sortings(self):
        return {
            "date": {"label": request.env._("Newest"), "order": "create_date desc, id desc"},
            "number": {"label": request.env._("Number"), "order": "number desc, id desc"},
            "stage": {"label": request.env._("Stage"), "order": "stage_id, create_date desc"},
        }

    def _get_ticket_searchbar_filters(self):
        return {
            "open": {"label": request.env._("Open"), "domain": [("is_closed", "=", False)]},
            "closed": {"label": request.env._("Closed"), "domain": [("is_closed", "=", True)]},
            "all": {"label": request.env._("All"), "domain": []},
        }

    def _get_ticket_search_domain(self, search):
        """Domain of the search box: the subject or the ticket number contains ``search``."""
        return ["|", ("name", "ilike", search), ("number", "ilike", search)]

    def _prepare_tickets_portal_values(
        self, page=1, sortby=None, filterby=None, search=None, **kwargs
    ):
        values = self._prepare_portal_layout_values()
        Ticket = request.env["crm.support.ticket"]
        searchbar_sortings = self._get_ticket_searchbar_sortings()
        searchbar_filters = self._get_ticket_searchbar_filters()
        if sortby not in searchbar_sortings:
            sortby = "date"
        if filterby not in searchbar_filters:
            filterby = "open"
        search = (search or "").strip()

        domain = self._prepare_tickets_domain() + searchbar_filters[filterby]["domain"]
        if search:
            domain += self._get_ticket_search_domain(search)

        readable = Ticket.has_access("read")
        url_args = {"sortby": sortby, "filterby": filterby}
        if search:
            url_args["search"] = search
        pager = portal_pager(
            url="/my/tickets",
            url_args=url_args,
            total=Ticket.search_count(domain) if readable else 0,
            page=page,
            step=self._items_per_page,
        )
        tickets = (
            Ticket.search(
                domain,
                order=searchbar_sortings[sortby]["order"],
                limit=self._items_per_page,
                offset=pager["offset"],
            )
            if readable
            else Ticket
        )
        values.update(
            {
                # sudo: the list shows stage and product names a portal user may not read;
                # the tickets themselves were searched with the visitor's rights
                "tickets": tickets.sudo(),
                "page_name": "ticket",
                "default_url": "/my/tickets",
                "pager": pager,
                "searchbar_sortings": searchbar_sortings,
                "sortby": sortby,
                "searchbar_filters": searchbar_filters,
                "filterby": filterby,
                "searchbar_inputs": {
                    "all": {
                        "input": "all",
                        "label": request.env._("Subject or number"),
                    }
                },
                "search_in": "all",
                "search": search,
            }
        )
        return values

    @http.route(
        ["/my/tickets", "/my/tickets/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_tickets(self, page=1, sortby=None, filterby=None, search=None, **kwargs):
        values = self._prepare_tickets_portal_values(page, sortby, filterby, search, **kwargs)
        request.session[self._ticket_history_key] = values["tickets"].ids[:100]
        return request.render("crm_extended.portal_my_tickets", values)

    # ------------------------------------------------------------
    # MY TICKETS: one ticket
    # ------------------------------------------------------------

    def _ticket_get_page_view_values(self, ticket, access_token, **kwargs):
        """Values of the ticket page; ``ticket`` is the record checked by
        ``_document_check_access`` (in sudo)."""
        # the portal chatter posts with the ticket's token: readers of the page may reply
        ticket._portal_ensure_token()
        values = {
            "page_name": "ticket",
            "ticket": ticket,
            "created": kwargs.get("created"),
        }
        return self._get_page_view_values(
            ticket, access_token, values, self._ticket_history_key, False, **kwargs
        )

    @http.route("/my/tickets/<int:ticket_id>", type="http", auth="public", website=True)
    def portal_my_ticket(self, ticket_id, access_token=None, **kwargs):
        try:
            ticket_sudo = self._document_check_access(
                "crm.support.ticket", ticket_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._ticket_get_page_view_values(ticket_sudo, access_token, **kwargs)
        return request.render("crm_extended.portal_my_ticket", values)

    # ------------------------------------------------------------
    # MY TICKETS: new ticket
    # ------------------------------------------------------------

    def _get_ticket_form_products(self, commercial_partner):
        """Products the customer bought: lines of their confirmed orders and posted invoices.

        Read in sudo, restricted to ``commercial_partner`` (the visitor's own, from the session):
        a portal user has no right on order or invoice lines, nor on products.
        """
        order_lines = (
            request.env["sale.order.line"]
            .sudo()
            ._read_group(
                [
                    ("order_id.commercial_partner_id", "=", commercial_partner.id),
                    ("state", "=", "sale"),
                    ("display_type", "=", False),
                    ("product_id", "!=", False),
                ],
                ["product_id"],
            )
        )
        invoice_lines = (
            request.env["account.move.line"]
            .sudo()
            ._read_group(
                [
                    ("move_id.commercial_partner_id", "=", commercial_partner.id),
                    ("move_id.move_type", "=", "out_invoice"),
                    ("parent_state", "=", "posted"),
                    ("display_type", "=", "product"),
                    ("product_id", "!=", False),
                ],
                ["product_id"],
            )
        )
        products = request.env["product.product"].sudo()
        for (product,) in order_lines + invoice_lines:
            products |= product
        return products.sorted("display_name")

    def _get_ticket_form_orders(self, commercial_partner, domain=(), limit=None):
        """Confirmed orders of ``commercial_partner``, newest first.

        Sudo, restricted to the visitor's own commercial partner: the sales portal only shows
        the orders a customer follows, while any order of their company may be the subject of
        a ticket.
        """
        return (
            request.env["sale.order"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", commercial_partner.id),
                    ("state", "=", "sale"),
                    *domain,
                ],
                order="date_order desc, id desc",
                limit=limit,
            )
        )

    def _get_ticket_form_invoices(self, commercial_partner, domain=(), limit=None):
        """Posted customer invoices of ``commercial_partner``, newest first (sudo, own only)."""
        return (
            request.env["account.move"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", commercial_partner.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    *domain,
                ],
                order="invoice_date desc, id desc",
                limit=limit,
            )
        )

    def _get_ticket_form_categories(self):
        return (
            request.env["crm.support.ticket"]
            ._fields["category"]
            ._description_selection(request.env)
        )

    def _prepare_ticket_form_values(self, form=None, errors=None):
        commercial_partner = request.env.user.partner_id.commercial_partner_id
        limit = self._ticket_form_choices_limit
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ticket_new",
                "form": form or {},
                "errors": errors or {},
                "products": self._get_ticket_form_products(commercial_partner),
                "orders": self._get_ticket_form_orders(commercial_partner, limit=limit),
                "invoices": self._get_ticket_form_invoices(commercial_partner, limit=limit),
                "categories": self._get_ticket_form_categories(),
            }
        )
        return values

    @staticmethod
    def _parse_id(value):
        """The record id posted as ``value``: 0 when empty, None when it is not an id."""
        value = (value or "").strip()
        if not value:
            return 0
        return int(value) if value.isascii() and value.isdigit() else None

    def _validate_ticket_form(self, form):
        """Check the posted new-ticket form against the visitor's own data.

        The product must be one the visitor's company bought, the order and the invoice must
        belong to it: anything else is refused, never silently dropped.

        :param dict form: the posted fields (strings)
        :return: (values to create the ticket with, {field name: translated error message})
        """
        env = request.env
        partner = env.user.partner_id
        commercial_partner = partner.commercial_partner_id
        errors = {}

        subject = (form.get("name") or "").strip()
        if not subject:
            errors["name"] = env._("Give your request a subject.")
        elif len(subject) > 200:
            errors["name"] = env._("Keep the subject under 200 characters.")

        category = form.get("category") or False
        if category and category not in dict(self._get_ticket_form_categories()):
            errors["category"] = env._("Choose a category from the list.")

        product_id = self._parse_id(form.get("product_id"))
        if product_id and product_id not in self._get_ticket_form_products(commercial_partner).ids:
            product_id = None
        if product_id is None:
            errors["product_id"] = env._("Choose one of the products you bought from the list.")

        order = env["sale.order"].sudo()
        order_id = self._parse_id(form.get("sale_order_id"))
        if order_id:
            order = self._get_ticket_form_orders(commercial_partner, [("id", "=", order_id)])
        if order_id is None or (order_id and not order):
            errors["sale_order_id"] = env._("Choose one of your orders from the list.")

        invoice = env["account.move"].sudo()
        invoice_id = self._parse_id(form.get("invoice_id"))
        if invoice_id:
            invoice = self._get_ticket_form_invoices(commercial_partner, [("id", "=", invoice_id)])
        if invoice_id is None or (invoice_id and not invoice):
            errors["invoice_id"] = env._("Choose one of your invoices from the list.")

        if errors:
            return {}, errors
        companies = order.company_id | invoice.company_id
        if len(companies) > 1:
            errors["invoice_id"] = env._(
                "The order and the invoice come from different companies of ours: "
                "choose only one of them."
            )
            return {}, errors

        description = (form.get("description") or "").strip()
        values = {
            "name": subject,
            "description": plaintext2html(description) if description else False,
            "partner_id": partner.id,
            "channel": "portal",
            "product_id": product_id or False,
            "sale_order_id": order.id,
            "invoice_id": invoice.id,
        }
        if category:
            values["category"] = category
        if companies:
            values["company_id"] = companies.id
        return values, {}

    @http.route(
        "/my/tickets/new",
        type="http",
        auth="user",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_ticket_new(self, **form):
        if request.httprequest.method == "POST":
            values, errors = self._validate_ticket_form(form)
            if not errors:
                # sudo: a portal user may not create tickets; every value was checked above
                # and the customer is the visitor's own partner
                ticket = request.env["crm.support.ticket"].sudo().create(values)
                return request.redirect(f"{ticket.access_url}?created=1")
            return request.render(
                "crm_extended.portal_ticket_new", self._prepare_ticket_form_values(form, errors)
            )
        return request.render(
            "crm_extended.portal_ticket_new", self._prepare_ticket_form_values(form)
        )

    # ------------------------------------------------------------
    # KNOWLEDGE BASE
    # ------------------------------------------------------------

    def _prepare_kb_articles_domain(self):
        """Articles shown on the portal: the published ones (the record rules add the rest)."""
        return [("is_published", "=", True)]

    def _get_kb_searchbar_filters(self):
        """The kind filter of the knowledge base: all kinds, then one entry per kind."""
        kinds = request.env["crm.kb.article"]._fields["kind"]._description_selection(request.env)
        filters = {"all": {"label": request.env._("All"), "domain": []}}
        for kind, label in kinds:
            filters[kind] = {"label": label, "domain": [("kind", "=", kind)]}
        return filters

    def _get_kb_articles_domain(self, search, domain):
        """``domain`` narrowed to the articles matching the words of ``search``.

        ``search_text`` is the knowledge base's accent-insensitive word search, the same
        matching as its ranked search.
        """
        return [*domain, ("search_text", "ilike", search)] if search else domain

    def _get_kb_articles_page(self, search, filterby, domain, offset, limit):
        """One page of the articles of ``domain`` matching ``search``, best first.

        With words and no kind filter, the ranked search of the knowledge base
        (``_search_ranked``, run with the visitor's rights: record rules apply); it takes no
        kind filter, so a filtered search keeps the knowledge base's own ranked order of
        ``search_text``. Without words, the most useful articles first.
        """
        Article = request.env["crm.kb.article"]
        if not search:
            order = "helpful_count desc, write_date desc, id desc"
            return Article.search(domain, order=order, limit=limit, offset=offset)
        if filterby != "all":
            return Article.search(
                self._get_kb_articles_domain(search, domain), limit=limit, offset=offset
            )
        return Article._search_ranked(search, limit=limit, offset=offset, published_only=True)

    @http.route(
        ["/my/knowledge", "/my/knowledge/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_knowledge(self, page=1, search=None, filterby=None, **kwargs):
        values = self._prepare_portal_layout_values()
        Article = request.env["crm.kb.article"]
        searchbar_filters = self._get_kb_searchbar_filters()
        if filterby not in searchbar_filters:
            filterby = "all"
        search = (search or "").strip()
        domain = self._prepare_kb_articles_domain() + searchbar_filters[filterby]["domain"]
        url_args = {"filterby": filterby}
        if search:
            url_args["search"] = search
        total = Article.search_count(self._get_kb_articles_domain(search, domain))
        pager = portal_pager(
            url="/my/knowledge",
            url_args=url_args,
            total=total,
            page=page,
            step=self._kb_items_per_page,
        )
        articles = self._get_kb_articles_page(
            search, filterby, domain, pager["offset"], self._kb_items_per_page
        )
        values.update(
            {
                # sudo: product names; the articles were found with the visitor's rights
                "articles": articles.sudo(),
                "article_total": total,
                "page_name": "knowledge",
                "default_url": "/my/knowledge",
                "pager": pager,
                "searchbar_filters": searchbar_filters,
                "filterby": filterby,
                "searchbar_inputs": {
                    "all": {"input": "all", "label": request.env._("Search the knowledge base")}
                },
                "search_in": "all",
                "search": search,
            }
        )
        return request.render("crm_extended.portal_my_knowledge", values)

    @http.route("/my/knowledge/<int:article_id>", type="http", auth="user", website=True)
    def portal_my_knowledge_article(self, article_id, **kwargs):
        # read with the visitor's rights: the record rules hide unpublished articles from
        # customers, and the portal shows employees the published ones only
        article = request.env["crm.kb.article"].search(
            [*self._prepare_kb_articles_domain(), ("id", "=", article_id)], limit=1
        )
        if not article:
            return request.not_found()
        values = self._prepare_portal_layout_values()
        # sudo: product names of an article the visitor may read
        values.update({"page_name": "knowledge_article", "article": article.sudo()})
        return request.render("crm_extended.portal_my_knowledge_article", values)
