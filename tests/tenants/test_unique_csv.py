"""The circle's phones as CSV: export in UTF-8 with BOM or CP932, and an import whose
preview lists every row's problem and applies nothing until confirmed; the confirmation
applies exactly the previewed file, and a stale preview is refused."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Unique, UniqueKind
from tests.circle_pages import login, text, tree_client

HEADER = "extension,name,terminal_type,carrier,pickup_group\r\n"
HIDDEN = re.compile(r'name="(token|payload)" value="([^"]*)"')


@pytest.fixture(params=["portal", "staff"])
def tree(request: Any, world: Any, browser: Any) -> tuple[Any, str]:
    return tree_client(request.param, world, browser)


def phones(app: Any, world: Any) -> dict[str, tuple[str, str, str]]:
    with app.app_context(), use_scope(world.a.scope):
        return {
            u.extension or "": (
                u.display_name,
                u.terminal_type.value if u.terminal_type else "",
                u.carrier.value if u.carrier else "",
            )
            for u in db.session.scalars(
                select(Unique).where(
                    Unique.circle_id == world.a.circle_id, Unique.kind == UniqueKind.PHONE
                )
            )
        }


def upload(client: Any, prefix: str, data: bytes) -> Any:
    return client.post(
        f"{prefix}/uniques/import",
        {"file": (io.BytesIO(data), "phones.csv")},
        token_from=f"{prefix}/uniques/import",
        content_type="multipart/form-data",
    )


def confirm(client: Any, prefix: str, preview: Any, **override: str) -> Any:
    fields = dict(HIDDEN.findall(preview.get_data(as_text=True)))
    fields.update(override)
    return client.post(
        f"{prefix}/uniques/import/confirm", fields, token_from=f"{prefix}/uniques/import"
    )


def test_export_utf8_with_bom_and_cp932(world, tree):
    client, prefix = tree
    utf8 = client.get(f"{prefix}/uniques/export.csv?encoding=utf-8-sig")
    assert utf8.status_code == 200
    assert utf8.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in utf8.headers["Content-Disposition"]
    assert utf8.data.startswith("\ufeff".encode())
    assert utf8.data.decode("utf-8-sig") == (
        HEADER + "201,受付,sip_phone,,Default\r\n202,携帯,mobile,au,Default\r\n"
    )
    sjis = client.get(f"{prefix}/uniques/export.csv?encoding=cp932")
    assert sjis.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
    assert sjis.data.decode("cp932") == utf8.data.decode("utf-8-sig")


def test_export_then_import_changes_nothing(world, tree, app):
    client, prefix = tree
    before = phones(app, world)
    exported = client.get(f"{prefix}/uniques/export.csv?encoding=cp932").data
    preview = upload(client, prefix, exported)
    assert preview.status_code == 200
    assert "0 phone(s) to add, 0 to change, 2 unchanged." in text(preview)
    assert confirm(client, prefix, preview).status_code == 200
    assert phones(app, world) == before


def test_cp932_import_adds_and_changes_after_confirmation(world, tree, app):
    client, prefix = tree
    data = (
        HEADER + "201,受付（本社）,sip_phone,,Default\r\n210,営業,softphone,,\r\n"
        "２１１,社用携帯,mobile,docomo,default\r\n"
    ).encode("cp932")
    preview = upload(client, prefix, data)
    assert preview.status_code == 200
    body = text(preview)
    assert "2 phone(s) to add, 1 to change, 0 unchanged." in body
    assert "210" not in phones(app, world)  # nothing applied yet
    done = confirm(client, prefix, preview)
    assert done.status_code == 200
    assert "no-store" in done.headers["Cache-Control"]
    assert "2 phone(s) added, 1 changed." in text(done)
    assert len(re.findall(r"data-secret>", done.get_data(as_text=True))) == 1  # the softphone
    now = phones(app, world)
    assert now["201"] == ("受付（本社）", "sip_phone", "")
    assert now["210"] == ("営業", "softphone", "")
    assert now["211"] == ("社用携帯", "mobile", "docomo")


def test_utf8_with_and_without_bom(world, tree, app):
    client, prefix = tree
    for data in (
        ("\ufeff" + HEADER + "220,Aさん,sip_phone,,\r\n").encode(),
        (HEADER + "221,Bさん,phs,,\r\n").encode(),
    ):
        preview = upload(client, prefix, data)
        assert preview.status_code == 200, text(preview)
        assert confirm(client, prefix, preview).status_code == 200
    assert phones(app, world)["220"][0] == "Aさん"
    assert phones(app, world)["221"] == ("Bさん", "phs", "")


def test_a_cp932_file_with_broken_rows_lists_every_problem_and_applies_nothing(world, tree, app):
    client, prefix = tree
    before = phones(app, world)
    data = (
        HEADER
        + "230,正しい行,sip_phone,,\r\n"  # row 2: fine
        + "999,範囲外,sip_phone,,\r\n"  # row 3: out of range
        + "201,,fax,,\r\n"  # row 4: no name, bad type
        + "231,携帯,mobile,,\r\n"  # row 5: no carrier
        + "230,重複,sip_phone,,\r\n"  # row 6: duplicate of row 2
        + "232,ない組,sip_phone,,Night\r\n"  # row 7: unknown pickup group
        + "400,代表と同じ,sip_phone,,\r\n"  # row 8: ring group's extension
        + "233,列不足\r\n"  # row 9: columns
    ).encode("cp932")
    preview = upload(client, prefix, data)
    assert preview.status_code == 422
    errors = re.findall(
        r'<tr data-row="(\d+)"><td[^>]*>\d+</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>',
        text(preview),
    )
    assert errors == [
        ("3", "extension", "Enter an extension of 3 digits from 200 to 899."),
        ("4", "name", "Enter a name."),
        ("4", "terminal_type", "Choose one of the offered terminal types."),
        ("5", "carrier", "Choose the mobile's carrier."),
        ("6", "extension", "Extension 230 is also in row 2."),
        ("7", "pickup_group", "No pickup group Night in this circle."),
        ("8", "extension", "Extension 400 is already used by the ring group 代表."),
        ("9", "—", "Expected 5 columns, found 2."),
    ]
    assert "8 problem(s) found: nothing will be imported." in text(preview)
    assert 'name="payload"' not in preview.get_data(as_text=True)
    assert phones(app, world) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose a CSV file to import."),
        (b"ext,name\r\n201,x\r\n", "The first row must be the header:"),
        (HEADER.encode(), "The file has no phones to import."),
        (b"\x81\x20\xff\xfe", "The file is neither UTF-8 nor Shift_JIS (CP932)"),
        (HEADER.encode() + b"x" * 300_000, "The file is larger than 256 KB."),
    ],
)
def test_unreadable_files_are_refused(world, tree, app, data, message):
    client, prefix = tree
    response = upload(client, prefix, data)
    assert response.status_code == 422
    assert message in text(response)


def test_the_confirmation_applies_only_the_previewed_file(world, tree, app):
    client, prefix = tree
    preview = upload(client, prefix, (HEADER + "240,本物,sip_phone,,\r\n").encode())
    other = base64.b64encode((HEADER + "241,差し替え,sip_phone,,\r\n").encode()).decode()
    response = confirm(client, prefix, preview, payload=other)
    assert response.status_code == 409
    assert "This preview has expired or does not match the file." in text(response)
    forged = confirm(client, prefix, preview, token="forged")
    assert forged.status_code == 409
    assert "240" not in phones(app, world) and "241" not in phones(app, world)


def test_a_stale_preview_is_refused(world, tree, app):
    client, prefix = tree
    preview = upload(client, prefix, (HEADER + "250,後で,sip_phone,,\r\n").encode())
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, world.a.unique_id)
        assert unique is not None
        unique.display_name = "変更済み"
        db.session.commit()
    response = confirm(client, prefix, preview)
    assert response.status_code == 409
    assert "The circle's phones changed after this preview was made." in text(response)
    assert "250" not in phones(app, world)


def test_a_preview_of_another_circle_is_refused(world, browser, app):
    """A token made for circle A's sibling (or any other circle) does not apply here."""
    admin = login(browser, world.a, "admin")
    other = f"/staff/circles/{world.a.other_circle_id}"
    preview = upload(admin, other, (HEADER + "260,よそ,sip_phone,,\r\n").encode())
    assert preview.status_code == 200
    response = confirm(admin, f"/staff/circles/{world.a.circle_id}", preview)
    assert response.status_code == 409
    assert "260" not in phones(app, world)


def test_cp932_export_refuses_a_name_it_cannot_hold(world, tree, app):
    client, prefix = tree
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, world.a.unique_id)
        assert unique is not None
        unique.display_name = "髙橋🙂"
        db.session.commit()
    response = client.get(f"{prefix}/uniques/export.csv?encoding=cp932")
    assert response.status_code == 302
    assert "export as UTF-8 instead" in text(client.get(f"{prefix}/uniques/import"))
    assert "髙橋🙂" in client.get(f"{prefix}/uniques/export.csv").data.decode("utf-8-sig")


def test_support_staff_export_but_cannot_import(world, browser, app):
    client = login(browser, world.a, "support")
    prefix = f"/staff/circles/{world.a.circle_id}"
    assert client.get(f"{prefix}/uniques/export.csv").status_code == 200
    response = upload(client, prefix, (HEADER + "270,x,sip_phone,,\r\n").encode())
    assert response.status_code == 403
