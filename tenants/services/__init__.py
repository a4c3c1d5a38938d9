"""The rules of the tenant context. Every state change goes through here; services
flush and never commit (the request or the CLI command commits once)."""
