"""PUT /api/v1/calls/<call id>/recording: streamed WAV uploads (R6, R20)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass, use_scope
from tenants.models import Unique
from tenants.options import recording
from tenants.options.models import OptionKind, Recording, RecordingLimit
from tests.api.helpers import CONSOLE, bearer, token_for
from tests.api.live import serving
from tests.call_helpers import add_call, wav_bytes
from tests.factories import in_circle
from tests.option_helpers import give_option
from tests.test_concurrency import committed, in_parallel  # noqa: F401  (fixture)

EN = {"Accept-Language": "en"}
STARTED = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


def put(app, token, call_id, body, *, query="", headers=None, **kwargs):
    return app.test_client().put(
        f"/api/v1/calls/{call_id}/recording{query}",
        data=body,
        content_type="audio/wav",
        headers={**bearer(token), **EN, **(headers or {})},
        base_url=CONSOLE,
        **kwargs,
    )


@pytest.fixture
def call(app, world):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    add_call(app, world.a, STARTED, call_id="rec-1")
    return "rec-1"


def recordings(app) -> list[Recording]:
    with app.app_context(), platform_bypass("tests.read"):
        rows = db.session.scalars(select(Recording)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def used_bytes(app, world) -> int:
    with app.app_context(), platform_bypass("tests.read"):
        return db.session.scalar(select(func.sum(RecordingLimit.used_bytes))) or 0


def test_new_upload_is_201_and_the_same_again_200(app, world, call):
    token = token_for(app, world, scopes=("recordings:write",))
    body = wav_bytes(16044)
    first = put(app, token, call, body)
    assert first.status_code == 201
    assert first.get_json()["size_bytes"] == 16044
    assert first.get_json()["duration_seconds"] == 1
    again = put(app, token, call, body)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert len(recordings(app)) == 1
    assert used_bytes(app, world) == 16044


def test_a_different_body_for_the_same_call_is_409(app, world, call):
    token = token_for(app, world)
    assert put(app, token, call, wav_bytes(1000)).status_code == 201
    response = put(app, token, call, wav_bytes(1000, fill=7))
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "conflict",
        "message": "This call already has a different recording.",
    }
    assert used_bytes(app, world) == 1000


def test_not_a_wav_is_422(app, world, call):
    token = token_for(app, world)
    response = put(app, token, call, b"ID3" + b"\0" * 500)
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "not_wav",
        "message": "The file is not a WAV audio file.",
    }
    assert recordings(app) == []


def test_riff_size_mismatch_is_422_truncated(app, world, call):
    token = token_for(app, world)
    response = put(app, token, call, wav_bytes(2000)[:1500])
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "truncated",
        "message": "The WAV file is incomplete: its header announces 2000 bytes.",
    }
    assert recordings(app) == []
    assert used_bytes(app, world) == 0


def test_body_shorter_than_its_content_length_is_422_truncated(app, world, call):
    """A node whose connection breaks mid-upload: the body ends before its
    Content-Length (a real socket to a live server; the half-closed connection still
    reads the answer)."""
    token = token_for(app, world)
    body = wav_bytes(2000)[:1200]
    with serving(app) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            head = (
                f"PUT /api/v1/calls/{call}/recording HTTP/1.1\r\n"
                f"Host: localhost:{port}\r\nAuthorization: Bearer {token}\r\n"
                "Accept-Language: en\r\nContent-Type: audio/wav\r\n"
                "Content-Length: 2000\r\nConnection: close\r\n\r\n"
            )
            conn.sendall(head.encode() + body)
            conn.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    assert b" 422 " in status
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1]) == {
        "error": "truncated",
        "message": "The upload ended before its announced length.",
    }
    assert recordings(app) == []


def test_no_recording_option_is_403(app, world):
    add_call(app, world.a, STARTED, call_id="plain-1")
    token = token_for(app, world)
    response = put(app, token, "plain-1", wav_bytes(1000))
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "no_recording_option",
        "message": "This circle does not have full call recording.",
    }


def test_unique_that_refuses_recording_is_403(app, world):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    with app.app_context(), use_scope(world.a.circle_scope):
        db.session.get(Unique, world.a.unique_id).recording_refused = True
        db.session.commit()
    add_call(app, world.a, STARTED, call_id="refused-1", unique_id=world.a.unique_id)
    token = token_for(app, world)
    response = put(app, token, "refused-1", wav_bytes(1000))
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "recording_refused",
        "message": "This unique refuses recording.",
    }


def _fill_to(app, world, free: int) -> None:
    """The circle's counter ``free`` bytes below its limit."""
    with in_circle(app, world.a) as circle:
        recording._add_bytes(circle, 0)  # the limit row
        limit = recording.usage(circle).limit_bytes
        db.session.execute(
            update(RecordingLimit)
            .values(used_bytes=limit - free)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def test_over_the_storage_limit_is_403(app, world, call):
    _fill_to(app, world, 999)
    token = token_for(app, world)
    response = put(app, token, call, wav_bytes(1000))
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "storage_limit",
        "message": "The recording storage limit of 100 GB is reached. Please contact your reseller.",
    }
    assert recordings(app) == []


def test_larger_than_the_route_limit_is_413(app, world, call):
    app.config["API_RECORDING_MAX_BYTES"] = 5000
    try:
        token = token_for(app, world)
        response = put(app, token, call, wav_bytes(6000))
    finally:
        app.config["API_RECORDING_MAX_BYTES"] = 200_000_000
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"


def test_a_body_past_the_apps_8_mb_is_taken_on_this_route(app, world, call):
    token = token_for(app, world)
    size = 9 * 1024 * 1024
    response = put(app, token, call, wav_bytes(size))
    assert response.status_code == 201
    assert response.get_json()["size_bytes"] == size


def test_unknown_call_is_404(app, world, call):
    token = token_for(app, world)
    response = put(app, token, "no-such-call", wav_bytes(1000))
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "Not found."}


def test_another_resellers_call_is_404(app, world):
    give_option(app, world.b, OptionKind.CALL_RECORDING)
    add_call(app, world.b, STARTED, call_id="b-call")
    token = token_for(app, world, reseller_id=world.a.reseller_id)
    response = put(app, token, "b-call", wav_bytes(1000))
    assert response.status_code == 404
    assert recordings(app) == []


def test_platform_client_must_name_the_circle_when_resellers_share_a_call_id(app, world):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    give_option(app, world.b, OptionKind.CALL_RECORDING)
    add_call(app, world.a, STARTED, call_id="shared")
    add_call(app, world.b, STARTED, call_id="shared")
    token = token_for(app, world)
    response = put(app, token, "shared", wav_bytes(1000))
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "ambiguous_call",
        "message": "Several circles have this call ID: add ?circle=<id> to the URL.",
    }
    named = put(app, token, "shared", wav_bytes(1000), query=f"?circle={world.b.circle_id}")
    assert named.status_code == 201
    [kept] = recordings(app)
    assert kept.circle_id == world.b.circle_id


def test_wrong_scope_uploads_nothing(app, world, call):
    token = token_for(app, world, scopes=("calls:write",))
    response = put(app, token, call, wav_bytes(1000))
    assert response.status_code == 403
    assert recordings(app) == []


@pytest.mark.postgres
def test_parallel_uploads_cannot_pass_the_limit_together(app, committed):  # noqa: F811
    """Two uploads that each fit but together pass the limit: one lands, one is refused
    (the check and the counter are one UPDATE, R6)."""
    world = committed
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    add_call(app, world.a, STARTED, call_id="par-1")
    add_call(app, world.a, STARTED, call_id="par-2")
    _fill_to(app, world, 1500)
    token = token_for(app, world)
    answers = in_parallel(
        [
            lambda: put(app, token, "par-1", wav_bytes(1000, fill=1)).status_code,
            lambda: put(app, token, "par-2", wav_bytes(1000, fill=2)).status_code,
        ]
    )
    assert sorted(answers) == [201, 403]
    with app.app_context(), platform_bypass("tests.read"):
        assert db.session.scalar(select(func.count(Recording.id))) == 1
        limit = db.session.scalars(select(RecordingLimit)).one()
        assert limit.used_bytes == limit.limit_gb * 1000 * 1_000_000 - 500


def test_a_call_id_with_control_characters_is_404(app, world, call):
    token = token_for(app, world)
    response = put(app, token, "rec%00-1", wav_bytes(1000))
    assert response.status_code == 404
    assert response.is_json
