import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useAutofocus, useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { CallerCard } from "./caller_card";

const MODEL = "crm.support.operator";
// milliseconds of typing pause before searching
const SEARCH_DELAY = 300;
const PHONE_MATCHES = ["phone", "mobile"];

/**
 * The operator screen ("Find a Caller"): one search box finds the caller by phone number
 * in any format, email, name (accents ignored), ticket, invoice or order number; choosing
 * a candidate shows the customer's card, from which a ticket is opened or the call logged.
 */
export class CustomerCareOperator extends Component {
    static template = "crm_extended.CustomerCareOperator";
    static components = { Layout, CallerCard };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        // coming back through the breadcrumbs shows the same search and card
        const saved = this.props.state || {};
        this.state = useState({
            query: saved.query || "",
            searchedQuery: saved.searchedQuery ?? null,
            candidates: saved.candidates || [],
            activeIndex: 0,
            selected: saved.selected || null,
            card: null,
            searching: false,
            loadingCard: false,
        });
        this.searchRef = useAutofocus({ refName: "search" });
        this.debouncedSearch = useDebounced(() => this.search(), SEARCH_DELAY);
        this.lastRequest = 0;
        useSetupAction({
            getLocalState: () => ({
                query: this.state.query,
                searchedQuery: this.state.searchedQuery,
                candidates: this.state.candidates,
                selected: this.state.selected,
            }),
        });
        onWillStart(async () => {
            if (this.state.selected) {
                await this.loadCard();
            }
        });
    }

    get hasSearched() {
        return this.state.searchedQuery !== null && this.state.searchedQuery === this.state.query.trim();
    }

    get noResultMessage() {
        return _t("No customer found for “%(query)s”.", { query: this.state.searchedQuery });
    }

    // -------------------------------------------------------------------------
    // Search
    // -------------------------------------------------------------------------

    async search() {
        const query = this.state.query.trim();
        const request = ++this.lastRequest;
        if (query.length < 2) {
            Object.assign(this.state, { candidates: [], searchedQuery: null, searching: false });
            return this.state.candidates;
        }
        this.state.searching = true;
        try {
            const candidates = await this.orm.call(MODEL, "search_callers", [query]);
            // an answer to an older query arrives late: the newer one wins
            if (request === this.lastRequest) {
                Object.assign(this.state, { candidates, searchedQuery: query, activeIndex: 0 });
            }
        } finally {
            if (request === this.lastRequest) {
                this.state.searching = false;
            }
        }
        return this.state.candidates;
    }

    onInput(ev) {
        this.state.query = ev.target.value;
        this.debouncedSearch();
    }

    async onKeydown(ev) {
        const candidates = this.state.candidates;
        switch (ev.key) {
            case "ArrowDown":
                ev.preventDefault();
                this.state.activeIndex = Math.min(this.state.activeIndex + 1, candidates.length - 1);
                break;
            case "ArrowUp":
                ev.preventDefault();
                this.state.activeIndex = Math.max(this.state.activeIndex - 1, 0);
                break;
            case "Enter": {
                ev.preventDefault();
                if (this.hasSearched && candidates.length) {
                    return this.selectCandidate(candidates[this.state.activeIndex] || candidates[0]);
                }
                this.debouncedSearch.cancel();
                const found = await this.search();
                if (found.length === 1) {
                    return this.selectCandidate(found[0]);
                }
                break;
            }
            case "Escape":
                this.clear();
                break;
        }
    }

    clear() {
        this.debouncedSearch.cancel();
        this.lastRequest++;
        Object.assign(this.state, {
            query: "",
            searchedQuery: null,
            candidates: [],
            selected: null,
            card: null,
            searching: false,
        });
        this.searchRef.el?.focus();
    }

    // -------------------------------------------------------------------------
    // Card
    // -------------------------------------------------------------------------

    async selectCandidate(candidate) {
        if (!this.isSelected(candidate)) {
            this.state.card = null;
        }
        this.state.selected = candidate;
        this.state.activeIndex = this.state.candidates.indexOf(candidate);
        await this.loadCard();
    }

    /** What matched, or how to reach the candidate when their name matched. */
    candidateDetail(candidate) {
        if (candidate.match === "name") {
            return candidate.phone || candidate.mobile || candidate.email;
        }
        return candidate.match_value;
    }

    isSelected(candidate) {
        return this.state.selected?.partner_id === candidate.partner_id;
    }

    async loadCard() {
        const partnerId = this.state.selected.partner_id;
        this.state.loadingCard = true;
        try {
            const card = await this.orm.call(MODEL, "get_caller_card", [partnerId]);
            if (this.state.selected?.partner_id === partnerId) {
                this.state.card = card;
            }
        } finally {
            this.state.loadingCard = false;
        }
    }

    /** The number the caller was found by: the caller phone of a new ticket. */
    get callerPhone() {
        const selected = this.state.selected;
        if (selected && PHONE_MATCHES.includes(selected.match)) {
            return selected.match_value;
        }
        return false;
    }

    async onNewTicket() {
        const action = await this.orm.call(MODEL, "action_new_ticket", [this.state.selected.partner_id], {
            phone: this.callerPhone,
        });
        return this.actionService.doAction(action);
    }

    /** A caller nobody knows yet: a ticket with the number or email typed. */
    async onNewTicketUnknown() {
        const query = this.state.query.trim();
        const isEmail = query.includes("@");
        const action = await this.orm.call(MODEL, "action_new_ticket", [false], {
            phone: !isEmail && /\d/.test(query) ? query : false,
            email: isEmail ? query : false,
        });
        return this.actionService.doAction(action);
    }

    async onLogCall() {
        const action = await this.orm.call(MODEL, "action_log_call", [this.state.selected.partner_id]);
        return this.actionService.doAction(action, { onClose: () => this.loadCard() });
    }

    openRecord(resModel, resId) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: resModel,
            res_id: resId,
            views: [[false, "form"]],
            target: "current",
        });
    }

    async openPartnerAction(method) {
        const action = await this.orm.call("res.partner", method, [[this.state.card.customer.id]]);
        return this.actionService.doAction(action);
    }
}

registry.category("actions").add("crm_extended.operator", CustomerCareOperator);
