"""Generic repository for tenant-scoped records of one kind (branch offices, clients, products, ...).

Item layout: PK = "T#<tenant>#<kind>", SK = zero-padded id, the record's fields as attributes,
`rev` for optimistic concurrency, and one generic GSI slot per searchable field
(GSI<n>PK = "T#<tenant>#<kind>#<field>", GSI<n>SK = "<normalized value>#<id>")."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from billing.domain.errors import Conflict, NotFound, ValidationFailed
from billing.domain.ids import new_id
from billing.domain.records import Record, utc_now
from billing.store import keys
from billing.store.table import ConditionFailed, Page, Table, UsesTable

R = TypeVar("R", bound=Record)

MAX_SEARCH_SLOTS = 10
_INSERT_ATTEMPTS = 5


def normalize_search_value(value: Any) -> str:
    """The sortable, comparable string form of a value in a search slot. Text is case-folded
    so that searches are case-insensitive; datetimes are UTC ISO so a date is a prefix."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value).casefold()


class Records(UsesTable, Generic[R]):
    def __init__(
        self, kind: str, model: type[R], *, searchable: Sequence[str] = (), table: Table | None = None
    ):
        if len(searchable) > MAX_SEARCH_SLOTS:
            raise ValueError(f"{kind}: at most {MAX_SEARCH_SLOTS} searchable fields")
        self.kind = kind
        self.model = model
        self.searchable = tuple(searchable)
        super().__init__(table)

    # -- items ---------------------------------------------------------------------------

    def to_item(self, tenant_id: int, record: R, rev: int) -> dict[str, Any]:
        item: dict[str, Any] = record.model_dump(mode="python")
        item.update(PK=keys.tenant_pk(tenant_id, self.kind), SK=keys.record_sk(record.id), rev=rev)
        for slot, field in enumerate(self.searchable, start=1):
            value = getattr(record, field, None)
            if value is None or value == "":
                continue
            item[f"GSI{slot}PK"] = keys.search_pk(tenant_id, self.kind, field)
            item[f"GSI{slot}SK"] = keys.search_sk(normalize_search_value(value), record.id)
        return item

    def from_item(self, item: Mapping[str, Any]) -> R:
        return self.model.model_validate(item)

    def slot_index(self, field: str) -> str:
        try:
            return f"GSI{self.searchable.index(field) + 1}"
        except ValueError:
            raise ValidationFailed(f"{self.kind} cannot be searched by '{field}'") from None

    # -- reads ---------------------------------------------------------------------------

    def get(self, tenant_id: int, record_id: int) -> R:
        item = self.table.get(keys.tenant_pk(tenant_id, self.kind), keys.record_sk(record_id))
        if item is None:
            raise NotFound(f"{self.kind} {record_id} not found")
        return self.from_item(item)

    def get_item(self, tenant_id: int, record_id: int) -> dict[str, Any] | None:
        return self.table.get(
            keys.tenant_pk(tenant_id, self.kind), keys.record_sk(record_id), consistent=True
        )

    def page(self, tenant_id: int, *, limit: int, cursor: str | None = None) -> tuple[list[R], str | None]:
        page = self.table.query_page(keys.tenant_pk(tenant_id, self.kind), limit=limit, cursor=cursor)
        return [self.from_item(i) for i in page.items], page.cursor

    def search(
        self, tenant_id: int, field: str, prefix: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[R], str | None]:
        """Records whose `field` (normalized) starts with `prefix`; O(page) through the field's slot."""
        index = self.slot_index(field)
        page: Page = self.table.query_page(
            keys.search_pk(tenant_id, self.kind, field),
            index=index,
            sort_prefix=prefix,
            limit=limit,
            cursor=cursor,
        )
        return [self.from_item(i) for i in page.items], page.cursor

    # -- writes --------------------------------------------------------------------------

    def insert(self, tenant_id: int, build: Callable[[int], R]) -> R:
        """Store a new record built around a fresh id; on the rare id collision, draw again."""
        for _ in range(_INSERT_ATTEMPTS):
            record = build(new_id())
            try:
                self.table.put(self.to_item(tenant_id, record, rev=1), condition="attribute_not_exists(PK)")
                return record
            except ConditionFailed:
                continue
        raise Conflict(f"could not allocate an id for {self.kind}")

    def update(self, tenant_id: int, record_id: int, changes: Mapping[str, Any]) -> R:
        """Apply `changes` to the stored record (optimistic concurrency on `rev`)."""
        item = self.get_item(tenant_id, record_id)
        if item is None:
            raise NotFound(f"{self.kind} {record_id} not found")
        current = self.from_item(item)
        updated = self.model.model_validate({**current.model_dump(), **changes, "updated_at": utc_now()})
        return self.replace(tenant_id, updated, expected_rev=int(item.get("rev", 0)))

    def replace(self, tenant_id: int, record: R, *, expected_rev: int) -> R:
        try:
            self.table.put(
                self.to_item(tenant_id, record, rev=expected_rev + 1),
                condition="rev = :rev",
                values={":rev": expected_rev},
            )
        except ConditionFailed:
            raise Conflict(f"{self.kind} {record.id} was changed by another request; retry") from None
        return record

    def delete(self, tenant_id: int, record_id: int) -> None:
        try:
            self.table.delete(keys.tenant_pk(tenant_id, self.kind), keys.record_sk(record_id))
        except ConditionFailed:
            raise NotFound(f"{self.kind} {record_id} not found") from None
