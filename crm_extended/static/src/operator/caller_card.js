import { Component } from "@odoo/owl";
import { formatCurrency } from "@web/core/currency";
import { _t } from "@web/core/l10n/translation";
import {
    deserializeDate,
    deserializeDateTime,
    formatDate,
    formatDateTime,
} from "@web/core/l10n/dates";

const PAYMENT_BADGES = {
    paid: "text-bg-success",
    in_payment: "text-bg-info",
    partial: "text-bg-warning",
    not_paid: "text-bg-secondary",
    reversed: "text-bg-light",
};
const SLA_BADGES = {
    on_time: "text-bg-success",
    at_risk: "text-bg-warning",
    breached: "text-bg-danger",
};
const WARRANTY_BADGES = {
    under_warranty: "text-bg-success",
    expired: "text-bg-danger",
    unknown: "text-bg-secondary",
};

/** The caller's card: who they are and everything that happened with their company. */
export class CallerCard extends Component {
    static template = "crm_extended.CallerCard";
    static props = {
        card: Object,
        openRecord: Function,
        openPartnerAction: Function,
        onNewTicket: Function,
        onLogCall: Function,
    };

    get isContactPerson() {
        return this.props.card.caller.id !== this.props.card.customer.id;
    }

    get otherTicketsMessage() {
        return _t("%(count)s more open, handled by other teams", {
            count: this.props.card.tickets.other_count,
        });
    }

    amount(value, currencyId) {
        return formatCurrency(value, currencyId);
    }

    date(value) {
        return value ? formatDate(deserializeDate(value)) : "";
    }

    /** The day of a datetime, in the user's timezone. */
    dateOf(value) {
        return value ? formatDate(deserializeDateTime(value)) : "";
    }

    datetime(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    paymentBadge(invoice) {
        return invoice.overdue ? "text-bg-danger" : PAYMENT_BADGES[invoice.payment_state] || "text-bg-light";
    }

    slaBadge(ticket) {
        return SLA_BADGES[ticket.sla_state] || "text-bg-light";
    }

    warrantyBadge(warranty) {
        return WARRANTY_BADGES[warranty.state] || "text-bg-light";
    }

    stars(priority) {
        return [1, 2, 3].map((level) => level <= Number(priority || 0));
    }
}
