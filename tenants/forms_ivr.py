"""The IVR edit form (R5): its fields read into ``ivr.IvrInput`` for the service, and
an IVR's saved settings written back into the fields (what "cancel" returns to, R18).

The page's fields are generated (one per weekday, one per key of the keypad), so the
form is hand-built rather than a Flask-WTF class; its CSRF token is checked by
``forms_util.validate_csrf_or_400``. The rules and their messages are the service's
(``tenants.options.ivr``); this module only knows the field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pbx_platform.japanese import national
from tenants.options import ivr
from tenants.options.models import Ivr

_DIGIT_FIELD = re.compile(r"^digit_(.+?)(_number)?$")


def _destination(data: Mapping[str, str], name: str) -> ivr.DestinationChoice:
    return ivr.DestinationChoice(
        choice=str(data.get(name) or ""), number=str(data.get(f"{name}_number") or "")
    )


def ivr_input(data: Mapping[str, str]) -> ivr.IvrInput:
    """The submitted edit form (``request.form``) as the service's typed input."""
    hours = {
        day: ivr.DayHours(
            open=bool(data.get(f"hours_{day}_open")),
            start=str(data.get(f"hours_{day}_start") or ""),
            end=str(data.get(f"hours_{day}_end") or ""),
        )
        for day in ivr.DAYS
    }
    digits = {
        digit: _destination(data, f"digit_{name}")
        for digit, name in ivr.DIGIT_FIELDS.items()
        if data.get(f"digit_{name}")
    }
    field_names = set(ivr.DIGIT_FIELDS.values())
    unknown = []
    for key in data:
        match = _DIGIT_FIELD.match(key)
        if match and match.group(1) not in field_names:
            unknown.append(match.group(1))
    return ivr.IvrInput(
        extension=str(data.get("extension") or ""),
        display_name=str(data.get("display_name") or ""),
        hours=hours,
        closed_on_holidays=bool(data.get("closed_on_holidays")),
        answer_after_seconds=str(data.get("answer_after_seconds") or ""),
        channels=str(data.get("channels") or ""),
        after_hours=_destination(data, "after_hours"),
        timeout=_destination(data, "timeout"),
        digits=digits,
        unknown_keys=tuple(unknown),
    )


def form_values(saved: Ivr) -> dict[str, str]:
    """The saved settings as the edit form's fields (what "cancel" returns to, R18)."""
    values = {
        "extension": saved.unique.extension or "",
        "display_name": saved.unique.display_name,
        "answer_after_seconds": str(saved.answer_after_seconds),
        "channels": str(saved.channels),
        "closed_on_holidays": "1" if saved.closed_on_holidays else "",
    }
    for day in ivr.DAYS:
        hours = (saved.business_hours or {}).get(day)
        values[f"hours_{day}_open"] = "1" if hours else ""
        values[f"hours_{day}_start"] = hours[0] if hours else ""
        values[f"hours_{day}_end"] = hours[1] if hours else ""
    _put_destination(values, "after_hours", saved.after_hours or ivr.HANGUP)
    _put_destination(values, "timeout", saved.timeout_destination or ivr.HANGUP)
    for digit, name in ivr.DIGIT_FIELDS.items():
        destination = (saved.digit_map or {}).get(digit)
        if destination:
            _put_destination(values, f"digit_{name}", destination)
        else:
            values[f"digit_{name}"] = ""
    return values


def _put_destination(values: dict[str, str], name: str, destination: Mapping[str, Any]) -> None:
    kind = destination.get("type")
    values[f"{name}_number"] = ""
    if kind == ivr.DestinationType.OUTSIDE:
        values[name] = str(kind)
        values[f"{name}_number"] = national(str(destination.get("number", "")))
    elif kind == ivr.DestinationType.HANGUP:
        values[name] = str(kind)
    else:
        values[name] = f"{kind}:{destination.get('id')}"
