"""local/dynamodb_fidelity.py: moto with DynamoDB's atomicity, transaction isolation and
index-served queries. Query results are checked against a plain-Python model of the table."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.template import REGION
from tests.support.aws import LocalStack

TABLE = "fidelity-test"


@pytest.fixture(scope="module")
def ddb(aws: LocalStack) -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "G1PK", "G1SK")
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "G1PK", "KeyType": "HASH"},
                    {"AttributeName": "G1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    yield client
    client.delete_table(TableName=TABLE)


def put(ddb: Any, pk: str, sk: str, **attrs: str) -> None:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, **{k: {"S": v} for k, v in attrs.items()}}
    ddb.put_item(TableName=TABLE, Item=item)


def query_all(
    ddb: Any, *, page: int, forward: bool = True, index: str | None = None, **condition: Any
) -> list[str]:
    """Every SK matching, read page by page through LastEvaluatedKey."""
    kwargs: dict[str, Any] = {"TableName": TABLE, "Limit": page, "ScanIndexForward": forward, **condition}
    if index:
        kwargs["IndexName"] = index
    found: list[str] = []
    while True:
        response = ddb.query(**kwargs)
        found += [i["SK"]["S"] for i in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return found
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


@pytest.fixture(scope="module")
def populated(ddb: Any) -> dict[str, dict[str, str]]:
    """Two partitions; a sparse GSI whose sort values repeat (ties broken by the table key)."""
    rng = random.Random(7)
    model: dict[str, dict[str, str]] = {}
    for n in range(300):
        sk = f"{n:05d}"
        attrs = {}
        if n % 3:
            attrs = {
                "G1PK": "state#open" if n % 2 else "state#closed",
                "G1SK": f"{rng.choice(['a', 'ab', 'b', 'c'])}",
            }
        put(ddb, "T#1", sk, **attrs)
        model[sk] = attrs
    for n in range(50):
        put(ddb, "T#2", f"x{n:04d}", G1PK="state#open", G1SK="zz")
    return model


@pytest.mark.parametrize("page", [1, 7, 100, 1000])
@pytest.mark.parametrize("forward", [True, False])
def test_partition_paging_matches_model(ddb: Any, populated: dict, page: int, forward: bool) -> None:
    got = query_all(
        ddb,
        page=page,
        forward=forward,
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": "T#1"}},
    )
    assert got == sorted(populated, reverse=not forward)


@pytest.mark.parametrize(
    ("condition", "values", "keep"),
    [
        ("PK = :p AND begins_with(SK, :v)", {":v": {"S": "0001"}}, lambda sk: sk.startswith("0001")),
        (
            "PK = :p AND SK BETWEEN :v AND :w",
            {":v": {"S": "00050"}, ":w": {"S": "00075"}},
            lambda sk: "00050" <= sk <= "00075",
        ),
        ("PK = :p AND SK > :v", {":v": {"S": "00290"}}, lambda sk: sk > "00290"),
        ("PK = :p AND SK <= :v", {":v": {"S": "00003"}}, lambda sk: sk <= "00003"),
        ("PK = :p AND SK = :v", {":v": {"S": "00042"}}, lambda sk: sk == "00042"),
    ],
)
def test_key_conditions_match_model(
    ddb: Any, populated: dict, condition: str, values: dict, keep: Any
) -> None:
    got = query_all(
        ddb,
        page=4,
        KeyConditionExpression=condition,
        ExpressionAttributeValues={":p": {"S": "T#1"}, **values},
    )
    assert got == sorted(sk for sk in populated if keep(sk))


@pytest.mark.parametrize("page", [1, 5, 1000])
@pytest.mark.parametrize("forward", [True, False])
def test_gsi_paging_with_ties_matches_model(ddb: Any, populated: dict, page: int, forward: bool) -> None:
    got = query_all(
        ddb,
        page=page,
        forward=forward,
        index="GSI1",
        KeyConditionExpression="G1PK = :g AND begins_with(G1SK, :v)",
        ExpressionAttributeValues={":g": {"S": "state#open"}, ":v": {"S": "a"}},
    )
    expected = sorted(
        (a["G1SK"], sk)
        for sk, a in populated.items()
        if a.get("G1PK") == "state#open" and a["G1SK"].startswith("a")
    )
    expected_sks = [sk for _, sk in expected]
    assert got == (expected_sks if forward else expected_sks[::-1])


def test_index_follows_updates_and_deletes(ddb: Any, populated: dict) -> None:
    open_before = query_all(
        ddb,
        page=50,
        index="GSI1",
        KeyConditionExpression="G1PK = :g",
        ExpressionAttributeValues={":g": {"S": "state#open"}},
    )
    moved = next(sk for sk, a in populated.items() if a.get("G1PK") == "state#open")
    ddb.update_item(
        TableName=TABLE,
        Key={"PK": {"S": "T#1"}, "SK": {"S": moved}},
        UpdateExpression="SET G1PK = :c",
        ExpressionAttributeValues={":c": {"S": "state#closed"}},
    )
    ddb.delete_item(TableName=TABLE, Key={"PK": {"S": "T#1"}, "SK": {"S": "00000"}})
    put(ddb, "T#1", "99999", G1PK="state#open", G1SK="a-new")
    open_after = query_all(
        ddb,
        page=50,
        index="GSI1",
        KeyConditionExpression="G1PK = :g",
        ExpressionAttributeValues={":g": {"S": "state#open"}},
    )
    assert moved in open_before and moved not in open_after
    assert set(open_after) == (set(open_before) - {moved, "00000"}) | {"99999"}
    partition = query_all(
        ddb, page=100, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "T#1"}}
    )
    assert "00000" not in partition and "99999" in partition


def test_failed_transaction_restores_only_its_items(ddb: Any) -> None:
    put(ddb, "T#3", "a", v="1")
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"PK": {"S": "T#3"}, "SK": {"S": "a"}, "v": {"S": "2"}},
                    }
                },
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"PK": {"S": "T#3"}, "SK": {"S": "b"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert ddb.get_item(TableName=TABLE, Key={"PK": {"S": "T#3"}, "SK": {"S": "a"}})["Item"]["v"]["S"] == "1"
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"PK": {"S": "T#3"}, "SK": {"S": "b"}})
    assert query_all(
        ddb, page=10, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "T#3"}}
    ) == ["a"]


def test_concurrent_conditional_puts_have_one_winner(ddb: Any) -> None:
    wins: list[int] = []
    barrier = threading.Barrier(20, timeout=60)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            ddb.put_item(
                TableName=TABLE,
                Item={"PK": {"S": "T#4"}, "SK": {"S": "guard"}, "by": {"S": str(n)}},
                ConditionExpression="attribute_not_exists(PK)",
            )
            wins.append(n)
        except ClientError:
            pass

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
