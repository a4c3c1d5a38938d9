"""Request facts that depend on the deployment (proxies, hosts)."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request


def client_address() -> str:
    """The client's address; behind a proxy ProxyFix has already put it in remote_addr."""
    return request.remote_addr or "unknown"


def request_host() -> str:
    """The request's host name without port, lower-cased."""
    host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host
    return host.strip().lower().rstrip(".")


def public_url(host: str, endpoint: str, **values: Any) -> str:
    """An absolute URL of ``endpoint`` on ``host`` (links in e-mails). In a request it
    takes the request's scheme and port (development serves every host on one port:
    ``sakura.localhost:5000``); outside one (a job, the CLI), ``PBX_URL_SCHEME``."""
    scheme = current_app.config["URL_SCHEME"]
    port = ""
    if has_request_context():
        scheme = request.scheme
        if ":" in request.host and not request.host.endswith("]"):
            port = ":" + request.host.rsplit(":", 1)[1]
    path = current_app.url_map.bind(f"{host}{port}", url_scheme=scheme).build(endpoint, values)
    return f"{scheme}://{host}{port}{path}"
