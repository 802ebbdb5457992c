from . import crm_contact_log
from . import crm_contact_log_category
from . import crm_contact_log_outcome
from . import crm_contact_log_reschedule
from . import crm_contact_log_document_mixin

# the documents before the history view, which reads their columns
from . import sale_order
from . import account_move
from . import account_payment
from . import crm_lead
from . import crm_customer_timeline
from . import mail_activity
from . import res_config_settings
from . import res_partner
from . import res_partner_family_member
from . import res_partner_hobby
from . import res_partner_important_date
from . import res_partner_upcoming_date
