"""The DynamoDB federation items: linked upstream identities, their kept tokens, sign-ins in flight.

An identity is ``UPSTREAM#{upstream_id}#{sub}`` / ``-`` (its user, and the sealed tokens when
kept); the user's partition ``UPSTREAMS#{user_id}`` holds one ``L#{upstream_id}#{sub}`` item per
linked identity, so listing is one ``Query``. Linking writes both in one transaction conditioned
on the identity item being absent, so one identity links to one user; unlinking deletes both,
conditioned on the identity still naming that user. Upstream ids hold no ``#``, so the first
``#`` after the id separates it from the ``sub``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .dynamodb_base import DynamoBase, Item, n, s, text, ttl_of
from .dynamodb_base import key as item_key
from .records import UpstreamLink, UpstreamLogin

__all__ = ["DynamoUpstreamLinks"]


def _identity(upstream_id: str, subject: str) -> str:
    return f"UPSTREAM#{upstream_id}#{subject}"


def _user_partition(user_id: str) -> str:
    return f"UPSTREAMS#{user_id}"


def _entry(upstream_id: str, subject: str) -> str:
    return f"L#{upstream_id}#{subject}"


def _link(item: Item) -> UpstreamLink:
    return UpstreamLink(
        upstream_id=item["upstream_id"]["S"],
        subject=item["subject"]["S"],
        user_id=item["user_id"]["S"],
        linked_at=float(item["linked_at"]["N"]),
        email=item["email"]["S"],
    )


class DynamoUpstreamLinks(DynamoBase):
    """Federation items; every link, unlink and single use decided by a condition."""

    def link_upstream(self, link: UpstreamLink) -> bool:
        """Link an upstream identity; False (and nothing written) when it is already linked."""
        fields: Item = {
            "upstream_id": s(link.upstream_id),
            "subject": s(link.subject),
            "user_id": s(link.user_id),
            "linked_at": n(link.linked_at),
            "email": s(link.email),
        }
        return self._transact(
            [
                {
                    "Put": {
                        "Item": {**item_key(_identity(link.upstream_id, link.subject)), **fields},
                        "ConditionExpression": "attribute_not_exists(#pk)",
                    }
                },
                {
                    "Put": {
                        "Item": {
                            **item_key(_user_partition(link.user_id), _entry(link.upstream_id, link.subject)),
                            **fields,
                        }
                    }
                },
            ]
        )

    def find_upstream_link(self, upstream_id: str, subject: str) -> UpstreamLink | None:
        """The link of the identity (upstream id, ``sub``), or None."""
        item = self._get(_identity(upstream_id, subject))
        return _link(item) if item is not None else None

    def upstream_links_of(self, user_id: str) -> Sequence[UpstreamLink]:
        """Every identity linked to ``user_id``, oldest first."""
        links = (_link(item) for item in self._query(_user_partition(user_id), "L#"))
        return tuple(sorted(links, key=lambda link: (link.linked_at, link.upstream_id, link.subject)))

    def unlink_upstream(self, upstream_id: str, subject: str, user_id: str) -> bool:
        """Remove the identity's link to ``user_id`` and any tokens kept for it (the same item)."""
        return self._transact(
            [
                {
                    "Delete": {
                        "Key": item_key(_identity(upstream_id, subject)),
                        "ConditionExpression": "#user_id = :user",
                        "ExpressionAttributeValues": {":user": s(user_id)},
                    }
                },
                {"Delete": {"Key": item_key(_user_partition(user_id), _entry(upstream_id, subject))}},
            ]
        )

    def unlink_all_upstreams(self, user_id: str) -> None:
        """Remove every identity linked to ``user_id`` (with its kept tokens), one by one."""
        for link in self.upstream_links_of(user_id):
            self.unlink_upstream(link.upstream_id, link.subject, user_id)

    def keep_upstream_tokens(self, upstream_id: str, subject: str, user_id: str, sealed: bytes) -> bool:
        """Store the identity's sealed upstream tokens (replacing any); False unless linked to ``user_id``."""
        updated = self._update(
            _identity(upstream_id, subject),
            "SET #sealed_tokens = :sealed",
            {":sealed": {"B": sealed}, ":user": s(user_id)},
            "#user_id = :user",
        )
        return updated is not None

    def upstream_tokens(self, upstream_id: str, subject: str) -> bytes | None:
        """The sealed upstream tokens kept for the identity, or None."""
        item = self._get(_identity(upstream_id, subject))
        if item is None or "sealed_tokens" not in item:
            return None
        return bytes(item["sealed_tokens"]["B"])

    def save_upstream_login(self, login: UpstreamLogin) -> None:
        """Store a sign-in sent to an upstream provider (``UPLOGIN#hash``), removed by TTL once expired."""
        item: Item = {
            **item_key(f"UPLOGIN#{login.state_hash}"),
            "upstream_id": s(login.upstream_id),
            "binding_hash": s(login.binding_hash),
            "created_at": n(login.created_at),
            "expires_at": n(login.expires_at),
            "ttl": ttl_of(login.expires_at),
        }
        if login.linking_user_id is not None:
            item["linking_user_id"] = s(login.linking_user_id)
        self._put(item, "attribute_not_exists(#pk)")

    def take_upstream_login(self, state_hash: str, now: float) -> UpstreamLogin | None:
        """Delete the sign-in on condition that it exists and is live; the record for that one caller."""
        old = self._take_live(f"UPLOGIN#{state_hash}", now)
        if old is None:
            return None
        return UpstreamLogin(
            state_hash=state_hash,
            upstream_id=old["upstream_id"]["S"],
            binding_hash=old["binding_hash"]["S"],
            created_at=float(old["created_at"]["N"]),
            expires_at=float(old["expires_at"]["N"]),
            linking_user_id=text(old, "linking_user_id"),
        )

    def mark_session_upstream(self, session_hash: str, upstream_id: str, expires_at: float) -> None:
        """Record that a session began with a sign-in at ``upstream_id``."""
        self._put(
            {
                **item_key(f"UPSESSION#{session_hash}"),
                "upstream_id": s(upstream_id),
                "expires_at": n(expires_at),
                "ttl": ttl_of(expires_at),
            }
        )

    def session_upstream(self, session_hash: str, now: float) -> str | None:
        """The upstream a session began at, or None for a local sign-in."""
        item = self._get(f"UPSESSION#{session_hash}")
        if item is None or float(item["expires_at"]["N"]) <= now:
            return None
        return text(item, "upstream_id")
