"""Record ids: integers (the v1 wire format is `<id type="integer">`) that grow with creation
time, so a partition sorted by id is sorted by age.

id = milliseconds since 2024-01-01 x 4096 + 12 random bits. That stays below 2**53 until about
2094, so JavaScript clients reading JSON ids lose no precision. Two ids drawn in the same
millisecond may collide; every insert is conditional and retried with a fresh id."""

from __future__ import annotations

import secrets
import time

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_RANDOM_BITS = 12


def new_id() -> int:
    millis = int(time.time() * 1000) - _EPOCH_MS
    return (millis << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
