"""Which API an access token is for: its ``aud`` from the scopes asked, or the RFC 8707 ``resource``.

An API (a resource server) declares its audience and its scopes; no scope belongs to two APIs.
The OpenID scopes (``openid``, ``profile``, ``email``, ``offline_access``) belong to none, and
scopes that no API declares belong to the provider's own audience (the issuer: userinfo, the
demo API). Without ``resource``, the scopes asked must belong to one audience, which becomes the
token's ``aud``; scopes of two are refused with ``invalid_scope``. With ``resource`` naming an
API, that API is the audience and the access token carries only its scopes and the OpenID ones;
a ``resource`` that names no API is ``invalid_target`` (RFC 8707 §2). A resource is named by the
API's audience, exactly as the ``aud`` claim will carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["OPENID_SCOPES", "ApiResource", "Target", "TargetError", "choose_target"]

OPENID_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


@dataclass(frozen=True)
class ApiResource:
    """A resource server: the ``aud`` of its access tokens and the scopes it defines."""

    audience: str
    scopes: frozenset[str]


class TargetError(Exception):
    """The scopes and ``resource`` of a request name no single API (an RFC 6749/8707 error)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Target:
    """An access token's audience and scope; ``api`` is the chosen API (None: the provider's own)."""

    audience: str
    scope: str
    api: ApiResource | None


def _owner(apis: Sequence[ApiResource], scope: str) -> ApiResource | None:
    return next((api for api in apis if scope in api.scopes), None)


def choose_target(
    apis: Sequence[ApiResource], default_audience: str, scopes: Sequence[str], resource: str | None
) -> Target:
    """The audience and scope of the access token for ``scopes`` and ``resource``; raise TargetError."""
    if resource is not None:
        api = next((a for a in apis if a.audience == resource), None)
        if api is None:
            raise TargetError("invalid_target", "the resource is not an API of this provider")
        kept = [s for s in scopes if s in OPENID_SCOPES or s in api.scopes]
        if any(s not in OPENID_SCOPES for s in scopes) and not set(kept) & api.scopes:
            raise TargetError("invalid_scope", "no requested scope belongs to the resource")
        return Target(api.audience, " ".join(kept), api)
    owners: dict[str, ApiResource | None] = {}
    for scope in scopes:
        if scope not in OPENID_SCOPES:
            api = _owner(apis, scope)
            owners[api.audience if api is not None else default_audience] = api
    if len(owners) > 1:
        named = ", ".join(sorted(owners))
        raise TargetError(
            "invalid_scope", f"the scopes belong to several APIs ({named}): choose one with resource"
        )
    if not owners:
        return Target(default_audience, " ".join(scopes), None)
    audience, api = next(iter(owners.items()))
    return Target(audience, " ".join(scopes), api)
