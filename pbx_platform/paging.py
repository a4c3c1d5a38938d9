"""Server-side paging and sorting of a list page, with bounded, validated parameters.

A list view names the columns it may be sorted by and reads ``?page=&sort=&dir=``
through ``Paging.from_args``: a page that is not a number, below 1, above ``MAX_PAGE``
or past the last page, or a sort key that is not offered, gives the first page in the
default order, never an error. ``paginate`` runs the query for that page (offset
paging: the list's order has an index behind it, and the id breaks ties so that a
row is never shown twice or skipped between pages).

Lists that grow without bound (a circle's calls: a million rows) page by keyset
instead: ``keyset_page`` reads the rows after (or before) an opaque cursor in a fixed
newest-first order on an indexed ``(time, id)`` pair, so the 100th page costs what the
first does; there is no OFFSET and no total count. A cursor that cannot be read gives
the first page, like a bad page number does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from pbx_platform.db import db

T = TypeVar("T")

MAX_PAGE = 10_000
DEFAULT_PER_PAGE = 50


def _int(raw: str | None, *, low: int, high: int) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        return None
    value = int(raw)
    return value if low <= value <= high else None


@dataclass(frozen=True)
class Paging:
    """What the list was asked for: page, sort key and direction (already validated)."""

    page: int
    sort: str
    descending: bool
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_args(
        cls,
        args: Mapping[str, str],
        sorts: Sequence[str],
        *,
        default: str,
        descending: bool = False,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> Paging:
        sort = args.get("sort") or default
        direction = args.get("dir")
        if sort not in sorts or direction not in (None, "", "asc", "desc"):
            # An order we do not offer: the list as it opens.
            return cls(1, default, descending, per_page)
        page = _int(args.get("page"), low=1, high=MAX_PAGE) or 1
        desc = descending if not direction else direction == "desc"
        return cls(page, sort, desc, per_page)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    paging: Paging
    total: int

    @property
    def page(self) -> int:
        return self.paging.page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.paging.per_page))

    def query_string(self, extra: Mapping[str, Any] | None = None, **changes: Any) -> str:
        """The URL query for another page or order of this list, keeping ``extra``
        (the list's filters)."""
        values = {
            "page": self.paging.page,
            "sort": self.paging.sort,
            "dir": "desc" if self.paging.descending else "asc",
        }
        values |= {key: value for key, value in (extra or {}).items() if value not in (None, "")}
        values |= changes
        return "?" + urlencode(values)

    def sort_query(self, key: str, extra: Mapping[str, Any] | None = None) -> str:
        """Sorting by ``key``: ascending first, the other way on the second click."""
        same = key == self.paging.sort
        direction = "asc" if not same or self.paging.descending else "desc"
        return self.query_string(extra, page=1, sort=key, dir=direction)


def paginate(
    query: Select[Any], paging: Paging, order: Mapping[str, Any], tiebreak: Any
) -> Page[Any]:
    """The rows of ``query`` on the asked page, ordered by ``order[paging.sort]`` and
    ``tiebreak``; a page past the last one gives the first page."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    total = total or 0
    pages = max(1, -(-total // paging.per_page))
    if paging.page > pages:
        paging = replace(paging, page=1)
    column = order[paging.sort]
    ordered = query.order_by(
        column.desc() if paging.descending else column.asc(),
        tiebreak.desc() if paging.descending else tiebreak.asc(),
    )
    items = db.session.scalars(
        ordered.limit(paging.per_page).offset((paging.page - 1) * paging.per_page)
    ).all()
    return Page(items=items, paging=paging, total=total)


# --- keyset paging -----------------------------------------------------------------------

OLDER = "older"
NEWER = "newer"
MAX_CURSOR = 80


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first list: the row's time and id. ``direction`` says
    whether the page wanted lies after it (``older``) or before it (``newer``)."""

    at: datetime
    id: int
    direction: str = OLDER

    def encode(self) -> str:
        """Opaque to the user: ``o`` or ``n``, microseconds since the epoch and the id,
        URL-safe base64."""
        micros = int(self.at.astimezone(UTC).timestamp()) * 1_000_000 + self.at.microsecond
        text = f"{self.direction[0]}.{micros}.{self.id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """The cursor in ``raw``, or None for anything that is not one of ours."""
        if not raw or len(raw) > MAX_CURSOR or not raw.isascii():
            return None
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        except (binascii.Error, ValueError):
            return None
        parts = text.split(".")
        if len(parts) != 3 or parts[0] not in ("o", "n"):
            return None
        if not all(p.isdigit() and 0 < len(p) <= 18 for p in parts[1:]):
            return None
        micros, row_id = int(parts[1]), int(parts[2])
        try:
            at = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(
                microsecond=micros % 1_000_000
            )
        except (OverflowError, OSError, ValueError):
            return None
        return cls(at, row_id, OLDER if parts[0] == "o" else NEWER)


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page, newest first; ``older`` / ``newer`` are the cursors of the pages
    beside it (None at either end)."""

    items: Sequence[T]
    older: str | None
    newer: str | None
    per_page: int


def _after(at: Any, row_id: Any, cursor: Cursor) -> ColumnElement[bool]:
    # Written out rather than as a row-value comparison, so that every backend reads it;
    # the plain bound on the time comes first so that the index range starts at the
    # cursor instead of filtering every newer row.
    if cursor.direction == OLDER:
        return and_(at <= cursor.at, or_(at < cursor.at, row_id < cursor.id))
    return and_(at >= cursor.at, or_(at > cursor.at, row_id > cursor.id))


def keyset_statement(
    query: Select[Any], at: Any, row_id: Any, cursor: Cursor | None, per_page: int
) -> Select[Any]:
    """The statement ``keyset_page`` runs (one more row than the page, to know whether
    there is a next one); public so that a test can EXPLAIN exactly it."""
    if cursor is not None:
        query = query.where(_after(at, row_id, cursor))
    if cursor is not None and cursor.direction == NEWER:
        query = query.order_by(at.asc(), row_id.asc())
    else:
        query = query.order_by(at.desc(), row_id.desc())
    return query.limit(per_page + 1)


@contextmanager
def index_order() -> Iterator[None]:
    """Plan the statements inside on PostgreSQL as walks of an index in its order.

    A keyset page reads ``LIMIT per_page + 1`` rows in the order of an index, so
    walking that index and stopping early is what makes the 100th page cost what the
    first does. But the row-level security policies (``pbx_platform.rls``) add
    conditions the planner cannot estimate, and it then expects a single matching row
    whatever the table holds: it picks a bitmap scan of the whole day range and a sort
    (or a sequential scan), which reads every call of the range instead of 51. Inside
    this block sequential scans, bitmap scans and sorts are off for the transaction
    (they only cost more: a statement no index serves still runs); they are put back as
    they were on leaving it. Elsewhere (SQLite) nothing changes."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    names = ("enable_seqscan", "enable_bitmapscan", "enable_sort")
    before = db.session.execute(
        select(
            *(func.current_setting(name) for name in names),
            *(func.set_config(name, "off", True) for name in names),
        )
    ).one()
    try:
        yield
    finally:
        db.session.execute(
            select(*(func.set_config(name, before[i], True) for i, name in enumerate(names)))
        )


def keyset_page(
    query: Select[Any],
    at: Any,
    row_id: Any,
    cursor: Cursor | None,
    *,
    per_page: int = DEFAULT_PER_PAGE,
    key: Any = None,
) -> KeysetPage[Any]:
    """The page of ``query`` (entities with the columns ``at`` and ``row_id``) after
    ``cursor``, newest first. ``key(row) -> (at, id)`` reads a row's position (default:
    the attributes named like the columns)."""

    def position(row: Any) -> tuple[datetime, int]:
        if key is not None:
            return key(row)
        return getattr(row, at.key), getattr(row, row_id.key)

    with index_order():
        rows = list(db.session.scalars(keyset_statement(query, at, row_id, cursor, per_page)).all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    backwards = cursor is not None and cursor.direction == NEWER
    if backwards:
        rows.reverse()
    if not rows:
        return KeysetPage(items=[], older=None, newer=None, per_page=per_page)
    first, last = position(rows[0]), position(rows[-1])
    has_older = more if not backwards else True
    has_newer = (cursor is not None) if not backwards else more
    return KeysetPage(
        items=rows,
        older=Cursor(*last, direction=OLDER).encode() if has_older else None,
        newer=Cursor(*first, direction=NEWER).encode() if has_newer else None,
        per_page=per_page,
    )
