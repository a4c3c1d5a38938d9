"""The machine API's routes (``/api/v1/...`` on the console host): thin, as every view:
the token (``pbx_platform.api.oauth``), the circle the client reaches
(``tenants.api.access``), the body through its pydantic model, then one service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from pbx_platform import storage
from pbx_platform.api.errors import ApiError
from pbx_platform.api.oauth import Caller, api_blueprint, console_only, require_token
from pbx_platform.db import utcnow
from pbx_platform.japanese import tokyo_today
from pbx_platform.routing import parse_id
from pbx_platform.validation import has_control_characters
from tenants.api import access, openapi
from tenants.api.schemas import (
    CallBatchOut,
    CallBatchShape,
    CallIn,
    CircleConfigOut,
    RecordingOut,
    RejectedOut,
)
from tenants.calls import ingest, pbx_config, records
from tenants.calls.fields import MAX_CALL_ID
from tenants.calls.ingest import MAX_BATCH, Rejected
from tenants.options import recording
from tenants.options.ivr import prompts
from tenants.options.ivr import service as ivr_service
from tenants.options.recording import UploadRefused

bp = api_blueprint("api", __name__)

CHUNK = 64 * 1024
FIELD_SHAPE = _l("Give this field as JSON text (a string), or null where it may be empty.")
NOT_FOUND = _l("Not found.")


def _caller(scope: str) -> Caller:
    console_only()
    caller = require_token(scope)
    access.act_as(caller)
    return caller


@bp.get("/api/openapi.json")
def openapi_document() -> Any:
    console_only()
    return jsonify(openapi.document())


# -- call records ------------------------------------------------------------------------


def _batch_records(body: Any) -> list[Any]:
    try:
        shape = CallBatchShape.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            400, "invalid_body", _l('Send a JSON object with a list of records in "calls".')
        ) from exc
    if len(shape.calls) > MAX_BATCH:
        raise ApiError(
            413, "too_many_records", _l("Send at most %(n)d records at a time.", n=MAX_BATCH)
        )
    return shape.calls


@bp.post("/api/v1/calls")
def post_calls() -> Any:
    caller = _caller("calls:write")
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", _l("Send the body as application/json."))
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "malformed_json", _l("The body is not valid JSON."))
    items = _batch_records(body)
    valid: list[tuple[int, dict[str, object]]] = []
    refused: list[Rejected] = []
    for index, item in enumerate(items):
        try:
            call = CallIn.model_validate(item)
        except ValidationError as exc:
            fields = {
                str(error["loc"][0]) if error["loc"] else "record": str(FIELD_SHAPE)
                for error in exc.errors()
            }
            refused.append(Rejected(index, "invalid", fields))
            continue
        valid.append((index, call.model_dump()))
    circles = access.circle_keys(caller, [values["circle"] for _, values in valid])  # type: ignore[misc]
    result = ingest.ingest(valid, circles, now=utcnow(), rejected=refused)
    out = CallBatchOut(
        new=result.new,
        known=result.known,
        rejected=[
            RejectedOut(index=r.index, reason=r.reason, fields=r.fields)  # type: ignore[arg-type]
            for r in result.rejected
        ],
    )
    return jsonify(out.model_dump())


# -- recordings --------------------------------------------------------------------------


def _body_chunks() -> Iterator[bytes]:
    """The request body as it arrives, never whole in memory."""
    stream = request.stream
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    except ClientDisconnected as exc:
        raise UploadRefused(
            "truncated", str(_l("The upload ended before its announced length.")), 422
        ) from exc
    except RequestEntityTooLarge as exc:
        raise UploadRefused(
            "too_large", str(_l("The file is larger than a recording may be.")), 413
        ) from exc


@bp.put("/api/v1/calls/<string(maxlength=100):call_id>/recording")
def put_recording(call_id: str) -> Any:
    caller = _caller("recordings:write")
    limit = int(current_app.config["API_RECORDING_MAX_BYTES"])
    # This route alone takes bodies past the app's MAX_CONTENT_LENGTH (Flask 3.1).
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "too_large", _l("The file is larger than a recording may be."))
    circle_id = None
    if "circle" in request.args:
        circle_id = parse_id(request.args.get("circle"))
        if circle_id is None:
            raise ApiError(400, "invalid_circle", _l("The circle must be a circle's id."))
    if len(call_id) > MAX_CALL_ID or has_control_characters(call_id):
        raise ApiError(404, "not_found", NOT_FOUND)  # no call has such an id (fields.py)
    try:
        key = access.call_circle(caller, call_id, circle_id)
    except access.AmbiguousCall as exc:
        raise ApiError(
            409,
            "ambiguous_call",
            _l("Several circles have this call ID: add ?circle=<id> to the URL."),
        ) from exc
    if key is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    with access.within(key) as circle:
        call = records.find(circle, call_id)
        if call is None:  # pragma: no cover - found a moment ago
            raise ApiError(404, "not_found", NOT_FOUND)
        try:
            kept, is_new = recording.store(circle, call, _body_chunks(), max_bytes=limit)
        except UploadRefused as exc:
            raise ApiError(exc.status, exc.code, str(exc)) from exc
        out = RecordingOut(
            call_id=call.call_id,
            sha256=kept.sha256,
            size_bytes=kept.size_bytes,
            duration_seconds=kept.duration_seconds,
        )
    return jsonify(out.model_dump()), 201 if is_new else 200


# -- a circle's configuration ------------------------------------------------------------


def _circle_key(caller: Caller, circle_id: int) -> ingest.CircleKey:
    key = access.circle_key(caller, circle_id)
    if key is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return key


@bp.get("/api/v1/circles/<int:circle_id>/config")
def circle_config(circle_id: int) -> Any:
    caller = _caller("config:read")
    with access.within(_circle_key(caller, circle_id)) as circle:
        document = pbx_config.circle_config(
            circle,
            tokyo_today(),
            lambda ivr_id: url_for(
                "api.ivr_prompt", circle_id=circle_id, ivr_id=ivr_id, _external=True
            ),
        )
    body = CircleConfigOut.model_validate(document).model_dump(mode="json")
    tag = pbx_config.etag(body)
    headers = {"ETag": f'"{tag}"', "Cache-Control": "no-cache"}
    if request.if_none_match.contains(tag):
        return Response(status=304, headers=headers)
    response = Response(pbx_config.canonical(body), mimetype="application/json", headers=headers)
    return response


@bp.get("/api/v1/circles/<int:circle_id>/ivrs/<int:ivr_id>/prompt.wav")
def ivr_prompt(circle_id: int, ivr_id: int) -> Any:
    caller = _caller("config:read")
    with access.within(_circle_key(caller, circle_id)) as circle:
        ivr = ivr_service.find_ivr(circle, ivr_id)
        if ivr is None or ivr.prompt_key is None:
            raise ApiError(404, "not_found", NOT_FOUND)
        try:
            data = prompts.read(ivr)
        except storage.Missing as exc:
            raise ApiError(404, "not_found", NOT_FOUND) from exc
        tag = ivr.prompt_sha256 or ""
    headers = {"ETag": f'"{tag}"'}
    if tag and request.if_none_match.contains(tag):
        return Response(status=304, headers=headers)
    return Response(data, mimetype="audio/wav", headers=headers)
