import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Texts typed or looked for are the test data's, the same in every language.
const CUSTOMER = "Công ty TNHH Thương mại Đông Á";
const CALLER = "Nguyễn Văn Đức";
const PRODUCT = "Máy lọc nước RO Sao Mai S7";
const SUBJECT = "Máy lọc nước bị rò rỉ";
const ARTICLE = "Máy lọc nước rò rỉ nước ở đáy máy";
const ANSWER = "Khóa van cấp nước";

/**
 * A care officer takes a call: finds the caller by the number they give (not in the format it
 * is stored in), reads their card, opens a ticket about the filter they bought, answers with
 * the solution the knowledge base suggests and closes the ticket as solved by it.
 */
registry.category("web_tour.tours").add("crm_extended_operator_tour", {
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Customer Care app",
            trigger: ".o_app[data-menu-xmlid='crm_extended.crm_support_menu_root']",
            run: "click",
        },
        {
            content: "Its first screen finds callers: type the number as the caller says it",
            trigger: ".o_crm_operator .o_crm_operator_input",
            run: "edit 0916-482-735",
        },
        {
            content: "Open the card of the caller found",
            trigger: `.o_crm_operator_candidate:contains('${CALLER}'):contains('${CUSTOMER}')`,
            run: "click",
        },
        {
            content: "The card shows the customer company",
            trigger: `.o_crm_caller_card .o_crm_caller_customer:contains('${CUSTOMER}')`,
        },
        {
            content: "and the filter they bought, still under warranty",
            trigger: `.o_crm_caller_warranty:contains('${PRODUCT}') .badge.text-bg-success`,
        },
        {
            content: "Open a new ticket for the caller",
            trigger: ".o_crm_caller_card .o_crm_caller_new_ticket",
            run: "click",
        },
        {
            content: "Type the subject",
            trigger: ".o_form_view .o_field_widget[name='name'] input",
            run: `edit ${SUBJECT}`,
        },
        {
            content: "Look for the product",
            trigger: ".o_form_view .o_field_widget[name='product_id'] input",
            run: `edit ${PRODUCT}`,
        },
        {
            content: "Pick it",
            trigger: `.o_field_widget[name='product_id'] .dropdown-item:contains('${PRODUCT}')`,
            run: "click",
        },
        {
            content: "Save the ticket",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "The ticket is saved with its number",
            trigger: ".o_form_view .o_field_widget[name='number']:contains('TK/')",
        },
        {
            content: "The product's warranty shows on the ticket",
            trigger: ".o_form_view .alert-success .fa-shield",
        },
        {
            content: "Look at the solutions the knowledge base suggests",
            trigger: ".o_form_view .o_notebook a[name='kb_solutions']",
            run: "click",
        },
        {
            content: "Send the answer of the suggested article to the caller",
            trigger: `.o_field_widget[name='suggested_article_ids'] .o_data_row:contains('${ARTICLE}') button[name='action_insert_into_ticket']`,
            run: "click",
        },
        {
            content: "The reply is prefilled with the article's answer",
            trigger: `.modal .o_mail_composer_form_view .note-editable:contains('${ANSWER}'), .modal .o_field_html:contains('${ANSWER}')`,
        },
        {
            content: "Send it",
            trigger: ".modal .modal-footer button.o_mail_send:enabled",
            run: "click",
        },
        {
            content: "The answer is in the ticket's chatter",
            trigger: `.o-mail-Message-body:contains('${ANSWER}')`,
        },
        {
            content: "Mark the ticket solved by this article",
            trigger: `.o_field_widget[name='suggested_article_ids'] .o_data_row:contains('${ARTICLE}') button[name='action_solve_ticket']`,
            run: "click",
        },
        {
            content: "The article is recorded as the solution",
            trigger: `.o_field_widget[name='kb_article_id'] input:value('${ARTICLE}')`,
        },
        {
            content: "Close the ticket",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_close']",
            run: "click",
        },
        {
            content: "The ticket is solved",
            trigger: ".o_form_view .ribbon .text-bg-success",
        },
    ],
});
