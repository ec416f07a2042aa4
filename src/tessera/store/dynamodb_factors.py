"""The DynamoDB second-factor items: passkeys, their ceremonies' challenges, TOTP factors and codes.

A credential lives in its user's partition ``PASSKEYS#{user_id}`` (sort key ``C#{credential_id}``),
so listing is one ``Query``; a ``PASSKEY#{credential_id}`` item names its owner and keeps credential
ids unique across users; the partition's ``-`` item counts the user's credentials, so a removal
that must leave one behind is a transaction conditioned on that count. A TOTP factor is
``TOTP#{user_id}`` / ``-``, its recovery codes ``TOTP#{user_id}`` / ``RC#{code_hash}``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from .dynamodb_base import DynamoBase, Item, b, boolean, n, num, s, text, ttl_of
from .dynamodb_base import key as item_key
from .records import PasskeyChallenge, PasskeyCredential, TotpFactor

__all__ = ["DynamoFactors"]

_CODE_PREFIX = "RC#"


def _credential(item: Item) -> PasskeyCredential:
    return PasskeyCredential(
        credential_id=item["credential_id"]["S"],
        user_id=item["user_id"]["S"],
        public_key=bytes(item["public_key"]["B"]),
        sign_count=int(item["sign_count"]["N"]),
        transports=tuple(json.loads(item["transports"]["S"])),
        backup_eligible=boolean(item, "backup_eligible"),
        backed_up=boolean(item, "backed_up"),
        name=item["name"]["S"],
        created_at=float(item["created_at"]["N"]),
        last_used_at=num(item, "last_used_at"),
    )


def _user_partition(user_id: str) -> str:
    return f"PASSKEYS#{user_id}"


def _credential_sk(credential_id: str) -> str:
    return f"C#{credential_id}"


class DynamoFactors(DynamoBase):
    """Passkeys and TOTP factors; every single use and counter step decided by a condition."""

    def save_passkey_challenge(self, challenge: PasskeyChallenge) -> None:
        """Store a new challenge (``PKCHALLENGE#hash``), removed by TTL once it has expired."""
        item: Item = {
            **item_key(f"PKCHALLENGE#{challenge.challenge_hash}"),
            "purpose": s(challenge.purpose),
            "binding_hash": s(challenge.binding_hash),
            "expires_at": n(challenge.expires_at),
            "ttl": ttl_of(challenge.expires_at),
        }
        if challenge.user_id is not None:
            item["user_id"] = s(challenge.user_id)
        self._put(item, "attribute_not_exists(#pk)")

    def consume_passkey_challenge(self, challenge_hash: str, now: float) -> PasskeyChallenge | None:
        """Delete the challenge on condition that it exists and is live; the record for that one caller."""
        old = self._take_live(f"PKCHALLENGE#{challenge_hash}", now)
        if old is None:
            return None
        return PasskeyChallenge(
            challenge_hash,
            old["purpose"]["S"],
            old["binding_hash"]["S"],
            text(old, "user_id"),
            float(old["expires_at"]["N"]),
        )

    def add_passkey(self, credential: PasskeyCredential) -> bool:
        """Store a new credential, its owner link and the user's count in one transaction.

        False when the credential id is already registered (the owner link exists).
        """
        user_pk = _user_partition(credential.user_id)
        stored: Item = {
            **item_key(user_pk, _credential_sk(credential.credential_id)),
            "credential_id": s(credential.credential_id),
            "user_id": s(credential.user_id),
            "public_key": {"B": credential.public_key},
            "sign_count": n(credential.sign_count),
            "transports": s(json.dumps(list(credential.transports))),
            "backup_eligible": b(credential.backup_eligible),
            "backed_up": b(credential.backed_up),
            "name": s(credential.name),
            "created_at": n(credential.created_at),
        }
        if credential.last_used_at is not None:
            stored["last_used_at"] = n(credential.last_used_at)
        return self._transact(
            [
                {
                    "Put": {
                        "Item": {
                            **item_key(f"PASSKEY#{credential.credential_id}"),
                            "user_id": s(credential.user_id),
                        },
                        "ConditionExpression": "attribute_not_exists(#pk)",
                    }
                },
                {"Put": {"Item": stored, "ConditionExpression": "attribute_not_exists(#pk)"}},
                {
                    "Update": {
                        "Key": item_key(user_pk),
                        "UpdateExpression": "ADD #count :one",
                        "ExpressionAttributeValues": {":one": n(1)},
                    }
                },
            ]
        )

    def _owner(self, credential_id: str) -> str | None:
        link = self._get(f"PASSKEY#{credential_id}")
        return link["user_id"]["S"] if link else None

    def get_passkey(self, credential_id: str) -> PasskeyCredential | None:
        """The credential (its owner link, then the credential in the owner's partition), or None."""
        owner = self._owner(credential_id)
        if owner is None:
            return None
        item = self._get(_user_partition(owner), _credential_sk(credential_id))
        return _credential(item) if item else None

    def list_passkeys(self, user_id: str) -> Sequence[PasskeyCredential]:
        """The user's credentials (one ``Query`` of their partition), oldest first."""
        found = [_credential(i) for i in self._query(_user_partition(user_id), "C#")]
        return tuple(sorted(found, key=lambda c: (c.created_at, c.credential_id)))

    def record_passkey_use(
        self, credential_id: str, expected_sign_count: int, sign_count: int, backed_up: bool, now: float
    ) -> bool:
        """Store the new counter and BS flag by an update conditioned on ``expected_sign_count``."""
        owner = self._owner(credential_id)
        if owner is None:
            return False
        return (
            self._update(
                _user_partition(owner),
                "SET #sign_count = :new, #backed_up = :bs, #last_used_at = :now",
                {":new": n(sign_count), ":bs": b(backed_up), ":now": n(now), ":was": n(expected_sign_count)},
                "attribute_exists(#pk) AND #sign_count = :was",
                sk=_credential_sk(credential_id),
            )
            is not None
        )

    def rename_passkey(self, user_id: str, credential_id: str, name: str) -> bool:
        """Rename one of the user's credentials; False when the user has no such credential."""
        return (
            self._update(
                _user_partition(user_id),
                "SET #name = :name",
                {":name": s(name)},
                "attribute_exists(#pk)",
                sk=_credential_sk(credential_id),
            )
            is not None
        )

    def remove_passkey(self, user_id: str, credential_id: str, *, allow_last: bool) -> bool:
        """Delete the credential, its owner link and one from the user's count in one transaction;
        unless ``allow_last``, on condition that the count is above one."""
        user_pk = _user_partition(user_id)
        count: Item = {
            "Key": item_key(user_pk),
            "UpdateExpression": "ADD #count :minus",
            "ExpressionAttributeValues": {":minus": n(-1)},
        }
        if not allow_last:
            count["ConditionExpression"] = "#count > :one"
            count["ExpressionAttributeValues"] = {":minus": n(-1), ":one": n(1)}
        return self._transact(
            [
                {
                    "Delete": {
                        "Key": item_key(user_pk, _credential_sk(credential_id)),
                        "ConditionExpression": "attribute_exists(#pk)",
                    }
                },
                {
                    "Delete": {
                        "Key": item_key(f"PASSKEY#{credential_id}"),
                        "ConditionExpression": "#user_id = :user",
                        "ExpressionAttributeValues": {":user": s(user_id)},
                    }
                },
                {"Update": count},
            ]
        )

    # TOTP
    def _code_keys(self, user_id: str) -> list[Item]:
        return [
            {"Delete": {"Key": item_key(f"TOTP#{user_id}", i["sk"]["S"])}}
            for i in self._query(f"TOTP#{user_id}", _CODE_PREFIX)
        ]

    def _write_all(self, actions: list[Item]) -> bool:
        """Write ``actions`` in transactions of at most 100; the first carries any condition."""
        done = True
        for start in range(0, len(actions), 100):
            done = self._transact(actions[start : start + 100]) and done
            if not done:
                return False
        return done

    def put_totp(self, factor: TotpFactor) -> None:
        """Create or replace the user's factor; its old recovery codes go with the old factor."""
        put: Item = {
            "Put": {
                "Item": {
                    **item_key(f"TOTP#{factor.user_id}"),
                    "sealed_secret": {"B": factor.sealed_secret},
                    "confirmed": b(factor.confirmed),
                    "last_step": n(factor.last_step),
                    "created_at": n(factor.created_at),
                }
            }
        }
        self._write_all([put, *self._code_keys(factor.user_id)])

    def get_totp(self, user_id: str) -> TotpFactor | None:
        """The user's factor, or None."""
        item = self._get(f"TOTP#{user_id}")
        if item is None:
            return None
        return TotpFactor(
            user_id,
            bytes(item["sealed_secret"]["B"]),
            boolean(item, "confirmed"),
            int(item["last_step"]["N"]),
            float(item["created_at"]["N"]),
        )

    def confirm_totp(self, user_id: str, step: int, recovery_hashes: Sequence[str]) -> bool:
        """Confirm the unconfirmed factor at ``step`` (a conditional update) and replace its recovery
        codes, in one transaction."""
        confirm: Item = {
            "Update": {
                "Key": item_key(f"TOTP#{user_id}"),
                "UpdateExpression": "SET #confirmed = :yes, #last_step = :step",
                "ConditionExpression": "attribute_exists(#pk) AND #confirmed = :no AND #last_step < :step",
                "ExpressionAttributeValues": {":yes": b(True), ":no": b(False), ":step": n(step)},
            }
        }
        return self._transact([confirm, *self._code_changes(user_id, recovery_hashes)])

    def _code_changes(self, user_id: str, recovery_hashes: Sequence[str]) -> list[Item]:
        """Deletes of the stored codes not kept, and puts of the new ones."""
        fresh = {f"{_CODE_PREFIX}{h}" for h in recovery_hashes}
        gone = [d for d in self._code_keys(user_id) if d["Delete"]["Key"]["sk"]["S"] not in fresh]
        puts = [
            {"Put": {"Item": {**item_key(f"TOTP#{user_id}", sk), "used": b(False)}}} for sk in sorted(fresh)
        ]
        return gone + puts

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Move ``last_step`` forward to ``step``; False on a replay or unconfirmed."""
        return (
            self._update(
                f"TOTP#{user_id}",
                "SET #last_step = :step",
                {":step": n(step), ":yes": b(True)},
                "attribute_exists(#pk) AND #confirmed = :yes AND #last_step < :step",
            )
            is not None
        )

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Mark one unused code used, in a transaction that checks the factor is confirmed."""
        return self._transact(
            [
                {
                    "Update": {
                        "Key": item_key(f"TOTP#{user_id}", f"{_CODE_PREFIX}{code_hash}"),
                        "UpdateExpression": "SET #used = :yes",
                        "ConditionExpression": "attribute_exists(#pk) AND #used = :no",
                        "ExpressionAttributeValues": {":yes": b(True), ":no": b(False)},
                    }
                },
                {
                    "ConditionCheck": {
                        "Key": item_key(f"TOTP#{user_id}"),
                        "ConditionExpression": "#confirmed = :yes",
                        "ExpressionAttributeValues": {":yes": b(True)},
                    }
                },
            ]
        )

    def replace_recovery_codes(self, user_id: str, recovery_hashes: Sequence[str]) -> None:
        """Drop the user's recovery codes and store these."""
        self._write_all(self._code_changes(user_id, recovery_hashes))

    def remove_totp(self, user_id: str) -> None:
        """Delete the factor and its recovery codes."""
        self._write_all([{"Delete": {"Key": item_key(f"TOTP#{user_id}")}}, *self._code_keys(user_id)])
