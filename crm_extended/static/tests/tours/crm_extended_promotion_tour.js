import { registry } from "@web/core/registry";

// Promotion plans in two tours: a salesperson drafts a plan and previews its audience, then
// a sales manager approves and launches it and sees its members. The tours run in the
// user's language: they find things by field and button names, CSS classes and numbers,
// never by translated texts.
registry.category("web_tour.tours").add("crm_extended_promotion_draft", {
    steps: () => [
        {
            content: "Name the plan",
            trigger: ".o_form_view .o_field_widget[name='name'] input",
            run: "edit KM Tour Promotion",
        },
        {
            content: "Audience rule: customers with a revenue of at least 1,000",
            trigger: ".o_form_view .o_field_widget[name='revenue_min'] input",
            run: "edit 1000",
        },
        {
            content: "Save the draft",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "Preview the audience",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_preview']",
            run: "click",
        },
        {
            content: "One customer is in the audience",
            trigger: ".o_form_view .o_field_widget[name='included_count'] span:contains(/^1$/)",
        },
        {
            content: "The customer without consent is counted as left out",
            trigger: ".o_form_view .o_field_widget[name='no_consent_count'] span:contains(/^1$/)",
        },
        {
            content: "The audience is listed",
            trigger: ".o_form_view .o_field_widget[name='included_line_ids'] .o_data_row",
        },
        {
            content: "Back to the plan",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_open_plan']",
            run: "click",
        },
        {
            content: "The plan is still a draft: the salesperson cannot approve it",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='draft']",
        },
        {
            content: "No approval button for a salesperson",
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name='action_approve']))",
        },
    ],
});

registry.category("web_tour.tours").add("crm_extended_promotion_launch", {
    steps: () => [
        {
            content: "Approve it",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_approve']",
            run: "click",
        },
        {
            content: "Launch it",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_launch']",
            run: "click",
        },
        {
            content: "Confirm the launch",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The plan is running",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='running']",
        },
        {
            content: "Open its members",
            trigger: ".o_form_view .oe_stat_button[name='action_view_members']:first",
            run: "click",
        },
        {
            content: "The member is listed",
            trigger: ".o_list_view .o_data_row td[name='partner_id']",
        },
    ],
});
