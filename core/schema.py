"""Every table of the product, for Alembic and for tools that need the whole schema.

Feature packages keep their tables beside their services; importing this module loads them all
into `Base.metadata`.
"""

import core.accounts.models  # noqa: E402,F401
import core.cases.models  # noqa: E402,F401
import core.documents.models  # noqa: E402,F401
import core.forms.models  # noqa: E402,F401
import core.messages.models  # noqa: E402,F401
import core.onboarding.models  # noqa: E402,F401
import core.reminders.models  # noqa: E402,F401
from core.models import Base

metadata = Base.metadata
