"""R16 pickup groups: add, rename, delete (members fall back to Default), assign from a
unique's page; in both trees (circle login and reseller staff)."""

from __future__ import annotations

from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, PickupGroup, Unique
from tenants.services import circles
from tenants.services import provisioning as p
from tests.circle_pages import login, text, tree_client
from tests.factories import in_circle


@pytest.fixture(params=["portal", "staff"])
def tree(request: Any, world: Any, browser: Any) -> tuple[Any, str]:
    return tree_client(request.param, world, browser)


def groups(app: Any, world: Any, circle_id: int | None = None) -> dict[str, int]:
    with app.app_context(), use_scope(world.a.scope):
        return {
            group.name: group.id
            for group in db.session.scalars(
                select(PickupGroup).where(PickupGroup.circle_id == (circle_id or world.a.circle_id))
            )
        }


def add_group(app: Any, world: Any, name: str, circle_id: int | None = None) -> int:
    with in_circle(app, world.a, circle_id or world.a.circle_id) as circle:
        assert circle is not None
        outcome, group = circles.add_pickup_group(circle, name)
        assert outcome.ok and group is not None
        db.session.commit()
        return group.id


def group_of(app: Any, world: Any, unique_id: int) -> str:
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, unique_id)
        assert unique is not None
        return unique.pickup_group.name


def move(app: Any, world: Any, unique_id: int, group_id: int) -> None:
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, unique_id)
        assert unique is not None
        unique.pickup_group_id = group_id
        db.session.commit()


# --- the list and adding ---------------------------------------------------------------


def test_the_list_shows_default_first_with_member_counts(world, tree, app):
    client, prefix = tree
    add_group(app, world, "Sales")
    page = client.get(f"{prefix}/pickup-groups")
    assert page.status_code == 200
    body = text(page)
    assert body.index(">Default<") < body.index(">Sales<")
    assert f'href="{prefix}/uniques?group={groups(app, world)["Default"]}">3<' in body


def test_add_a_group(world, tree, app):
    client, prefix = tree
    response = client.post(f"{prefix}/pickup-groups", {"name": "Sales2"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{prefix}/pickup-groups"
    assert "Sales2" in groups(app, world)
    assert "The pickup group Sales2 has been added." in text(client.get(f"{prefix}/pickup-groups"))
    with app.app_context(), use_scope(world.a.scope):
        entry = db.session.scalars(
            select(AuditLog).where(
                AuditLog.action == "pickup_group.create",
                AuditLog.object_id == groups(app, world)["Sales2"],
            )
        ).one()
        assert entry.after["name"] == "Sales2"
        assert entry.circle_id == world.a.circle_id
        assert entry.actor_kind == ("circle" if prefix == "/portal" else "reseller")


def test_full_width_letters_and_digits_are_normalised(world, tree, app):
    client, prefix = tree
    assert client.post(f"{prefix}/pickup-groups", {"name": " Ｓａｌｅｓ１ "}).status_code == 302
    assert "Sales1" in groups(app, world)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name."),
        ("   ", "Enter a name."),
        ("Sales Team", "Use half-width letters and digits only"),
        ("営業", "Use half-width letters and digits only"),
        ("sales-1", "Use half-width letters and digits only"),
        ("<b>x</b>", "Use half-width letters and digits only"),
        ("a" * 41, "Use at most 40 characters."),
        (
            "default",
            "The pickup group Default already exists in this circle (names are compared "
            "ignoring upper and lower case).",
        ),
        ("SALES", "The pickup group Sales already exists"),
    ],
)
def test_bad_names_are_refused_and_nothing_is_added(world, tree, app, name, message):
    client, prefix = tree
    add_group(app, world, "Sales")
    response = client.post(f"{prefix}/pickup-groups", {"name": name})
    assert response.status_code == 422
    body = text(response)
    assert message in body
    assert "Nothing was saved" in body
    assert set(groups(app, world)) == {"Default", "Sales"}


def test_forty_characters_are_enough(world, tree, app):
    client, prefix = tree
    assert client.post(f"{prefix}/pickup-groups", {"name": "A" * 40}).status_code == 302
    assert "A" * 40 in groups(app, world)


def test_the_same_name_may_exist_in_another_circle(world, tree, app):
    client, prefix = tree
    add_group(app, world, "Sales", circle_id=world.a.other_circle_id)
    assert client.post(f"{prefix}/pickup-groups", {"name": "Sales"}).status_code == 302


def test_missing_csrf_token_adds_nothing(world, tree, app):
    client, prefix = tree
    response = client.post(f"{prefix}/pickup-groups", {"name": "Sales"}, csrf=False)
    assert response.status_code == 400
    assert "The form has expired" in text(response)
    assert set(groups(app, world)) == {"Default"}


# --- rename -------------------------------------------------------------------------------


def test_rename_a_group(world, tree, app):
    client, prefix = tree
    group_id = add_group(app, world, "Sales")
    page = text(client.get(f"{prefix}/pickup-groups/{group_id}"))
    assert "Save changes" in page and "Cancel" in page and 'value="Sales"' in page
    response = client.post(f"{prefix}/pickup-groups/{group_id}", {"name": "Support"})
    assert response.status_code == 302
    assert groups(app, world)["Support"] == group_id


def test_a_rename_may_change_only_the_case(world, tree, app):
    client, prefix = tree
    group_id = add_group(app, world, "Sales")
    assert client.post(f"{prefix}/pickup-groups/{group_id}", {"name": "SALES"}).status_code == 302
    assert groups(app, world)["SALES"] == group_id


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Night", "The pickup group Night already exists"),
        ("DEFAULT", "The pickup group Default already exists"),
        ("a b", "Use half-width letters and digits only"),
        ("x" * 41, "Use at most 40 characters."),
    ],
)
def test_a_bad_rename_changes_nothing(world, tree, app, name, message):
    client, prefix = tree
    group_id = add_group(app, world, "Sales")
    add_group(app, world, "Night")
    response = client.post(f"{prefix}/pickup-groups/{group_id}", {"name": name})
    assert response.status_code == 422
    assert message in text(response)
    assert groups(app, world)["Sales"] == group_id


def test_default_cannot_be_renamed(world, tree, app):
    client, prefix = tree
    default = groups(app, world)["Default"]
    page = text(client.get(f"{prefix}/pickup-groups/{default}"))
    assert "can be neither renamed nor deleted" in page
    assert 'name="name"' not in page
    response = client.post(f"{prefix}/pickup-groups/{default}", {"name": "Main"})
    assert response.status_code == 422
    assert "The group Default cannot be renamed." in text(response)
    assert groups(app, world) == {"Default": default}


# --- delete -------------------------------------------------------------------------------


def test_deleting_a_group_moves_its_members_to_default(world, tree, app):
    client, prefix = tree
    group_id = add_group(app, world, "Sales")
    move(app, world, world.a.unique_id, group_id)
    page = text(client.get(f"{prefix}/pickup-groups/{group_id}"))
    assert "Deleting this group moves its 1 unique(s) to Default." in page
    response = client.post(f"{prefix}/pickup-groups/{group_id}/delete")
    assert response.status_code == 302
    assert "Sales" not in groups(app, world)
    assert group_of(app, world, world.a.unique_id) == "Default"
    listed = text(client.get(f"{prefix}/pickup-groups"))
    assert "1 unique(s) moved to Default" in listed
    with app.app_context(), use_scope(world.a.scope):
        actions = db.session.scalars(
            select(AuditLog.object_type).where(AuditLog.action == "pickup_group.delete")
        ).all()
        assert sorted(actions) == ["pickup_group", "unique_entry"]


def test_default_cannot_be_deleted(world, tree, app):
    client, prefix = tree
    default = groups(app, world)["Default"]
    response = client.post(f"{prefix}/pickup-groups/{default}/delete")
    assert response.status_code == 422
    assert "The group Default cannot be deleted." in text(response)
    assert groups(app, world) == {"Default": default}


def test_the_service_refuses_to_delete_default(world, app):
    with in_circle(app, world.a, world.a.circle_id) as circle:
        assert circle is not None
        with pytest.raises(circles.CircleSettingsError):
            circles.delete_pickup_group(circle, p.default_pickup_group(circle))


# --- assign from the unique's page ------------------------------------------------------


def test_assign_a_unique_from_its_page_and_see_it_in_the_list(world, tree, app):
    client, prefix = tree
    group_id = add_group(app, world, "Night")
    detail = text(client.get(f"{prefix}/uniques/{world.a.unique_id}"))
    assert f'<option value="{group_id}">Night</option>' in detail
    response = client.post(
        f"{prefix}/uniques/{world.a.unique_id}",
        {"extension": "201", "display_name": "受付", "pickup_group_id": str(group_id)},
    )
    assert response.status_code == 302
    assert group_of(app, world, world.a.unique_id) == "Night"
    assert '<td class="pickup-group">Night</td>' in text(client.get(f"{prefix}/uniques"))


def test_a_new_unique_starts_in_default(world, app):
    with in_circle(app, world.a, world.a.circle_id) as circle:
        assert circle is not None
        add = circles.add_pickup_group(circle, "Sales")
        assert add[0].ok
        unique = p.create_unique(circle, extension="250", display_name="新人")
        assert unique.pickup_group.name == "Default"


# --- isolation and roles ----------------------------------------------------------------


def test_a_group_of_another_circle_is_not_found(world, tree, app):
    client, prefix = tree
    foreign = add_group(app, world, "Foreign", circle_id=world.a.other_circle_id)
    assert client.get(f"{prefix}/pickup-groups/{foreign}").status_code == 404
    token_from = f"{prefix}/pickup-groups"
    assert (
        client.post(
            f"{prefix}/pickup-groups/{foreign}", {"name": "Mine"}, token_from=token_from
        ).status_code
        == 404
    )
    assert (
        client.post(f"{prefix}/pickup-groups/{foreign}/delete", token_from=token_from).status_code
        == 404
    )
    assert "Foreign" in groups(app, world, world.a.other_circle_id)
    assert client.get(f"{prefix}/pickup-groups/99999999999999999999").status_code == 404


def test_another_resellers_staff_get_not_found(world, browser, app):
    client = login(browser, world.b, "admin")
    group_id = add_group(app, world, "Sales")
    base = f"/staff/circles/{world.a.circle_id}"
    own = f"/staff/circles/{world.b.circle_id}/pickup-groups"
    assert client.get(f"{base}/pickup-groups").status_code == 404
    assert client.post(f"{base}/pickup-groups", {"name": "X"}, token_from=own).status_code == 404
    assert client.post(f"{base}/pickup-groups/{group_id}/delete", token_from=own).status_code == 404
    assert (
        client.get(f"/staff/circles/{world.b.circle_id}/pickup-groups/{group_id}").status_code
        == 404
    )
    assert set(groups(app, world)) == {"Default", "Sales"}


def test_a_circle_login_cannot_reach_a_sibling_circles_group(world, browser, app):
    foreign = add_group(app, world, "Foreign", circle_id=world.a.other_circle_id)
    client = login(browser, world.a)
    assert client.get(f"/portal/pickup-groups/{foreign}").status_code == 404
    assert (
        client.post(
            f"/portal/pickup-groups/{foreign}/delete", token_from="/portal/pickup-groups"
        ).status_code
        == 404
    )


def test_support_staff_read_but_cannot_change(world, browser, app):
    client = login(browser, world.a, "support")
    group_id = add_group(app, world, "Sales")
    base = f"/staff/circles/{world.a.circle_id}/pickup-groups"
    page = client.get(base)
    assert page.status_code == 200
    assert "Sales" in text(page) and 'name="name"' not in text(page)
    assert 'name="name"' not in text(client.get(f"{base}/{group_id}"))
    assert client.post(base, {"name": "X"}).status_code == 403
    assert client.post(f"{base}/{group_id}", {"name": "X"}, token_from=base).status_code == 403
    assert client.post(f"{base}/{group_id}/delete", token_from=base).status_code == 403
    assert set(groups(app, world)) == {"Default", "Sales"}


def test_a_name_taken_meanwhile_is_a_message_not_an_error(world, app, monkeypatch):
    """Two users adding the same name at once: the database's unique index decides."""
    monkeypatch.setattr(circles, "pickup_name_problem", lambda *args, **kwargs: None)
    with app.app_context(), use_scope(world.a.circle_scope), force_locale("en"):
        circle = db.session.get(Circle, world.a.circle_id)
        assert circle is not None
        outcome, group = circles.add_pickup_group(circle, "DEFAULT")
        assert group is None
        assert "already exists" in outcome.errors["name"][0]
        sales = circles.add_pickup_group(circle, "Sales")[1]
        assert sales is not None
        renamed = circles.rename_pickup_group(circle, sales, "default")
        assert "already exists" in renamed.errors["name"][0]
        assert sales.name == "Sales"
        assert {g.name for g in circles.pickup_group_choices(circle)} == {"Default", "Sales"}
