from . import crm_contact_log_reschedule_wizard
