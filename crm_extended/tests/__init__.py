from . import test_contact_log
from . import test_contact_log_security
from . import test_install
from . import test_personal_details
from . import test_personal_details_security
from . import test_security_groups
from . import test_sale_flow
from . import test_ui
