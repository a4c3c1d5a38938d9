"""R13 extension length: warning with exactly what is invalidated, confirmation with a
token, automatic renumbering in the old order; in both trees (circle login, staff)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import use_scope
from tenants.models import RingGroup, RingGroupMember, Unique
from tenants.services import circles
from tenants.services import provisioning as p
from tests.circle_pages import login, text, tree_client
from tests.factories import PASSWORD, in_circle

TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


@pytest.fixture(params=["portal", "staff"])
def tree(request: Any, world: Any, browser: Any) -> tuple[Any, str]:
    return tree_client(request.param, world, browser)


def state(app: Any, world: Any) -> dict[str, Any]:
    """The circle's length, its uniques (name → (extension, previous)) and ring group."""
    with in_circle(app, world.a, world.a.circle_id) as circle:
        group = db.session.get(RingGroup, world.a.ring_group_id)
        assert circle is not None and group is not None
        uniques = db.session.scalars(
            select(Unique).where(Unique.circle_id == circle.id).order_by(Unique.id)
        ).all()
        return {
            "length": circle.extension_length,
            "uniques": {u.display_name: (u.extension, u.previous_extension) for u in uniques},
            "ring_group": (group.extension, len(group.members)),
        }


def confirm_token(client: Any, prefix: str, length: Any) -> str:
    page = client.get(f"{prefix}/settings/extension-length", query_string={"length": length})
    assert page.status_code == 200
    found = TOKEN.search(page.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def add_uniques(app: Any, world: Any, names_and_extensions: list[tuple[str, str | None]]) -> None:
    with in_circle(app, world.a, world.a.circle_id) as circle:
        assert circle is not None
        for name, extension in names_and_extensions:
            p.create_unique(circle, extension=extension, display_name=name)
        db.session.commit()


def add_many(app: Any, world: Any, count: int) -> None:
    with in_circle(app, world.a, world.a.circle_id) as circle:
        assert circle is not None
        default = p.default_pickup_group(circle)
        db.session.add_all(
            Unique(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                pickup_group_id=default.id,
                extension=str(500 + i),
                display_name=f"Desk{i:03d}",
                kind="phone",
                terminal_type="sip_phone",
            )
            for i in range(count)
        )
        db.session.commit()


ORIGINAL = {"受付": ("201", None), "携帯": ("202", None), "会議室": ("300", None)}


# --- the settings page and the warning --------------------------------------------------


def test_the_settings_page_shows_the_length_and_the_warning(world, tree):
    client, prefix = tree
    page = client.get(f"{prefix}/settings")
    assert page.status_code == 200
    body = text(page)
    assert "Extensions have 3 digits (200–899)." in body
    assert "invalidates every extension number" in body
    for label in ("2 digits (20–89)", "4 digits (2000–8999)", "5 digits (20000–89999)"):
        assert label in body
    assert "Save changes" in body and "Cancel" in body
    assert "Alpha Phone" in body


def test_the_confirmation_says_exactly_what_is_invalidated_and_changes_nothing(world, tree, app):
    client, prefix = tree
    page = client.get(f"{prefix}/settings/extension-length", query_string={"length": "4"})
    assert page.status_code == 200
    body = text(page)
    assert "Change the extension length from 3 to 4 digits?" in body
    assert "3 unique(s) lose their extension." in body
    assert "1 ring group(s) are cleared (extension and members):" in body
    assert "代表 (extension 400): 1 member(s)" in body
    assert "Nothing has changed yet." in body
    rows = re.findall(r'<tr data-unique="\d+"><td>(.*?)</td><td>(.*?)</td><td>→ (\d+)</td>', body)
    assert rows == [("受付", "201", "2000"), ("携帯", "202", "2001"), ("会議室", "300", "2002")]
    assert state(app, world)["uniques"] == ORIGINAL


def test_full_width_length_is_accepted(world, tree):
    client, prefix = tree
    page = client.get(f"{prefix}/settings/extension-length", query_string={"length": "４"})
    assert page.status_code == 200
    assert "from 3 to 4 digits" in text(page)


@pytest.mark.parametrize(
    ("length", "message"),
    [
        ("1", "Choose an extension length from 2 to 5 digits."),
        ("6", "Choose an extension length from 2 to 5 digits."),
        ("abc", "Choose an extension length from 2 to 5 digits."),
        ("", "Choose an extension length from 2 to 5 digits."),
        ("3", "The extension length is already 3 digits."),
    ],
)
def test_a_bad_length_is_refused_with_a_message(world, tree, app, length, message):
    client, prefix = tree
    page = client.get(f"{prefix}/settings/extension-length", query_string={"length": length})
    assert page.status_code == 422
    assert message in text(page)
    response = client.post(
        f"{prefix}/settings/extension-length",
        {"length": length, "token": "0" * 40, "renumber": "1"},
        token_from=f"{prefix}/settings",
    )
    assert response.status_code in (409, 422)
    assert message in text(response)
    assert state(app, world)["length"] == 3


# --- applying the change -------------------------------------------------------------------


def test_change_only_invalidates_extensions_and_ring_groups(world, tree, app):
    client, prefix = tree
    token = confirm_token(client, prefix, 4)
    response = client.post(
        f"{prefix}/settings/extension-length", {"length": "4", "token": token, "renumber": "0"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{prefix}/settings/renumber"
    after = state(app, world)
    assert after["length"] == 4
    assert after["uniques"] == {
        "受付": (None, "201"),
        "携帯": (None, "202"),
        "会議室": (None, "300"),
    }
    assert after["ring_group"] == (None, 0)
    page = text(client.get(f"{prefix}/settings/renumber"))
    assert "3 extension(s) were invalidated" in page
    assert "Ring groups cleared (extension and members): 代表" in page
    with app.app_context(), use_scope(world.a.scope):
        actions = db.session.scalars(
            select(AuditLog.object_type).where(AuditLog.action == "circle.extension_length")
        ).all()
        assert sorted(set(actions)) == ["circle", "ring_group", "ring_group_member", "unique_entry"]


def test_change_and_renumber_keeps_the_old_order(world, tree, app):
    client, prefix = tree
    add_uniques(app, world, [("営業", "250"), ("未設定", None)])
    token = confirm_token(client, prefix, 2)
    response = client.post(
        f"{prefix}/settings/extension-length", {"length": "2", "token": token, "renumber": "1"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{prefix}/uniques"
    after = state(app, world)
    assert after["length"] == 2
    assert after["uniques"] == {
        "受付": ("20", "201"),
        "携帯": ("21", "202"),
        "営業": ("22", "250"),
        "会議室": ("23", "300"),
        "未設定": ("24", None),
    }
    assert after["ring_group"] == (None, 0)
    assert "5 unique(s) renumbered" in text(client.get(f"{prefix}/uniques"))


def test_a_stale_confirmation_is_refused_and_changes_nothing(world, tree, app):
    client, prefix = tree
    token = confirm_token(client, prefix, 4)
    add_uniques(app, world, [("新人", "260")])  # someone adds a unique meanwhile
    response = client.post(
        f"{prefix}/settings/extension-length", {"length": "4", "token": token, "renumber": "1"}
    )
    assert response.status_code == 409
    body = text(response)
    assert "changed after this page was opened" in body
    assert "4 unique(s) lose their extension." in body  # the fresh plan, to review again
    after = state(app, world)
    assert after["length"] == 3 and after["uniques"]["受付"] == ("201", None)
    assert after["ring_group"] == ("400", 1)


def test_a_token_for_another_length_is_refused(world, tree, app):
    client, prefix = tree
    token = confirm_token(client, prefix, 4)
    response = client.post(
        f"{prefix}/settings/extension-length", {"length": "5", "token": token, "renumber": "0"}
    )
    assert response.status_code == 409
    assert state(app, world)["length"] == 3


def test_a_double_submit_changes_once(world, tree, app):
    client, prefix = tree
    token = confirm_token(client, prefix, 4)
    data = {"length": "4", "token": token, "renumber": "1"}
    assert client.post(f"{prefix}/settings/extension-length", data).status_code == 302
    second = client.post(f"{prefix}/settings/extension-length", data)
    assert second.status_code == 422
    assert "The extension length is already 4 digits." in text(second)
    assert state(app, world)["uniques"]["受付"] == ("2000", "201")


def test_missing_csrf_token_changes_nothing(world, tree, app):
    client, prefix = tree
    token = confirm_token(client, prefix, 4)
    response = client.post(
        f"{prefix}/settings/extension-length",
        {"length": "4", "token": token, "renumber": "1"},
        csrf=False,
    )
    assert response.status_code == 400
    assert "The form has expired" in text(response)
    assert state(app, world)["length"] == 3


# --- a range too small ------------------------------------------------------------------


def test_renumbering_into_a_range_too_small_is_refused_with_the_numbers(world, tree, app):
    client, prefix = tree
    add_many(app, world, 68)  # 71 uniques; 2 digits hold 70
    page = client.get(f"{prefix}/settings/extension-length", query_string={"length": "2"})
    body = text(page)
    message = (
        "The 2-digit range (20–89) has room for 70 more extensions, but 71 uniques "
        "need one. Automatic renumbering is not possible"
    )
    assert message in body
    assert 'name="renumber" value="1"' not in body
    token = TOKEN.search(page.get_data(as_text=True))
    assert token is not None
    refused = client.post(
        f"{prefix}/settings/extension-length",
        {"length": "2", "token": token.group(1), "renumber": "1"},
    )
    assert refused.status_code == 422
    assert message in text(refused)
    assert state(app, world)["length"] == 3
    # Changing without renumbering stays possible; the renumber page says why it cannot help.
    done = client.post(
        f"{prefix}/settings/extension-length",
        {"length": "2", "token": token.group(1), "renumber": "0"},
    )
    assert done.status_code == 302
    renumber = client.get(f"{prefix}/settings/renumber")
    assert message in text(renumber)
    assert 'name="token"' not in renumber.get_data(as_text=True)


def test_seventy_uniques_fit_in_two_digits(world, tree, app):
    client, prefix = tree
    add_many(app, world, 67)
    token = confirm_token(client, prefix, 2)
    response = client.post(
        f"{prefix}/settings/extension-length", {"length": "2", "token": token, "renumber": "1"}
    )
    assert response.status_code == 302
    extensions = sorted(e for e, _ in state(app, world)["uniques"].values())
    assert extensions == [str(n) for n in range(20, 90)]


# --- renumbering afterwards -------------------------------------------------------------


def change_only(client: Any, prefix: str, length: int) -> None:
    token = confirm_token(client, prefix, length)
    response = client.post(
        f"{prefix}/settings/extension-length",
        {"length": str(length), "token": token, "renumber": "0"},
    )
    assert response.status_code == 302


def test_the_renumber_page_previews_then_applies_in_the_old_order(world, tree, app):
    client, prefix = tree
    change_only(client, prefix, 4)
    # A user sets one extension by hand before renumbering the rest.
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, world.a.unique_id)
        assert unique is not None
        unique.extension = "2001"
        db.session.commit()
    page = client.get(f"{prefix}/settings/renumber")
    assert page.status_code == 200
    body = text(page)
    rows = re.findall(r'<tr data-unique="\d+"><td>(.*?)</td><td>(.*?)</td><td>→ (\d+)</td>', body)
    assert rows == [("携帯", "202", "2000"), ("会議室", "300", "2002")]
    assert state(app, world)["uniques"]["携帯"] == (None, "202")
    token = TOKEN.search(page.get_data(as_text=True))
    assert token is not None
    response = client.post(f"{prefix}/settings/renumber", {"token": token.group(1)})
    assert response.status_code == 302
    assert state(app, world)["uniques"] == {
        "受付": ("2001", "201"),
        "携帯": ("2000", "202"),
        "会議室": ("2002", "300"),
    }
    with app.app_context(), use_scope(world.a.scope):
        assert db.session.scalars(
            select(AuditLog).where(AuditLog.action == "circle.renumber")
        ).all()
    assert "Every unique has an extension." in text(client.get(f"{prefix}/settings/renumber"))


def renumber_token(client: Any, prefix: str) -> str:
    found = TOKEN.search(client.get(f"{prefix}/settings/renumber").get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_a_stale_renumbering_is_refused(world, tree, app):
    client, prefix = tree
    change_only(client, prefix, 4)
    token = renumber_token(client, prefix)
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, world.a.unique_id)
        assert unique is not None
        unique.extension = "2000"
        db.session.commit()
    response = client.post(f"{prefix}/settings/renumber", {"token": token})
    assert response.status_code == 409
    assert "changed after this page was opened" in text(response)
    assert state(app, world)["uniques"]["携帯"] == (None, "202")


def test_renumbering_with_nothing_to_do_is_refused(world, tree, app):
    client, prefix = tree
    page = text(client.get(f"{prefix}/settings/renumber"))
    assert "Every unique has an extension." in page and 'name="token"' not in page
    response = client.post(
        f"{prefix}/settings/renumber", {"token": "0" * 40}, token_from=f"{prefix}/settings"
    )
    assert response.status_code == 422
    assert "Every unique already has an extension." in text(response)
    assert state(app, world)["uniques"] == ORIGINAL


def test_a_renumbered_extension_is_edited_in_the_new_range(world, tree, app):
    client, prefix = tree
    change_only(client, prefix, 5)
    detail = text(client.get(f"{prefix}/uniques/{world.a.unique_id}"))
    assert "5 digits from 20000 to 89999" in detail
    assert "Extension before the last length change" in detail
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, world.a.unique_id)
        assert unique is not None
        group_id = unique.pickup_group_id
    refused = client.post(
        f"{prefix}/uniques/{world.a.unique_id}",
        {"extension": "201", "display_name": "受付", "pickup_group_id": str(group_id)},
    )
    assert refused.status_code == 422
    assert "Enter an extension of 5 digits from 20000 to 89999." in text(refused)
    saved = client.post(
        f"{prefix}/uniques/{world.a.unique_id}",
        {"extension": "３００００", "display_name": "受付", "pickup_group_id": str(group_id)},
    )
    assert saved.status_code == 302
    assert state(app, world)["uniques"]["受付"] == ("30000", "201")


def test_the_unique_list_marks_uniques_without_extension(world, tree, app):
    client, prefix = tree
    change_only(client, prefix, 4)
    body = text(client.get(f"{prefix}/uniques"))
    assert "3 unique(s) have no extension." in body
    assert "(was 201)" in body
    assert body.index("(was 201)") < body.index("(was 202)") < body.index("(was 300)")


# --- the service on its own -------------------------------------------------------------


def test_a_second_change_before_renumbering_keeps_the_first_old_extensions(world, app):
    with in_circle(app, world.a, world.a.circle_id) as circle:
        assert circle is not None
        circles.change_extension_length(
            circle, 4, circles.plan_length_change(circle, 4).token, renumber=False
        )
        circles.change_extension_length(
            circle, 5, circles.plan_length_change(circle, 5).token, renumber=False
        )
        previous = db.session.scalars(
            select(Unique.previous_extension)
            .where(Unique.circle_id == circle.id)
            .order_by(Unique.id)
        ).all()
        assert previous == ["201", "202", "300"]
        plan = circles.plan_renumber(circle)
        assert [(row.old, row.new) for row in plan.rows] == [
            ("201", "20000"),
            ("202", "20001"),
            ("300", "20002"),
        ]


def test_the_plan_counts_only_this_circles_uniques_and_ring_groups(world, app):
    with in_circle(app, world.a, world.a.other_circle_id) as other:
        assert other is not None
        stranger_id = p.create_unique(other, extension="201", display_name="他社").id
        group = RingGroup(
            reseller_id=other.reseller_id,
            account_id=other.account_id,
            circle_id=other.id,
            name="他社代表",
            extension="401",
        )
        db.session.add(group)
        db.session.commit()
        group_id = group.id
    with in_circle(app, world.a) as circle:
        assert circle is not None
        plan = circles.plan_length_change(circle, 4)
        assert plan.losing == 3
        assert [g.name for g in plan.ring_groups] == ["代表"]
        circles.change_extension_length(circle, 4, plan.token, renumber=True)
        db.session.commit()
        members = db.session.scalars(
            select(RingGroupMember).where(RingGroupMember.circle_id == circle.id)
        ).all()
        assert members == []
    with in_circle(app, world.a, world.a.other_circle_id):
        assert db.session.get(Unique, stranger_id).extension == "201"
        assert db.session.get(RingGroup, group_id).extension == "401"


# --- isolation and roles ----------------------------------------------------------------


def test_support_staff_see_the_settings_but_cannot_change_them(world, browser, app):
    client = login(browser, world.a, "support")
    base = f"/staff/circles/{world.a.circle_id}/settings"
    page = client.get(base)
    assert page.status_code == 200
    assert 'name="length"' not in text(page)
    confirm = client.get(f"{base}/extension-length", query_string={"length": "4"})
    assert confirm.status_code == 200
    assert 'name="token"' not in text(confirm)
    refused = client.post(
        f"{base}/extension-length",
        {"length": "4", "token": "0" * 40, "renumber": "1"},
        token_from=base,
    )
    assert refused.status_code == 403
    assert client.post(f"{base}/renumber", {"token": "0" * 40}, token_from=base).status_code == 403
    assert state(app, world)["length"] == 3


def test_another_resellers_staff_get_not_found(world, browser, app):
    client = login(browser, world.b, "admin")
    base = f"/staff/circles/{world.a.circle_id}/settings"
    own = f"/staff/circles/{world.b.circle_id}/settings"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/extension-length?length=4").status_code == 404
    assert client.get(f"{base}/renumber").status_code == 404
    assert (
        client.post(
            f"{base}/extension-length",
            {"length": "4", "token": "x", "renumber": "0"},
            token_from=own,
        ).status_code
        == 404
    )
    assert client.post(f"{base}/renumber", {"token": "x"}, token_from=own).status_code == 404
    assert state(app, world)["length"] == 3


def test_an_account_manager_changes_only_circles_of_the_account(world, browser, app):
    client = login(browser, world.a, "manager")
    own = f"/staff/circles/{world.a.circle_id}"
    token = confirm_token(client, own, 4)
    assert (
        client.post(
            f"{own}/settings/extension-length", {"length": "4", "token": token, "renumber": "1"}
        ).status_code
        == 302
    )
    assert state(app, world)["length"] == 4
    other = f"/staff/circles/{world.a.other_circle_id}/settings"
    assert client.get(other).status_code == 404


def test_the_menu_links_the_new_pages_in_each_tree(world, tree):
    client, prefix = tree
    body = client.get(f"{prefix}/settings").get_data(as_text=True)
    for path in ("uniques", "pickup-groups", "settings"):
        assert f'href="{prefix}/{path}"' in body


# --- confirmation tokens that are not the app's --------------------------------------

STALE = (
    "The circle's extensions or ring groups changed after this page was opened. "
    "Nothing was changed: please review the changes again."
)
NOT_OUR_TOKENS = ["２", "トークン", "😀", "\x00", "é" * 64]


@pytest.mark.parametrize("token", NOT_OUR_TOKENS)
def test_a_non_ascii_length_token_is_refused_with_a_message(world, tree, app, token):
    client, prefix = tree
    before = state(app, world)
    response = client.post(
        f"{prefix}/settings/extension-length", {"length": "4", "token": token, "renumber": "1"}
    )
    assert response.status_code == 409
    assert STALE in text(response)
    assert state(app, world) == before


@pytest.mark.parametrize("token", NOT_OUR_TOKENS)
def test_a_non_ascii_renumber_token_is_refused_with_a_message(world, tree, app, token):
    client, prefix = tree
    change_only(client, prefix, 4)
    before = state(app, world)
    response = client.post(f"{prefix}/settings/renumber", {"token": token})
    assert response.status_code == 409
    assert STALE in text(response)
    assert state(app, world) == before


def test_a_non_ascii_token_is_refused_in_japanese(world, browser, app):
    client = browser(world.a.host)
    assert client.post("/locale", {"locale": "ja", "next": "/"}).status_code == 302
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    response = client.post("/portal/settings/extension-length", {"length": "4", "token": "２"})
    assert response.status_code == 409
    assert (
        "このページを開いた後に、サークルの内線番号または同時呼出が変更されました。"
        "変更は行われていませんので、内容をもう一度ご確認ください。"
    ) in text(response)
