"""The machine API for the PBX nodes: OAuth 2.0 client credentials (authlib), the
clients the platform operator registers, JSON errors (RFC 6750 for auth).

The core holds who may call and with which scopes; the endpoints that read and write
circles live in the ``tenants`` context (``tenants.api``), which asks this package for
the caller (``oauth.require_token``)."""
