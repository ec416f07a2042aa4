"""Self sign-up: with ``ProviderSettings.signup``, a verified address that has no user gets one."""

from __future__ import annotations

from tessera.issue.provider import Provider
from tessera.issue.subjects import new_user_id
from tessera.store import User

__all__ = ["user_for_address"]


def user_for_address(provider: Provider, email: str) -> User | None:
    """The user whose address ``email`` was just proven, created on the spot when sign-up is open.

    The address is verified (its owner read the code), so the new user's ``email_verified``
    is true; it has no roles. Returns None when there is no user and sign-up is closed.
    """
    user = provider.store.find_user_by_email(email)
    if user is not None or not provider.settings.signup:
        return user
    created = User(user_id=new_user_id(), email=email, email_verified=True, name=email.partition("@")[0])
    provider.store.put_user(created)
    provider.audit.event("user_signed_up", user_id=created.user_id)
    return provider.store.find_user_by_email(email)
