"""Numbering series rules (billing.domain.series)."""

from __future__ import annotations

from typing import Any

import pytest
from billing.domain.series import Series, SeriesCreate, SeriesUpdate, check_counters, format_number
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("prefix", "separator", "suffix", "counter", "number"),
    [
        ("INV", "-", "2024", 7, "INV-7-2024"),
        ("INV", "-", "", 7, "INV-7"),
        ("", "/", "", 7, "7"),
        ("", "/", "X", 7, "7/X"),
        ("FCT", "", "", 12, "FCT12"),
        ("A", " ", "B", 1, "A 1 B"),
        ("PREFIXUSS", "-", "SUPREFIXUS", 101, "PREFIXUSS-101-SUPREFIXUS"),
    ],
)
def test_format_number(prefix: str, separator: str, suffix: str, counter: int, number: str) -> None:
    assert format_number(prefix, separator, suffix, counter) == number
    series = Series(id=1, prefix=prefix, sepparator=separator, suffix=suffix)
    assert series.number(counter) == number


@pytest.mark.parametrize(
    ("sent", "start", "current"),
    [
        ({}, 1, 0),
        ({"counter_start": "100"}, 100, 99),
        ({"counter_start": 100, "counter_current": 100}, 100, 100),
        ({"counter_current": "5"}, 1, 5),
        ({"counter_start": "", "counter_current": ""}, 1, 0),
    ],
)
def test_create_defaults(sent: dict[str, Any], start: int, current: int) -> None:
    fields = SeriesCreate.model_validate(sent).record_fields()
    assert (fields["counter_start"], fields["counter_current"]) == (start, current)


def test_counters_rule() -> None:
    assert check_counters(10, 9, "s") == []
    assert check_counters(10, 50, "s") == []
    (problem,) = check_counters(10, 8, "s")
    assert problem.startswith("s.counter_current must be at least counter_start - 1 (9)")


@pytest.mark.parametrize(
    "sent",
    [
        {"counter_start": 0},
        {"counter_current": -1},
        {"year": 1800},
        {"year": "x"},
        {"prefix": "p" * 51},
        {"sepparator": "------"},
        {"separator": "-"},
        {"counter_start": True},
        {"counter_current": "1.5"},
    ],
)
def test_invalid_fields(sent: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SeriesCreate.model_validate(sent)


def test_read_only_fields_are_ignored_and_separator_kept_as_sent() -> None:
    changes = SeriesUpdate.model_validate(
        {"id": 5, "created_at": "x", "next_number": "A-1", "sepparator": " ", "prefix": " A "}
    ).changes()
    assert changes == {"sepparator": " ", "prefix": "A"}
