"""themes: colour contrast, the logo check, the brand editor (R19) and template overrides."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import select

import themes
from pbx_platform import templating
from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from tenants.models import StaffKind, StaffRole
from tenants.services import provisioning
from tests.conftest import PortalClient
from tests.factories import PASSWORD, Tenant, World
from tests.form_versions import page_version
from themes import services
from themes.models import Theme
from themes.services import (
    LOGO_BOX,
    LogoError,
    colour_problems,
    contrast_ratio,
    normalize_logo,
    update_theme,
)

LIMIT = 512 * 1024
VALID = {
    "product_name": "さくらフォン Pro",
    "primary_color": "#0b3d2e",
    "accent_color": "#e6f4ea",
    "support_phone": "03-1234-5678",
    "support_email": "support@sakura.example.jp",
    "footer_text": "© 2026 Sakura Telecom K.K.",
}


# -- helpers ------------------------------------------------------------------------------


def english(client: PortalClient) -> PortalClient:
    client.post("/locale", {"locale": "en", "next": "/"})
    return client


def admin_of(browser: Any, world: World, tenant: Tenant, role: str = "admin") -> PortalClient:
    client = english(browser(tenant.host))
    response = client.login_staff(tenant.staff[role], world.password)
    assert response.status_code == 302
    return client


@pytest.fixture
def stored(app: Flask) -> Any:
    """``stored(tenant)`` → the theme row as the database holds it now."""

    def read(tenant: Tenant) -> dict[str, Any]:
        with app.app_context(), use_scope(tenant.scope):
            theme = db.session.scalars(select(Theme)).one()
            names = (*services.THEME_FIELDS, "logo", "logo_mime", "logo_version", "reseller_id")
            return {name: getattr(theme, name) for name in names}

    return read


def image_bytes(fmt: str, size: tuple[int, int] = (64, 32), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    colour: Any = 1 if mode in {"P", "L", "1"} else (200, 30, 30)
    Image.new(mode, size, colour).save(out, format=fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims the given size (a decompression bomb's shape)."""
    data = bytearray(image_bytes("PNG", (8, 8)))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def editor_post(client: PortalClient, values: dict[str, Any], **kwargs: Any) -> Any:
    return client.post("/staff/theme", values, **kwargs)


# -- contrast -----------------------------------------------------------------------------


def test_white_on_black_has_the_maximum_contrast_of_21() -> None:
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)


def test_grey_777_on_white_falls_just_short_of_aa() -> None:
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") >= 4.5


def test_identical_colours_have_contrast_1() -> None:
    assert contrast_ratio("#1f4e8c", "#1F4E8C") == pytest.approx(1.0)


def test_readable_pair_has_no_colour_problems(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert colour_problems("#1f4e8c", "#e8f0fb") == {}


def test_light_primary_is_refused_naming_the_primary_field_and_ratio(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        problems = colour_problems("#777777", "#ffffff")
    assert set(problems) == {"primary_color", "accent_color"}
    assert "White text on the primary colour" in problems["primary_color"]
    assert "4.48:1" in problems["primary_color"]


def test_dark_accent_is_refused_naming_the_accent_field_and_ratio(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        problems = colour_problems("#1f4e8c", "#3a6ea5")
    assert list(problems) == ["accent_color"]
    ratio = contrast_ratio("#1f4e8c", "#3a6ea5")
    assert f"{ratio:.2f}:1" in problems["accent_color"]
    assert "accent colour" in problems["accent_color"]


@pytest.mark.parametrize("bad", ["1f4e8c", "#1f4e8", "#1f4e8cc", "#gggggg", "#1f4e8c\n", "", "red"])
def test_malformed_colour_is_refused(app: Flask, bad: str) -> None:
    with app.test_request_context(), force_locale("en"):
        problems = colour_problems(bad, "#e8f0fb")
    assert list(problems) == ["primary_color"]
    assert "six hexadecimal digits" in problems["primary_color"]


@pytest.mark.parametrize(
    ("primary", "accent"),
    [("#1f4e8c;}body{", "#e8f0fb"), ("#777777", "#ffffff"), (None, None), ("#1F4E8C", "#E8F0FB")],
)
def test_stylesheet_colours_fall_back_unless_valid_and_readable(primary: Any, accent: Any) -> None:
    expected = ("#1f4e8c", "#e8f0fb")
    assert services.stylesheet_colours(primary, accent) == expected
    assert services.stylesheet_colours("#0b3d2e", "#e6f4ea") == ("#0b3d2e", "#e6f4ea")


# -- the logo -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_png_and_jpeg_are_accepted_and_reencoded_as_png(app: Flask, fmt: str) -> None:
    with app.test_request_context(), force_locale("en"):
        data, mime = normalize_logo(image_bytes(fmt), LIMIT)
    assert mime == "image/png"
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == (64, 32)


def test_big_logo_is_scaled_into_the_box(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        data, _ = normalize_logo(image_bytes("PNG", (1200, 400)), LIMIT)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == LOGO_BOX


def test_palette_png_with_transparency_keeps_its_alpha(app: Flask) -> None:
    image = Image.new("P", (20, 20), 0)
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)
    with app.test_request_context(), force_locale("en"):
        data, _ = normalize_logo(out.getvalue(), LIMIT)
    with Image.open(io.BytesIO(data)) as result:
        assert result.mode == "RGBA"


def test_bytes_smuggled_after_the_image_are_dropped(app: Flask) -> None:
    payload = image_bytes("PNG") + b"<?php system($_GET['c']); ?>"
    with app.test_request_context(), force_locale("en"):
        data, _ = normalize_logo(payload, LIMIT)
    assert b"<?php" not in data


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "must be a PNG or JPEG",
        ),
        (image_bytes("GIF", mode="P"), "must be a PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage!" * 40, "could not be read"),
        (b"\xff\xd8\xff" + b"\x00not a jpeg" * 20, "could not be read"),
        (b"This is a text file renamed to logo.png\n", "must be a PNG or JPEG"),
        (b"", "must be a PNG or JPEG"),
    ],
    ids=["svg", "gif", "png-header-garbage", "jpeg-header-garbage", "renamed-text", "empty"],
)
def test_anything_but_a_real_png_or_jpeg_is_refused(
    app: Flask, content: bytes, message: str
) -> None:
    with app.test_request_context(), force_locale("en"), pytest.raises(LogoError, match=message):
        normalize_logo(content, LIMIT)


def test_logo_over_the_size_limit_is_refused(app: Flask) -> None:
    data = image_bytes("PNG")
    with (
        app.test_request_context(),
        force_locale("en"),
        pytest.raises(LogoError, match="at most 0 KB"),
    ):
        normalize_logo(data, len(data) - 1)


@pytest.mark.parametrize("side", [5000, 20000], ids=["over-our-limit", "over-pillows-limit"])
def test_decompression_bomb_is_refused_before_decoding(app: Flask, side: int) -> None:
    bomb = png_claiming(side, side)
    assert len(bomb) < 200
    with (
        app.test_request_context(),
        force_locale("en"),
        pytest.raises(LogoError, match="too large"),
    ):
        normalize_logo(bomb, LIMIT)


# -- the service ------------------------------------------------------------------------------


def alpha_theme(world: World) -> Theme:
    return db.session.scalars(select(Theme).where(Theme.reseller_id == world.a.reseller_id)).one()


def test_update_normalises_full_width_input(app: Flask, world: World) -> None:
    with app.test_request_context(), use_scope(world.a.scope):
        theme = alpha_theme(world)
        outcome = update_theme(
            theme,
            {
                **VALID,
                "primary_color": "＃０Ｂ３Ｄ２Ｅ",
                "accent_color": " #E6F4EA ",
                "support_phone": "０３－１２３４－５６７８",
                "support_email": "Support@Sakura.Example.JP",
            },
            logo_bytes=None,
            remove_logo=False,
            max_logo_bytes=LIMIT,
        )
        assert outcome.ok, outcome.errors
        assert theme.primary_color == "#0b3d2e"
        assert theme.accent_color == "#e6f4ea"
        assert theme.support_phone == "03-1234-5678"
        assert theme.support_email == "Support@sakura.example.jp"


@pytest.mark.parametrize(
    ("raw", "national"),
    [("0120123456", "0120-123-456"), ("+81 90 1234 5678", "090-1234-5678"), ("", "")],
)
def test_support_phone_is_stored_in_the_national_format(
    app: Flask, world: World, raw: str, national: str
) -> None:
    with app.test_request_context(), use_scope(world.a.scope):
        theme = alpha_theme(world)
        outcome = update_theme(theme, {**VALID, "support_phone": raw}, None, False, LIMIT)
        assert outcome.ok, outcome.errors
        assert theme.support_phone == national


BAD_VALUES = {
    "no-product-name": {"product_name": ""},
    "long-product-name": {"product_name": "x" * 61},
    "product-name-line-break": {"product_name": "Sakura\nPhone"},
    "short-hex": {"primary_color": "#12345"},
    "light-primary": {"primary_color": "#777777", "accent_color": "#000000"},
    "accent-like-primary": {"accent_color": "#1f4e8c"},
    "short-phone": {"support_phone": "12345"},
    "foreign-phone": {"support_phone": "+1 212 555 0100"},
    "no-at-sign": {"support_email": "not-an-address"},
    "no-domain-dot": {"support_email": "a@b"},
    "non-ascii-domain": {"support_email": "support@例え.jp"},
    "long-email": {"support_email": "a" * 250 + "@x.jp"},
    "long-footer": {"footer_text": "y" * 201},
    "bidi-override-footer": {"footer_text": "evil \u202e text"},
}


@pytest.mark.parametrize("changes", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_refused_edit_changes_nothing_on_the_theme(
    app: Flask, world: World, changes: dict[str, str]
) -> None:
    with app.test_request_context(), use_scope(world.a.scope):
        theme = alpha_theme(world)
        before = {n: getattr(theme, n) for n in services.THEME_FIELDS}
        outcome = update_theme(theme, {**VALID, **changes}, image_bytes("PNG"), False, LIMIT)
        assert list(outcome.errors) == [next(iter(changes))]
        assert {n: getattr(theme, n) for n in services.THEME_FIELDS} == before
        assert theme.logo is None
        assert not db.session.is_modified(theme)


def test_bad_logo_refuses_the_whole_edit(app: Flask, world: World) -> None:
    with app.test_request_context(), use_scope(world.a.scope):
        theme = alpha_theme(world)
        outcome = update_theme(theme, VALID, b"<svg/>", False, LIMIT)
        assert list(outcome.errors) == ["logo"]
        assert theme.product_name == "Alpha Phone"
        assert not db.session.is_modified(theme)


def test_new_logo_and_removal_bump_the_logo_version(app: Flask, world: World) -> None:
    with app.test_request_context(), use_scope(world.a.scope):
        theme = alpha_theme(world)
        assert update_theme(theme, VALID, image_bytes("JPEG"), False, LIMIT).logo_changed
        assert (theme.logo_mime, theme.logo_version) == ("image/png", 1)
        assert not update_theme(theme, VALID, None, False, LIMIT).logo_changed
        assert theme.logo_version == 1
        assert update_theme(theme, VALID, None, True, LIMIT).logo_changed
        assert (theme.logo, theme.logo_mime, theme.logo_version) == (None, None, 2)


def test_uploading_and_removing_the_logo_at_once_is_refused(app: Flask, world: World) -> None:
    with app.test_request_context(), use_scope(world.a.scope), force_locale("en"):
        theme = alpha_theme(world)
        outcome = update_theme(theme, VALID, image_bytes("PNG"), True, LIMIT)
        assert "not both" in outcome.errors["logo"][0]
        assert theme.logo is None


# -- the editor -------------------------------------------------------------------------------


def test_admin_sees_the_editor_with_the_saved_values(world: World, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    response = client.get("/staff/theme")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="Alpha Phone"' in page
    assert 'value="#1f4e8c"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "Save changes" in page
    assert 'class="button secondary" href="/staff/theme">Cancel</a>' in page
    assert "swatch-primary" in page
    assert "style=" not in page  # the CSP forbids inline styles


def test_admin_saves_and_the_brand_shows_on_the_next_page(
    world: World, stored: Any, browser: Any
) -> None:
    client = admin_of(browser, world, world.a)
    values = {**VALID, "footer_text": "<script>alert('x')</script> & co."}
    response = editor_post(client, values)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/theme"

    page = client.get("/staff/").get_data(as_text=True)
    assert "さくらフォン Pro" in page
    assert "Alpha Phone" not in page
    assert "03-1234-5678" in page
    assert "support@sakura.example.jp" in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co." in page
    assert "<script>alert" not in page

    saved = stored(world.a)
    assert saved["primary_color"] == "#0b3d2e"
    css = client.get("/theme.css").get_data(as_text=True)
    assert "--brand-primary:#0b3d2e;" in css
    assert "--brand-accent:#e6f4ea;" in css


def test_saving_shows_a_success_message(world: World, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    response = editor_post(client, VALID, follow_redirects=True)
    assert "The branding has been saved." in response.get_data(as_text=True)


def test_stylesheet_address_changes_when_the_colours_do(world: World, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    before = client.get("/staff/theme").get_data(as_text=True)
    editor_post(client, VALID)
    after = client.get("/staff/theme").get_data(as_text=True)

    def stylesheet(page: str) -> str:
        return page.split('href="/theme.css?v=')[1].split('"')[0]

    assert stylesheet(before) != stylesheet(after)


def test_bad_contrast_names_the_field_and_changes_nothing(
    world: World, stored: Any, browser: Any
) -> None:
    client = admin_of(browser, world, world.a)
    before = stored(world.a)
    response = editor_post(client, {**VALID, "primary_color": "#777777", "accent_color": "#ffffff"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "White text on the primary colour has a contrast of 4.48:1" in page
    assert "Text in the primary colour on the accent colour" in page
    assert "Nothing was saved." in page
    assert 'value="#777777"' in page  # what was typed is shown back for correction
    assert stored(world.a) == before


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("primary_color", "#12345", "six hexadecimal digits"),
        ("product_name", "x" * 61, "at most 60 characters"),
        ("product_name", "   ", "Enter the product name."),
        ("support_email", "support@@sakura", "Enter an e-mail address"),
        ("support_phone", "0000", "Enter a Japanese phone number"),
        ("footer_text", "z" * 201, "at most 200 characters"),
    ],
)
def test_invalid_value_is_refused_with_a_message_and_changes_nothing(
    world: World, stored: Any, browser: Any, name: str, bad: str, message: str
) -> None:
    client = admin_of(browser, world, world.a)
    before = stored(world.a)
    response = editor_post(client, {**VALID, name: bad})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert stored(world.a) == before


def test_full_width_colour_is_shown_back_normalised(world: World, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    response = editor_post(client, {**VALID, "primary_color": "＃ＣＣＣＣＣＣ"})
    assert response.status_code == 422
    assert 'value="#cccccc"' in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(world: World, stored: Any, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    before = stored(world.a)
    response = editor_post(client, VALID, csrf=False)
    assert response.status_code == 400
    assert "The form has expired or was not sent from this site" in response.get_data(as_text=True)
    assert stored(world.a) == before


def test_logo_upload_through_the_editor(world: World, stored: Any, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    logo = (io.BytesIO(image_bytes("JPEG")), "logo.jpg", "image/jpeg")
    response = editor_post(client, {**VALID, "logo": logo}, content_type="multipart/form-data")
    assert response.status_code == 302
    saved = stored(world.a)
    assert (saved["logo_mime"], saved["logo_version"]) == ("image/png", 1)
    page = client.get("/staff/theme").get_data(as_text=True)
    assert 'src="/theme/logo?v=1"' in page
    assert "Remove the current logo" in page
    served = client.get("/theme/logo?v=1")
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert served.data == saved["logo"]

    response = editor_post(client, {**VALID, "remove_logo": "y"})
    assert response.status_code == 302
    saved = stored(world.a)
    assert (saved["logo"], saved["logo_version"]) == (None, 2)
    assert client.get("/theme/logo").status_code == 404


def test_svg_renamed_to_png_is_refused_by_the_editor(
    world: World, stored: Any, browser: Any
) -> None:
    client = admin_of(browser, world, world.a)
    before = stored(world.a)
    svg = (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "logo.png", "image/png")
    response = editor_post(client, {**VALID, "logo": svg}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The logo must be a PNG or JPEG image." in response.get_data(as_text=True)
    assert stored(world.a) == before


def test_empty_file_field_keeps_the_logo(world: World, stored: Any, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    logo = (io.BytesIO(image_bytes("PNG")), "logo.png", "image/png")
    editor_post(client, {**VALID, "logo": logo}, content_type="multipart/form-data")
    nothing = (io.BytesIO(b""), "", "application/octet-stream")
    response = editor_post(client, {**VALID, "logo": nothing}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert stored(world.a)["logo_version"] == 1


@pytest.mark.parametrize("role", ["billing", "support", "manager"])
def test_staff_other_than_admins_are_forbidden(
    world: World, stored: Any, browser: Any, role: str
) -> None:
    """R22: branding is the reseller admins' (an account manager is refused like
    the reseller's other staff: the brand is no object outside its scope)."""
    client = admin_of(browser, world, world.a, role)
    before = stored(world.a)
    assert client.get("/staff/theme").status_code == 403
    assert editor_post(client, VALID, token_from="/staff/").status_code == 403
    assert stored(world.a) == before
    assert 'href="/staff/theme"' not in client.get("/staff/").get_data(as_text=True)


def test_circle_login_cannot_reach_the_editor(world: World, stored: Any, browser: Any) -> None:
    client = english(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, world.password).status_code == 302
    before = stored(world.a)
    response = client.get("/staff/theme")
    assert response.status_code == 302
    assert "/staff/theme" not in client.get("/portal/").get_data(as_text=True)
    assert editor_post(client, VALID, token_from="/portal/").status_code == 302
    assert stored(world.a) == before


def test_anonymous_visitor_is_sent_to_log_in(world: World, browser: Any) -> None:
    client = browser(world.a.host)
    response = client.get("/staff/theme")
    assert response.status_code == 302
    assert "login" in response.headers["Location"]


def test_console_has_no_theme_editor(world: World, browser: Any) -> None:
    client = english(browser("localhost"))
    assert client.login_console(world.operator_email, world.password).status_code == 302
    assert client.get("/staff/theme").status_code == 404


def test_admin_changes_only_the_theme_of_the_host_it_logged_in_on(
    world: World, stored: Any, browser: Any
) -> None:
    b_before = stored(world.b)
    client = admin_of(browser, world, world.a)
    forged = {**VALID, "reseller_id": str(world.b.reseller_id), "id": "1"}
    assert editor_post(client, forged).status_code == 302
    assert stored(world.a)["product_name"] == VALID["product_name"]
    assert stored(world.a)["reseller_id"] == world.a.reseller_id
    assert stored(world.b) == b_before
    assert "Bravo Phone" in browser(world.b.host).get("/login").get_data(as_text=True)


def test_admin_of_a_is_not_logged_in_on_bs_host(world: World, stored: Any, browser: Any) -> None:
    b_before = stored(world.b)
    a_admin = admin_of(browser, world, world.a)
    on_b = PortalClient(a_admin.client, world.b.host)
    assert on_b.get("/staff/theme").status_code == 302
    assert on_b.post("/staff/theme", VALID, token_from="/staff/login").status_code == 302
    assert stored(world.b) == b_before


def test_b_admin_edits_b_while_a_admin_is_logged_in(
    world: World, stored: Any, app: Flask, browser: Any
) -> None:
    a_admin = admin_of(browser, world, world.a)
    b_admin = admin_of(browser, world, world.b)
    assert editor_post(b_admin, {**VALID, "product_name": "Bravo Neo"}).status_code == 302
    assert editor_post(a_admin, {**VALID, "product_name": "Alpha Neo"}).status_code == 302
    assert stored(world.a)["product_name"] == "Alpha Neo"
    assert stored(world.b)["product_name"] == "Bravo Neo"


def test_reseller_without_a_theme_gets_one_on_first_save(
    app: Flask, browser: Any, stored: Any
) -> None:
    with app.app_context():
        with platform_bypass("tests.factory"):
            reseller = provisioning.create_reseller(
                slug="charlie", name="Reseller charlie", base_domain="localhost"
            )
        with use_scope(Scope(reseller.id)):
            provisioning.create_staff(
                reseller,
                email="admin@charlie.test",
                name="charlie admin",
                password=PASSWORD,
                kind=StaffKind.RESELLER,
                role=StaffRole.ADMIN,
            )
        charlie = Tenant(slug="charlie", host="charlie.localhost", reseller_id=reseller.id)
        db.session.commit()
    client = english(browser(charlie.host))
    assert client.login_staff("admin@charlie.test", PASSWORD).status_code == 302
    page = client.get("/staff/theme").get_data(as_text=True)
    assert 'value="Reseller charlie"' in page
    assert 'value="#1f4e8c"' in page
    assert editor_post(client, VALID).status_code == 302
    saved = stored(charlie)
    assert saved["product_name"] == VALID["product_name"]
    assert saved["reseller_id"] == charlie.reseller_id


# -- two editors open at once (pbx_platform.versioning) ---------------------------------------

STALE_EN = (
    "Someone else changed this page after you opened it. Nothing was saved; "
    "the current settings are shown."
)
STALE_JA = (
    "このページを開いた後に他の人が変更しました。保存されていません。現在の内容を表示しています。"
)


def test_a_save_from_an_editor_opened_before_another_save_changes_nothing(
    app: Flask, world: World, stored: Any, browser: Any
) -> None:
    first = admin_of(browser, world, world.a)
    second = admin_of(browser, world, world.a)
    opened = page_version(second, "/staff/theme")
    assert editor_post(first, {**VALID, "product_name": "First Phone"}).status_code == 302
    saved = stored(world.a)

    response = editor_post(
        second,
        {**VALID, "product_name": "Second Phone", "edit_version": opened},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert STALE_EN in page
    assert 'value="First Phone"' in page  # the current values, not the stale form's
    assert stored(world.a) == saved
    with app.app_context(), use_scope(world.a.scope):
        updates = db.session.scalars(
            select(AuditLog.after).where(AuditLog.action == "theme.update")
        ).all()
    assert [after["product_name"] for after in updates] == ["First Phone"]


def test_the_stale_message_is_in_japanese_for_japanese_users(
    world: World, stored: Any, browser: Any
) -> None:
    client = browser(world.a.host)  # the portal's default locale: Japanese
    assert client.login_staff(world.a.staff["admin"], world.password).status_code == 302
    opened = page_version(client, "/staff/theme")
    assert editor_post(client, VALID).status_code == 302
    response = editor_post(
        client, {**VALID, "footer_text": "later", "edit_version": opened}, follow_redirects=True
    )
    assert STALE_JA in response.get_data(as_text=True)
    assert stored(world.a)["footer_text"] == VALID["footer_text"]


@pytest.mark.parametrize("version", ["", "abc", "-1", "99"])
def test_a_save_without_the_version_it_was_opened_at_changes_nothing(
    world: World, stored: Any, browser: Any, version: str
) -> None:
    client = admin_of(browser, world, world.a)
    before = stored(world.a)
    response = editor_post(client, {**VALID, "edit_version": version})
    assert response.status_code == 302
    assert stored(world.a) == before
    assert STALE_EN in client.get("/staff/theme").get_data(as_text=True)


def test_each_save_moves_the_version_the_editor_carries(world: World, browser: Any) -> None:
    client = admin_of(browser, world, world.a)
    assert page_version(client, "/staff/theme") == "0"
    editor_post(client, VALID)
    assert page_version(client, "/staff/theme") == "1"
    editor_post(client, {**VALID, "product_name": "Again"})
    assert page_version(client, "/staff/theme") == "2"


# -- template overrides -----------------------------------------------------------------------


@pytest.fixture
def overrides(tmp_path: Path) -> Iterator[Path]:
    """Point the override root at a temporary folder, and back afterwards."""
    root = tmp_path / "overrides"
    root.mkdir()
    templating.set_overrides(root, themes._override_folder)
    try:
        yield root
    finally:
        templating.set_overrides(themes.OVERRIDES, themes._override_folder)


def use_folder(app: Flask, tenant: Tenant, folder: str | None) -> None:
    with app.app_context(), use_scope(tenant.scope):
        db.session.scalars(select(Theme)).one().template_folder = folder
        db.session.commit()


def make_override(root: Path, name: str, source: str) -> str:
    # Jinja caches by name for the life of the app: a fresh folder name per test.
    folder = f"t-{uuid.uuid4().hex[:12]}"
    path = root / folder / name
    path.parent.mkdir(parents=True)
    path.write_text(source, encoding="utf-8")
    return folder


LOGIN_OVERRIDE = """{% extends "@base/tenants/login_staff.html" %}
{% block content %}<p class="override-marker">Welcome to our partner desk</p>{{ super() }}{% endblock %}
"""


def test_override_applies_to_its_reseller_only(
    world: World, app: Flask, browser: Any, overrides: Path
) -> None:
    folder = make_override(overrides, "tenants/login_staff.html", LOGIN_OVERRIDE)
    use_folder(app, world.a, folder)
    a, b = browser(world.a.host), browser(world.b.host)
    # Alternate the hosts: a cache keyed by template name alone would serve one
    # reseller's page to the other.
    for _ in range(2):
        a_page = a.get("/staff/login").get_data(as_text=True)
        b_page = b.get("/staff/login").get_data(as_text=True)
        assert "Welcome to our partner desk" in a_page
        assert "Welcome to our partner desk" not in b_page
        # The override extends the base page: its form is still there.
        assert 'name="password"' in a_page
        assert 'name="password"' in b_page
        assert "Alpha Phone" in a_page
        assert "Bravo Phone" in b_page


def test_override_falls_back_to_the_base_for_other_templates(
    world: World, app: Flask, browser: Any, overrides: Path
) -> None:
    folder = make_override(overrides, "tenants/login_staff.html", LOGIN_OVERRIDE)
    use_folder(app, world.a, folder)
    page = browser(world.a.host).get("/login").get_data(as_text=True)
    assert "Welcome to our partner desk" not in page
    assert 'name="login_id"' in page


def test_layout_override_reaches_every_page_of_the_reseller(
    world: World, app: Flask, browser: Any, overrides: Path
) -> None:
    layout = """{% extends "@base/layout.html" %}
{% block nav %}<p class="override-banner">Partner edition</p>{{ super() }}{% endblock %}
"""
    folder = make_override(overrides, "layout.html", layout)
    use_folder(app, world.b, folder)
    for path in ("/login", "/staff/login", "/no-such-page"):
        assert "Partner edition" in browser(world.b.host).get(path).get_data(as_text=True)
        assert "Partner edition" not in browser(world.a.host).get(path).get_data(as_text=True)


def test_override_folder_must_be_a_plain_name(
    world: World, app: Flask, browser: Any, overrides: Path
) -> None:
    # A folder beside the overrides root, reachable only by a path with "..".
    outside = make_override(overrides.parent, "tenants/login_staff.html", LOGIN_OVERRIDE)
    use_folder(app, world.a, f"../{outside}")
    page = browser(world.a.host).get("/staff/login").get_data(as_text=True)
    assert "Welcome to our partner desk" not in page


def test_shipped_sakura_override_extends_the_base_error_page(
    world: World, app: Flask, browser: Any
) -> None:
    use_folder(app, world.a, "sakura")
    a_page = english(browser(world.a.host)).get("/no-such-page")
    b_page = english(browser(world.b.host)).get("/no-such-page")
    assert a_page.status_code == b_page.status_code == 404
    assert "support desk answers on weekdays" in a_page.get_data(as_text=True)
    assert "support desk answers on weekdays" not in b_page.get_data(as_text=True)
    assert "The page you asked for does not exist." in a_page.get_data(as_text=True)
