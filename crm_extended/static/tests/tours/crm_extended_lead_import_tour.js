import { registry } from "@web/core/registry";

// The tour runs in the user's language: it finds things by name attributes and by the data
// of the file it uploads, the same in every language.
const CSV = [
    "Name,Email,Phone",
    "Hoàng Văn Tour,tour.hoang@example.vn,0903 000 111",
    "Lý Văn Sai,sai@@example,",
].join("\n");
const COLUMNS = ".o_field_widget[name='column_ids'] .o_data_row";
const REPORT = ".o_field_widget[name='line_ids'] .o_data_row";

registry.category("web_tour.tours").add("crm_extended_lead_import", {
    steps: () => [
        {
            content: "From the file source, start an import",
            trigger: ".o_form_view .o_form_statusbar button[name='action_import_file']",
            run: "click",
        },
        {
            content: "Upload a small CSV file of leads",
            trigger: ".o_field_widget[name='file'] .o_select_file_button",
            async run() {
                const input = document.querySelector(
                    ".o_field_widget[name='file'] input.o_input_file"
                );
                const file = new File([CSV], "dai_ly.csv", { type: "text/csv" });
                const transfer = new DataTransfer();
                transfer.items.add(file);
                input.files = transfer.files;
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The file is chosen",
            trigger: ".o_field_widget[name='file'] input.o_input:value(dai_ly.csv)",
        },
        {
            content: "Read it",
            trigger: ".o_form_statusbar button[name='action_read_file']",
            run: "click",
        },
        {
            content: "Its three columns are listed, mapped to the lead fields",
            trigger: `${COLUMNS}:nth-child(3) td[name='intake_key']:not(:empty)`,
        },
        {
            content: "Open the preview",
            trigger: ".o_notebook .nav-link[name='preview']",
            run: "click",
        },
        {
            content: "The preview shows the first rows normalized",
            trigger: ".o_crm_lead_import_preview td:contains('+84 903 000 111')",
        },
        {
            content: "The row with a bad email is flagged",
            trigger: ".o_crm_lead_import_preview .text-danger:contains('sai@@example')",
        },
        {
            content: "Import",
            trigger: ".o_form_statusbar button[name='action_import']",
            run: "click",
        },
        {
            content: "The report lists both rows: one created, one rejected with its reason",
            trigger: `${REPORT}:nth-child(2) td[name='reason']:contains('sai@@example')`,
        },
        {
            content: "The created row links its lead",
            trigger: `${REPORT}:nth-child(1) td[name='lead_id']:contains('Hoàng Văn Tour')`,
        },
    ],
});
