"""The DynamoDB store's client, item encoding and conditional-write helpers.

Items are written with the low-level client: attribute values are built here, numbers as
strings of Python floats. A failed condition (``ConditionalCheckFailedException``, or a
transaction cancelled for a condition) is a lost race, answered as a value, never retried.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["DynamoBase", "Item", "b", "boolean", "n", "num", "s", "text"]

Item = dict[str, Any]
KEY_SK = "-"  # the sort key of an item that is alone in its partition


_CONFLICT_RETRIES = 20


def _back_off(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 - jitter, not a secret


_NAME = re.compile(r"#(\w+)")


def names_in(*expressions: str | None) -> dict[str, str]:
    """``ExpressionAttributeNames`` for the ``#name`` placeholders of ``expressions``.

    Every attribute is written ``#name`` in expressions: DynamoDB reserves hundreds of words
    (``state``, ``ttl``, ``consumed`` ...).
    """
    return {f"#{m}": m for e in expressions if e for m in _NAME.findall(e)}


def s(value: str) -> dict[str, str]:
    """A string attribute."""
    return {"S": value}


def n(value: float) -> dict[str, str]:
    """A number attribute."""
    return {"N": repr(float(value)) if not isinstance(value, int) else str(value)}


def b(value: bool) -> dict[str, bool]:
    """A boolean attribute."""
    return {"BOOL": value}


def text(item: Item, name: str) -> str | None:
    """A string attribute's value, or None."""
    value = item.get(name)
    return None if value is None or "NULL" in value else str(value["S"])


def num(item: Item, name: str) -> float | None:
    """A number attribute's value as a float, or None."""
    value = item.get(name)
    return None if value is None or "NULL" in value else float(value["N"])


def boolean(item: Item, name: str) -> bool:
    """A boolean attribute's value (absent is False)."""
    value = item.get(name)
    return bool(value and value.get("BOOL"))


def key(pk: str, sk: str = KEY_SK) -> dict[str, dict[str, str]]:
    """The primary key of an item."""
    return {"pk": s(pk), "sk": s(sk)}


def body(value: Mapping[str, Any]) -> dict[str, str]:
    """A JSON document stored as one string attribute."""
    return s(json.dumps(value, separators=(",", ":"), sort_keys=True))


def ttl_of(expires_at: float) -> dict[str, str]:
    """The TTL attribute for an item that may go once ``expires_at`` has passed."""
    return n(int(expires_at) + 1)


_sessions: list[Any] = []
_sessions_lock = threading.Lock()


def _new_client(region: str, endpoint_url: str | None) -> Any:
    """A DynamoDB client from the process's one boto3 session (made on first use).

    Clients of one session share its loaded service models, so a second client costs little;
    a session is not safe to use from two threads at once, hence the lock.
    """
    with _sessions_lock:
        if not _sessions:
            import boto3

            _sessions.append(boto3.session.Session())
        from botocore.config import Config

        return _sessions[0].client(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=64),
        )


class DynamoBase:
    """One table; a boto3 client made on first use and kept for the life of the process."""

    def __init__(self, table: str, *, region: str = "us-east-1", endpoint_url: str | None = None) -> None:
        self.table = table
        self.region = region
        self.endpoint_url = endpoint_url
        self._client_lock = threading.Lock()
        self._made: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.table!r}, region={self.region!r})"

    @property
    def _db(self) -> Any:
        client = self._made
        if client is None:
            with self._client_lock:
                if self._made is None:
                    self._made = _new_client(self.region, self.endpoint_url)
                client = self._made
        return client

    def _get(self, pk: str, sk: str = KEY_SK) -> Item | None:
        found: Item | None = self._db.get_item(
            TableName=self.table, Key=key(pk, sk), ConsistentRead=True
        ).get("Item")
        return found

    def _put(
        self,
        item: Item,
        condition: str | None = None,
        values: Item | None = None,
        names: dict[str, str] | None = None,
    ) -> bool:
        """Write ``item``; False when ``condition`` did not hold."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": item}
        if condition is not None:
            kwargs["ConditionExpression"] = condition
        if values:
            kwargs["ExpressionAttributeValues"] = values
        names = {**names_in(condition), **(names or {})}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        return self._conditional(self._db.put_item, kwargs)

    def _update(
        self,
        pk: str,
        update: str,
        values: Item | None = None,
        condition: str | None = None,
        *,
        names: dict[str, str] | None = None,
        sk: str = KEY_SK,
        returning: str = "NONE",
    ) -> Item | None:
        """Apply ``update`` to one item; its new attributes (or ``{}``), None when ``condition`` failed."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": key(pk, sk),
            "UpdateExpression": update,
            "ReturnValues": returning,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        names = {**names_in(update, condition), **(names or {})}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if condition is not None:
            kwargs["ConditionExpression"] = condition
        answer: Item = {}

        def call(**arguments: Any) -> None:
            answer.update(self._db.update_item(**arguments))

        if not self._conditional(call, kwargs):
            return None
        attributes: Item = answer.get("Attributes", {})
        return attributes

    def _take_live(self, pk: str, now: float) -> Item | None:
        """Delete the item ``pk`` on condition that it exists and has not expired; its attributes
        for the one caller whose delete did it, None for every other."""
        answer: Item = {}

        def call(**arguments: object) -> None:
            answer.update(self._db.delete_item(**arguments))

        done = self._conditional(
            call,
            {
                "TableName": self.table,
                "Key": key(pk),
                "ConditionExpression": "attribute_exists(#pk) AND #expires_at > :now",
                "ExpressionAttributeNames": {"#pk": "pk", "#expires_at": "expires_at"},
                "ExpressionAttributeValues": {":now": n(now)},
                "ReturnValues": "ALL_OLD",
            },
        )
        old: Item | None = answer.get("Attributes")
        return old if done and old else None

    def _conditional(self, call: Any, kwargs: dict[str, Any]) -> bool:
        """``call(**kwargs)``; False when its condition failed. A write that met a transaction in
        flight on the same item (``TransactionConflictException``) was not applied, so it is sent again."""
        errors = self._db.exceptions
        for attempt in range(_CONFLICT_RETRIES):
            try:
                call(**kwargs)
            except errors.ConditionalCheckFailedException:
                return False
            except errors.TransactionConflictException:
                _back_off(attempt)
                continue
            return True
        raise RuntimeError("DynamoDB kept reporting transaction conflicts")

    def _transact(self, items: list[Item]) -> bool:
        """Write ``items`` all or nothing; False when a condition failed.

        A transaction cancelled only because another one held an item (``TransactionConflict``)
        decided nothing, so it is sent again; one cancelled by a condition lost its race.
        """
        for item in items:
            action = next(iter(item.values()))
            action["TableName"] = self.table
            names = names_in(action.get("UpdateExpression"), action.get("ConditionExpression"))
            if names:
                action["ExpressionAttributeNames"] = {**names, **action.get("ExpressionAttributeNames", {})}
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self._db.transact_write_items(TransactItems=items)
            except self._db.exceptions.TransactionCanceledException as exc:
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons or "TransactionConflict" not in reasons:
                    return False
                _back_off(attempt)
                continue
            return True
        raise RuntimeError("DynamoDB kept reporting transaction conflicts")

    def _query(self, pk: str, prefix: str) -> Iterator[Item]:
        """Every item of partition ``pk`` whose sort key starts with ``prefix`` (strongly consistent)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
            "ExpressionAttributeValues": {":pk": s(pk), ":prefix": s(prefix)},
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def migrate(self) -> list[str]:
        """Create the table with its TTL if absent; one line per step taken."""
        from .dynamodb_schema import migrate

        return migrate(self._db, self.table)

    def close(self) -> None:
        """Nothing to close: the client's connections go with the process."""
