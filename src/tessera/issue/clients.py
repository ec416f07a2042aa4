"""Client registration rules, applied before a client reaches the store (AS-02, AS-43)."""

from __future__ import annotations

from tessera.errors import ConfigurationError
from tessera.issue.redirects import check_registered_uri
from tessera.issue.subjects import client_id_problem
from tessera.store import ClientRecord, Store

__all__ = ["AUTH_METHODS", "register_client"]

AUTH_METHODS = frozenset({"none", "client_secret_basic", "client_secret_post", "private_key_jwt"})


def register_client(store: Store, client: ClientRecord) -> ClientRecord:
    """Check ``client`` and store it; raise ConfigurationError for anything unsafe."""
    if not client.client_id or len(client.client_id) > 256:
        raise ConfigurationError("client_id must be 1-256 characters")
    problem = client_id_problem(store, client.client_id)
    if problem is not None:
        raise ConfigurationError(problem)
    methods = set(client.auth_methods)
    if not methods or not methods <= AUTH_METHODS or ("none" in methods and len(methods) > 1):
        raise ConfigurationError("auth_methods must be 'none' alone or a set of supported methods")
    if methods & {"client_secret_basic", "client_secret_post"} and not client.secret_hash:
        raise ConfigurationError("a client_secret_* client needs a secret")
    if "private_key_jwt" in methods and not client.jwks:
        raise ConfigurationError("a private_key_jwt client needs a JWKS")
    if client.public and not client.require_pkce:
        raise ConfigurationError("public clients always use PKCE")
    if client.public and "client_credentials" in client.grant_types:
        raise ConfigurationError("public clients cannot use client_credentials")
    for uri in (*client.redirect_uris, *client.post_logout_redirect_uris):
        check_registered_uri(uri)
    if not client.public and any("*" in uri for uri in client.redirect_uris):
        raise ConfigurationError("only public (native) clients may register loopback port wildcards")
    store.put_client(client)
    return client
