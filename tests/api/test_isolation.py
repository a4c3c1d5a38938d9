"""R20 for the machine API: a reseller's client reaches its reseller's circles only,
by every endpoint; the answer for another's is the answer for one that does not exist."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass
from tenants.calls.models import CallRecord
from tenants.options.models import OptionKind, Recording
from tests.api.helpers import CONSOLE, bearer, token_for
from tests.api.test_calls import record
from tests.call_helpers import add_call, wav_bytes
from tests.option_helpers import give_option


def _counts(app) -> tuple[int, int]:
    with app.app_context(), platform_bypass("tests.count"):
        return (
            db.session.scalar(select(func.count(CallRecord.id))) or 0,
            db.session.scalar(select(func.count(Recording.id))) or 0,
        )


def test_a_resellers_client_gets_404s_for_every_other_resellers_object(app, world):
    give_option(app, world.b, OptionKind.CALL_RECORDING)
    add_call(app, world.b, datetime(2026, 11, 30, 5, tzinfo=UTC), call_id="b-1")
    before = _counts(app)
    token = token_for(app, world, reseller_id=world.a.reseller_id)
    http = app.test_client()
    headers = bearer(token)
    answers = {
        "config": http.get(
            f"/api/v1/circles/{world.b.circle_id}/config", headers=headers, base_url=CONSOLE
        ),
        "config of nowhere": http.get(
            f"/api/v1/circles/{2**31 - 1}/config", headers=headers, base_url=CONSOLE
        ),
        "prompt": http.get(
            f"/api/v1/circles/{world.b.circle_id}/ivrs/1/prompt.wav",
            headers=headers,
            base_url=CONSOLE,
        ),
        "recording": http.put(
            "/api/v1/calls/b-1/recording",
            data=wav_bytes(1000),
            headers=headers,
            base_url=CONSOLE,
        ),
        "recording with circle": http.put(
            f"/api/v1/calls/b-1/recording?circle={world.b.circle_id}",
            data=wav_bytes(1000),
            headers=headers,
            base_url=CONSOLE,
        ),
    }
    for name, response in answers.items():
        assert response.status_code == 404, name
        assert response.get_json()["error"] == "not_found", name
    calls = http.post(
        "/api/v1/calls",
        data=json.dumps({"calls": [record(world.b.circle_id, "b-2")]}),
        content_type="application/json",
        headers=headers,
        base_url=CONSOLE,
    )
    assert calls.get_json()["rejected"][0]["reason"] == "unknown_circle"
    assert _counts(app) == before


def test_a_login_cookie_is_no_api_credential(app, world, browser):
    operator = browser("localhost")
    assert operator.login_console(world.operator_email, world.password).status_code == 302
    response = operator.get(f"/api/v1/circles/{world.a.circle_id}/config")
    assert response.status_code == 401
    assert response.is_json
