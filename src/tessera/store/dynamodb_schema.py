"""The DynamoDB table: its definition, its key design, and ``tessera store migrate`` for it.

One table (single-table design), on-demand capacity, string keys ``pk`` (partition) and ``sk``
(sort; ``-`` for an item alone in its partition), TTL attribute ``ttl`` (POSIX seconds). No
secondary index: every lookup is a ``GetItem`` or a strongly consistent ``Query`` of one
partition.

======================================  ==========================  =======================================
pk                                      sk                          holds
======================================  ==========================  =======================================
``CLIENT#{client_id}``                  ``-``                       the client (JSON ``body``)
``USER#{user_id}``                      ``-``                       the user (``body``, ``email``)
``USER#{user_id}``                      ``SESSION#{session_hash}``  link to a session of the user
``USER#{user_id}``                      ``GRANT#{grant_id}``        link to a grant of the user
``EMAIL#{email}``                       ``-``                       ``user_id``: keeps emails unique
``PHONE#{e164}``                        ``-``                       ``user_id``: keeps phone numbers unique
``CODE#{code_hash}``                    ``-``                       authorization code, ``consumed``
``GRANT#{grant_id}``                    ``-``                       the grant, ``revoked``
``GRANT#{grant_id}``                    ``AT#{jti}``                link to a live access token of it
``RT#{token_hash}``                     ``-``                       refresh token, ``state``, ``rotated_at``
``AT#{jti}``                            ``-``                       access token record, ``revoked``
``SESSION#{session_hash}``              ``-``                       session, ``revoked``, ``method``
``SESSION#{session_hash}``              ``GRANT#{grant_id}``        link to a grant made in the session
``USERGRANTS#{user_id}#{client_id}``    ``G#{grant_id}``            link from (user, client) to a grant
``PENDING#{request_hash}``              ``-``                       pending authorization request
``OTC#{challenge_hash}``                ``-``                       one-time code challenge, ``attempts``
``JTI#{issuer}``                        ``{jti}``                   a one-time ``jti`` seen
``RATE#{key}``                          ``{window}``                rate-limit ``hits`` (atomic ``ADD``)
``MAILQ``                               ``{due_at}#{mail_id}``      a queued mail, ordered by due time
``MAIL#{mail_id}``                      ``-``                       ``at``: the queued mail's sort key
``CONSENT#{user_id}``                   ``{client_id}``             consent ``scopes``, version ``v``
``PKCHALLENGE#{challenge_hash}``        ``-``                       passkey challenge (conditional delete)
``PASSKEY#{credential_id}``             ``-``                       ``user_id``: unique credential ids
``PASSKEYS#{user_id}``                  ``-``                       ``count`` of the user's passkeys
``PASSKEYS#{user_id}``                  ``C#{credential_id}``       a passkey, ``sign_count`` (CAS)
``TOTP#{user_id}``                      ``-``                       TOTP factor, ``last_step``
``TOTP#{user_id}``                      ``RC#{code_hash}``          a recovery code's MAC, ``used``
``UPSTREAM#{upstream_id}#{sub}``        ``-``                       linked identity, its ``user_id``, tokens
``UPSTREAMS#{user_id}``                 ``L#{upstream_id}#{sub}``   the user's linked identity (for listing)
``UPLOGIN#{state_hash}``                ``-``                       federated sign-in in flight (cond. delete)
``UPSESSION#{session_hash}``            ``-``                       the upstream a session began at
``KEYS``                                ``-``                       the signing key set, ``current`` kid
``SCHEMA``                              ``-``                       the schema ``version``
======================================  ==========================  =======================================

Single uses (``consumed``, ``attempts``, ``state``, ``jti``, passkey challenges, TOTP steps and
recovery codes) are conditional writes; a refresh rotation is one ``TransactWriteItems`` (retire
the old token on condition, put the successor), and so are adding and removing a passkey (owner
item, credential and the user's ``count``; a removal that must leave one is conditioned on
``count > 1``). Linking an upstream identity is a transaction conditioned on its
``UPSTREAM#`` item being absent (one identity, one user).
Expiry is checked on every read, because TTL deletion runs up to days late.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ..errors import ConfigurationError
from .errors import SharedPhoneNumbers

__all__ = ["SCHEMA_VERSION", "TABLE_DEFINITION", "migrate"]

SCHEMA_VERSION = 2  # 2: ``PHONE#`` items for the users stored before them

TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def migrate(client: Any, table: str) -> list[str]:
    """Create the table and turn on its TTL where missing, then record the version; one line per step."""
    done: list[str] = []
    errors = client.exceptions
    try:
        client.describe_table(TableName=table)
    except errors.ResourceNotFoundException:
        try:
            client.create_table(TableName=table, **TABLE_DEFINITION)
            done.append(f"created table {table} (pk, sk; on-demand)")
        except errors.ResourceInUseException:
            pass  # another migration created it a moment ago
        client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
        done.append(f"enabled TTL on attribute ttl of {table}")
    elif ttl.get("AttributeName") != "ttl":
        raise ConfigurationError(f"table {table} has TTL on {ttl.get('AttributeName')!r}, not 'ttl'")
    stored = client.get_item(
        TableName=table, Key={"pk": {"S": "SCHEMA"}, "sk": {"S": "-"}}, ConsistentRead=True
    )
    version = int(stored["Item"]["version"]["N"]) if "Item" in stored else 0
    if version > SCHEMA_VERSION:
        raise ConfigurationError(
            f"table {table} has schema version {version}, newer than this Tessera ({SCHEMA_VERSION})"
        )
    if version < 2:
        indexed = _index_phone_numbers(client, table)
        done.append(f"indexed {indexed} phone number{'s' * (indexed != 1)} (PHONE# items)")
    if version < SCHEMA_VERSION:
        client.put_item(
            TableName=table,
            Item={"pk": {"S": "SCHEMA"}, "sk": {"S": "-"}, "version": {"N": str(SCHEMA_VERSION)}},
        )
        done.append(f"recorded schema version {SCHEMA_VERSION}")
    if not done:
        done.append(f"table {table} is up to date (version {SCHEMA_VERSION}, TTL on ttl)")
    return done


def _index_phone_numbers(client: Any, table: str) -> int:
    """Write the ``PHONE#`` item of every user holding a number; how many were written.

    Users sharing a number are named in :class:`SharedPhoneNumbers`, before anything is written.
    """
    holders: dict[str, list[str]] = defaultdict(list)
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="begins_with(#pk, :prefix) AND #sk = :sk",
        ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
        ExpressionAttributeValues={":prefix": {"S": "USER#"}, ":sk": {"S": "-"}},
    )
    for item in (item for page in pages for item in page.get("Items", [])):
        phone = json.loads(item["body"]["S"]).get("phone")
        if phone:
            holders[str(phone)].append(item["pk"]["S"].removeprefix("USER#"))
    shared = {phone: sorted(users) for phone, users in holders.items() if len(users) > 1}
    if shared:
        raise SharedPhoneNumbers(shared)
    for phone, (user_id,) in holders.items():
        claim = _get(client, table, f"PHONE#{phone}")
        other = claim["user_id"]["S"] if claim else None
        if other not in (None, user_id):
            holder = _get(client, table, f"USER#{other}")
            if holder is not None and json.loads(holder["body"]["S"]).get("phone") == phone:
                raise SharedPhoneNumbers({phone: sorted([user_id, str(other)])})
        client.put_item(
            TableName=table, Item={"pk": {"S": f"PHONE#{phone}"}, "sk": {"S": "-"}, "user_id": {"S": user_id}}
        )
    return len(holders)


def _get(client: Any, table: str, pk: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = client.get_item(
        TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "-"}}, ConsistentRead=True
    ).get("Item")
    return found
