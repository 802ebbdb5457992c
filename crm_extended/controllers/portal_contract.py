from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import (
    CustomerPortal,
    pager as portal_pager,
)


class ContractPortal(CustomerPortal):
    """Customer portal of contracts: "My contracts" and one contract's page.

    Lists and counters run with the visitor's rights, so the record rules decide which
    contracts a customer sees (their commercial partner's). A contract page is opened through
    ``_document_check_access`` (rights, or the contract's access token); its invoices and
    signed originals are then read in sudo, restricted to that contract.
    """

    _contract_history_key = "my_contracts_history"

    # ------------------------------------------------------------
    # HOME
    # ------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "contract_count" in counters:
            Contract = request.env["crm.contract"]
            values["contract_count"] = (
                Contract.search_count(self._prepare_contracts_domain())
                if Contract.has_access("read")
                else 0
            )
        return values

    # ------------------------------------------------------------
    # MY CONTRACTS: list
    # ------------------------------------------------------------

    def _prepare_contracts_domain(self):
        """Domain of the contracts listed under "My contracts": the signed ones (not drafts
        nor cancelled) of the visitor's company. For a portal user the record rule already
        restricts them to it; the domain keeps an employee's list to their own company's."""
        partner = request.env.user.partner_id
        return [
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("state", "not in", ("draft", "cancelled")),
        ]

    def _get_contract_searchbar_sortings(self):
        return {
            "date": {"label": request.env._("Newest"), "order": "date_start desc, id desc"},
            "name": {"label": request.env._("Number"), "order": "name desc, id desc"},
            "end": {"label": request.env._("End Date"), "order": "date_end asc, id desc"},
        }

    def _get_contract_searchbar_filters(self):
        return {
            "running": {
                "label": request.env._("In Force"),
                "domain": [("state", "in", ("active", "expiring"))],
            },
            "all": {"label": request.env._("All"), "domain": []},
        }

    def _prepare_contracts_portal_values(self, page=1, sortby=None, filterby=None, **kwargs):
        values = self._prepare_portal_layout_values()
        Contract = request.env["crm.contract"]
        sortings = self._get_contract_searchbar_sortings()
        filters = self._get_contract_searchbar_filters()
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "all"
        domain = self._prepare_contracts_domain() + filters[filterby]["domain"]
        readable = Contract.has_access("read")
        pager = portal_pager(
            url="/my/contracts",
            url_args={"sortby": sortby, "filterby": filterby},
            total=Contract.search_count(domain) if readable else 0,
            page=page,
            step=self._items_per_page,
        )
        contracts = (
            Contract.search(
                domain,
                order=sortings[sortby]["order"],
                limit=self._items_per_page,
                offset=pager["offset"],
            )
            if readable
            else Contract
        )
        values.update(
            {
                "contracts": contracts,
                "page_name": "contract",
                "default_url": "/my/contracts",
                "pager": pager,
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "searchbar_filters": filters,
                "filterby": filterby,
            }
        )
        return values

    @http.route(
        ["/my/contracts", "/my/contracts/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_contracts(self, page=1, sortby=None, filterby=None, **kwargs):
        values = self._prepare_contracts_portal_values(page, sortby, filterby, **kwargs)
        request.session[self._contract_history_key] = values["contracts"].ids[:100]
        return request.render("crm_extended.portal_my_contracts", values)

    # ------------------------------------------------------------
    # MY CONTRACTS: one contract
    # ------------------------------------------------------------

    def _get_contract_portal_invoices(self, contract_sudo):
        """The invoices and credit notes of the contract shown to the customer: the posted
        ones of the contract's own customer (``contract_sudo`` was access-checked)."""
        return contract_sudo.invoice_ids.filtered(
            lambda move: move.state == "posted"
            and move.commercial_partner_id == contract_sudo.commercial_partner_id
        ).sorted(lambda move: (move.invoice_date or move.date, move.id), reverse=True)

    def _contract_get_page_view_values(self, contract_sudo, access_token, **kwargs):
        values = {
            "page_name": "contract",
            "contract": contract_sudo,
            "contract_invoices": self._get_contract_portal_invoices(contract_sudo),
            "originals": contract_sudo.original_ids,
        }
        return self._get_page_view_values(
            contract_sudo, access_token, values, self._contract_history_key, False, **kwargs
        )

    def _check_contract_access(self, contract_id, access_token):
        """The contract ``contract_id`` in sudo if the visitor may read it (rights or token),
        else None."""
        try:
            return self._document_check_access(
                "crm.contract", contract_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return None

    @http.route("/my/contracts/<int:contract_id>", type="http", auth="public", website=True)
    def portal_my_contract(self, contract_id, access_token=None, **kwargs):
        contract_sudo = self._check_contract_access(contract_id, access_token)
        if contract_sudo is None or contract_sudo.state in ("draft", "cancelled"):
            return request.redirect("/my")
        values = self._contract_get_page_view_values(contract_sudo, access_token, **kwargs)
        return request.render("crm_extended.portal_my_contract", values)

    @http.route(
        "/my/contracts/<int:contract_id>/original/<int:original_id>",
        type="http",
        auth="public",
        website=True,
    )
    def portal_my_contract_original(self, contract_id, original_id, access_token=None, **kw):
        """Download a signed original of a contract the visitor may read: the customer
        keeps the copy of what they signed."""
        contract_sudo = self._check_contract_access(contract_id, access_token)
        if contract_sudo is None or contract_sudo.state in ("draft", "cancelled"):
            return request.not_found()
        # only an original of this very contract, whatever id was sent
        original_sudo = contract_sudo.original_ids.filtered(lambda o: o.id == original_id)
        if not original_sudo:
            return request.not_found()
        stream = request.env["ir.binary"]._get_stream_from(
            original_sudo, "file", filename=original_sudo.file_name, mimetype="application/pdf"
        )
        return stream.get_response(as_attachment=bool(kw.get("download")))
