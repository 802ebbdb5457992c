from . import crm_support_ticket_report
