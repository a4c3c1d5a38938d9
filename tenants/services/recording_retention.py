"""R6: how long a reseller keeps its circles' recordings after their recording option
has ended (then ``pbx recordings purge`` and the daily job delete them). Set by the
reseller's admins in their portal (R22)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.versioning import claim_edit
from tenants.models import Reseller

MIN_DAYS = 1
MAX_DAYS = 3650  # ten years
DEFAULT_DAYS = 90
VERSION = "retention_edit_version"


class RetentionError(ValueError):
    pass


def set_retention_days(reseller: Reseller, days: int, *, version: int) -> None:
    """Keep ended circles' recordings for ``days`` (1–3650). ``version``: the form's
    ``retention_edit_version``; a stale form raises ``StaleEdit`` with nothing saved."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise RetentionError(
            str(_l("Enter a number from %(min)d to %(max)d.", min=MIN_DAYS, max=MAX_DAYS))
        )
    with audit_action("reseller.retention"):
        claim_edit(reseller, version, VERSION)
        reseller.recording_retention_days = days
        db.session.flush()
