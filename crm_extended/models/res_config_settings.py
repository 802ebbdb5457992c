from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# The roles whose members the settings screen lists; anything else in the context is refused.
ROLE_GROUPS = (
    "crm_extended.group_contact_user",
    "crm_extended.group_care_officer",
    "crm_extended.group_crm_manager",
    "crm_extended.group_personal_details",
)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_extended_missed_grace_hours = fields.Float(
        string="Missed after (hours)",
        config_parameter="crm_extended.contact_log_missed_grace_hours",
        default=24.0,
        help="A planned contact not held this many hours after its planned time is missed.",
    )
    crm_extended_missed_manager_hours = fields.Float(
        string="Team leader told after (hours)",
        config_parameter="crm_extended.contact_log_missed_manager_hours",
        default=48.0,
        help="Hours after a contact is missed, if still not held, its team leader is told.",
    )

    crm_extended_courtesy_days = fields.Integer(
        string="Courtesy reminders (days before)",
        config_parameter="crm_extended.courtesy_days_before",
        default=3,
        help="How many days before a birthday or an important date its courtesy call is "
        "planned for the salesperson.",
    )

    crm_contract_require_original = fields.Boolean(
        related="company_id.crm_contract_require_original", readonly=False
    )
    crm_contract_invoice_post = fields.Boolean(
        related="company_id.crm_contract_invoice_post", readonly=False
    )
    crm_contract_renewal_days = fields.Integer(
        related="company_id.crm_contract_renewal_days", readonly=False
    )
    crm_contract_due_soon_days = fields.Integer(
        related="company_id.crm_contract_due_soon_days", readonly=False
    )
    crm_payment_reminder_interval = fields.Integer(
        related="company_id.crm_payment_reminder_interval", readonly=False
    )
    crm_rfm_source = fields.Selection(related="company_id.crm_rfm_source", readonly=False)
    crm_rfm_lookback_months = fields.Integer(
        related="company_id.crm_rfm_lookback_months", readonly=False
    )
    crm_rfm_trend_days = fields.Integer(related="company_id.crm_rfm_trend_days", readonly=False)

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains(
        "crm_extended_missed_grace_hours",
        "crm_extended_missed_manager_hours",
        "crm_extended_courtesy_days",
    )
    def _check_missed_hours(self):
        for settings in self:
            if (
                settings.crm_extended_missed_grace_hours < 0
                or settings.crm_extended_missed_manager_hours < 0
                or settings.crm_extended_courtesy_days < 0
            ):
                raise ValidationError(self.env._("Delays and numbers of days cannot be negative."))

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_crm_extended_open_role_users(self):
        """Open the users holding the crm_extended role named in the context.

        Used by the buttons of the "Customer Relationship" block of the Sales
        settings, so an administrator sees at once who holds each role.
        """
        self.ensure_one()
        xmlid = self.env.context.get("crm_extended_group")
        if xmlid not in ROLE_GROUPS:
            raise UserError(
                self.env._("This button lists the members of a crm_extended role only.")
            )
        group = self.env.ref(xmlid)
        return {
            "type": "ir.actions.act_window",
            "name": group.full_name,
            "res_model": "res.users",
            "view_mode": "list,form",
            "domain": [("groups_id", "in", group.ids)],
            "context": {"default_groups_id": [group.id]},
        }
