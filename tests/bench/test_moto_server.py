"""The benchmarks' moto server: transactions still all-or-nothing with the per-item backup."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from .modules import bench_module

moto = bench_module("moto_server")


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    with moto.moto_server() as endpoint:
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "-"}}


def _get(client: Any, pk: str) -> dict[str, Any] | None:
    answer = client.get_item(TableName="t", Key=_key(pk), ConsistentRead=True)
    item: dict[str, Any] | None = answer.get("Item")
    return item


def _transaction(guard_holds: bool) -> list[dict[str, Any]]:
    guard = "attribute_not_exists(#pk)" if guard_holds else "attribute_exists(#pk)"
    return [
        {"Put": {"TableName": "t", "Item": {**_key("new"), "v": {"N": "1"}}}},
        {
            "Update": {
                "TableName": "t",
                "Key": _key("counter"),
                "UpdateExpression": "SET #v = #v + :one",
                "ExpressionAttributeNames": {"#v": "v"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Delete": {"TableName": "t", "Key": _key("doomed")}},
        {
            "ConditionCheck": {
                "TableName": "t",
                "Key": _key("guard"),
                "ConditionExpression": guard,
                "ExpressionAttributeNames": {"#pk": "pk"},
            }
        },
    ]


def test_a_cancelled_transaction_leaves_every_item_it_names_as_it_was(table: Any) -> None:
    table.put_item(TableName="t", Item={**_key("counter"), "v": {"N": "5"}})
    table.put_item(TableName="t", Item={**_key("doomed"), "v": {"N": "9"}})

    with pytest.raises(table.exceptions.TransactionCanceledException):
        table.transact_write_items(TransactItems=_transaction(guard_holds=False))

    assert _get(table, "new") is None
    assert _get(table, "counter") == {**_key("counter"), "v": {"N": "5"}}
    assert _get(table, "doomed") == {**_key("doomed"), "v": {"N": "9"}}


def test_a_transaction_whose_conditions_hold_applies_every_write(table: Any) -> None:
    table.put_item(TableName="t", Item={**_key("counter"), "v": {"N": "5"}})
    table.put_item(TableName="t", Item={**_key("doomed"), "v": {"N": "9"}})

    table.transact_write_items(TransactItems=_transaction(guard_holds=True))

    assert _get(table, "new") == {**_key("new"), "v": {"N": "1"}}
    assert _get(table, "counter") == {**_key("counter"), "v": {"N": "6"}}
    assert _get(table, "doomed") is None
