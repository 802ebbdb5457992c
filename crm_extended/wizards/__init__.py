from . import crm_contact_log_reschedule_wizard
from . import crm_payment_reminder_preview
from . import account_move_dispute_wizard
from . import crm_promotion_preview
from . import crm_promotion_followup
