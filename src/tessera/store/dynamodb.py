"""The DynamoDB store (boto3): one table, conditional writes and transactions for every single use.

The key design (partition key ``pk``, sort key ``sk``, TTL attribute ``ttl``) is documented in
:mod:`tessera.store.dynamodb_schema`. Every read of an expiring artefact compares its
``expires_at`` with ``now`` itself, because DynamoDB deletes expired items up to days late.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from .dynamodb_accounts import DynamoAccounts
from .dynamodb_base import KEY_SK, Item, b, body, key, n, names_in, num, s, text, ttl_of
from .dynamodb_factors import DynamoFactors
from .dynamodb_mail import DynamoMailQueue
from .dynamodb_signin import DynamoSignIn
from .dynamodb_upstream import DynamoUpstreamLinks
from .errors import PhoneNumberTaken
from .records import (
    AccessTokenRecord,
    AuthorizationCode,
    ClientRecord,
    Grant,
    RefreshRotation,
    RefreshState,
    RefreshToken,
    SigningKeyRecord,
    User,
    grant_from_body,
)

__all__ = ["DynamoDBStore"]

_TUPLE_FIELDS = ("redirect_uris", "auth_methods", "grant_types", "scopes", "post_logout_redirect_uris")
_NO_KEY = "-"  # the KEYS item's ``current`` when no key is current
_TRANSACTION_ITEMS = 100  # the most one TransactWriteItems may hold


def _refresh(item: Item) -> RefreshToken:
    return RefreshToken(
        token_hash=item["pk"]["S"].removeprefix("RT#"),
        grant_id=item["grant_id"]["S"],
        client_id=item["client_id"]["S"],
        issued_at=float(item["issued_at"]["N"]),
        expires_at=float(item["expires_at"]["N"]),
        state=RefreshState(item["state"]["S"]),
        rotated_at=num(item, "rotated_at"),
    )


def _refresh_item(token: RefreshToken, keep_until: float) -> Item:
    return {
        **key(f"RT#{token.token_hash}"),
        "grant_id": s(token.grant_id),
        "client_id": s(token.client_id),
        "issued_at": n(token.issued_at),
        "expires_at": n(token.expires_at),
        "state": s(RefreshState.ACTIVE.value),
        "ttl": ttl_of(max(keep_until, token.expires_at)),
    }


class DynamoDBStore(DynamoSignIn, DynamoFactors, DynamoMailQueue, DynamoUpstreamLinks, DynamoAccounts):
    """A :class:`~tessera.store.Store` in one DynamoDB table (single-table design)."""

    # clients and users
    def put_client(self, client: ClientRecord) -> None:
        """Create or replace a client."""
        document = {**client.__dict__, "jwks": dict(client.jwks) if client.jwks is not None else None}
        self._put({**key(f"CLIENT#{client.client_id}"), "body": body(document)})

    def get_client(self, client_id: str) -> ClientRecord | None:
        """The client, or None."""
        item = self._get(f"CLIENT#{client_id}")
        return None if item is None else self._client_from(item)

    @staticmethod
    def _client_from(item: Item) -> ClientRecord:
        data = json.loads(item["body"]["S"])
        for name in _TUPLE_FIELDS:
            data[name] = tuple(data[name])
        return ClientRecord(**data)

    def put_user(self, user: User) -> None:
        """Create or replace a user; a user holding the same email before is replaced.

        The email and the phone number are unique through ``EMAIL#`` and ``PHONE#`` items naming
        their user. The user, those items, the ones it leaves and the user it displaces change in
        one transaction whose conditions are what was read, so a concurrent change makes it start
        over. Raises :class:`PhoneNumberTaken`, having written nothing, when another user holds
        the number.
        """
        email = user.email.lower()
        for _ in range(10):
            holder = self._get(f"EMAIL#{email}")
            previous = self._get(f"USER#{user.user_id}")
            displaced_id = text(holder, "user_id") if holder else None
            displaced = None
            if displaced_id is not None and displaced_id != user.user_id:
                displaced = self._get(f"USER#{displaced_id}")
            writes: list[Item] = [
                {"Put": {"Item": _user_item(user, email), **_unchanged(previous, "body")}},
                {
                    "Put": {
                        "Item": {**key(f"EMAIL#{email}"), "user_id": s(user.user_id)},
                        **_unchanged(holder, "user_id"),
                    }
                },
            ]
            old_email = text(previous, "email") if previous else None
            if old_email is not None and old_email != email:
                writes.append({"Delete": {"Key": key(f"EMAIL#{old_email}")}})
            if displaced is not None:
                writes.append({"Delete": {"Key": key(displaced["pk"]["S"]), **_unchanged(displaced, "body")}})
            writes += self._phone_writes(user, displaced_id, previous, displaced)
            if self._transact(writes):
                return
        raise RuntimeError("the user changed concurrently too often")

    def _phone_writes(
        self, user: User, displaced_id: str | None, previous: Item | None, displaced: Item | None
    ) -> list[Item]:
        """:meth:`put_user`'s ``PHONE#`` writes: claim the user's number, free the numbers left.

        A number is taken when its item names another user (not the one displaced) who still
        holds it; an item naming a user since deleted, or since given another number, is stale.
        """
        number = user.phone or None
        writes: list[Item] = []
        if number is not None:
            claim = self._get(f"PHONE#{number}")
            holder = text(claim, "user_id") if claim else None
            if holder is not None and holder not in (user.user_id, displaced_id):
                found = self.get_user(holder)
                if found is not None and found.phone == number:
                    raise PhoneNumberTaken()
            item = {**key(f"PHONE#{number}"), "user_id": s(user.user_id)}
            writes.append({"Put": {"Item": item, **_unchanged(claim, "user_id")}})
        for left in (previous, displaced):
            left_number = _phone_of(left)
            if left is not None and left_number is not None and left_number != number:
                writes += self._release_phone(left_number, left["pk"]["S"].removeprefix("USER#"))
        return writes

    def _release_phone(self, number: str, user_id: str) -> list[Item]:
        """The delete of ``PHONE#number`` if it still names ``user_id`` (none when it does not)."""
        claim = self._get(f"PHONE#{number}")
        if claim is None or text(claim, "user_id") != user_id:
            return []
        return [{"Delete": {"Key": key(f"PHONE#{number}"), **_unchanged(claim, "user_id")}}]

    def get_user(self, user_id: str) -> User | None:
        """The user, or None."""
        item = self._get(f"USER#{user_id}")
        return None if item is None else _user(item)

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), or None."""
        holder = self._get(f"EMAIL#{email.lower()}")
        user_id = text(holder, "user_id") if holder else None
        return self.get_user(user_id) if user_id else None

    def find_user_by_phone(self, phone: str) -> User | None:
        """The user whose phone is this E.164 number, or None: its ``PHONE#`` item, then the user."""
        claim = self._get(f"PHONE#{phone}") if phone else None
        user = self.get_user(str(claim["user_id"]["S"])) if claim else None
        return user if user is not None and user.phone == phone else None

    def list_clients(self) -> Sequence[ClientRecord]:
        """Every registered client, by id (a scan: for the admin commands, not a request path)."""
        clients = (self._client_from(item) for item in self._scan("CLIENT#"))
        return sorted(clients, key=lambda client: client.client_id)

    def delete_client(self, client_id: str) -> bool:
        """Remove a client; False when there was none."""
        return self._transact([_delete_existing(f"CLIENT#{client_id}")])

    def list_users(self, limit: int | None = None) -> Sequence[User]:
        """Every user, by email (a scan: for the admin commands, not a request path); with
        ``limit``, the scan stops once it has found that many."""
        users = (_user(item) for item in self._scan("USER#", limit))
        return sorted(users, key=lambda user: user.email.lower())

    def delete_user(self, user_id: str) -> bool:
        """Remove a user with its email and phone items in one transaction (its upstream links first);
        False when there was none."""
        self.unlink_all_upstreams(user_id)
        for _ in range(10):
            item = self._get(f"USER#{user_id}")
            if item is None:
                return False
            email_item = _delete_existing(f"EMAIL#{text(item, 'email')}")
            email_item["Delete"]["ConditionExpression"] = "#user_id = :id"
            email_item["Delete"]["ExpressionAttributeValues"] = {":id": s(user_id)}
            user_delete = {"Delete": {"Key": key(f"USER#{user_id}"), **_unchanged(item, "body")}}
            number = _phone_of(item)
            phone = self._release_phone(number, user_id) if number is not None else []
            if self._transact([user_delete, email_item, *phone]):
                return True
        raise RuntimeError("the user changed concurrently too often")

    def _scan(self, prefix: str, limit: int | None = None) -> list[Item]:
        pages = self._db.get_paginator("scan").paginate(
            TableName=self.table,
            ConsistentRead=True,
            FilterExpression="begins_with(#pk, :prefix) AND #sk = :sk",
            ExpressionAttributeNames=names_in("#pk #sk"),
            ExpressionAttributeValues={":prefix": s(prefix), ":sk": s(KEY_SK)},
        )
        found: list[Item] = []
        for page in pages:
            found += page.get("Items", [])
            if limit is not None and len(found) >= limit:
                return found[:limit]
        return found

    # authorization codes
    def save_code(self, code: AuthorizationCode) -> None:
        """Store a new authorization code."""
        self._put(
            {
                **key(f"CODE#{code.code_hash}"),
                "body": body(code.__dict__),
                "expires_at": n(code.expires_at),
                "consumed": b(False),
                "ttl": ttl_of(code.expires_at + 3600),
            },
            "attribute_not_exists(#pk)",
        )

    def get_code(self, code_hash: str, now: float) -> AuthorizationCode | None:
        """The code record, consumed or not, or None when unknown or expired."""
        item = self._get(f"CODE#{code_hash}")
        if item is None or float(item["expires_at"]["N"]) <= now:
            return None
        return AuthorizationCode(**{**json.loads(item["body"]["S"]), "consumed": item["consumed"]["BOOL"]})

    def consume_code(self, code_hash: str, now: float) -> bool:
        """Mark the code used by a conditional update; True for exactly one caller, before expiry."""
        return (
            self._update(
                f"CODE#{code_hash}",
                "SET #consumed = :yes",
                {":yes": b(True), ":no": b(False), ":now": n(now)},
                "#consumed = :no AND #expires_at > :now",
            )
            is not None
        )

    # grants and tokens
    def create_grant(self, grant: Grant) -> None:
        """Record a grant with the links that find it by session and by (user, client).

        A revocation marker already stored under its id wins (``revoked`` is kept if present).
        """
        writes: list[Item] = [
            {
                "Update": {
                    "Key": key(f"GRANT#{grant.grant_id}"),
                    "UpdateExpression": "SET #body = :body, #expires_at = :exp, #ttl = :ttl, "
                    "#revoked = if_not_exists(#revoked, :no)",
                    "ExpressionAttributeValues": {
                        ":body": body(grant.__dict__),
                        ":exp": n(grant.expires_at),
                        ":ttl": ttl_of(grant.expires_at),
                        ":no": b(False),
                    },
                }
            }
        ]
        if grant.session_hash is not None:
            writes.append(_link(f"SESSION#{grant.session_hash}", f"GRANT#{grant.grant_id}", grant.expires_at))
        if grant.user_id is not None:
            writes.append(
                _link(
                    f"USERGRANTS#{grant.user_id}#{grant.client_id}", f"G#{grant.grant_id}", grant.expires_at
                )
            )
            writes.append(_link(f"USER#{grant.user_id}", f"GRANT#{grant.grant_id}", grant.expires_at))
        if not self._transact(writes):
            raise RuntimeError("the grant could not be recorded")

    def get_grant(self, grant_id: str) -> Grant | None:
        """The grant (with its revocation flag), or None."""
        item = self._get(f"GRANT#{grant_id}")
        if item is None or "body" not in item:
            return None
        return grant_from_body(json.loads(item["body"]["S"]), revoked=item["revoked"]["BOOL"])

    def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant (or leave a revocation marker if it does not exist yet) and its tokens.

        The grant and its live access tokens are marked in one transaction.
        """
        self._revoke_all([grant_id])

    def _revoke_all(self, grant_ids: Sequence[str], *last: Item) -> bool:
        """Mark the grants revoked with their live access tokens, then write ``last``: one
        transaction when it fits (100 items), else transactions in that order.

        Split, every transaction but the last only revokes, so a failure between them leaves
        ``last`` (a session still live, a consent still given) unwritten and the call can be
        repeated; a token of a revoked grant is refused by its grant whatever its own mark says.
        False when a condition of ``last`` failed.
        """
        writes = [_grant_revocation(g) for g in grant_ids]
        for grant_id in grant_ids:
            writes += self._access_revocations(grant_id)
        writes += last
        for start in range(0, len(writes), _TRANSACTION_ITEMS):
            if not self._transact(writes[start : start + _TRANSACTION_ITEMS]):
                return False
        return True

    def _access_revocations(self, grant_id: str) -> list[Item]:
        """The writes that mark each access token still linked from the grant revoked, dropping its link."""
        writes: list[Item] = []
        for link in self._query(f"GRANT#{grant_id}", "AT#"):
            jti = link["sk"]["S"].removeprefix("AT#")
            writes.append(
                {
                    "Update": {
                        "Key": key(f"AT#{jti}"),
                        "UpdateExpression": "SET #revoked = :yes",
                        "ExpressionAttributeValues": {":yes": b(True)},
                    }
                }
            )
            writes.append({"Delete": {"Key": key(f"GRANT#{grant_id}", f"AT#{jti}")}})
        return writes

    def _grant_keep_until(self, grant_id: str, fallback: float) -> float:
        """How long a grant's refresh tokens (live ones and reuse markers) must be kept."""
        item = self._get(f"GRANT#{grant_id}")
        until = num(item, "expires_at") if item else None
        return fallback if until is None or until > 1e12 else until

    def save_refresh(self, token: RefreshToken) -> None:
        """Store a new refresh token (kept, for reuse detection, as long as its grant)."""
        item = _refresh_item(token, self._grant_keep_until(token.grant_id, token.expires_at))
        item["state"] = s(token.state.value)
        if token.rotated_at is not None:
            item["rotated_at"] = n(token.rotated_at)
        self._put(item, "attribute_not_exists(#pk)")

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        """The refresh token record in any state, or None."""
        item = self._get(f"RT#{token_hash}")
        return _refresh(item) if item else None

    def rotate_refresh(
        self,
        token_hash: str,
        successor: RefreshToken,
        now: float,
        access_token: AccessTokenRecord | None = None,
    ) -> RefreshRotation:
        """Retire ``token_hash`` if still active and unexpired, store ``successor``, record
        ``access_token`` and revoke the grant's access tokens issued before it: one transaction,
        whose condition on the old token decides the race.

        Access tokens beyond what one transaction holds are revoked after it, by the one caller
        that won.
        """
        keep_until = self._grant_keep_until(successor.grant_id, successor.expires_at)
        revocations = self._access_revocations(successor.grant_id)
        companion = _access_token_items(access_token) if access_token is not None else []
        room = _TRANSACTION_ITEMS - 2 - len(companion)
        won = self._transact(
            [
                {
                    "Update": {
                        "Key": key(f"RT#{token_hash}"),
                        "UpdateExpression": "SET #state = :rotated, #rotated_at = :now",
                        "ConditionExpression": "#state = :active AND #expires_at > :now",
                        "ExpressionAttributeValues": {
                            ":rotated": s(RefreshState.ROTATED.value),
                            ":active": s(RefreshState.ACTIVE.value),
                            ":now": n(now),
                        },
                    }
                },
                {
                    "Put": {
                        "Item": _refresh_item(successor, keep_until),
                        "ConditionExpression": "attribute_not_exists(#pk)",
                    }
                },
                *companion,
                *revocations[:room],
            ]
        )
        for start in range(room, len(revocations) if won else 0, _TRANSACTION_ITEMS):
            self._transact(revocations[start : start + _TRANSACTION_ITEMS])
        return RefreshRotation(won, self.get_refresh(token_hash))

    def save_access_token(self, record: AccessTokenRecord) -> None:
        """Remember an access token issued in a grant, linked from the grant so revoking it reaches it."""
        items = _access_token_items(record)
        if len(items) == 1:
            self._put(items[0]["Put"]["Item"])
        else:
            self._transact(items)

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        """The access token record, or None."""
        item = self._get(f"AT#{jti}")
        if item is None:
            return None
        return AccessTokenRecord(
            jti,
            item["client_id"]["S"],
            text(item, "grant_id"),
            float(item["expires_at"]["N"]),
            item["revoked"]["BOOL"],
        )

    def revoke_access_token(self, record: AccessTokenRecord) -> None:
        """Revoke one access token: mark its record, creating it when none was saved (no grant)."""
        values: Item = {
            ":yes": b(True),
            ":client": s(record.client_id),
            ":exp": n(record.expires_at),
            ":ttl": ttl_of(record.expires_at),
        }
        update = (
            "SET #revoked = :yes, #client_id = if_not_exists(#client_id, :client), "
            "#expires_at = if_not_exists(#expires_at, :exp), #ttl = if_not_exists(#ttl, :ttl)"
        )
        if record.grant_id is not None:
            update += ", #grant_id = if_not_exists(#grant_id, :grant)"
            values[":grant"] = s(record.grant_id)
        self._update(f"AT#{record.jti}", update, values)

    def end_session(self, session_hash: str) -> None:
        """Revoke a session and every grant linked from it (and so every token): one transaction
        (see :meth:`_revoke_all` for more than fit in one)."""
        for _ in range(10):
            grant_ids = [
                link["sk"]["S"].removeprefix("GRANT#")
                for link in self._query(f"SESSION#{session_hash}", "GRANT#")
            ]
            session = self._get(f"SESSION#{session_hash}")
            end: list[Item] = []
            if session is not None:
                mark = {"Key": key(f"SESSION#{session_hash}"), "UpdateExpression": "SET #revoked = :yes"}
                mark["ExpressionAttributeValues"] = {":yes": b(True)}
                mark["ConditionExpression"] = "attribute_exists(#pk)"
                end.append({"Update": mark})
            if self._revoke_all(grant_ids, *end):
                return
        raise RuntimeError("the session changed concurrently too often")

    def revoke_consent(self, user_id: str, client_id: str) -> None:
        """Delete the consent and revoke the client's grants for the user, with their tokens: one
        transaction (see :meth:`_revoke_all` for more than fit in one)."""
        grant_ids = [
            link["sk"]["S"].removeprefix("G#")
            for link in self._query(f"USERGRANTS#{user_id}#{client_id}", "G#")
        ]
        if not self._revoke_all(grant_ids, {"Delete": {"Key": key(f"CONSENT#{user_id}", client_id)}}):
            raise RuntimeError("an unconditional transaction reported a failed condition")

    def erase_user(self, user_id: str, now: float) -> bool:
        """Delete the user and everything of theirs; False when there was no such user.

        Not one transaction (a user may own more items than one holds): the sessions end
        first, then the grants are revoked with their access tokens and kept as markers without
        a body, then the rest goes, and the user item last, so that an erasure cut short is
        finished by running it again. Refresh tokens are not indexed by grant here: they stay
        until their TTL, refused because their grant is revoked.
        """
        item = self._get(f"USER#{user_id}")
        if item is None:
            return False
        user = _user(item)
        for session_hash in self._linked(user_id, "SESSION#"):
            self.end_session(session_hash)
            self._delete_partition(f"SESSION#{session_hash}")
        for grant_id in self._linked(user_id, "GRANT#"):
            grant = self._get(f"GRANT#{grant_id}")
            self.revoke_grant(grant_id)
            self._update(f"GRANT#{grant_id}", "REMOVE #body")
            if grant is not None and "body" in grant:
                client_id = json.loads(grant["body"]["S"])["client_id"]
                self._delete_partition(f"USERGRANTS#{user_id}#{client_id}")
        self._delete_partition(f"CONSENT#{user_id}")
        self._erase_passkeys(user_id)
        self.remove_totp(user_id)
        addresses = [user.email.lower(), *([f"tel:{user.phone}"] if user.phone else [])]
        self._erase_sign_ins_in_flight(addresses, user_id)
        self._delete_partition(f"USER#{user_id}", "SESSION#")
        self._delete_partition(f"USER#{user_id}", "GRANT#")
        return self.delete_user(user_id)

    # signing keys
    def list_signing_keys(self) -> Sequence[SigningKeyRecord]:
        """Every stored signing key, oldest first (the set is one item, read consistently)."""
        item = self._get("KEYS")
        if item is None:
            return ()
        return tuple(
            SigningKeyRecord(
                k["kid"]["S"],
                k["alg"]["S"],
                k["status"]["S"],
                MappingProxyType(json.loads(k["public_jwk"]["S"])),
                bytes(k["sealed_private"]["B"]),
                float(k["created_at"]["N"]),
            )
            for k in (entry["M"] for entry in item["keys"]["L"])
        )

    def replace_signing_keys(self, expected_current: str | None, keys: Sequence[SigningKeyRecord]) -> bool:
        """Swap the key set if the current ``kid`` is still ``expected_current``: one conditional put."""
        current = next((k.kid for k in keys if k.status == "current"), _NO_KEY)
        entries = [
            {
                "M": {
                    "kid": s(k.kid),
                    "alg": s(k.alg),
                    "status": s(k.status),
                    "public_jwk": body(dict(k.public_jwk)),
                    "sealed_private": {"B": bytes(k.sealed_private)},
                    "created_at": n(k.created_at),
                }
            }
            for k in sorted(keys, key=lambda k: k.created_at)
        ]
        item = {**key("KEYS"), "current": s(current), "keys": {"L": entries}}
        if expected_current is None:
            return self._put(item, "attribute_not_exists(#pk) OR #current = :none", {":none": s(_NO_KEY)})
        return self._put(item, "#current = :expected", {":expected": s(expected_current)})

    # housekeeping
    def purge_expired(self, now: float) -> int:
        """Nothing to do: the table's TTL removes expired items, and every read checks expiry itself."""
        return 0


def _user(item: Item) -> User:
    data = json.loads(item["body"]["S"])
    return User(**{**data, "roles": tuple(data["roles"])})


def _user_item(user: User, email: str) -> Item:
    return {
        **key(f"USER#{user.user_id}"),
        "email": s(email),
        "body": body(user.__dict__ | {"roles": list(user.roles)}),
    }


def _phone_of(item: Item | None) -> str | None:
    """The phone number in a ``USER#`` item's body (the body is the record), or None."""
    if item is None:
        return None
    phone = json.loads(item["body"]["S"]).get("phone")
    return str(phone) if phone else None


def _access_token_items(record: AccessTokenRecord) -> list[Item]:
    """The puts that record an access token: its item, and its entry under its grant if it has one."""
    item: Item = {
        **key(f"AT#{record.jti}"),
        "client_id": s(record.client_id),
        "expires_at": n(record.expires_at),
        "revoked": b(record.revoked),
        "ttl": ttl_of(record.expires_at),
    }
    if record.grant_id is None:
        return [{"Put": {"Item": item}}]
    item["grant_id"] = s(record.grant_id)
    link = {**key(f"GRANT#{record.grant_id}", f"AT#{record.jti}"), "ttl": item["ttl"]}
    return [{"Put": {"Item": item}}, {"Put": {"Item": link}}]


def _grant_revocation(grant_id: str) -> Item:
    """Mark a grant revoked (a marker, if it does not exist yet, that its later creation keeps)."""
    return {
        "Update": {
            "Key": key(f"GRANT#{grant_id}"),
            "UpdateExpression": "SET #revoked = :yes, #expires_at = if_not_exists(#expires_at, :never)",
            "ExpressionAttributeValues": {":yes": b(True), ":never": n(9e18)},
        }
    }


def _delete_existing(pk: str) -> Item:
    return {"Delete": {"Key": key(pk), "ConditionExpression": "attribute_exists(#pk)"}}


def _unchanged(item: Item | None, attribute: str) -> dict[str, Any]:
    """The condition that an item read a moment ago is still as it was (or still absent)."""
    if item is None:
        return {"ConditionExpression": "attribute_not_exists(#pk)"}
    return {
        "ConditionExpression": "#a = :was",
        "ExpressionAttributeNames": {"#a": attribute},
        "ExpressionAttributeValues": {":was": item[attribute]},
    }


def _link(pk: str, sk: str, expires_at: float) -> Item:
    return {"Put": {"Item": {**key(pk, sk), "ttl": ttl_of(expires_at)}}}
