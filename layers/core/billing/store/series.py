"""Numbering series and the numbering of documents (DESIGN "Numbering").

Items
-----
- a series: Records item of kind `<doc kind>_series` (`T#<t>#invoice_series` / `<id>`), with
  `counter_current` (the last number generated) and `document_count` (documents numbered on
  it; a series with documents cannot be deleted);
- a number guard per number in use: PK `T#<t>#<series kind>#<series id>`, SK the counter
  zero-padded to 20 digits, `document_id` of the holder. At most one guard per number, so at
  most one document per number, whoever chose it.

Taking a number (`write_numbered`) is ONE TransactWriteItems with the document's own writes:

    automatic:  Update series SET counter_current = n          IF counter_current = <read c>
                Put guard n                                     IF attribute_not_exists(PK)
                Put document …                                  (the caller's operations)
    supplied:   Update series SET document_count = … + 1       IF attribute_exists(PK)
                Put guard n                                     IF attribute_not_exists(PK)
                Put document …

n is the first number after c without a guard (numbers a caller supplied earlier are skipped,
so they are neither reused nor left as gaps). Two requests that read the same c cannot both
commit: the loser's transaction is cancelled as a whole and retried (fresh read, exponential
backoff with full jitter). Numbers generated on a series are therefore unique and consecutive:
no gap, whatever the concurrency. A caller-supplied counter (the reference's examples send one)
does not move counter_current; it only takes its guard, and a taken one is a 422.

Releasing a number (deleting a draft, or renumbering one) deletes its guard in the same
transaction as the document write. The series only stays gap-free if that number was the last
one generated (the counter then steps back, conditioned on still being that number) or lies
above counter_current (a supplied number the sequence has not reached); any other release
would leave a gap and is refused with a 422 that says to cancel the document instead.

Modifying a series sets only the fields sent (UpdateItem), so it never overwrites a counter
moved by a concurrent document; counter_current may be set by the caller (e.g. to continue a
sequence started elsewhere): raising it leaves the numbers in between unused by choice, and
lowering it can never produce a duplicate, because the guards still hold the numbers in use.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from billing.domain.errors import Conflict, NotFound, ValidationFailed
from billing.domain.records import utc_now
from billing.domain.series import SERIES_KINDS, Series, SeriesCreate, check_counters
from billing.store import keys
from billing.store.records import Records
from billing.store.table import ConditionFailed, Table

Operation = Mapping[str, Any]

MAX_ATTEMPTS: Final = 40
BACKOFF_BASE_SECONDS: Final = 0.005
BACKOFF_CAP_SECONDS: Final = 0.2
MAX_SKIPPED_NUMBERS: Final = 10_000
_RETRYABLE: Final = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def backoff(attempt: int) -> None:
    """Sleep with full jitter before retry number `attempt` (0-based)."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))


@dataclass(frozen=True)
class Claim:
    """A number taken (or about to be taken) on a series, with the operations that take it."""

    series: Series
    counter: int
    automatic: bool
    operations: tuple[Operation, ...]

    @property
    def number(self) -> str:
        return self.series.number(self.counter)


class SeriesStore:
    """One series kind (invoice_series, …): the records and the numbers taken on them."""

    def __init__(self, kind: str, table: Table | None = None) -> None:
        if kind not in SERIES_KINDS:
            raise ValueError(f"unknown series kind {kind}")
        self.kind = kind
        self.records: Records[Series] = Records(kind, Series, table=table)

    @property
    def table(self) -> Table:
        return self.records.table

    @property
    def label(self) -> str:
        return self.kind.replace("_", " ")

    # -- series records --------------------------------------------------------------------

    def create(self, tenant_id: int, payload: SeriesCreate, root: str) -> Series:
        fields = payload.record_fields()
        problems = check_counters(fields["counter_start"], fields["counter_current"], root)
        if problems:
            raise ValidationFailed(*problems)
        return self.records.insert(tenant_id, lambda new_id: Series(id=new_id, **fields))

    def get(self, tenant_id: int, series_id: int) -> Series:
        return self.records.get(tenant_id, series_id)

    def read(self, tenant_id: int, series_id: int) -> Series | None:
        """Strongly consistent read (numbering decisions are taken on it)."""
        item = self.records.get_item(tenant_id, series_id)
        return self.records.from_item(item) if item is not None else None

    def page(
        self, tenant_id: int, *, limit: int, cursor: str | None = None
    ) -> tuple[list[Series], str | None]:
        return self.records.page(tenant_id, limit=limit, cursor=cursor)

    def update(self, tenant_id: int, series_id: int, changes: Mapping[str, Any], root: str) -> Series:
        current = self.read(tenant_id, series_id)
        if current is None:
            raise NotFound(f"{self.label} {series_id} not found")
        if not changes:
            return current
        start = changes.get("counter_start", current.counter_start)
        counter = changes.get("counter_current", current.counter_current)
        problems = [
            f"{root}.{name} cannot be empty"
            for name in ("counter_start", "counter_current")
            if name in changes and changes[name] is None
        ]
        if not problems:
            problems = check_counters(start, counter, root)
        if problems:
            raise ValidationFailed(*problems)
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(changes.values())}
        sets = [f"#f{i} = :v{i}" for i in range(len(changes)) if values[f":v{i}"] is not None]
        removes = [f"#f{i}" for i in range(len(changes)) if values[f":v{i}"] is None]
        values = {k: v for k, v in values.items() if v is not None}
        values[":now"] = utc_now()
        values[":one"] = 1
        expression = "SET " + ", ".join([*sets, "updated_at = :now", "rev = rev + :one"])
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            self.table.transact(
                [
                    {
                        "Update": {
                            "Key": self._key(tenant_id, series_id),
                            "UpdateExpression": expression,
                            "ConditionExpression": "attribute_exists(PK)",
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    }
                ]
            )
        except ConditionFailed:
            raise NotFound(f"{self.label} {series_id} not found") from None
        updated = self.read(tenant_id, series_id)
        if updated is None:
            raise NotFound(f"{self.label} {series_id} not found")
        return updated

    def delete(self, tenant_id: int, series_id: int) -> Series:
        """Delete a series no document is numbered on (checked atomically with the delete)."""
        current = self.read(tenant_id, series_id)
        if current is None:
            raise NotFound(f"{self.label} {series_id} not found")
        try:
            self.table.transact(
                [
                    {
                        "Delete": {
                            "Key": self._key(tenant_id, series_id),
                            "ConditionExpression": "attribute_exists(PK) AND "
                            "(attribute_not_exists(document_count) OR document_count = :zero)",
                            "ExpressionAttributeValues": {":zero": 0},
                        }
                    }
                ]
            )
        except ConditionFailed:
            now = self.read(tenant_id, series_id)
            if now is None:
                raise NotFound(f"{self.label} {series_id} not found") from None
            raise ValidationFailed(
                f"{self.label} {series_id} numbers {now.document_count} document(s); "
                "a series with documents cannot be deleted"
            ) from None
        return current

    def _key(self, tenant_id: int, series_id: int) -> dict[str, str]:
        return {"PK": keys.tenant_pk(tenant_id, self.kind), "SK": keys.record_sk(series_id)}

    # -- number guards ---------------------------------------------------------------------

    def guard_pk(self, tenant_id: int, series_id: int) -> str:
        return keys.tenant_pk(tenant_id, f"{self.kind}#{series_id}")

    def guard_key(self, tenant_id: int, series_id: int, counter: int) -> dict[str, str]:
        return {"PK": self.guard_pk(tenant_id, series_id), "SK": keys.record_sk(counter)}

    def holder(self, tenant_id: int, series_id: int, counter: int) -> int | None:
        """The id of the document holding `counter` on the series, if any."""
        item = self.table.get(self.guard_pk(tenant_id, series_id), keys.record_sk(counter), consistent=True)
        return int(item["document_id"]) if item is not None else None

    def first_free(self, tenant_id: int, series_id: int, start: int) -> int:
        """The first number from `start` on without a guard (supplied numbers are skipped)."""
        for counter in range(start, start + MAX_SKIPPED_NUMBERS):
            if self.holder(tenant_id, series_id, counter) is None:
                return counter
        raise Conflict(f"{self.label} {series_id}: no free number after {start}")

    # -- taking and releasing numbers --------------------------------------------------------

    def claim(self, tenant_id: int, series: Series, document_id: int, counter: int | None = None) -> Claim:
        """The operations that take `counter` (or the next number) on `series` for a document."""
        key = self._key(tenant_id, series.id)
        if counter is not None:
            update: Operation = {
                "Update": {
                    "Key": key,
                    "UpdateExpression": "SET document_count = if_not_exists(document_count, :zero) + :one",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": {":zero": 0, ":one": 1},
                }
            }
            return Claim(
                series, counter, False, (update, self._guard(tenant_id, series.id, counter, document_id))
            )
        taken = self.first_free(tenant_id, series.id, series.counter_current + 1)
        update = {
            "Update": {
                "Key": key,
                "UpdateExpression": "SET counter_current = :next, "
                "document_count = if_not_exists(document_count, :zero) + :one",
                "ConditionExpression": "counter_current = :read",
                "ExpressionAttributeValues": {
                    ":next": taken,
                    ":read": series.counter_current,
                    ":zero": 0,
                    ":one": 1,
                },
            }
        }
        return Claim(series, taken, True, (update, self._guard(tenant_id, series.id, taken, document_id)))

    def _guard(self, tenant_id: int, series_id: int, counter: int, document_id: int) -> Operation:
        return {
            "Put": {
                "Item": {
                    **self.guard_key(tenant_id, series_id, counter),
                    "document_id": document_id,
                    "created_at": utc_now(),
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def release(
        self, tenant_id: int, series: Series, counter: int, document_id: int, label: str
    ) -> list[Operation]:
        """The operations that give `counter` back, or a 422 when that would leave a gap."""
        key = self._key(tenant_id, series.id)
        guard = {
            "Delete": {
                "Key": self.guard_key(tenant_id, series.id, counter),
                "ConditionExpression": "document_id = :doc",
                "ExpressionAttributeValues": {":doc": document_id},
            }
        }
        if counter == series.counter_current:
            update = {
                "Update": {
                    "Key": key,
                    "UpdateExpression": "SET counter_current = :previous, document_count = document_count - :one",
                    "ConditionExpression": "counter_current = :counter",
                    "ExpressionAttributeValues": {":previous": counter - 1, ":counter": counter, ":one": 1},
                }
            }
        elif counter > series.counter_current:
            update = {
                "Update": {
                    "Key": key,
                    "UpdateExpression": "SET document_count = document_count - :one",
                    "ConditionExpression": "counter_current < :counter",
                    "ExpressionAttributeValues": {":counter": counter, ":one": 1},
                }
            }
        else:
            raise ValidationFailed(
                f"{label} holds number {series.number(counter)}, and {self.label} {series.id} has already "
                f"generated numbers up to {series.number(series.counter_current)}: giving the number back "
                "would leave a gap in the series; cancel the document instead (mark_cancelled)"
            )
        return [update, guard]

    def write_numbered(
        self,
        tenant_id: int,
        series_id: int,
        document_id: int,
        build: Callable[[Claim], Sequence[Operation]],
        *,
        counter: int | None = None,
        prefix: Sequence[Operation] | Callable[[], Sequence[Operation]] = (),
        root: str = "document",
    ) -> Claim:
        """Take a number on the series and run `build(claim)`'s operations in the same
        transaction (see the module docstring). `prefix` operations (or a function returning
        them, re-evaluated on each attempt) run in the transaction before the numbering ones,
        e.g. the release of a draft's previous number. A failure of the caller's own
        operations is re-raised as ConditionFailed with only their reasons, in order
        (prefix operations first)."""
        for attempt in range(MAX_ATTEMPTS):
            series = self.read(tenant_id, series_id)
            if series is None:
                raise ValidationFailed(f"{root}.document_series_id: there is no {self.label} {series_id}")
            if counter is not None:
                holder = self.holder(tenant_id, series_id, counter)
                if holder is not None and holder != document_id:
                    raise self._taken(series, counter, root)
            claim = self.claim(tenant_id, series, document_id, counter)
            before = list(prefix() if callable(prefix) else prefix)
            own = list(build(claim))
            operations = [*before, *claim.operations, *own]
            try:
                self.table.transact(operations)
                return claim
            except ConditionFailed as failure:
                reasons = failure.reasons if len(failure.reasons) == len(operations) else []
                caller_reasons = reasons[: len(before)] + reasons[len(before) + len(claim.operations) :]
                if any(code not in ("None", *_RETRYABLE) for code in caller_reasons):
                    raise ConditionFailed(caller_reasons) from None
                numbering = reasons[len(before) : len(before) + len(claim.operations)]
                if counter is not None and numbering and numbering[1] == "ConditionalCheckFailed":
                    raise self._taken(series, counter, root) from None
            backoff(attempt)
        raise Conflict(f"{self.label} {series_id} is busy: could not take a number; retry")

    def _taken(self, series: Series, counter: int, root: str) -> Conflict:
        return Conflict(
            f"{root}.document_series_counter {counter} is already used in series {series.id} "
            f"(number {series.number(counter)} is taken); leave the counter out to get the next free number"
        )


SERIES: Final[dict[str, SeriesStore]] = {kind: SeriesStore(kind) for kind in SERIES_KINDS}
"""The four series stores, by series kind."""
