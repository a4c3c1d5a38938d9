"""Acting on one circle from code that holds a wider scope (an account's page, the
termination of an account, jobs): the circle's services read through the scope
narrowed to the circle (``tenancy.require_circle_scope``), so such code narrows first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from pbx_platform.db import db
from pbx_platform.tenancy import circle_scope
from tenants.models import Circle


@contextmanager
def within_circle(circle: Circle) -> Iterator[Circle]:
    """The circle, loaded again inside the scope narrowed to it. Narrowing drops other
    tenants' unchanged objects from the session, so the caller's other circles are not
    to be used inside; use the yielded one (and ``each_circle`` for several)."""
    reseller_id, account_id, circle_id = circle.reseller_id, circle.account_id, circle.id
    with circle_scope(reseller_id, account_id, circle_id):
        narrowed = db.session.get(Circle, circle_id)
        if narrowed is None:  # pragma: no cover - the caller held it a moment ago
            raise LookupError(f"circle {circle_id} vanished")
        yield narrowed


def each_circle(circles: Iterable[Circle]) -> Iterator[Circle]:
    """Each of ``circles`` in turn, narrowed to it (see ``within_circle``). The loop's
    body flushes what it changed before the next circle: a pending change of one circle
    is refused under another's scope."""
    keys = [(c.reseller_id, c.account_id, c.id) for c in circles]
    for reseller_id, account_id, circle_id in keys:
        with circle_scope(reseller_id, account_id, circle_id):
            narrowed = db.session.get(Circle, circle_id)
            if narrowed is not None:
                yield narrowed
