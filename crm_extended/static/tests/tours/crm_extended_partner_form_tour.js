import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

registry.category("web_tour.tours").add("crm_extended_partner_form", {
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Contacts app",
            trigger: ".o_app[data-menu-xmlid='contacts.menu_contacts']",
            run: "click",
        },
        {
            content: "Search the customer without accents",
            trigger: ".o_searchview_input",
            run: "edit dong a",
        },
        {
            content: "Validate the search",
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Open the customer found despite the missing accents",
            trigger: ".o_kanban_record:contains('Công ty TNHH Thương mại Đông Á')",
            run: "click",
        },
        {
            content: "The partner form shows the customer",
            trigger: ".o_breadcrumb .active:contains('Công ty TNHH Thương mại Đông Á')",
        },
        {
            content: "and its contact person",
            trigger: ".o_form_view .o_kanban_record:contains('Nguyễn Văn Đức')",
        },
    ],
});
