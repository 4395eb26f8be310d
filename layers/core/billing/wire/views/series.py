"""v1 representations of numbering series (§7.6) and delegates (§7.1.5)."""

from __future__ import annotations

from typing import Any

from billing.domain.delegates import Delegate
from billing.domain.series import Series


def series(record: Series) -> dict[str, Any]:
    """The reference's fields (`sepparator` spelled as the reference spells it), plus
    `next_number`: the printed number the next generated document would get if no number
    after counter_current is already taken."""
    data = record.model_dump(exclude={"document_count"})
    data["next_number"] = record.number(record.counter_current + 1)
    return data


def delegate(record: Delegate) -> dict[str, Any]:
    return record.model_dump()
