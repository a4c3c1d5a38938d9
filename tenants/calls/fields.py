"""What a call record says, checked field by field: shared by the PBX nodes' API
(JSON) and the staff's CSV back-fill, so both accept and refuse the same things.

``parse_call`` takes the fields as text (JSON values are strings or null; a CSV row's
cells are strings) and returns a ``CallInput`` or the problems, each a message in the
user's language keyed by the field. Nothing here reads the request or writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import phonenumbers
from flask_babel import lazy_gettext as _l

from pbx_platform.validation import has_control_characters, normalized
from tenants.calls.models import Direction, Disposition
from tenants.calls.records import CallInput
from tenants.models import Unique

MAX_CALL_ID = 100
MAX_PARTY = 32
# A report of a call further in the future than this is a clock error.
FUTURE_SLACK = timedelta(minutes=10)
MAX_CALL_LENGTH = timedelta(hours=24)

DIRECTIONS = {d.value: d for d in Direction}
DISPOSITIONS = {d.value: d for d in Disposition}
FIELDS = (
    "call_id",
    "extension",
    "direction",
    "caller",
    "called",
    "started_at",
    "answered_at",
    "ended_at",
    "disposition",
)


def party(raw: str) -> str:
    """A caller or called party: a phone number as E.164 (region JP), anything else
    (an extension, "anonymous") as it was given, NFKC-normalised."""
    text = normalized(raw).strip()
    digits = text.replace("-", "").replace(" ", "").replace("(", "").replace(")", "")
    if len(digits) >= 10 and digits.lstrip("+").isdigit():
        try:
            parsed = phonenumbers.parse(digits, "JP")
        except phonenumbers.NumberParseException:
            return text
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return text


def moment(raw: str) -> datetime | None:
    """ISO 8601 with an offset (``2026-11-30T14:30:05+09:00`` or ``…Z``) → UTC;
    None for anything else, a time without an offset included (it would be a guess)."""
    text = normalized(raw).strip()
    if not text or len(text) > 40:
        return None
    try:
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _text(values: Mapping[str, object], name: str) -> str:
    value = values.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def parse_call(
    values: Mapping[str, object],
    extensions: Mapping[str, Unique],
    *,
    now: datetime,
) -> CallInput | dict[str, str]:
    """One record → a ``CallInput``, or ``{field: message}``.

    ``extensions``: the circle's uniques by extension (an unknown extension is refused;
    none given is a call of no unique, e.g. one that ended in an IVR)."""
    problems: dict[str, str] = {}
    call_id = normalized(_text(values, "call_id")).strip()
    if not call_id:
        problems["call_id"] = str(_l("Enter the call ID."))
    elif len(call_id) > MAX_CALL_ID or has_control_characters(call_id):
        problems["call_id"] = str(
            _l("Use at most %(n)d characters, without control characters.", n=MAX_CALL_ID)
        )
    extension = normalized(_text(values, "extension")).strip()
    unique = None
    if extension:
        unique = extensions.get(extension)
        if unique is None:
            problems["extension"] = str(
                _l("There is no unique with extension %(ext)s in this circle.", ext=extension[:10])
            )
    direction = DIRECTIONS.get(_text(values, "direction").strip().lower())
    if direction is None:
        problems["direction"] = str(_l("Direction must be in, out or internal."))
    disposition = DISPOSITIONS.get(_text(values, "disposition").strip().lower())
    if disposition is None:
        problems["disposition"] = str(
            _l("Disposition must be answered, no_answer, busy or failed.")
        )
    parties = {}
    for name in ("caller", "called"):
        value = party(_text(values, name))
        if len(value) > MAX_PARTY or has_control_characters(value):
            problems[name] = str(
                _l("Use at most %(n)d characters, without control characters.", n=MAX_PARTY)
            )
        parties[name] = value
    times: dict[str, datetime | None] = {}
    for name in ("started_at", "answered_at", "ended_at"):
        raw = _text(values, name).strip()
        times[name] = moment(raw) if raw else None
        if raw and times[name] is None:
            problems[name] = str(
                _l("Enter a date and time with its offset, e.g. 2026-11-30T14:30:05+09:00.")
            )
    started, answered, ended = times["started_at"], times["answered_at"], times["ended_at"]
    for name in ("started_at", "ended_at"):
        if times[name] is None and name not in problems:
            problems[name] = str(_l("Enter the time."))
    if started and ended:
        if ended < started:
            problems["ended_at"] = str(_l("The end is before the start."))
        elif ended - started > MAX_CALL_LENGTH:
            problems["ended_at"] = str(_l("A call cannot last longer than 24 hours."))
        if started > now + FUTURE_SLACK:
            problems["started_at"] = str(_l("The start is in the future."))
    if answered and started and ended and not started <= answered <= ended:
        problems["answered_at"] = str(_l("The answer must lie between the start and the end."))
    if disposition == Disposition.ANSWERED and answered is None and "answered_at" not in problems:
        problems["answered_at"] = str(_l("An answered call needs its answer time."))
    if disposition not in (None, Disposition.ANSWERED) and answered is not None:
        problems["answered_at"] = str(_l("Only an answered call has an answer time."))
    if problems:
        return problems
    assert direction and disposition and started and ended
    return CallInput(
        call_id=call_id,
        direction=direction,
        started_at=started,
        answered_at=answered,
        ended_at=ended,
        disposition=disposition,
        unique=unique,
        extension=extension or None,
        caller=parties["caller"],
        called=parties["called"],
    )
