"""The DynamoDB sign-in items: sessions, pending requests, one-time codes, ``jti``, rate limits, consent."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .dynamodb_base import DynamoBase, Item, b, body, boolean, n, s, text, ttl_of
from .dynamodb_base import key as item_key
from .records import Consent, OneTimeCode, PendingRequest, Session

__all__ = ["DynamoSignIn"]

_RATE_KEEP_WINDOWS = 61  # windows of a minute a rate counter is kept (as the SQL stores purge)


def _one_time_code(item: Item, challenge_hash: str) -> OneTimeCode:
    return OneTimeCode(
        challenge_hash,
        item["email"]["S"],
        item["code_mac"]["S"],
        float(item["created_at"]["N"]),
        float(item["expires_at"]["N"]),
        int(item["attempts"]["N"]),
        boolean(item, "consumed"),
    )


class DynamoSignIn(DynamoBase):
    """Sessions, sign-in artefacts, rate counters and consents, each race decided by a condition."""

    def create_session(self, session: Session) -> None:
        """Store a new session (partition ``SESSION#hash``, which also links the session's grants)."""
        self._put(
            {
                **item_key(f"SESSION#{session.session_hash}"),
                "user_id": s(session.user_id),
                "auth_time": n(session.auth_time),
                "expires_at": n(session.expires_at),
                "revoked": b(False),
                "amr": s(" ".join(session.amr)),
                "ttl": ttl_of(session.expires_at),
            },
            "attribute_not_exists(#pk)",
        )

    def get_session(self, session_hash: str, now: float) -> Session | None:
        """The live session, or None when unknown, revoked or expired."""
        item = self._get(f"SESSION#{session_hash}")
        if item is None or boolean(item, "revoked") or float(item["expires_at"]["N"]) <= now:
            return None
        return Session(
            session_hash,
            item["user_id"]["S"],
            int(item["auth_time"]["N"]),
            float(item["expires_at"]["N"]),
            amr=tuple((text(item, "amr") or "").split()),
        )

    def save_pending(self, request: PendingRequest) -> None:
        """Store an authorization request that waits for sign-in."""
        self._put(
            {
                **item_key(f"PENDING#{request.request_hash}"),
                "body": body(dict(request.params)),
                "created_at": n(request.created_at),
                "expires_at": n(request.expires_at),
                "force_login": b(request.force_login),
                "ttl": ttl_of(request.expires_at),
            }
        )

    def get_pending(self, request_hash: str, now: float) -> PendingRequest | None:
        """The pending request, or None when unknown or expired."""
        item = self._get(f"PENDING#{request_hash}")
        if item is None or float(item["expires_at"]["N"]) <= now:
            return None
        return PendingRequest(
            request_hash,
            json.loads(item["body"]["S"]),
            float(item["created_at"]["N"]),
            float(item["expires_at"]["N"]),
            boolean(item, "force_login"),
        )

    def delete_pending(self, request_hash: str) -> None:
        """Forget a pending request."""
        self._db.delete_item(TableName=self.table, Key=item_key(f"PENDING#{request_hash}"))

    def save_one_time_code(self, code: OneTimeCode) -> None:
        """Store a new one-time code challenge (kept a day past expiry, as the SQL stores purge)."""
        self._put(
            {
                **item_key(f"OTC#{code.challenge_hash}"),
                "email": s(code.email.lower()),
                "code_mac": s(code.code_mac),
                "created_at": n(code.created_at),
                "expires_at": n(code.expires_at),
                "attempts": n(0),
                "consumed": b(False),
                "ttl": ttl_of(code.expires_at + 86400),
            },
            "attribute_not_exists(#pk)",
        )

    def attempt_one_time_code(self, challenge_hash: str, max_attempts: int, now: float) -> OneTimeCode | None:
        """Count one attempt by a conditional update; None once dead, used or expired."""
        item = self._update(
            f"OTC#{challenge_hash}",
            "SET #attempts = #attempts + :one",
            {":one": n(1), ":max": n(max_attempts), ":no": b(False), ":now": n(now)},
            "#attempts < :max AND #consumed = :no AND #expires_at > :now",
            returning="ALL_NEW",
        )
        return _one_time_code(item, challenge_hash) if item is not None else None

    def consume_one_time_code(self, challenge_hash: str, now: float) -> bool:
        """Mark the challenge used by a conditional update; True for exactly one caller."""
        return (
            self._update(
                f"OTC#{challenge_hash}",
                "SET #consumed = :yes",
                {":yes": b(True), ":no": b(False), ":now": n(now)},
                "#consumed = :no AND #expires_at > :now",
            )
            is not None
        )

    def remember_jti(self, issuer: str, jti: str, expires_at: float, now: float) -> bool:
        """Record a one-time ``jti``: one put, on condition that none is stored or the stored one expired."""
        return self._put(
            {**item_key(f"JTI#{issuer}", jti), "expires_at": n(expires_at), "ttl": ttl_of(expires_at)},
            "attribute_not_exists(#pk) OR #expires_at <= :now",
            {":now": n(now)},
        )

    # rate limits
    def count_hits(self, key: str, window: int) -> int:
        """How many hits ``key`` has in window ``window``."""
        item = self._get(f"RATE#{key}", str(window))
        return int(item["hits"]["N"]) if item else 0

    def add_hit(self, key: str, window: int) -> int:
        """Count one hit with an atomic ``ADD``; the new count."""
        item = self._update(
            f"RATE#{key}",
            "ADD #hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
            {":one": n(1), ":ttl": n((window + _RATE_KEEP_WINDOWS) * 60)},
            sk=str(window),
            returning="UPDATED_NEW",
        )
        if item is None:
            raise RuntimeError("an unconditional update reported a failed condition")
        return int(item["hits"]["N"])

    # consents: partition ``CONSENT#user``, sort key the client id; grants are found for
    # withdrawal through the ``USERGRANTS#user#client`` links written with each grant.
    def get_consent(self, user_id: str, client_id: str) -> Consent | None:
        """What ``user_id`` has allowed ``client_id``, or None."""
        item = self._get(f"CONSENT#{user_id}", client_id)
        return _consent(item, user_id, client_id) if item else None

    def grant_consent(self, user_id: str, client_id: str, scopes: Sequence[str], now: float) -> Consent:
        """Add ``scopes`` to the consent: compare-and-swap on a version, started over on a lost race."""
        for _ in range(50):
            item = self._get(f"CONSENT#{user_id}", client_id)
            known = json.loads(item["scopes"]["S"]) if item else []
            merged = known + [x for x in dict.fromkeys(scopes) if x not in known]
            version = int(item["v"]["N"]) if item else 0
            granted_at = float(item["granted_at"]["N"]) if item else now
            written = {
                **item_key(f"CONSENT#{user_id}", client_id),
                "scopes": s(json.dumps(merged)),
                "granted_at": n(granted_at),
                "updated_at": n(now),
                "v": n(version + 1),
            }
            condition = "attribute_not_exists(#pk)" if item is None else "#v = :v"
            if self._put(written, condition, {":v": n(version)} if item else None):
                return Consent(user_id, client_id, tuple(merged), granted_at, now)
        raise RuntimeError("the consent changed concurrently too often")


def _consent(item: Item, user_id: str, client_id: str) -> Consent:
    return Consent(
        user_id,
        client_id,
        tuple(json.loads(item["scopes"]["S"])),
        float(item["granted_at"]["N"]),
        float(item["updated_at"]["N"]),
    )
