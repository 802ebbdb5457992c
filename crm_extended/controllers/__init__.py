from . import portal
from . import portal_contract
from . import lead_webhook
