from . import crm_support_ticket_report
from . import crm_lead_report_mixin
from . import crm_lead_source_report
from . import crm_sales_script_report
