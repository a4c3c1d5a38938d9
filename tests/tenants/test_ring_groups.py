"""Ring groups (同時呼出): create, edit (members in order, ring time 5–120 s), delete;
bad input changes nothing; the R13 notice links here; in both trees (circle login and
reseller staff)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, RingGroup, TerminalType, Unique
from tenants.options.models import Ivr
from tenants.services import circles
from tenants.services import provisioning as p
from tests.circle_pages import login, text, tree_client


@pytest.fixture(params=["portal", "staff"])
def tree(request: Any, world: Any, browser: Any) -> tuple[Any, str]:
    return tree_client(request.param, world, browser)


def state(app: Any, world: Any, circle_id: int | None = None) -> dict[str, Any]:
    """name → (extension, ring time, member ids in order) of the circle's ring groups."""
    with app.app_context(), use_scope(world.a.circle_scope):
        return {
            group.name: (
                group.extension,
                group.ring_time_seconds,
                [member.unique_id for member in group.members],
            )
            for group in db.session.scalars(
                select(RingGroup).where(RingGroup.circle_id == (circle_id or world.a.circle_id))
            )
        }


def add_phone(app: Any, world: Any, extension: str, name: str) -> int:
    with app.app_context(), use_scope(world.a.circle_scope):
        circle = db.session.get(Circle, world.a.circle_id)
        unique = p.create_unique(
            circle, extension=extension, display_name=name, terminal_type=TerminalType.SOFTPHONE
        )
        db.session.commit()
        return unique.id


def form(**values: Any) -> dict[str, Any]:
    return {"name": "Sales", "extension": "410", "ring_time": "25", "members": [], **values}


def test_the_list_shows_the_groups_with_their_members(world, tree):
    client, prefix = tree
    page = client.get(f"{prefix}/ring-groups")
    assert page.status_code == 200
    body = text(page)
    assert "代表" in body and ">400<" in body and "20 s" in body
    assert f'href="{prefix}/ring-groups/new"' in body


def test_create_a_group_with_members_in_the_typed_order(world, tree, app):
    client, prefix = tree
    second = add_phone(app, world, "203", "Second")
    response = client.post(
        f"{prefix}/ring-groups/new",
        form(
            members=[str(world.a.unique_id), str(second)],
            **{f"position_{world.a.unique_id}": "2", f"position_{second}": "１"},
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{prefix}/ring-groups"
    assert state(app, world)["Sales"] == ("410", 25, [second, world.a.unique_id])
    assert "The ring group Sales has been saved." in text(client.get(f"{prefix}/ring-groups"))


def test_full_width_digits_are_normalised(world, tree, app):
    client, prefix = tree
    response = client.post(f"{prefix}/ring-groups/new", form(extension="４１１", ring_time="３０"))
    assert response.status_code == 302
    assert state(app, world)["Sales"] == ("411", 30, [])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"extension": "999"}, "Enter an extension of 3 digits from 200 to 899."),
        ({"extension": "201"}, "Extension 201 is already used by 受付."),
        ({"extension": "400"}, "Extension 400 is already used by the ring group 代表."),
        ({"extension": ""}, "Enter the ring group's extension."),
        ({"ring_time": "4"}, "Enter a ring time from 5 to 120 seconds."),
        ({"ring_time": "121"}, "Enter a ring time from 5 to 120 seconds."),
        ({"ring_time": "ten"}, "Enter a ring time from 5 to 120 seconds."),
        ({"name": ""}, "Enter a name."),
        ({"name": "x" * 81}, "Use at most 80 characters."),
        ({"name": "a\nb"}, "Use plain text without line breaks or control characters."),
        ({"members": ["abc"]}, "Choose members among this circle's phones."),
        ({"members": ["99999999999999"]}, "Choose members among this circle's phones."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, tree, app, values, message):
    client, prefix = tree
    before = state(app, world)
    response = client.post(f"{prefix}/ring-groups/new", form(**values))
    assert response.status_code == 422
    body = text(response)
    assert message in body
    assert "Nothing was saved. Please correct the marked fields." in body
    assert state(app, world) == before


def test_a_conference_room_is_not_a_member(world, tree, app):
    client, prefix = tree
    with app.app_context(), use_scope(world.a.circle_scope):
        room = db.session.scalars(
            select(Unique.id).where(
                Unique.circle_id == world.a.circle_id, Unique.extension == "300"
            )
        ).one()
    response = client.post(f"{prefix}/ring-groups/new", form(members=[str(room)]))
    assert response.status_code == 422
    assert "Choose members among this circle's phones." in text(response)
    assert "Sales" not in state(app, world)


def test_a_unique_of_another_circle_is_refused(world, tree, app):
    """A forged member id (another tenant's, or the account's other circle's) links nothing."""
    client, prefix = tree
    with app.app_context(), use_scope(world.b.circle_scope):
        foreign = db.session.scalars(
            select(Unique.id).where(Unique.circle_id == world.b.circle_id)
        ).first()
    response = client.post(f"{prefix}/ring-groups/new", form(members=[str(foreign)]))
    assert response.status_code == 422
    assert "Choose members among this circle's phones." in text(response)
    assert "Sales" not in state(app, world)


def test_a_bad_position_is_refused(world, tree, app):
    client, prefix = tree
    uid = world.a.unique_id
    response = client.post(
        f"{prefix}/ring-groups/new", form(members=[str(uid)], **{f"position_{uid}": "0"})
    )
    assert response.status_code == 422
    assert "Enter each member's order as a number from 1 to 99." in text(response)


def test_too_many_members_are_refused(world, tree, app):
    client, prefix = tree
    ids = [add_phone(app, world, str(500 + n), f"p{n}") for n in range(21)]
    response = client.post(f"{prefix}/ring-groups/new", form(members=[str(i) for i in ids]))
    assert response.status_code == 422
    assert "A ring group rings at most 20 members." in text(response)


def test_edit_replaces_members_and_keeps_the_extension(world, tree, app):
    client, prefix = tree
    second = add_phone(app, world, "203", "Second")
    path = f"{prefix}/ring-groups/{world.a.ring_group_id}"
    assert client.get(path).status_code == 200
    response = client.post(
        path, form(name="代表", extension="400", ring_time="60", members=[str(second)])
    )
    assert response.status_code == 302
    assert state(app, world)["代表"] == ("400", 60, [second])


def test_a_stale_form_changes_nothing(world, tree, app):
    client, prefix = tree
    path = f"{prefix}/ring-groups/{world.a.ring_group_id}"
    before = state(app, world)
    response = client.post(path, {**form(name="Renamed", extension="400"), "edit_version": "7"})
    assert response.status_code == 302
    assert response.headers["Location"] == path
    assert state(app, world) == before
    assert "Someone else changed this page after you opened it." in text(client.get(path))


def test_delete_frees_the_extension(world, tree, app):
    client, prefix = tree
    response = client.post(f"{prefix}/ring-groups/{world.a.ring_group_id}/delete", {})
    assert response.status_code == 302
    assert state(app, world) == {}
    assert "The ring group 代表 has been deleted." in text(client.get(f"{prefix}/ring-groups"))
    assert client.post(f"{prefix}/ring-groups/new", form(extension="400")).status_code == 302


def test_delete_says_which_ivr_uses_it_and_the_ivr_hangs_up_there(world, tree, app):
    client, prefix = tree
    gid = world.a.ring_group_id
    with app.app_context(), use_scope(world.a.circle_scope):
        circle = db.session.get(Circle, world.a.circle_id)
        unique = p.create_unique(circle, extension="510", display_name="Menu", kind="ivr")
        db.session.add(
            Ivr(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                unique_id=unique.id,
                digit_map={"1": {"type": "ring_group", "id": gid}, "2": {"type": "hangup"}},
                timeout_destination={"type": "ring_group", "id": gid},
                after_hours={"type": "hangup"},
            )
        )
        db.session.commit()
    page = text(client.get(f"{prefix}/ring-groups/{gid}"))
    assert "These IVRs send callers to this ring group" in page
    assert "510 Menu: key 1, no key pressed" in page
    response = client.post(f"{prefix}/ring-groups/{gid}/delete", {})
    assert response.status_code == 302
    assert "IVRs that sent callers to it now hang up there: Menu." in text(
        client.get(f"{prefix}/ring-groups")
    )
    with app.app_context(), use_scope(world.a.circle_scope):
        ivr = db.session.scalars(select(Ivr)).one()
        assert ivr.digit_map["1"] == {"type": "hangup"}
        assert ivr.timeout_destination == {"type": "hangup"}


def test_after_an_extension_length_change_the_notice_links_here(world, tree, app):
    client, prefix = tree
    with app.app_context(), use_scope(world.a.circle_scope):
        circle = db.session.get(Circle, world.a.circle_id)
        plan = circles.plan_length_change(circle, 4)
        circles.change_extension_length(circle, 4, plan.token, renumber=True)
        db.session.commit()
    assert state(app, world)["代表"] == (None, 20, [])
    for page in ("/uniques", "/settings"):
        body = text(client.get(prefix + page))
        assert "1 ring group(s) lost their extension and members" in body
        assert f'href="{prefix}/ring-groups"' in body
    listing = text(client.get(f"{prefix}/ring-groups"))
    assert "to set up again" in listing
    response = client.post(
        f"{prefix}/ring-groups/{world.a.ring_group_id}",
        form(name="代表", extension="4000", members=[str(world.a.unique_id)]),
    )
    assert response.status_code == 302
    assert "lost their extension" not in text(client.get(f"{prefix}/uniques"))


def test_support_staff_read_but_cannot_change(world, browser, app):
    client = login(browser, world.a, "support")
    prefix = f"/staff/circles/{world.a.circle_id}"
    page = client.get(f"{prefix}/ring-groups")
    assert page.status_code == 200
    assert "Add a ring group" not in text(page)
    assert client.post(f"{prefix}/ring-groups/new", form()).status_code == 403
    assert "Sales" not in state(app, world)


def test_japanese_labels(world, browser):
    client = login(browser, world.a)
    client.post("/locale", {"locale": "ja", "next": "/"})
    body = text(client.get("/portal/ring-groups"))
    assert "同時呼出を追加" in body and "呼出時間" in body and "20秒" in body
    response = client.post("/portal/ring-groups/new", form(ring_time="1"))
    assert "呼出時間は5〜120秒で入力してください。" in text(response)
