import { registry } from "@web/core/registry";

// The tour runs in the user's language: it finds things by name attributes, and types
// texts (subject, outcome created by the test) that are the same in every language.
const SUBJECT = "Hỏi lịch giao máy lọc nước";
const OUTCOME = "Hẹn giao hàng thứ Sáu";
// the "Contacts" smart button of the partner form
const COUNTER = "button[name='action_view_contact_logs'] .o_stat_value";

registry.category("web_tour.tours").add("crm_extended_contact_log", {
    steps: () => [
        {
            content: "The partner form opens without any contact yet",
            trigger: `${COUNTER}:contains('0')`,
        },
        {
            content: "Log a contact held just now",
            trigger: ".o_form_view .o_form_statusbar button[name='action_log_contact']",
            run: "click",
        },
        {
            content: "Type the subject",
            trigger: ".modal .o_field_widget[name='name'] input",
            run: `edit ${SUBJECT}`,
        },
        {
            content: "It was a phone call",
            trigger: ".modal .o_field_widget[name='channel'] select",
            run: 'select "phone"',
        },
        {
            content: "Look for the outcome",
            trigger: ".modal .o_field_widget[name='outcome_id'] input",
            run: `edit ${OUTCOME}`,
        },
        {
            content: "Pick it",
            trigger: `.modal [name='outcome_id'] .dropdown-item:contains('${OUTCOME}')`,
            run: "click",
        },
        {
            content: "Focus the content: the editor then adds its first paragraph",
            trigger: ".modal .o_field_widget[name='content'] .odoo-editor-editable",
            run: "click",
        },
        {
            content: "Write what was said",
            trigger: ".modal [name='content'] .odoo-editor-editable .o-paragraph",
            run: "editor Khách hỏi ngày giao hàng, hẹn giao thứ Sáu.",
        },
        {
            content: "Save the contact",
            trigger: ".modal .modal-footer button[special='save']",
            run: "click",
        },
        {
            content: "The dialog closes and the partner form counts the new contact",
            trigger: `body:not(:has(.modal)) ${COUNTER}:contains('1')`,
        },
        {
            content: "Open the history of the customer",
            trigger: ".o_notebook .nav-link[name='crm_extended_history']",
            run: "click",
        },
        {
            content: "The new contact is in the history list",
            trigger: `.o_field_widget[name='timeline_ids'] .o_data_row:contains('${SUBJECT}')`,
        },
    ],
});
