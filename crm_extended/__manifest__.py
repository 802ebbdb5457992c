{
    "name": "CRM Extended",
    "version": "18.0.1.0.0",
    "summary": "Contact logs, personal details, help desk, contracts with reminders "
    "and promotion plans inside the ERP",
    "category": "Sales/CRM",
    "author": "crm_extended developers",
    "website": "https://github.com/crm-extended/crm_extended",
    "license": "LGPL-3",
    "depends": [
        "crm",
        "sale_management",
        "account",
        "portal",
        "mail",
    ],
    "data": [
        "security/crm_extended_groups.xml",
        "security/ir.model.access.csv",
        "views/res_config_settings_views.xml",
    ],
    "demo": [
        "demo/res_users_demo.xml",
        "demo/res_partner_demo.xml",
        "demo/product_demo.xml",
        "demo/sale_order_demo.xml",
        "demo/account_move_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "crm_extended/static/tests/tours/*.js",
        ],
    },
    "pre_init_hook": "pre_init_hook",
    "application": True,
    "installable": True,
}
