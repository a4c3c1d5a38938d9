"""POST /api/v1/calls: batches of call records (tenants.calls.ingest; R20)."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass
from tenants.calls.models import CallRecord
from tests.api.helpers import CONSOLE, bearer, token_for

EN = {"Accept-Language": "en"}


def record(circle_id: int, call_id: str, **changes):
    values = {
        "call_id": call_id,
        "circle": circle_id,
        "extension": None,
        "direction": "in",
        "caller": "03-5555-0101",
        "called": "201",
        "started_at": "2026-11-30T14:30:05+09:00",
        "answered_at": "2026-11-30T14:30:10+09:00",
        "ended_at": "2026-11-30T14:35:10+09:00",
        "disposition": "answered",
    }
    values.update(changes)
    return values


def post(app, token, body, **kwargs):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return app.test_client().post(
        "/api/v1/calls",
        data=data,
        content_type=kwargs.pop("content_type", "application/json"),
        headers={**bearer(token), **EN},
        base_url=CONSOLE,
    )


def count_calls(app) -> int:
    with app.app_context(), platform_bypass("tests.count"):
        return db.session.scalar(select(func.count(CallRecord.id))) or 0


def test_batch_is_stored_and_a_repeat_changes_nothing(app, world):
    token = token_for(app, world, scopes=("calls:write",))
    batch = {"calls": [record(world.a.circle_id, f"n1-{i}") for i in range(3)]}
    first = post(app, token, batch)
    assert first.status_code == 200
    assert first.get_json() == {"new": 3, "known": 0, "rejected": []}
    with app.app_context(), platform_bypass("tests.read"):
        row = db.session.scalars(select(CallRecord).where(CallRecord.call_id == "n1-0")).one()
        assert row.caller == "+81355550101"  # E.164
        assert row.talk_seconds == 300
        assert row.started_at.isoformat() == "2026-11-30T05:30:05+00:00"
        snapshot = (row.id, row.caller, row.ended_at)
    again = post(app, token, batch)
    assert again.get_json() == {"new": 0, "known": 3, "rejected": []}
    assert count_calls(app) == 3
    with app.app_context(), platform_bypass("tests.read"):
        row = db.session.scalars(select(CallRecord).where(CallRecord.call_id == "n1-0")).one()
        assert (row.id, row.caller, row.ended_at) == snapshot


def test_partial_rejects_keep_the_valid_records(app, world):
    token = token_for(app, world)
    batch = {
        "calls": [
            record(world.a.circle_id, "ok-1"),
            record(world.a.circle_id, "bad-1", direction="sideways"),
            record(world.a.circle_id, "bad-2", extension="999"),
            {"call_id": 5, "circle": world.a.circle_id},
            record(999999, "bad-4"),
            record(world.a.circle_id, "ok-2", disposition="busy", answered_at=None),
        ]
    }
    response = post(app, token, batch)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["new"], body["known"]) == (2, 0)
    assert body["rejected"] == [
        {
            "index": 1,
            "reason": "invalid",
            "fields": {"direction": "Direction must be in, out or internal."},
        },
        {
            "index": 2,
            "reason": "invalid",
            "fields": {"extension": "There is no unique with extension 999 in this circle."},
        },
        {
            "index": 3,
            "reason": "invalid",
            "fields": {
                "call_id": "Give this field as JSON text (a string), or null where it may be empty.",
                "direction": "Give this field as JSON text (a string), or null where it may be empty.",
                "started_at": "Give this field as JSON text (a string), or null where it may be empty.",
                "ended_at": "Give this field as JSON text (a string), or null where it may be empty.",
                "disposition": "Give this field as JSON text (a string), or null where it may be empty.",
            },
        },
        {
            "index": 4,
            "reason": "unknown_circle",
            "fields": {"circle": "There is no such circle for this client."},
        },
    ]
    assert count_calls(app) == 2


def test_another_resellers_circle_is_rejected_and_nothing_stored_there(app, world):
    token = token_for(app, world, reseller_id=world.a.reseller_id)
    response = post(app, token, {"calls": [record(world.b.circle_id, "x-1")]})
    assert response.get_json()["rejected"][0]["reason"] == "unknown_circle"
    assert count_calls(app) == 0


def test_call_id_of_another_circle_of_the_reseller_is_rejected(app, world):
    token = token_for(app, world)
    post(app, token, {"calls": [record(world.a.circle_id, "same")]})
    response = post(app, token, {"calls": [record(world.a.other_circle_id, "same")]})
    assert response.get_json() == {
        "new": 0,
        "known": 0,
        "rejected": [
            {
                "index": 0,
                "reason": "call_id_taken",
                "fields": {"call_id": "Another circle already has this call ID."},
            }
        ],
    }


def test_malformed_json_is_400_and_nothing_stored(app, world):
    token = token_for(app, world)
    response = post(app, token, '{"calls": [')
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "malformed_json",
        "message": "The body is not valid JSON.",
    }
    assert count_calls(app) == 0


def test_not_an_object_is_400(app, world):
    token = token_for(app, world)
    for body in ([record(world.a.circle_id, "a")], {"calls": "x"}, {"records": []}):
        response = post(app, token, body)
        assert response.status_code == 400
        assert response.get_json() == {
            "error": "invalid_body",
            "message": 'Send a JSON object with a list of records in "calls".',
        }
    assert count_calls(app) == 0


def test_not_json_is_415(app, world):
    token = token_for(app, world)
    response = post(app, token, "call_id=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_media_type"


def test_more_than_1000_records_is_413_and_nothing_stored(app, world):
    token = token_for(app, world)
    batch = {"calls": [record(world.a.circle_id, f"many-{i}") for i in range(1001)]}
    response = post(app, token, batch)
    assert response.status_code == 413
    assert response.get_json() == {
        "error": "too_many_records",
        "message": "Send at most 1000 records at a time.",
    }
    assert count_calls(app) == 0


def test_1000_records_are_accepted(app, world):
    token = token_for(app, world)
    batch = {"calls": [record(world.a.circle_id, f"k-{i}") for i in range(1000)]}
    assert post(app, token, batch).get_json()["new"] == 1000


def test_config_scope_cannot_post_calls(app, world):
    token = token_for(app, world, scopes=("config:read",))
    response = post(app, token, {"calls": [record(world.a.circle_id, "s-1")]})
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert count_calls(app) == 0
