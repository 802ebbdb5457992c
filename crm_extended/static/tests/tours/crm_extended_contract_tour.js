import { registry } from "@web/core/registry";

// An accountant on an invoice goes to its contract and sees how the contract is paid.
// The tour runs in the user's language: it finds things by field names and CSS classes,
// and by the numbers of the records (the same in every language), given by the test.
registry.category("web_tour.tours").add("crm_extended_contract", {
    steps: () => [
        {
            content: "The invoice shows the contract it belongs to",
            trigger: ".o_form_view .o_field_widget[name='contract_id'] input:value('HD/')",
        },
        {
            content: "Jump to the contract",
            trigger: ".o_form_view .oe_stat_button[name='action_open_contract']",
            run: "click",
        },
        {
            content: "The contract is open, with its number in the breadcrumbs",
            trigger: ".o_breadcrumb .active:contains('HD/')",
        },
        {
            content: "Its payment status is overdue (the red badge)",
            trigger: ".o_form_view .o_field_widget[name='payment_status'] .badge.text-bg-danger",
        },
        {
            content: "Open the invoices and payments of the contract",
            trigger: ".o_notebook .nav-link[name='invoices']",
            run: "click",
        },
        {
            content: "The overdue amount is shown",
            trigger: ".o_field_widget[name='amount_overdue'] .text-danger, .o_field_widget[name='amount_overdue'].text-danger",
        },
        {
            content: "The invoice is listed with its days overdue",
            trigger: ".o_field_widget[name='invoice_ids'] .o_data_row td[name='invoice_days_overdue']:not(:empty)",
        },
    ],
});
