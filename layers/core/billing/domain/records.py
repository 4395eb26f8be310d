"""Base classes shared by every stored record and every write payload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond (what the wire formats carry)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]


class Record(BaseModel):
    """A stored record of one tenant. Unknown stored attributes (keys, index slots) are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: int
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class WritePayload(BaseModel):
    """What a caller may send on create or modify. Unknown fields are refused (422), so a typo
    is reported instead of silently dropped; read-only fields (`read_only_fields`) are dropped
    silently, so a record read with GET can be sent back with PUT."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    read_only_fields: ClassVar[frozenset[str]] = frozenset({"id", "created_at", "updated_at"})

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in cls.read_only_fields}
        return data

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller actually sent (the reference: "only send updated fields")."""
        return self.model_dump(exclude_unset=True)
