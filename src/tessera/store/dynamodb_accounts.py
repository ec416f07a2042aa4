"""The DynamoDB account items: a user's sessions and grants through links in the user's partition.

``create_session`` and ``create_grant`` write a link item ``USER#{user_id}`` / ``SESSION#{hash}``
or ``GRANT#{grant_id}`` (expiring with what it names), so a user's sessions and grants are one
``Query`` of their partition; consents already live in ``CONSENT#{user_id}``. Erasing a user
(:meth:`~tessera.store.dynamodb.DynamoDBStore.erase_user`) walks these partitions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .dynamodb_base import KEY_SK, DynamoBase, Item, boolean, names_in, s
from .dynamodb_base import key as item_key
from .dynamodb_signin import consent_from, session_from
from .records import Consent, Grant, Session, grant_from_body

__all__ = ["DynamoAccounts"]


class DynamoAccounts(DynamoBase):
    """Listing a user's sessions, consents and grants; deleting what only a scan can find."""

    def _partition(self, pk: str, prefix: str = "") -> list[Item]:
        """Every item of partition ``pk`` whose sort key starts with ``prefix`` (any, when empty)."""
        if prefix:
            return list(self._query(pk, prefix))
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ExpressionAttributeValues": {":pk": s(pk)},
            "ConsistentRead": True,
        }
        items: list[Item] = []
        while True:
            page = self._db.query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _linked(self, user_id: str, prefix: str) -> list[str]:
        """The ids the user's partition links to under ``prefix`` (``SESSION#``, ``GRANT#``)."""
        return [link["sk"]["S"].removeprefix(prefix) for link in self._query(f"USER#{user_id}", prefix)]

    def list_sessions(self, user_id: str, now: float) -> Sequence[Session]:
        """The user's live sessions, newest first."""
        found: list[Session] = []
        for session_hash in self._linked(user_id, "SESSION#"):
            item = self._get(f"SESSION#{session_hash}")
            if item is None or boolean(item, "revoked") or float(item["expires_at"]["N"]) <= now:
                continue
            found.append(session_from(item, session_hash))
        return tuple(sorted(found, key=lambda x: (-x.auth_time, x.session_hash)))

    def list_consents(self, user_id: str) -> Sequence[Consent]:
        """Every consent the user has given, by client id (one ``Query`` of ``CONSENT#user``)."""
        items = self._partition(f"CONSENT#{user_id}")
        consents = (consent_from(item, user_id, item["sk"]["S"]) for item in items)
        return tuple(sorted(consents, key=lambda c: c.client_id))

    def list_grants(self, user_id: str, now: float) -> Sequence[Grant]:
        """The user's live grants, newest first."""
        found: list[Grant] = []
        for grant_id in self._linked(user_id, "GRANT#"):
            item = self._get(f"GRANT#{grant_id}")
            if item is None or "body" not in item or boolean(item, "revoked"):
                continue
            grant = grant_from_body(json.loads(item["body"]["S"]))
            if grant.expires_at > now:
                found.append(grant)
        return tuple(sorted(found, key=lambda g: (-g.created_at, g.grant_id)))

    def _delete_partition(self, pk: str, prefix: str = "") -> list[Item]:
        """Delete every item of partition ``pk`` whose sort key starts with ``prefix``; the items."""
        items = self._partition(pk, prefix)
        for item in items:
            self._db.delete_item(TableName=self.table, Key=item_key(pk, item["sk"]["S"]))
        return items

    def _erase_passkeys(self, user_id: str) -> None:
        """Delete the user's credentials, their owner items and the user's count."""
        for item in self._delete_partition(f"PASSKEYS#{user_id}"):
            credential_id = item.get("credential_id", {}).get("S")
            if credential_id is not None:
                self._db.delete_item(TableName=self.table, Key=item_key(f"PASSKEY#{credential_id}"))

    def _erase_sign_ins_in_flight(self, addresses: Sequence[str], user_id: str) -> None:
        """Delete the one-time codes sent to ``addresses`` and the passkey challenges of the user.

        Neither has an index by address or user (each is found by its hash, and lives minutes),
        so this is a scan of the table: a cost paid once per erased account.
        """
        values: dict[str, Any] = {
            ":otc": s("OTC#"),
            ":pkc": s("PKCHALLENGE#"),
            ":user": s(user_id),
            ":sk": s(KEY_SK),
        }
        matches = []
        for index, address in enumerate(addresses):
            values[f":a{index}"] = s(address)
            matches.append(f":a{index}")
        condition = (
            f"#sk = :sk AND ((begins_with(#pk, :otc) AND #email IN ({', '.join(matches)})) "
            "OR (begins_with(#pk, :pkc) AND #user_id = :user))"
        )
        pages = self._db.get_paginator("scan").paginate(
            TableName=self.table,
            ConsistentRead=True,
            FilterExpression=condition,
            ExpressionAttributeNames=names_in(condition),
            ExpressionAttributeValues=values,
            ProjectionExpression="#pk, #sk",
        )
        for page in pages:
            for item in page.get("Items", []):
                self._db.delete_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]})
