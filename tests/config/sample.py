"""The issue's example ``tessera.toml``, and helpers to write variants of it and find their lines."""

from __future__ import annotations

VALID = """\
[provider]
issuer = "http://127.0.0.1:8000"
name = "Orders"
signup = true

[[apis]]
audience = "orders-api"
scopes = ["orders:read", "orders:write"]

[[clients]]
id = "orders-service"
type = "confidential"
grants = ["client_credentials"]
scopes = ["orders:read", "orders:write"]
secret_env = "ORDERS_SERVICE_SECRET"

[[clients]]
id = "orders-web"
type = "public"
redirect_uris = ["http://127.0.0.1:5173/callback"]
scopes = ["openid", "email", "offline_access", "orders:read", "orders:write"]

[[users]]
email = "bob@example.com"
roles = ["admin"]

[[routes]]
method = "GET"
path = "/orders/{id}"
scopes = ["orders:read"]
handler = "app:handler"
"""
SECRET = "s" * 40


def replaced(old: str, new: str) -> str:
    """The valid file with one piece of text changed (which must be there)."""
    assert old in VALID
    return VALID.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line containing ``fragment``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)
