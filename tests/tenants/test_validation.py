"""The one set of validators (``pbx_platform.validation``, ``tenants.validation``) and the
virtual uniques' services, which read their circle through the tenant scope alone."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask_babel import force_locale

from pbx_platform.db import db
from pbx_platform.tenancy import Scope, TenantScopeError, circle_scope, use_scope
from pbx_platform.validation import Outcome, name_problem, normalized
from tenants import validation
from tenants.models import Circle, RingGroup, Unique
from tenants.options import conference, outbound, virtual

TODAY = date(2026, 11, 10)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("２０１", "201"),
        ("  ＡＢＣ ", "ABC"),
        ("＃ＡＢ", "#AB"),
        (None, ""),
        ("٢٥٠", "٢٥٠"),  # other scripts' digits stay what they are
    ],
)
def test_one_nfkc_normaliser(raw: Any, expected: str) -> None:
    assert normalized(raw) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name."),
        ("名" * 81, "Use at most 80 characters."),
        ("a\nb", "Use plain text without line breaks or control characters."),
        ("a\u202eb", "Use plain text without line breaks or control characters."),
        ("会議室" + "x" * 77, None),
    ],
)
def test_the_display_name_validator(app: Any, name: str, message: str | None) -> None:
    with app.test_request_context(), force_locale("en"):
        problem = name_problem(name)
        assert (str(problem) if problem is not None else None) == message


def _circle_scope(tenant: Any) -> Any:
    return circle_scope(tenant.reseller_id, tenant.account_id, tenant.circle_id)


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ("99", "Enter an extension of 3 digits from 200 to 899."),
        ("٢٥٠", "Enter an extension of 3 digits from 200 to 899."),
        ("900", "Enter an extension of 3 digits from 200 to 899."),
        ("201", "Extension 201 is already used by 受付."),
        ("400", "Extension 400 is already used by the ring group 代表."),
        ("250", None),
    ],
)
def test_the_extension_validator_r13(world: Any, app: Any, extension: str, message: Any) -> None:
    """R13: the circle's length and range, free among its uniques and ring groups; the
    unique being changed keeps its own extension."""
    with app.test_request_context(), force_locale("en"), _circle_scope(world.a):
        circle = db.session.get(Circle, world.a.circle_id)
        unique = db.session.get(Unique, world.a.unique_id)
        group = db.session.get(RingGroup, world.a.ring_group_id)
        assert circle is not None and unique is not None and group is not None
        unique.display_name, unique.extension = "受付", "201"
        group.name, group.extension = "代表", "400"
        db.session.flush()
        problem = validation.extension_problem(circle, extension)
        assert (str(problem) if problem is not None else None) == message
        assert validation.extension_problem(circle, "201", own_id=unique.id) is None
        db.session.rollback()


def test_check_extension_requires_one_unless_told_otherwise(world: Any, app: Any) -> None:
    with app.test_request_context(), force_locale("en"), _circle_scope(world.a):
        circle = db.session.get(Circle, world.a.circle_id)
        required, optional = Outcome(), Outcome()
        assert validation.check_extension(required, circle, "　") == ""
        assert required.errors == {"extension": ["Enter an extension."]}
        assert validation.check_extension(optional, circle, "", required=False) == ""
        assert optional.ok and optional.values == {"extension": ""}


SERVICES = {
    "rooms": lambda c, u: conference.rooms(c),
    "find_room": lambda c, u: conference.find_room(c, u.id),
    "member_candidates": lambda c, u: conference.member_candidates(c),
    "save_room": lambda c, u: conference.save_room(
        c, None, conference.RoomInput(name="x", extension="250"), TODAY
    ),
    "delete_room": lambda c, u: conference.delete_room(c, conference.RoomEntry(u, None), TODAY),
    "selectors": lambda c, u: outbound.selectors(c),
    "find_selector": lambda c, u: outbound.find_selector(c, u.id),
    "save_selector": lambda c, u: outbound.save_selector(
        c, None, outbound.SelectorInput(name="x", extension="250"), TODAY
    ),
    "delete_selector": lambda c, u: outbound.delete_selector(
        c, outbound.SelectorEntry(u, None), TODAY
    ),
    "circle_numbers": lambda c, u: virtual.circle_numbers(c),
}


@pytest.mark.parametrize("name", sorted(SERVICES))
@pytest.mark.parametrize("wider", ["reseller", "account", "other circle"])
def test_the_virtual_unique_services_refuse_a_scope_wider_than_their_circle(
    world: Any, app: Any, name: str, wider: str
) -> None:
    """They filter by nothing but the scope: under the reseller's or the account's scope
    they would see every circle's rooms and selectors, so they refuse instead."""
    t = world.a
    scope = {
        "reseller": Scope(t.reseller_id),
        "account": Scope(t.reseller_id, t.account_id),
        "other circle": Scope(t.reseller_id, t.account_id, t.other_circle_id),
    }[wider]
    with app.test_request_context(), force_locale("en"):
        with use_scope(Scope(t.reseller_id, t.account_id)):
            circle = db.session.get(Circle, t.circle_id)
            unique = db.session.get(Unique, t.unique_id)
            assert circle is not None and unique is not None
        with use_scope(scope), pytest.raises(TenantScopeError):
            SERVICES[name](circle, unique)
        with use_scope(Scope(t.reseller_id, t.account_id)):
            assert db.session.get(Unique, t.unique_id) is not None


def test_under_the_circle_scope_the_services_see_that_circle_only(world: Any, app: Any) -> None:
    t = world.a
    with app.test_request_context(), _circle_scope(t):
        circle = db.session.get(Circle, t.circle_id)
        assert circle is not None
        assert {e.unique.circle_id for e in conference.rooms(circle)} <= {t.circle_id}
        assert {e.unique.circle_id for e in outbound.selectors(circle)} <= {t.circle_id}
        assert {u.circle_id for u in conference.member_candidates(circle)} <= {t.circle_id}
        assert {n.circle_id for n in virtual.circle_numbers(circle)} == {t.circle_id}
