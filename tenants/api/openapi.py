"""The OpenAPI 3.1 document of the machine API (``GET /api/openapi.json``).

Assembled here from the pydantic models' JSON Schemas (``tenants.api.schemas``), the
same models the views validate requests with and build answers from, so the document
cannot drift from the code. pydantic emits JSON Schema 2020-12, which is OpenAPI 3.1's
own dialect: the schemas go into ``components`` unchanged. We chose pydantic and a small
assembler over spectree: spectree decorates views and validates on its own terms,
while our call batch must keep the valid records of a partly bad batch (each record is
validated on its own), and the recording upload is a streamed binary body."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pbx_platform.api.models import SCOPES
from tenants.api import schemas as s

REF = "#/components/schemas/{model}"
MODELS: list[type[BaseModel]] = [
    s.ErrorOut,
    s.TokenOut,
    s.TokenErrorOut,
    s.CallBatchIn,
    s.CallBatchOut,
    s.RecordingOut,
    s.CircleConfigOut,
]
SCOPE_TEXT = {
    "calls:write": "Report call records (POST /api/v1/calls).",
    "recordings:write": "Upload recordings (PUT /api/v1/calls/{call_id}/recording).",
    "config:read": "Read circle configurations and IVR prompts.",
}
DESCRIPTION = """\
The API the PBX nodes use: report call records, upload recordings, read each circle's
configuration. Authenticate with OAuth 2.0 client credentials (`POST /api/oauth/token`,
HTTP Basic with the client id and secret the platform operator registered) and send the
access token as `Authorization: Bearer <token>`. A client limited to one reseller reaches
that reseller's circles only; another circle is 404.

Every error is JSON `{"error": code, "message": text}`. The message is in English unless
the request's `Accept-Language` asks for Japanese (`ja`). Authentication errors follow
RFC 6750: 401 with `WWW-Authenticate: Bearer error="invalid_token"`, 403 with
`error="insufficient_scope"`.
"""


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "The request is malformed.",
        401: "No valid access token (RFC 6750 invalid_token).",
        403: "The token lacks the scope (insufficient_scope), or the upload is refused.",
        404: "No such object for this client.",
        409: "Conflicts with what is stored.",
        413: "Too large.",
        415: "Not JSON.",
        422: "The body cannot be kept.",
    }
    return {str(code): _json(s.ErrorOut, texts[code]) for code in codes}


def _secured(scope: str) -> list[dict[str, list[str]]]:
    return [{"oauth2": [scope]}]


CIRCLE_ID = {
    "name": "circle_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of the copy the node holds: 304 when unchanged.",
}
ETAG = {"ETag": {"schema": {"type": "string"}, "description": "Strong ETag of the body."}}


def _paths() -> dict[str, Any]:
    return {
        "/api/oauth/token": {
            "post": {
                "operationId": "token",
                "summary": "An access token for the client's scopes (RFC 6749 §4.4).",
                "security": [{"clientBasic": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["grant_type"],
                                "properties": {
                                    "grant_type": {"const": "client_credentials"},
                                    "scope": {
                                        "type": "string",
                                        "description": "Space-separated; default all of "
                                        "the client's.",
                                    },
                                    "client_id": {"type": "string"},
                                    "client_secret": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(s.TokenOut, "The token (valid `expires_in` seconds)."),
                    "400": _json(s.TokenErrorOut, "RFC 6749 §5.2 error."),
                    "401": _json(s.TokenErrorOut, "Unknown client or wrong secret."),
                    "404": _json(s.ErrorOut, "Not the console host."),
                },
            }
        },
        "/api/v1/calls": {
            "post": {
                "operationId": "postCalls",
                "summary": "Report up to 1,000 call records; idempotent by call id.",
                "security": _secured("calls:write"),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(s.CallBatchIn)}},
                },
                "responses": {
                    "200": _json(
                        s.CallBatchOut,
                        "How many were new, how many known; each rejected record with "
                        "its index and reasons (the others are kept).",
                    ),
                    **_errors(400, 401, 403, 404, 413, 415),
                },
            }
        },
        "/api/v1/calls/{call_id}/recording": {
            "put": {
                "operationId": "putRecording",
                "summary": "Upload the call's WAV recording (streamed; up to 200 MB).",
                "security": _secured("recordings:write"),
                "parameters": [
                    {
                        "name": "call_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                    },
                    {
                        "name": "circle",
                        "in": "query",
                        "required": False,
                        "description": "The circle, when a platform-wide client's call id "
                        "is used under several resellers.",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
                },
                "responses": {
                    "200": _json(s.RecordingOut, "The same bytes were already kept."),
                    "201": _json(s.RecordingOut, "Kept."),
                    **_errors(400, 401, 403, 404, 409, 413, 422),
                },
            }
        },
        "/api/v1/circles/{circle_id}/config": {
            "get": {
                "operationId": "circleConfig",
                "summary": "What a PBX needs to run the circle.",
                "security": _secured("config:read"),
                "parameters": [CIRCLE_ID, IF_NONE_MATCH],
                "responses": {
                    "200": {**_json(s.CircleConfigOut, "The configuration."), "headers": ETAG},
                    "304": {"description": "Unchanged since the ETag given.", "headers": ETAG},
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/v1/circles/{circle_id}/ivrs/{ivr_id}/prompt.wav": {
            "get": {
                "operationId": "ivrPrompt",
                "summary": "An IVR's prompt (8 kHz mono 16-bit PCM WAV).",
                "security": _secured("config:read"),
                "parameters": [
                    CIRCLE_ID,
                    {**CIRCLE_ID, "name": "ivr_id"},
                    IF_NONE_MATCH,
                ],
                "responses": {
                    "200": {
                        "description": "The WAV.",
                        "headers": ETAG,
                        "content": {
                            "audio/wav": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    "304": {"description": "Unchanged.", "headers": ETAG},
                    **_errors(401, 403, 404),
                },
            }
        },
    }


@cache
def document() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(model, "validation") for model in MODELS], ref_template=REF
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "PBX platform API", "version": "1.0.0", "description": DESCRIPTION},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": _paths(),
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/api/oauth/token",
                            "scopes": {scope: SCOPE_TEXT[scope] for scope in SCOPES},
                        }
                    },
                },
                "clientBasic": {"type": "http", "scheme": "basic"},
            },
        },
    }
