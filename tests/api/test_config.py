"""GET /api/v1/circles/<id>/config and the IVR prompts (tenants.calls.pbx_config)."""

from __future__ import annotations

from pbx_platform import storage
from pbx_platform.db import db
from tenants.models import Unique, UniqueKind
from tenants.options.models import Ivr, OptionKind
from tenants.services import provisioning as p
from tests.api.helpers import CONSOLE, bearer, token_for
from tests.call_helpers import wav_bytes
from tests.factories import in_circle
from tests.option_helpers import give_option

CONFIG = "/api/v1/circles/{}/config"


def get(app, token, path, **headers):
    return app.test_client().get(path, headers={**bearer(token), **headers}, base_url=CONSOLE)


def _ivr_with_prompt(app, tenant) -> int:
    with in_circle(app, tenant) as circle:
        unique = p.create_unique(
            circle, extension="510", display_name="Main menu", kind=UniqueKind.IVR
        )
        ivr = Ivr(
            reseller_id=circle.reseller_id,
            account_id=circle.account_id,
            circle_id=circle.id,
            unique_id=unique.id,
        )
        stored = storage.get_store().put(f"prompts/{circle.id}", [wav_bytes(800)])
        ivr.prompt_key, ivr.prompt_sha256, ivr.prompt_bytes = stored.key, stored.sha256, stored.size
        db.session.add(ivr)
        db.session.commit()
        return ivr.id


def test_config_lists_what_the_pbx_needs(app, world):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    with in_circle(app, world.a):
        phone = db.session.get(Unique, world.a.unique_id)
        phone.recording_refused = True
        phone.sip_user, phone.sip_realm, phone.sip_ha1 = "u201", "sip.test", "a" * 32
        db.session.commit()
    ivr_id = _ivr_with_prompt(app, world.a)
    token = token_for(app, world, scopes=("config:read",))
    response = get(app, token, CONFIG.format(world.a.circle_id))
    assert response.status_code == 200
    body = response.get_json()
    unique = next(u for u in body["uniques"] if u["id"] == world.a.unique_id)
    assert unique["sip"] == {"user": "u201", "realm": "sip.test", "ha1": "a" * 32, "ha1_sha256": ""}
    assert body["recording"] == {"contracted": True, "refused_unique_ids": [world.a.unique_id]}
    assert body["monitoring"]["contracted"] is False
    [ivr] = body["ivrs"]
    assert ivr["id"] == ivr_id
    assert ivr["prompt"]["url"] == (
        f"http://localhost/api/v1/circles/{world.a.circle_id}/ivrs/{ivr_id}/prompt.wav"
    )
    ring = next(g for g in body["ring_groups"] if g["id"] == world.a.ring_group_id)
    assert ring["members"]
    assert body["pickup_groups"][0]["name"] == "Default"
    # No secret anywhere: only the stored digests.
    assert "secret" not in response.get_data(as_text=True)


def test_etag_and_304(app, world):
    token = token_for(app, world, scopes=("config:read",))
    first = get(app, token, CONFIG.format(world.a.circle_id))
    tag = first.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    again = get(app, token, CONFIG.format(world.a.circle_id), **{"If-None-Match": tag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == tag
    # A change makes a new ETag.
    with in_circle(app, world.a) as circle:
        p.create_unique(circle, extension="299", display_name="New desk")
        db.session.commit()
    changed = get(app, token, CONFIG.format(world.a.circle_id), **{"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != tag


def test_the_prompt_is_served_as_wav(app, world):
    ivr_id = _ivr_with_prompt(app, world.a)
    token = token_for(app, world, scopes=("config:read",))
    path = f"/api/v1/circles/{world.a.circle_id}/ivrs/{ivr_id}/prompt.wav"
    response = get(app, token, path)
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.get_data() == wav_bytes(800)
    assert get(app, token, path, **{"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_another_circles_ivr_is_404(app, world):
    ivr_id = _ivr_with_prompt(app, world.a)
    token = token_for(app, world)
    path = f"/api/v1/circles/{world.a.other_circle_id}/ivrs/{ivr_id}/prompt.wav"
    response = get(app, token, path)
    assert response.status_code == 404
    assert response.is_json


def test_unknown_circle_is_404(app, world):
    token = token_for(app, world)
    response = get(app, token, CONFIG.format(2**31 - 1), **{"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "Not found."}
