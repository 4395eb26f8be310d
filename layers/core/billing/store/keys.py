"""The single-table key schema. docs/data-model.md lists every access pattern against it.

Every partition key starts with the tenant ("T#<tenant_id>"), so a query built from these
helpers can never return another tenant's items."""

from __future__ import annotations

SINGLETON = "_"


def tenant_pk(tenant_id: int, kind: str) -> str:
    """Partition of all records of one kind of one tenant ("T#42#client")."""
    return f"T#{tenant_id}#{kind}"


def record_sk(record_id: int) -> str:
    """Zero-padded so that lexical order is numeric order (ids grow with creation time)."""
    return f"{record_id:020d}"


def search_pk(tenant_id: int, kind: str, field: str) -> str:
    """Partition of one searchable field in a generic GSI slot ("T#42#client#uid")."""
    return f"T#{tenant_id}#{kind}#{field}"


def search_sk(normalized_value: str, record_id: int) -> str:
    return f"{normalized_value}#{record_sk(record_id)}"
