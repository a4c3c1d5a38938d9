"""The circle's phones as CSV: export, and a bulk import previewed before it applies.

The format (one header row, then one phone per row):

    extension,name,terminal_type,carrier,pickup_group

``terminal_type`` is ``sip_phone``, ``softphone``, ``mobile`` or ``phs``; ``carrier``
(mobiles only) ``docomo``, ``au``, ``softbank`` or ``other``; ``pickup_group`` a group's
name (empty: Default, R16). A row whose extension is one of the circle's phones changes
that phone; any other row adds a phone (R13 range, free). So an exported file imports
back unchanged, and an edited export applies its edits.

Files are read as UTF-8 (with or without BOM) or, failing that, as CP932 (the Shift_JIS
of Japanese Excel); exports are UTF-8 with BOM or CP932, both of which Excel opens.
The preview checks every row and lists every problem (row, column, message); nothing is
applied while there is one, and the import applies only the file previewed, against the
circle as it was previewed (``state_digest``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from tenants.models import Circle, PickupGroup, RingGroup, Unique, UniqueKind
from tenants.services.circles.common import CircleSettingsError, StaleConfirmation
from tenants.services.circles.pickup_groups import pickup_group_choices
from tenants.services.circles.terminals import TerminalInput, create_terminal
from tenants.services.circles.uniques import apply_terminal_type, change_terminal_type
from tenants.validation import Outcome, extension_problem, normalized
from tenants.validation import name_problem as display_name_problem

COLUMNS = ("extension", "name", "terminal_type", "carrier", "pickup_group")
MAX_BYTES = 256 * 1024
MAX_ROWS = 2000
ENCODINGS = {"utf-8-sig": "UTF-8 (BOM)", "cp932": "Shift_JIS (CP932)"}


class CsvFileError(CircleSettingsError):
    """The file cannot be read as a CSV of phones at all."""


@dataclass(frozen=True)
class RowError:
    row: int  # the file's line number, the header being row 1
    column: str
    message: str


@dataclass(frozen=True)
class PlannedRow:
    row: int
    action: str  # "add" | "change" | "same"
    extension: str
    name: str
    terminal_type: str
    carrier: str
    pickup_group: str


@dataclass
class ImportPreview:
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    sha256: str = ""
    state: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


@dataclass
class ImportResult:
    added: int = 0
    changed: int = 0
    sip_secrets: list[tuple[Unique, str]] = field(default_factory=list)


# --- export -----------------------------------------------------------------------------


def _phones(circle: Circle) -> list[Unique]:
    return list(
        db.session.scalars(
            select(Unique)
            .where(Unique.kind == UniqueKind.PHONE)
            .order_by(Unique.extension.asc().nulls_last(), Unique.id)
        ).all()
    )


def export_text(circle: Circle) -> str:
    require_circle_scope(circle.id)
    groups = {group.id: group.name for group in pickup_group_choices(circle)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for unique in _phones(circle):
        writer.writerow(
            [
                unique.extension or "",
                unique.display_name,
                unique.terminal_type.value if unique.terminal_type else "",
                unique.carrier.value if unique.carrier else "",
                groups.get(unique.pickup_group_id, ""),
            ]
        )
    return out.getvalue()


def export_csv(circle: Circle, encoding: str) -> bytes:
    """The phones as CSV in ``encoding`` (``utf-8-sig`` or ``cp932``). A name CP932
    cannot hold raises ``CircleSettingsError`` (export UTF-8 instead)."""
    require_circle_scope(circle.id)
    if encoding not in ENCODINGS:
        raise CircleSettingsError(str(_l("Choose UTF-8 or Shift_JIS (CP932).")))
    try:
        return export_text(circle).encode(encoding)
    except UnicodeEncodeError as exc:
        raise CircleSettingsError(
            str(
                _l(
                    "A name contains a character Shift_JIS (CP932) cannot hold "
                    "(%(char)s): export as UTF-8 instead.",
                    char=exc.object[exc.start : exc.end],
                )
            )
        ) from exc


# --- import ----------------------------------------------------------------------------


def decode(data: bytes, *, max_bytes: int = MAX_BYTES) -> str:
    """UTF-8 (a BOM is dropped), else CP932; anything else is refused. Shared by every
    CSV import of the portals (``max_bytes``: the importer's own limit)."""
    if not data:
        raise CsvFileError(str(_l("Choose a CSV file to import.")))
    if len(data) > max_bytes:
        raise CsvFileError(str(_l("The file is larger than %(n)d KB.", n=max_bytes // 1024)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            str(_l("The file is neither UTF-8 nor Shift_JIS (CP932): save it as CSV again."))
        ) from exc


def state_digest(circle: Circle) -> str:
    """What an import depends on: the circle's uniques, ring group extensions and pickup
    groups. A preview made against another state is stale."""
    require_circle_scope(circle.id)
    digest = hashlib.sha256(f"c{circle.id}:{circle.extension_length}".encode())
    for row in db.session.execute(
        select(
            Unique.id,
            Unique.extension,
            Unique.display_name,
            Unique.terminal_type,
            Unique.carrier,
            Unique.pickup_group_id,
            Unique.edit_version,
        ).order_by(Unique.id)
    ):
        digest.update(repr(tuple(row)).encode())
    for group_row in db.session.execute(
        select(RingGroup.id, RingGroup.extension).order_by(RingGroup.id)
    ):
        digest.update(repr(tuple(group_row)).encode())
    for pickup_row in db.session.execute(
        select(PickupGroup.id, PickupGroup.name).order_by(PickupGroup.id)
    ):
        digest.update(repr(tuple(pickup_row)).encode())
    return digest.hexdigest()


def _header(first: list[str]) -> None:
    names = [normalized(name).lower() for name in first]
    if names != list(COLUMNS):
        raise CsvFileError(
            str(
                _l(
                    "The first row must be the header: %(columns)s.",
                    columns=",".join(COLUMNS),
                )
            )
        )


def preview_import(circle: Circle, data: bytes) -> ImportPreview:
    """Every row checked as the import would apply it; every problem listed."""
    require_circle_scope(circle.id)
    text = decode(data)
    preview = ImportPreview(sha256=hashlib.sha256(data).hexdigest(), state=state_digest(circle))
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise CsvFileError(str(_l("The file is not a readable CSV file."))) from exc
    if not lines:
        raise CsvFileError(str(_l("Choose a CSV file to import.")))
    _header(lines[0])
    if len(lines) - 1 > MAX_ROWS:
        raise CsvFileError(str(_l("Import at most %(n)d rows at once.", n=MAX_ROWS)))
    phones = {unique.extension: unique for unique in _phones(circle) if unique.extension}
    groups = {group.name.lower(): group for group in pickup_group_choices(circle)}
    seen: dict[str, int] = {}
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(COLUMNS):
            preview.errors.append(
                RowError(
                    number,
                    "",
                    str(_l("Expected %(n)d columns, found %(m)d.", n=len(COLUMNS), m=len(cells))),
                )
            )
            continue
        _check_row(circle, number, cells, phones, groups, seen, preview)
    if not preview.rows and not preview.errors:
        raise CsvFileError(str(_l("The file has no phones to import.")))
    return preview


def _check_row(
    circle: Circle,
    number: int,
    cells: list[str],
    phones: dict[str, Unique],
    groups: dict[str, PickupGroup],
    seen: dict[str, int],
    preview: ImportPreview,
) -> None:
    extension, name, terminal_type, carrier, group_name = (
        normalized(cells[0]),
        cells[1].strip(),
        normalized(cells[2]).lower(),
        normalized(cells[3]).lower(),
        cells[4].strip(),
    )
    outcome = Outcome()
    existing = phones.get(extension)
    if not extension:
        outcome.add("extension", _l("Enter the extension."))
    elif extension in seen:
        outcome.add(
            "extension",
            _l("Extension %(ext)s is also in row %(row)d.", ext=extension, row=seen[extension]),
        )
    elif existing is None:
        problem = extension_problem(circle, extension)
        if problem:
            outcome.add("extension", problem)
    if extension:
        seen.setdefault(extension, number)
    problem = display_name_problem(name)
    if problem:
        outcome.add("name", problem)
    probe = existing or Unique(whispering=False)
    change_terminal_type(probe, terminal_type, carrier, outcome)
    group = groups.get(group_name.lower()) if group_name else groups.get("default")
    if group is None:
        outcome.add("pickup_group", _l("No pickup group %(name)s in this circle.", name=group_name))
    for column, messages in outcome.errors.items():
        for message in messages:
            preview.errors.append(RowError(number, column, message))
    if not outcome.ok:
        return
    assert group is not None
    action = "add"
    if existing is not None:
        same = (
            existing.display_name == name
            and existing.terminal_type == terminal_type
            and (existing.carrier or "") == (carrier if terminal_type == "mobile" else "")
            and existing.pickup_group_id == group.id
        )
        action = "same" if same else "change"
    preview.rows.append(
        PlannedRow(
            number,
            action,
            extension,
            name,
            terminal_type,
            carrier if terminal_type == "mobile" else "",
            group.name,
        )
    )


def apply_import(circle: Circle, data: bytes, *, state: str) -> ImportResult:
    """Apply a previewed file: only if the circle is as it was previewed and the file
    has no problem (else ``StaleConfirmation`` / ``CircleSettingsError``, nothing
    applied). SIP phones added get their credentials; the secrets are returned once."""
    require_circle_scope(circle.id)
    if state != state_digest(circle):
        raise StaleConfirmation(
            str(
                _l(
                    "The circle's phones changed after this preview was made. Nothing was "
                    "imported; upload the file again to see a new preview."
                )
            )
        )
    preview = preview_import(circle, data)
    if not preview.ok:
        raise CircleSettingsError(str(_l("The file has problems: nothing was imported.")))
    phones = {unique.extension: unique for unique in _phones(circle) if unique.extension}
    groups = {group.name: group for group in pickup_group_choices(circle)}
    result = ImportResult()
    with audit_action("unique.import"):
        for row in preview.rows:
            if row.action == "same":
                continue
            group = groups[row.pickup_group]
            if row.action == "change":
                unique = phones[row.extension]
                checked = change_terminal_type(unique, row.terminal_type, row.carrier, Outcome())
                assert checked is not None
                unique.display_name = row.name
                unique.pickup_group_id = group.id
                apply_terminal_type(unique, *checked)
                result.changed += 1
                continue
            outcome = create_terminal(
                circle,
                TerminalInput(
                    extension=row.extension,
                    display_name=row.name,
                    terminal_type=row.terminal_type,
                    carrier=row.carrier,
                    pickup_group_id=str(group.id),
                ),
            )
            if not outcome.ok or outcome.unique is None:
                raise CircleSettingsError(str(_l("The file has problems: nothing was imported.")))
            if outcome.sip_secret:
                result.sip_secrets.append((outcome.unique, outcome.sip_secret))
            result.added += 1
        db.session.flush()
    return result


def row_errors_by_row(errors: list[RowError]) -> dict[int, list[RowError]]:
    grouped: dict[int, list[RowError]] = {}
    for error in errors:
        grouped.setdefault(error.row, []).append(error)
    return grouped
