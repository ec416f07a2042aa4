"""The DynamoDB mail queue: one partition ordered by due time, each claim one transaction.

Expiry is checked on read: a mail a day past its ``expires_at`` (its TTL) is deleted, not
claimed. A mail is the item ``MAILQ`` / ``{due_at}#{mail_id}`` (the due time zero-padded, so the sort key
orders by it) and a pointer ``MAIL#{mail_id}`` naming its current sort key. A claim reads the
oldest due items with a strongly consistent query, then moves one to its leased due time in a
transaction conditioned on the pointer still naming the item read: of concurrent claimers of a
row exactly one succeeds, and the others try the next row.
"""

from __future__ import annotations

from dataclasses import replace

from .dynamodb_base import DynamoBase, Item, n, s, ttl_of
from .dynamodb_base import key as item_key
from .records import QueuedMail

__all__ = ["DynamoMailQueue"]

_QUEUE = "MAILQ"
_CANDIDATES = 10  # due rows read per claim attempt


def _due_key(due_at: float, mail_id: str) -> str:
    return f"{due_at:020.6f}#{mail_id}"


def _mail(item: Item) -> QueuedMail:
    return QueuedMail(
        item["mail_id"]["S"],
        bytes(item["sealed"]["B"]),
        float(item["due_at"]["N"]),
        float(item["expires_at"]["N"]),
        int(item["attempts"]["N"]),
    )


def _item(mail: QueuedMail) -> Item:
    return {
        **item_key(_QUEUE, _due_key(mail.due_at, mail.mail_id)),
        "mail_id": s(mail.mail_id),
        "sealed": {"B": bytes(mail.sealed)},
        "due_at": n(mail.due_at),
        "expires_at": n(mail.expires_at),
        "attempts": n(mail.attempts),
        "ttl": ttl_of(mail.expires_at + 86400),
    }


class DynamoMailQueue(DynamoBase):
    """Mails waiting for a sender (:class:`~tessera.store.MailQueue`)."""

    def enqueue_mail(self, mail: QueuedMail) -> None:
        """Store a new mail and its pointer in one transaction."""
        self._transact(
            [
                {"Put": {"Item": _item(mail), "ConditionExpression": "attribute_not_exists(#pk)"}},
                {
                    "Put": {
                        "Item": {
                            **item_key(f"MAIL#{mail.mail_id}"),
                            "at": s(_due_key(mail.due_at, mail.mail_id)),
                            "ttl": ttl_of(mail.expires_at + 86400),
                        },
                        "ConditionExpression": "attribute_not_exists(#pk)",
                    }
                },
            ]
        )

    def _move(self, item: Item, mail: QueuedMail) -> bool:
        """Move ``item`` to ``mail``'s due time, if the pointer still names ``item``."""
        old_sk = item["sk"]["S"]
        new_sk = _due_key(mail.due_at, mail.mail_id)
        writes: list[Item] = [
            {
                "Update": {
                    "Key": item_key(f"MAIL#{mail.mail_id}"),
                    "UpdateExpression": "SET #at = :new",
                    "ConditionExpression": "#at = :old",
                    "ExpressionAttributeValues": {":new": s(new_sk), ":old": s(old_sk)},
                }
            }
        ]
        if new_sk != old_sk:
            writes.append({"Delete": {"Key": item_key(_QUEUE, old_sk)}})
        writes.append({"Put": {"Item": _item(mail)}})
        return self._transact(writes)

    def claim_mail(self, now: float, lease_seconds: float) -> QueuedMail | None:
        """Take the oldest mail due at ``now``: lease it and count an attempt; None when none is due."""
        while True:
            due = self._db.query(
                TableName=self.table,
                KeyConditionExpression="#pk = :q AND #sk <= :now",
                ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
                ExpressionAttributeValues={":q": s(_QUEUE), ":now": s(_due_key(now, "~"))},
                ConsistentRead=True,
                Limit=_CANDIDATES,
            ).get("Items", [])
            if not due:
                return None
            for item in due:
                current = _mail(item)
                if current.expires_at + 86400 <= now:  # past its TTL, which deletes late
                    self.delete_mail(current.mail_id)
                    continue
                claimed = QueuedMail(
                    current.mail_id,
                    current.sealed,
                    now + lease_seconds,
                    current.expires_at,
                    current.attempts + 1,
                )
                if self._move(item, claimed):
                    return claimed

    def release_mail(self, mail_id: str, due_at: float) -> None:
        """Make a claimed mail due again at ``due_at``."""
        for _ in range(10):
            pointer = self._get(f"MAIL#{mail_id}")
            if pointer is None:
                return
            item = self._get(_QUEUE, pointer["at"]["S"])
            if item is None:
                continue
            moved = replace(_mail(item), due_at=due_at)
            if self._move(item, moved):
                return

    def delete_mail(self, mail_id: str) -> None:
        """Forget a mail and its pointer."""
        pointer = self._get(f"MAIL#{mail_id}")
        if pointer is None:
            return
        self._transact(
            [
                {"Delete": {"Key": item_key(_QUEUE, pointer["at"]["S"])}},
                {
                    "Delete": {
                        "Key": item_key(f"MAIL#{mail_id}"),
                        "ConditionExpression": "#at = :at",
                        "ExpressionAttributeValues": {":at": pointer["at"]},
                    }
                },
            ]
        )
