"""GET /api/openapi.json (tenants.api.openapi): OpenAPI 3.1 built from the models."""

from __future__ import annotations

from tenants.api.schemas import CallBatchIn
from tests.api.helpers import CONSOLE, bearer, token_for


def test_the_document_describes_the_api(app, world):
    response = app.test_client().get("/api/openapi.json", base_url=CONSOLE)
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/api/oauth/token",
        "/api/v1/calls",
        "/api/v1/calls/{call_id}/recording",
        "/api/v1/circles/{circle_id}/config",
        "/api/v1/circles/{circle_id}/ivrs/{ivr_id}/prompt.wav",
    }
    flow = document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/api/oauth/token"
    assert set(flow["scopes"]) == {"calls:write", "recordings:write", "config:read"}
    assert document["paths"]["/api/v1/calls"]["post"]["security"] == [{"oauth2": ["calls:write"]}]
    # The schemas are the models' own.
    batch = document["components"]["schemas"]["CallBatchIn"]
    assert batch["properties"]["calls"]["maxItems"] == 1000
    assert batch["properties"]["calls"]["items"] == {"$ref": "#/components/schemas/CallIn"}
    own = CallBatchIn.model_json_schema(ref_template="#/components/schemas/{model}")
    assert document["components"]["schemas"]["CallIn"] == own["$defs"]["CallIn"]


def test_the_apps_8_mb_limit_holds_for_a_call_batch(app, world):
    token = token_for(app, world)
    response = app.test_client().post(
        "/api/v1/calls",
        data=b"{" + b" " * (9 * 1024 * 1024) + b"}",
        content_type="application/json",
        headers={**bearer(token), "Accept-Language": "en"},
        base_url=CONSOLE,
    )
    assert response.status_code == 413
    assert response.get_json() == {"error": "too_large", "message": "The request is too large."}
