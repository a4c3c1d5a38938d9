"""Server-side paging and sorting of a list page, with bounded, validated parameters.

A list view names the columns it may be sorted by and reads ``?page=&sort=&dir=``
through ``Paging.from_args``: a page that is not a number, below 1, above ``MAX_PAGE``
or past the last page, or a sort key that is not offered, gives the first page in the
default order, never an error. ``paginate`` runs the query for that page (offset
paging: the list's order has an index behind it, and the id breaks ties so that a
row is never shown twice or skipped between pages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, func, select

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
