"""Invoices, proforma invoices, notices and receipts: their repositories and the writes that
keep numbering, states, share codes and account totals consistent.

Items (besides the number guards of billing.store.series):

| item | PK | SK | notes |
|---|---|---|---|
| document of kind K | `T#<t>#<K>` | `<id>` | K = invoice, proforma_invoice, notice, receipt; Records item |
| share code | `T#<t>#hashcode` | `<hashcode>` | `kind`, `document_id` (the share page's lookup) |
| account totals | `T#<t>#account` | `totals` | `total_open` kept by invoice writes (below) |

Search slots of every document kind (billing.domain.documents.SEARCH_SLOTS): GSI1
document_state, GSI2 client_id (the clients' delete guard relies on slot 2), GSI3
document_series_id, GSI4 document_date, GSI5 document_series_counter, GSI6 created_at, GSI7
updated_at, GSI8 vat_type, GSI9 cached_total (= total), GSI10 open_due_date (sparse: only open
documents; overdue totals).

Access patterns added: list a kind (Query PK, O(page)); search by a §7.1.12 field (Query GSI n,
begins_with, O(page)); overdue invoices (Query GSI10 `T#<t>#invoice#open_due_date`, SK <
today: O(overdue invoices)); find a document by share code (GetItem share code + GetItem).

Writes, each ONE TransactWriteItems:

- create: numbering operations (series update + guard put) + document put + share code put
  (+ account totals when created open);
- modify: document put conditioned on the `rev` read;
- change of state: document put conditioned on `rev` + account totals update;
- receipts for an invoice also register their payment when issued, and delete it when
  cancelled, in the same transaction (billing.payments.registration);
- delete (drafts only): document delete conditioned on `rev` + number release (guard delete +
  series update) + share code delete.

Every create, modify and change of state of an invoice also carries the B2B bill index writes
(billing.store.bills.bill_operations: the bill projection + its counters); any other write that
changes an issued invoice (payments) must add them too.

Account totals rule: total_open is the sum, in the account's home currency, of total_due of the
tenant's OPEN invoices (proformas, notices and receipts owe nothing on the account). A document's
contribution is `open_total_contribution`: total_due converted at the invoice's own exchange
rate when it is in a foreign currency. Every write that changes an invoice's contribution adds
the difference atomically (`ADD total_open :delta`) in the same transaction; payments that
lower total_due must do the same (see `open_total_delta`). A reversal invoice's negative
total_due lowers total_open. total_overdue is not a counter (it changes with the calendar, not
with writes): `overdue_total` computes it from GSI10 when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from aws_lambda_powertools import Logger

from billing.domain.account import Account, User
from billing.domain.documents import (
    SEARCH_SLOTS,
    Document,
    DocumentChanges,
    DocumentKind,
    Resolved,
    assemble,
    check_modify_fields,
    check_required,
    hashcode_tenant,
    new_document_base,
    new_hashcode,
    open_total_contribution,
)
from billing.domain.errors import Conflict, NotFound, ValidationFailed
from billing.domain.ids import new_id
from billing.domain.records import utc_now
from billing.domain.states import DocumentState, check_modification, check_transition
from billing.store import keys
from billing.store.accounts import ACCOUNT_KIND, TOTALS_SK, Accounts
from billing.store.aws import client as aws_client
from billing.store.bills import bill_operations
from billing.store.issuance import IssuanceRequest, start_issuance
from billing.store.records import Records
from billing.store.series import SERIES, Claim, Operation, SeriesStore, backoff
from billing.store.table import ConditionFailed, Table, from_item

logger = Logger()

HASHCODE_KIND: Final = "hashcode"
PENDING: Final = "pending"
_DELETE_ATTEMPTS: Final = 5
_WRITE_ATTEMPTS: Final = 5


class StaleWrite(Conflict):
    """A write's condition failed: the document changed between its read and its write."""


DOCUMENTS: Final[dict[DocumentKind, Records[Document]]] = {
    kind: Records(kind.value, Document, searchable=SEARCH_SLOTS) for kind in DocumentKind
}
"""The repository of each document kind (kind name = Records kind = XML root)."""


def documents(kind: DocumentKind) -> Records[Document]:
    return DOCUMENTS[kind]


def totals_operation(tenant_id: int, delta: Decimal) -> Operation | None:
    """The transaction item adding `delta` to the account's total_open (None when 0)."""
    if not delta:
        return None
    return {
        "Update": {
            "Key": {"PK": keys.tenant_pk(tenant_id, ACCOUNT_KIND), "SK": TOTALS_SK},
            "UpdateExpression": "ADD total_open :delta",
            "ExpressionAttributeValues": {":delta": delta},
        }
    }


def open_total_delta(kind: DocumentKind, before: Document, after: Document) -> Decimal:
    """What a write from `before` to `after` changes in total_open (see the module docstring)."""
    return open_total_contribution(kind, after) - open_total_contribution(kind, before)


@dataclass
class _Lookups:
    """Collects the 422s of unknown references so one response names them all."""

    root: str
    problems: list[str] = field(default_factory=list)

    def fetch(self, name: str, what: str, record_id: int, get: Callable[[], Any]) -> Any:
        try:
            return get()
        except NotFound:
            self.problems.append(f"{self.root}.{name}: there is no {what} {record_id}")
            return None

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.root}.{message}")

    def check(self) -> None:
        if self.problems:
            raise ValidationFailed(*self.problems)


class DocumentService:
    """Create, modify, delete and change the state of the documents of one kind."""

    def __init__(
        self, kind: DocumentKind, *, table: Table | None = None, accounts: Accounts | None = None
    ) -> None:
        """`table` (default: the billing table) holds the documents, their series and numbers,
        share codes and totals; clients, delegates, branch offices, the account and users are
        read from the billing table."""
        self.kind = kind
        self.root = kind.value
        if table is None:
            self._repositories = DOCUMENTS
            self.series: SeriesStore = SERIES[kind.series_kind]
        else:
            self._repositories = {
                k: Records(k.value, Document, searchable=SEARCH_SLOTS, table=table) for k in DocumentKind
            }
            self.series = SeriesStore(kind.series_kind, table)
        self.records = self._repositories[kind]
        self._accounts = accounts

    @property
    def accounts(self) -> Accounts:
        if self._accounts is None:
            self._accounts = Accounts()
        return self._accounts

    @property
    def table(self) -> Table:
        return self.records.table

    def label(self, document_id: int) -> str:
        return f"{self.kind.label} {document_id}"

    # -- reads -----------------------------------------------------------------------------

    def get(self, tenant_id: int, document_id: int) -> Document:
        return self.records.get(tenant_id, document_id)

    def _read(self, tenant_id: int, document_id: int) -> tuple[Document, int]:
        item = self.records.get_item(tenant_id, document_id)
        if item is None:
            raise NotFound(f"{self.kind.label} {document_id} not found")
        return self.records.from_item(item), int(item.get("rev", 0))

    # -- create ----------------------------------------------------------------------------

    def create(self, tenant_id: int, user_id: int, changes: DocumentChanges) -> Document:
        """Validate, number and store a new document (see the module docstring)."""
        check_required(self.kind, changes, self.root)
        account = self.accounts.get_account(tenant_id)
        user = self.accounts.get_user(tenant_id, user_id)
        resolved = self._resolve(tenant_id, changes, None, account=account, user=user)
        document_id = new_id()
        base = new_document_base(
            document_id=document_id,
            user_id=user_id,
            hashcode=new_hashcode(tenant_id),
            home_currency=account.currency,
        )
        draft = assemble(self.kind, base, changes, resolved, root=self.root, recompute=True)
        opening = draft.document_state is DocumentState.OPEN
        if opening:
            draft = draft.model_copy(update={"issue_version": 1, "issuance_status": PENDING})
        stored: list[Document] = []

        def build(claim: Claim) -> list[Operation]:
            document = draft.model_copy(
                update={"document_series_counter": claim.counter, "document_number": claim.number}
            )
            stored[:] = [document]
            operations: list[Operation] = [
                {
                    "Put": {
                        "Item": self.records.to_item(tenant_id, document, rev=1),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "Item": self._hashcode_item(tenant_id, document),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
            totals = totals_operation(tenant_id, open_total_contribution(self.kind, document))
            if totals is not None:
                operations.append(totals)
            operations.extend(self._linked_operations(tenant_id, None, document))
            operations.extend(bill_operations(tenant_id, self.kind, None, document))
            return operations

        # a receipt's linked payment writes are conditioned on the invoice's rev, which the
        # invoice's issuance workflow bumps in the background: build() reads it again
        attempts = _WRITE_ATTEMPTS if self.kind is DocumentKind.RECEIPT else 1
        for attempt in range(attempts):
            try:
                self.series.write_numbered(
                    tenant_id,
                    draft.document_series_id,
                    document_id,
                    build,
                    counter=changes.fields.get("document_series_counter"),
                    root=self.root,
                )
                break
            except ConditionFailed:
                if attempt == attempts - 1:
                    raise Conflict(f"could not store the new {self.kind.label}; retry") from None
                backoff(attempt)
        (document,) = stored
        if opening:
            self._start_issuance(tenant_id, document)
        return document

    # -- modify ----------------------------------------------------------------------------

    def modify(self, tenant_id: int, document_id: int, changes: DocumentChanges) -> Document:
        """Apply the fields sent; what the document's state allows (billing.domain.states).
        Re-read and re-applied when the document changed since it was read (see `_retrying`)."""
        return self._retrying(lambda: self._modify_once(tenant_id, document_id, changes))

    def _modify_once(self, tenant_id: int, document_id: int, changes: DocumentChanges) -> Document:
        current, rev = self._read(tenant_id, document_id)
        changes = _only_changed(current, changes)
        check_modify_fields(changes, self.root)
        label = self.label(document_id)
        check_modification(current.document_state, changes.names, label, self.root)
        renumbered = [
            name for name in ("document_series_id", "document_series_counter") if changes.sent(name)
        ]
        if renumbered:
            raise ValidationFailed(
                *(
                    f"{self.root}.{name} cannot be changed: a document's number is taken when it is "
                    "created; create a new document (and delete or cancel this one)"
                    for name in renumbered
                )
            )
        if not changes.names:
            return current
        fields = changes.fields
        account = self.accounts.get_account(tenant_id) if fields.get("update_account_data") else None
        user = self.accounts.get_user(tenant_id, current.user_id) if fields.get("update_user_data") else None
        resolved = self._resolve(tenant_id, changes, current, account=account, user=user)
        updated = assemble(
            self.kind,
            current.model_dump(),
            changes,
            resolved,
            root=self.root,
            recompute=current.document_state is DocumentState.DRAFT,
        ).model_copy(update={"updated_at": utc_now()})
        operations: list[Operation] = [self._put(tenant_id, updated, rev)]
        totals = totals_operation(tenant_id, open_total_delta(self.kind, current, updated))
        if totals is not None:
            operations.append(totals)
        operations.extend(bill_operations(tenant_id, self.kind, current, updated))
        self._commit(operations, document_id)
        return updated

    # -- delete ----------------------------------------------------------------------------

    def delete(self, tenant_id: int, document_id: int) -> Document:
        """Delete a draft, giving its number back (or 422 when that would leave a gap)."""
        for attempt in range(_DELETE_ATTEMPTS):
            current, rev = self._read(tenant_id, document_id)
            label = self.label(document_id)
            if current.document_state is DocumentState.CANCELLED:
                raise ValidationFailed(
                    f"{label} is cancelled: a cancelled document keeps its number and cannot be deleted"
                )
            if current.document_state is not DocumentState.DRAFT:
                raise ValidationFailed(
                    f"{label} is {current.document_state.value}: an issued document cannot be deleted; "
                    f"cancel it instead (PUT …/{self.kind.plural}/{document_id}/mark_cancelled.xml)"
                )
            series = self.series.read(tenant_id, current.document_series_id)
            operations: list[Operation] = []
            if series is not None:
                operations += self.series.release(
                    tenant_id, series, current.document_series_counter, document_id, label
                )
            operations += [
                {
                    "Delete": {
                        "Key": {
                            "PK": keys.tenant_pk(tenant_id, self.kind.value),
                            "SK": keys.record_sk(document_id),
                        },
                        "ConditionExpression": "rev = :rev",
                        "ExpressionAttributeValues": {":rev": rev},
                    }
                },
                {"Delete": {"Key": self._hashcode_key(tenant_id, current.hashcode)}},
            ]
            try:
                self.table.transact(operations)
                return current
            except ConditionFailed:
                backoff(attempt)
        raise Conflict(f"{self.label(document_id)} was changed by another request; retry")

    # -- states ----------------------------------------------------------------------------

    def transition(
        self,
        tenant_id: int,
        document_id: int,
        target: DocumentState,
        *,
        email: Mapping[str, Any] | None = None,
    ) -> Document:
        """mark_draft / mark_open / mark_closed / mark_cancelled (billing.domain.states).
        `email` (mark_open only): the issuance workflow also e-mails the archived PDF.
        Re-read and re-applied when the document changed since it was read (see `_retrying`)."""
        return self._retrying(lambda: self._transition_once(tenant_id, document_id, target, email))

    def _transition_once(
        self, tenant_id: int, document_id: int, target: DocumentState, email: Mapping[str, Any] | None
    ) -> Document:
        current, rev = self._read(tenant_id, document_id)
        if not check_transition(current.document_state, target, self.label(document_id)):
            if target is DocumentState.OPEN and current.issuance_status == PENDING:
                self._start_issuance(tenant_id, current, email)  # a repeat re-sends the (idempotent) start
            return current
        update: dict[str, Any] = {"document_state": target, "updated_at": utc_now()}
        issuing = current.document_state is DocumentState.DRAFT and target is DocumentState.OPEN
        if issuing:
            update.update(issue_version=current.issue_version + 1, issuance_status=PENDING)
        updated = current.model_copy(update=update)
        operations: list[Operation] = [self._put(tenant_id, updated, rev)]
        totals = totals_operation(tenant_id, open_total_delta(self.kind, current, updated))
        if totals is not None:
            operations.append(totals)
        operations.extend(self._linked_operations(tenant_id, current, updated))
        operations.extend(bill_operations(tenant_id, self.kind, current, updated))
        self._commit(operations, document_id)
        if issuing:
            self._start_issuance(tenant_id, updated, email)
        return updated

    # -- share codes and totals ---------------------------------------------------------------

    def overdue_total(self, tenant_id: int, today: date) -> Decimal:
        """Sum, in the home currency, of total_due of open invoices due before `today`: a Query
        on the sparse GSI10 slot (cost O(overdue invoices); no scan)."""
        if self.kind is not DocumentKind.INVOICE:
            return Decimal(0)
        index = self.records.slot_index("open_due_date")
        total = Decimal(0)
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk AND #sk < :today",
            "ExpressionAttributeNames": {"#pk": f"{index}PK", "#sk": f"{index}SK"},
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.search_pk(tenant_id, self.kind.value, "open_due_date")},
                ":today": {"S": today.isoformat()},
            },
        }
        while True:
            response = aws_client("dynamodb").query(**kwargs)
            for raw in response.get("Items", []):
                total += open_total_contribution(self.kind, self.records.from_item(from_item(raw)))
            if "LastEvaluatedKey" not in response:
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _hashcode_key(self, tenant_id: int, hashcode: str) -> dict[str, str]:
        return {"PK": keys.tenant_pk(tenant_id, HASHCODE_KIND), "SK": hashcode}

    def _hashcode_item(self, tenant_id: int, document: Document) -> dict[str, Any]:
        return {
            **self._hashcode_key(tenant_id, document.hashcode),
            "kind": self.kind.value,
            "document_id": document.id,
        }

    # -- plumbing --------------------------------------------------------------------------

    def _put(self, tenant_id: int, document: Document, rev: int) -> Operation:
        return {
            "Put": {
                "Item": self.records.to_item(tenant_id, document, rev=rev + 1),
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": {":rev": rev},
            }
        }

    def _linked_operations(self, tenant_id: int, before: Document | None, after: Document) -> list[Operation]:
        """Writes of other records that belong in this document's transaction: the payment a
        receipt for an invoice registers when issued and takes back when cancelled
        (billing.payments.registration.receipt_payment_operations)."""
        if self.kind is not DocumentKind.RECEIPT:
            return []
        from billing.payments.registration import receipt_payment_operations

        return receipt_payment_operations(tenant_id, before, after)

    def _commit(self, operations: Sequence[Operation], document_id: int) -> None:
        try:
            self.table.transact(operations)
        except ConditionFailed:
            raise StaleWrite(f"{self.label(document_id)} was changed by another request; retry") from None

    @staticmethod
    def _retrying(write: Callable[[], Document]) -> Document:
        """Run a read-compute-write, again (after a jittered pause) when its write finds the
        document changed since the read. Besides other requests, the issuance workflow changes
        documents in the background (its status writes bump `rev`, billing.store.document_marks),
        which a caller should not see as a conflict. After _WRITE_ATTEMPTS: StaleWrite (422)."""
        for attempt in range(_WRITE_ATTEMPTS - 1):
            try:
                return write()
            except StaleWrite:
                backoff(attempt)
        return write()

    def _start_issuance(
        self, tenant_id: int, document: Document, email: Mapping[str, Any] | None = None
    ) -> None:
        request = IssuanceRequest(
            tenant_id=tenant_id,
            kind=self.kind.value,
            document_id=document.id,
            version=document.issue_version,
            pk=keys.tenant_pk(tenant_id, self.kind.value),
            sk=keys.record_sk(document.id),
            email=email,
        )
        try:
            start_issuance(request)
        except Exception:  # the state change stands; a repeated mark_open retries the start
            logger.exception("could not start issuance", extra={"execution": request.execution_name})

    def _resolve(
        self,
        tenant_id: int,
        changes: DocumentChanges,
        current: Document | None,
        *,
        account: Account | None = None,
        user: User | None = None,
    ) -> Resolved:
        """Look up, in the tenant, every record the write refers to; unknown ones (another
        tenant's included) are 422s naming the field, all reported together."""
        from billing.store.branch_offices import branch_offices
        from billing.store.clients import clients
        from billing.store.delegates import delegates

        fields = changes.fields
        lookups = _Lookups(self.root)
        creating = current is None

        receipt_invoice = None
        invoice_id = (
            fields.get("invoice_id") if "invoice_id" in fields else (current.invoice_id if current else None)
        )
        if self.kind is DocumentKind.RECEIPT and invoice_id is not None:
            receipt_invoice = self._issued_invoice(tenant_id, "invoice_id", invoice_id, lookups)

        client = None
        if creating or changes.sent("client_id") or fields.get("update_client_data"):
            client_id = fields.get("client_id") or (current.client_id if current else None)
            if client_id is None and receipt_invoice is not None:
                client_id = receipt_invoice.client_id
            if client_id is not None:
                client = lookups.fetch(
                    "client_id", "client", client_id, lambda: clients.get(tenant_id, client_id)
                )

        delegate = None
        delegate_id = fields.get("delegate_id")
        if delegate_id is not None:
            delegate = lookups.fetch(
                "delegate_id", "delegate", delegate_id, lambda: delegates.get(tenant_id, delegate_id)
            )

        office = None
        office_id = fields.get("branch_office_id")
        if office_id is not None:
            office = lookups.fetch(
                "branch_office_id",
                "branch office",
                office_id,
                lambda: branch_offices.get(tenant_id, office_id),
            )
        elif account is not None and current is not None and current.branch_office_id is not None:
            # update_account_data re-takes the branch office too (kept as it was if since deleted)
            item = branch_offices.get_item(tenant_id, current.branch_office_id)
            office = branch_offices.from_item(item) if item is not None else None

        reversed_invoice = None
        reversed_id = fields.get("reversed_document_id")
        if reversed_id is not None and self.kind is DocumentKind.INVOICE:
            reversed_invoice = self._issued_invoice(tenant_id, "reversed_document_id", reversed_id, lookups)
            if reversed_invoice is not None and current is not None and reversed_id == current.id:
                lookups.fail("reversed_document_id: an invoice cannot reverse itself")

        source_id = fields.get("source_document_id")
        if source_id is not None and not self._exists_any_kind(tenant_id, source_id):
            lookups.fail(f"source_document_id: there is no document {source_id}")

        lookups.check()
        return Resolved(
            account=account,
            user=user,
            client=client,
            delegate=delegate,
            branch_office=office,
            reversed_invoice=reversed_invoice,
            receipt_invoice=receipt_invoice,
        )

    def _issued_invoice(
        self, tenant_id: int, name: str, invoice_id: int, lookups: _Lookups
    ) -> Document | None:
        invoice: Document | None = lookups.fetch(
            name,
            "invoice",
            invoice_id,
            lambda: self._repositories[DocumentKind.INVOICE].get(tenant_id, invoice_id),
        )
        if invoice is not None and not invoice.document_state.issued:
            lookups.fail(
                f"{name}: invoice {invoice_id} is {invoice.document_state.value}; it must be issued (open or closed)"
            )
            return None
        return invoice

    def _exists_any_kind(self, tenant_id: int, document_id: int) -> bool:
        return any(
            self._repositories[kind].get_item(tenant_id, document_id) is not None for kind in DocumentKind
        )


def _only_changed(current: Document, changes: DocumentChanges) -> DocumentChanges:
    """Drop fields sent with the value they already have (a GET body sent back with PUT), so
    state rules and reference checks only see real changes. The update_xxx_data requests and
    positions always count."""
    kept = {
        name: value
        for name, value in changes.fields.items()
        if name.startswith("update_") or getattr(current, name, object()) != value
    }
    return DocumentChanges(kept, changes.positions)


SERVICES: Final[dict[DocumentKind, DocumentService]] = {kind: DocumentService(kind) for kind in DocumentKind}


def find_by_hashcode(hashcode: str) -> tuple[DocumentKind, int, Document] | None:
    """The document a share code (hashcode) opens: (kind, tenant id, document), or None."""
    tenant_id = hashcode_tenant(hashcode)
    if tenant_id is None:
        return None
    table = DOCUMENTS[DocumentKind.INVOICE].table
    item = table.get(keys.tenant_pk(tenant_id, HASHCODE_KIND), hashcode)
    if item is None:
        return None
    kind = DocumentKind(item["kind"])
    try:
        return kind, tenant_id, DOCUMENTS[kind].get(tenant_id, int(item["document_id"]))
    except NotFound:
        return None
