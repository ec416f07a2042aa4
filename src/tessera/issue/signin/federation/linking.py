"""Which Tessera user an upstream identity signs in as: the linking rules.

1. An identity already linked signs in as its user.
2. A signed-in user who started the sign-in from the account page links it to themselves.
3. A new identity whose email matches an existing account is linked to it only when the
   upstream asserts ``email_verified``, the preset says that assertion can be trusted, and the
   existing account's email is verified; otherwise the person must sign in to the account
   first and link from the account page (an unverified email would hand the account over).
4. Otherwise a new user is created when the upstream allows sign-up.
"""

from __future__ import annotations

from tessera.issue.audit import AuditLog
from tessera.issue.signin.federation.errors import FederationError, FederationFailure
from tessera.issue.signin.federation.flow import FinishedLogin
from tessera.issue.signin.federation.upstreams import Upstream
from tessera.issue.subjects import new_user_id
from tessera.store import FederatedStore, UpstreamLink, User

__all__ = ["resolve_user", "unlink"]


def _link(
    store: FederatedStore, audit: AuditLog, login: FinishedLogin, user: User, *, now: float, how: str
) -> None:
    identity = login.identity
    if not store.link_upstream(
        UpstreamLink(identity.upstream_id, identity.subject, user.user_id, now, identity.email or "")
    ):
        raise FederationError(FederationFailure.ALREADY_LINKED)
    audit.event("upstream_linked", user_id=user.user_id, upstream=identity.upstream_id, how=how)


def resolve_user(
    store: FederatedStore, audit: AuditLog, upstream: Upstream, login: FinishedLogin, now: float
) -> User:
    """The user ``login`` signs in as, linking or creating one as the rules allow; raise FederationError."""
    identity = login.identity
    name = upstream.name
    link = store.find_upstream_link(identity.upstream_id, identity.subject)
    if login.linking_user_id is not None:
        user = store.get_user(login.linking_user_id)
        if user is None or user.disabled:
            raise FederationError(FederationFailure.ACCOUNT_DISABLED, name)
        if link is not None:
            if link.user_id != user.user_id:
                raise FederationError(FederationFailure.ALREADY_LINKED, name)
            return user
        _link(store, audit, login, user, now=now, how="account_page")
        return user
    if link is not None:
        linked = store.get_user(link.user_id)
        if linked is None or linked.disabled:
            raise FederationError(FederationFailure.ACCOUNT_DISABLED, name)
        return linked
    asserted = identity.email_verified and upstream.trusts_email_verified
    existing = store.find_user_by_email(identity.email) if identity.email else None
    if existing is not None:
        if not (asserted and existing.email_verified) or existing.disabled:
            raise FederationError(FederationFailure.ACCOUNT_EXISTS, name)
        _link(store, audit, login, existing, now=now, how="verified_email")
        return existing
    if not upstream.allow_sign_up:
        raise FederationError(FederationFailure.SIGN_UP_CLOSED, name)
    if identity.email is None:
        raise FederationError(FederationFailure.NO_VERIFIED_EMAIL, name)
    user = User(new_user_id(), identity.email, asserted, identity.name)
    store.put_user(user)
    audit.event("user_created", user_id=user.user_id, upstream=identity.upstream_id)
    _link(store, audit, login, user, now=now, how="sign_up")
    return user


def unlink(store: FederatedStore, audit: AuditLog, user: User, upstream_id: str, subject: str) -> bool:
    """Remove one of ``user``'s linked identities; an audit event when there was one."""
    removed = store.unlink_upstream(upstream_id, subject, user.user_id)
    if removed:
        audit.event("upstream_unlinked", user_id=user.user_id, upstream=upstream_id)
    return removed
