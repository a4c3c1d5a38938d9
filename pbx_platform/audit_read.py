"""The audit trail as people read it: each row a sentence in the reader's language, with
the fields that changed (old → new), who, when (Japan time) and a link to the object.

The core knows no tenant object: contexts say how their tables and business actions
read through ``register_object`` and ``register_action`` in their ``init_app``. A table
nobody registered still reads ("… changed audit object #3"), by its table name.
Filters (``AuditFilter``) take Japan-time days, an actor, an object and an action;
``audit_page`` pages the caller's scope newest first (the reseller/created_at index),
``csv_bytes`` exports the filtered rows as UTF-8 with a BOM, so that Excel opens it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from pbx_platform.audit import REDACTED
from pbx_platform.db import db
from pbx_platform.japanese import TOKYO, day_start, jdatetime
from pbx_platform.models import AuditLog
from pbx_platform.paging import Page, Paging, paginate

Link = Callable[[AuditLog], str | None]

# Columns that say where a row lives or when it was written, not what someone set.
_NOT_SHOWN = {"id", "reseller_id", "account_id", "circle_id", "created_at", "updated_at"}


@dataclass(frozen=True)
class ObjectReading:
    label: Any  # a lazy string: "circle"
    title_fields: tuple[str, ...] = ("name",)
    link: Link | None = None


_objects: dict[str, ObjectReading] = {}
_actions: dict[str, Any] = {}
_fields: dict[str, Any] = {}
_values: dict[str, dict[str, Any]] = {}

_VERBS = {
    "create": _l("%(who)s created %(object)s"),
    "update": _l("%(who)s changed %(object)s"),
    "delete": _l("%(who)s deleted %(object)s"),
}
_ACTOR_KINDS = {
    "platform": _l("operator"),
    "reseller": _l("staff"),
    "account_manager": _l("account manager"),
    "circle": _l("circle"),
    "api_client": _l("API client"),
    "system": _l("system"),
}


def register_object(
    object_type: str,
    label: Any,
    *,
    title: Sequence[str] = ("name",),
    link: Link | None = None,
) -> None:
    """How rows of table ``object_type`` read: its name in a sentence, the fields that
    name one of them, and where its page is (``link`` answers None when there is none)."""
    _objects[object_type] = ObjectReading(label, tuple(title), link)


def register_action(action: str, sentence: Any) -> None:
    """A business action's sentence, with ``%(who)s`` and ``%(object)s``."""
    _actions[action] = sentence


def register_fields(labels: Mapping[str, Any]) -> None:
    """Names of columns as the pages call them (``extension_length`` → "extension length")."""
    _fields.update(labels)


def register_values(column: str, labels: Mapping[str, Any]) -> None:
    """How the stored values of a column read (``kind``: ``ivr`` → "IVR")."""
    _values.setdefault(column, {}).update(labels)


register_action("tenant.bypass", _l("%(who)s read across tenants (%(reason)s)"))


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Reading:
    entry: AuditLog
    sentence: str
    changes: Sequence[Change]
    link: str | None

    @property
    def when(self) -> str:
        return jdatetime(self.entry.created_at)


def _verb(entry: AuditLog) -> str:
    """create, update or delete for a row the hooks recorded; "" for a business action."""
    prefix = entry.object_type + "."
    return entry.action.removeprefix(prefix) if entry.action.startswith(prefix) else ""


def _value(value: Any, key: str = "") -> str:
    label = _values.get(key, {}).get(value) if isinstance(value, str) else None
    if label is not None:
        return str(label)
    if value is None or value == "":
        return "—"
    if value == REDACTED:
        return gettext("(hidden)")
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    return str(value)


def field_label(key: str) -> str:
    label = _fields.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def object_phrase(entry: AuditLog) -> str:
    reading = _objects.get(entry.object_type)
    label = str(reading.label) if reading else entry.object_type.replace("_", " ")
    values = {**(entry.before or {}), **(entry.after or {})}
    for key in reading.title_fields if reading else ("name",):
        title = values.get(key)
        if title not in (None, "", REDACTED):
            return gettext("%(kind)s “%(title)s”", kind=label, title=_value(title, key))
    if entry.object_id is None:
        return label
    return gettext("%(kind)s #%(id)s", kind=label, id=entry.object_id)


def actor_phrase(entry: AuditLog) -> str:
    kind = _ACTOR_KINDS.get(entry.actor_kind)
    if entry.actor_kind == "system" or kind is None:
        return str(kind or entry.actor_label)
    return gettext("%(name)s (%(kind)s)", name=entry.actor_label, kind=kind)


def changes(entry: AuditLog) -> list[Change]:
    before, after = entry.before or {}, entry.after or {}
    if entry.object_type == "scope":
        return []
    keys = list(after) if entry.after is not None else list(before)
    found = []
    for key in keys:
        if key in _NOT_SHOWN or key.endswith("edit_version"):
            continue
        old, new = before.get(key), after.get(key)
        if entry.before is None and new is None:
            continue  # a new row's empty column says nothing
        if entry.after is None and old is None:
            continue
        found.append(Change(field_label(key), _value(old, key), _value(new, key)))
    return found


def describe(entry: AuditLog) -> Reading:
    """R23's trail, one row as a sentence in the reader's language."""
    who = actor_phrase(entry)
    what = object_phrase(entry)
    template = _actions.get(entry.action) or _VERBS.get(_verb(entry))
    if template is not None:
        reason = (entry.after or {}).get("reason", "") if entry.object_type == "scope" else ""
        sentence = str(template) % {"who": who, "object": what, "reason": reason}
    else:
        sentence = gettext(
            "%(who)s: %(action)s on %(object)s", who=who, action=entry.action, object=what
        )
    reading = _objects.get(entry.object_type)
    link = None
    if reading and reading.link and entry.object_id is not None and _verb(entry) != "delete":
        link = reading.link(entry)
    return Reading(entry, sentence, changes(entry), link)


# -- filters ---------------------------------------------------------------------------------

MAX_TEXT = 200


@dataclass(frozen=True)
class AuditFilter:
    """What the reader narrowed the trail to. Days are Japan-time days, inclusive."""

    start: date | None = None
    end: date | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    action: str | None = None
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        """Parse the filter form; a value that does not parse is left out and named in
        ``errors`` (the page says so and shows the trail without it)."""
        errors: list[str] = []

        def day(name: str) -> date | None:
            raw = (args.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors.append(gettext("Enter the date as YYYY-MM-DD."))
                return None

        def text(name: str) -> str | None:
            raw = (args.get(name) or "").strip()
            return raw[:MAX_TEXT] or None

        object_id = None
        raw_id = (args.get("object_id") or "").strip()
        if raw_id:
            if raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10:
                object_id = int(raw_id)
            else:
                errors.append(gettext("The object number must be a whole number."))
        start, end = day("start"), day("end")
        if start and end and start > end:
            errors.append(gettext("The first day must not be after the last day."))
            start = end = None
        return cls(
            start=start,
            end=end,
            actor=text("actor"),
            object_type=text("object_type"),
            object_id=object_id,
            action=text("action"),
            errors=tuple(dict.fromkeys(errors)),
        )

    def args(self) -> dict[str, Any]:
        """The filter as query parameters (for paging links and the CSV link)."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "actor": self.actor,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "action": self.action,
        }


def filtered(criteria: AuditFilter, *, account_id: int | None = None) -> Select[Any]:
    """The caller's scope's trail, narrowed (the scope does the tenant part)."""
    query = select(AuditLog)
    if account_id is not None:
        query = query.where(AuditLog.account_id == account_id)
    if criteria.start:
        query = query.where(AuditLog.created_at >= day_start(criteria.start))
    if criteria.end:
        query = query.where(AuditLog.created_at < day_start(criteria.end + timedelta(1)))
    if criteria.actor:
        query = query.where(AuditLog.actor_label == criteria.actor)
    if criteria.object_type:
        query = query.where(AuditLog.object_type == criteria.object_type)
    if criteria.object_id is not None:
        query = query.where(AuditLog.object_id == criteria.object_id)
    if criteria.action:
        query = query.where(AuditLog.action == criteria.action)
    return query


ORDER = {"created_at": AuditLog.created_at}


def audit_page(criteria: AuditFilter, args: Mapping[str, str]) -> Page[Reading]:
    paging = Paging.from_args(args, tuple(ORDER), default="created_at", descending=True)
    page = paginate(filtered(criteria), paging, ORDER, AuditLog.id)
    return Page(items=[describe(e) for e in page.items], paging=page.paging, total=page.total)


def choices() -> dict[str, list[tuple[str, str]]]:
    """What the filter form offers: the actors, objects and actions of the scope's trail."""

    def distinct(column: Any) -> list[str]:
        found = db.session.scalars(select(column).distinct().order_by(column).limit(500))
        return [value for value in found if value]

    objects = [
        (value, str(_objects[value].label) if value in _objects else value.replace("_", " "))
        for value in distinct(AuditLog.object_type)
    ]
    return {
        "actors": [(value, value) for value in distinct(AuditLog.actor_label)],
        "objects": sorted(objects, key=lambda pair: pair[1]),
        "actions": [(value, value) for value in distinct(AuditLog.action)],
    }


# -- CSV -----------------------------------------------------------------------------------

MAX_EXPORT = 50_000


def _csv_when(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return f"{aware.astimezone(TOKYO):%Y-%m-%d %H:%M:%S}"


def csv_rows(criteria: AuditFilter) -> Iterable[list[str]]:
    yield [
        gettext("When (Japan time)"),
        gettext("Who"),
        gettext("Action"),
        gettext("Object"),
        gettext("Object number"),
        gettext("What happened"),
        gettext("Changes"),
    ]
    query = filtered(criteria).order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    for entry in db.session.scalars(query.limit(MAX_EXPORT)):
        reading = describe(entry)
        yield [
            _csv_when(entry.created_at),
            entry.actor_label,
            entry.action,
            entry.object_type,
            "" if entry.object_id is None else str(entry.object_id),
            reading.sentence,
            "; ".join(f"{c.field}: {c.old} → {c.new}" for c in reading.changes),
        ]


def csv_bytes(criteria: AuditFilter) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv_rows(criteria):
        # A cell Excel would read as a formula is written as text.
        writer.writerow(["'" + cell if cell[:1] in ("=", "+", "-", "@") else cell for cell in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
