"""Security headers, proxy handling and the comparison of secret tokens."""

from __future__ import annotations

import hmac

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)


def tokens_match(expected: str, given: object) -> bool:
    """Constant-time comparison of a token the app issued with one a request sent.

    ``hmac.compare_digest`` refuses ``str`` with non-ASCII characters (TypeError), and a
    request may send anything (``２``, an emoji, a lone surrogate): both sides are
    compared as UTF-8 bytes, and what is not text is no match.
    """
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask) -> None:
    hops = app.config["PROXY_HOPS"]
    if hops:
        # Behind N trusted proxies the client address and host come from X-Forwarded-*.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.after_request(_headers)
