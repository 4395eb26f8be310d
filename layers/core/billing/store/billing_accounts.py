"""The B2B API's billing accounts: a tenant's clients (`billing.store.clients`), limited to what a
B2B caller's scope allows. Every read stays in the tenant's client partition:

| read                                  | operation                                           | cost              |
|---------------------------------------|-----------------------------------------------------|-------------------|
| one account                           | scope check, then GetItem `T#<t>#client` / `<id>`   | O(1)              |
| accounts named by id (scope list, or  | BatchGetItem on `T#<t>#client`, 100 keys per call   | O(ids)            |
|   an `id=` filter)                    |                                                     |                   |
| every account of an "all" scope       | Query `PK = T#<t>#client`, page by page             | O(tenant clients) |

The last one is what a filtered listing with an "all" scope costs in this first version: filters
are evaluated in memory over the pages (see `functions/b2b/app.py`). It never scans and never
leaves the tenant's partition; index-backed filters come with the bills.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from typing import Any

from billing.domain.b2b_clients import Scope
from billing.domain.clients import Client
from billing.domain.errors import NotFound
from billing.store import keys
from billing.store.aws import client as aws_client
from billing.store.clients import clients
from billing.store.records import Records
from billing.store.table import from_item

PAGE_SIZE = 500
BATCH_KEYS = 100
_BATCH_ATTEMPTS = 6


class BillingAccounts:
    def __init__(self, repo: Records[Client] | None = None) -> None:
        self.repo = repo or clients

    def get(self, tenant_id: int, scope: Scope, account_id: int) -> Client:
        """One billing account; outside the scope it does not exist (404), as in another tenant."""
        if not scope.allows(account_id):
            raise NotFound(f"billing account {account_id} not found")
        try:
            return self.repo.get(tenant_id, account_id)
        except NotFound:
            raise NotFound(f"billing account {account_id} not found") from None

    def in_scope(
        self, tenant_id: int, scope: Scope, only_ids: Collection[int] | None = None
    ) -> Iterator[Client]:
        """The scope's billing accounts in id (creation) order, narrowed to `only_ids` if given."""
        if only_ids is not None or not scope.all:
            wanted = set(only_ids if only_ids is not None else scope.billing_account_ids)
            yield from self.get_many(tenant_id, [i for i in wanted if scope.allows(i)])
            return
        cursor: str | None = None
        while True:
            page, cursor = self.repo.page(tenant_id, limit=PAGE_SIZE, cursor=cursor)
            yield from page
            if cursor is None:
                return

    def get_many(self, tenant_id: int, ids: Collection[int]) -> list[Client]:
        """The tenant's clients with these ids, in id order; ids that do not exist are skipped."""
        wanted = sorted(set(ids))
        table = self.repo.table
        partition = keys.tenant_pk(tenant_id, self.repo.kind)
        found: list[Client] = []
        for start in range(0, len(wanted), BATCH_KEYS):
            batch = [
                {"PK": {"S": partition}, "SK": {"S": keys.record_sk(i)}}
                for i in wanted[start : start + BATCH_KEYS]
            ]
            for item in _batch_get(table.name, batch):
                found.append(self.repo.from_item(item))
        return sorted(found, key=lambda record: record.id)

    def existing_ids(self, tenant_id: int, ids: Collection[int]) -> set[int]:
        return {record.id for record in self.get_many(tenant_id, ids)}


def _batch_get(table_name: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """BatchGetItem of at most 100 keys of one table, retrying unprocessed keys with backoff."""
    ddb = aws_client("dynamodb")
    pending: dict[str, Any] = {table_name: {"Keys": batch}}
    items: list[dict[str, Any]] = []
    for attempt in range(_BATCH_ATTEMPTS):
        response = ddb.batch_get_item(RequestItems=pending)
        items.extend(from_item(raw) for raw in response.get("Responses", {}).get(table_name, []))
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            return items
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError("DynamoDB left keys of a batch read unprocessed; retry the request")


billing_accounts = BillingAccounts()
