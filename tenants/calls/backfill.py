"""Staff back-fill of call records from CSV, previewed before anything is kept.

One header row with the columns of ``tenants.calls.fields.FIELDS``, then one call per
row, each checked by ``fields.parse_call`` (the rules of the PBX nodes' API, so both
accept and refuse the same records). The file is read as UTF-8 (with or without BOM)
or CP932, like the phones' import (``unique_csv.decode``). The preview says how many
records are new, how many are already known (same call id: the import is idempotent)
and lists every rejected row with its line number and reasons; the import keeps the
new ones (``records.add(..., source=CallSource.CSV)``) and skips the rejected ones.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.validation import normalized
from tenants.calls import fields, records
from tenants.calls.models import CallRecord, CallSource
from tenants.models import Circle, Unique
from tenants.services.circles.unique_csv import CsvFileError, decode

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# The preview lists this many rejected rows and counts the rest.
SHOWN_REJECTIONS = 200
_ID_CHUNK = 500

TEMPLATE_ROWS = (
    (
        "pbx-20261130-0001",
        "201",
        "in",
        "03-5555-0001",
        "201",
        "2026-11-30T09:15:00+09:00",
        "2026-11-30T09:15:08+09:00",
        "2026-11-30T09:19:41+09:00",
        "answered",
    ),
    (
        "pbx-20261130-0002",
        "202",
        "out",
        "202",
        "090-1234-5678",
        "2026-11-30T10:02:00+09:00",
        "",
        "2026-11-30T10:02:30+09:00",
        "no_answer",
    ),
)


@dataclass(frozen=True)
class RejectedRow:
    line: int  # the file's line number, the header being line 1
    reasons: Sequence[tuple[str, str]]  # (column, message)


@dataclass
class BackfillPreview:
    new: int = 0
    known: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    sha256: str = ""

    @property
    def shown_rejections(self) -> list[RejectedRow]:
        return self.rejected[:SHOWN_REJECTIONS]

    @property
    def hidden_rejections(self) -> int:
        return max(0, len(self.rejected) - SHOWN_REJECTIONS)


@dataclass
class BackfillResult:
    added: int = 0
    known: int = 0
    rejected: int = 0


def template_csv() -> bytes:
    """A file to start from: the header and two example rows, UTF-8 with BOM (Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields.FIELDS)
    writer.writerows(TEMPLATE_ROWS)
    return out.getvalue().encode("utf-8-sig")


def _lines(data: bytes) -> list[list[str]]:
    if len(data) > MAX_BYTES:
        raise CsvFileError(str(_l("The file is larger than %(n)d MB.", n=MAX_BYTES // 2**20)))
    text = decode(data, max_bytes=MAX_BYTES)
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CsvFileError(str(_l("The file is not a readable CSV file."))) from exc
    if not lines:
        raise CsvFileError(str(_l("Choose a CSV file to import.")))
    names = [normalized(name).strip().lower() for name in lines[0]]
    if names != list(fields.FIELDS):
        raise CsvFileError(
            str(
                _l(
                    "The first row must be the header: %(columns)s.",
                    columns=",".join(fields.FIELDS),
                )
            )
        )
    if len(lines) - 1 > MAX_ROWS:
        raise CsvFileError(str(_l("Import at most %(n)d rows at once.", n=MAX_ROWS)))
    return lines


def _parsed(
    circle: Circle, data: bytes, now: datetime
) -> Iterator[tuple[int, records.CallInput | RejectedRow]]:
    """Every non-empty row: its line number and the call, or why it is rejected (a call
    id that an earlier row of the file has too is rejected, naming that row)."""
    lines = _lines(data)
    extensions = {
        u.extension: u
        for u in db.session.scalars(select(Unique).where(Unique.extension.is_not(None)))
        if u.extension
    }
    seen: dict[str, int] = {}
    for line, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(fields.FIELDS):
            message = _l("Expected %(n)d columns, found %(m)d.", n=len(fields.FIELDS), m=len(cells))
            yield line, RejectedRow(line, (("", str(message)),))
            continue
        parsed = fields.parse_call(
            dict(zip(fields.FIELDS, cells, strict=True)), extensions, now=now
        )
        if isinstance(parsed, dict):
            yield line, RejectedRow(line, tuple(parsed.items()))
            continue
        if parsed.call_id in seen:
            message = _l("The call ID is also in line %(line)d.", line=seen[parsed.call_id])
            yield line, RejectedRow(line, (("call_id", str(message)),))
            continue
        seen[parsed.call_id] = line
        yield line, parsed


def _known_ids(call_ids: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for at in range(0, len(call_ids), _ID_CHUNK):
        chunk = call_ids[at : at + _ID_CHUNK]
        known.update(
            db.session.scalars(select(CallRecord.call_id).where(CallRecord.call_id.in_(chunk)))
        )
    return known


def preview(circle: Circle, data: bytes, *, now: datetime) -> BackfillPreview:
    """What the import of ``data`` would do; nothing is written. A file that cannot be
    read at all raises ``CsvFileError``."""
    require_circle_scope(circle.id)
    result = BackfillPreview(sha256=hashlib.sha256(data).hexdigest())
    calls: list[records.CallInput] = []
    for _line, item in _parsed(circle, data, now):
        if isinstance(item, RejectedRow):
            result.rejected.append(item)
        else:
            calls.append(item)
    known = _known_ids([c.call_id for c in calls])
    result.known = sum(1 for c in calls if c.call_id in known)
    result.new = len(calls) - result.known
    if not calls and not result.rejected:
        raise CsvFileError(str(_l("The file has no calls to import.")))
    return result


def apply(circle: Circle, data: bytes, *, now: datetime) -> BackfillResult:
    """Keep the new calls of ``data`` (source CSV); known ones change nothing, rejected
    rows are skipped, and so is a call id that another circle of the reseller already
    uses (the id is the PBX's, unique per reseller). Audited as one action."""
    require_circle_scope(circle.id)
    result = BackfillResult()
    with audit_action("calls.import"):
        calls: list[records.CallInput] = []
        for _line, item in _parsed(circle, data, now):
            if isinstance(item, RejectedRow):
                result.rejected += 1
            else:
                calls.append(item)
        known = _known_ids([c.call_id for c in calls])
        for call in calls:
            if call.call_id in known:
                result.known += 1
                continue
            try:
                with db.session.begin_nested():
                    _row, is_new = records.add(circle, call, source=CallSource.CSV)
            except IntegrityError:
                result.rejected += 1
                continue
            if is_new:
                result.added += 1
            else:
                result.known += 1
    return result
