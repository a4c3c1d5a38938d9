"""Request facts that depend on the deployment (proxies, hosts)."""

from __future__ import annotations

from flask import request


def client_address() -> str:
    """The client's address; behind a proxy ProxyFix has already put it in remote_addr."""
    return request.remote_addr or "unknown"


def request_host() -> str:
    """The request's host name without port, lower-cased."""
    host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host
    return host.strip().lower().rstrip(".")
