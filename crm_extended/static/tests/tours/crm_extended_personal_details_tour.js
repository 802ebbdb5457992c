import { formatDate } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const { DateTime } = luxon;

// The tour runs in the user's language: it finds things by name attributes, types names
// that are the same in every language, and dates in the user's date format.
const HOBBY = "Leo núi";
const CHILD = "Nguyễn Bảo Ngọc";
const FORM = ".o_form_view";
const FAMILY = ".o_field_widget[name='family_member_ids']";
const HOBBIES = ".o_field_widget[name='hobby_ids']";

registry.category("web_tour.tours").add("crm_extended_personal_details", {
    steps: () => {
        const birthdate = formatDate(DateTime.fromISO("1982-03-15"));
        const childBirthdate = formatDate(DateTime.fromISO("2012-06-01"));
        return [
            {
                content: "Open the Personal tab of the contact",
                trigger: `${FORM} .o_notebook_headers a[name='crm_extended_personal']`,
                run: "click",
            },
            {
                content: "Type the birthdate",
                trigger: `${FORM} .o_field_widget[name='birthdate_date'] input`,
                run: `edit ${birthdate} && press Enter`,
            },
            {
                content: "The date is taken: the age is computed from it",
                trigger: `${FORM} .o_field_widget[name='age']:contains(/\\d\\d/)`,
            },
            {
                content: "Look for a hobby that does not exist yet",
                trigger: `${FORM} ${HOBBIES} input`,
                run: `edit ${HOBBY}`,
            },
            {
                content: "Create it",
                trigger: `${HOBBIES} .o_m2o_dropdown_option_create .dropdown-item:contains('${HOBBY}')`,
                run: "click",
            },
            {
                content: "The new hobby is a tag of the contact",
                trigger: `${HOBBIES} .o_tag:contains('${HOBBY}')`,
            },
            {
                content: "Add a family member",
                trigger: `${FAMILY} .o_field_x2many_list_row_add a`,
                run: "click",
            },
            {
                content: "A child",
                trigger: `${FAMILY} .o_selected_row .o_field_widget[name='relation'] select`,
                run: 'select "child"',
            },
            {
                content: "Type the child's name",
                trigger: `${FAMILY} .o_selected_row .o_field_widget[name='name'] input`,
                run: `edit ${CHILD}`,
            },
            {
                content: "Type the child's birth date",
                trigger: `${FAMILY} .o_selected_row .o_field_widget[name='birthdate'] input`,
                run: `edit ${childBirthdate}`,
            },
            {
                content: "The contact prefers e-mails",
                trigger: `${FORM} .o_field_widget[name='preferred_channel'] select`,
                run: 'select "email"',
            },
            ...stepUtils.saveForm(),
            {
                content: "The birthdate is saved",
                trigger: `${FORM} [name='birthdate_date'] input:value('${birthdate}')`,
            },
            {
                content: "and so is the age",
                trigger: `${FORM} .o_field_widget[name='age']:contains(/\\d\\d/)`,
            },
            {
                content: "The hobby is saved",
                trigger: `${FORM} ${HOBBIES} .o_tag:contains('${HOBBY}')`,
            },
            {
                content: "The child is in the family list",
                trigger: `${FAMILY} .o_data_row:contains('${CHILD}'):contains('${childBirthdate}')`,
            },
            {
                content: "The preferred channel is saved",
                trigger: `${FORM} [name='preferred_channel'] select:value('email')`,
            },
        ];
    },
});
