"""When a failed callback is tried again (pure; the dispatcher applies the decisions to SQS).

Schedule, counted from the first attempt (attempt n failed -> wait before attempt n+1):

    attempt  1    2      3      4       5       6       7        8        9
    waits    5 s  5 min  30 min 2 h     5 h     10 h    1 day    1 day    -
    at       0 s  5 s    5 min  35 min  2.6 h   7.6 h   17.6 h   41.6 h   65.6 h

and no attempt is started later than 3 days after the first one (the 10th would be at 89.6 h), so
a callback gets 9 attempts over 65.6 hours, then goes to the dead-letter queue. A `Retry-After`
from the receiver (seconds or an HTTP date) can lengthen a wait, never shorten it, and is capped
at one day.

How a wait is made (SQS allows a message to stay invisible at most 12 hours after it was
received, and to be delayed at most 15 minutes when sent):

- VISIBILITY: waits up to MAX_VISIBILITY_SECONDS are made on the message itself with
  ChangeMessageVisibility (attempts 1-6 of the schedule above). The message keeps its body, so
  its attempt number is its ApproximateReceiveCount;
- REQUEUE: longer waits (the daily ones, a long Retry-After) put a copy of the message back on
  the queue, carrying the attempts made so far and `not_before`, with DelaySeconds up to 15 min;
  the copy is then held back with ChangeMessageVisibility, 11 h 45 min at a time, until
  `not_before` (`wait_visibility`). A copy makes one attempt; if that fails it is requeued again.
- DEAD_LETTER: the schedule is used up: the message is sent to the dead-letter queue explicitly.

The redrive policy's maxReceiveCount is only the safety net for messages the dispatcher cannot
handle at all (it must stay above the receives the schedule itself makes: at most 6 + 1 for the
original message, 4 for a copy)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Final

SCHEDULE: Final = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
"""Waits after attempts 1..6, in seconds; after that, DAILY."""
DAILY: Final = 24 * 3600
MAX_AGE_SECONDS: Final = 3 * 24 * 3600
"""No attempt starts later than this after the first one."""
RETRY_AFTER_CAP_SECONDS: Final = 24 * 3600

SQS_MAX_VISIBILITY_SECONDS: Final = 12 * 3600
MAX_VISIBILITY_SECONDS: Final = SQS_MAX_VISIBILITY_SECONDS - 15 * 60
"""The 12 h limit counts from the ReceiveMessage call, a little before our handler runs."""
SQS_MAX_DELAY_SECONDS: Final = 15 * 60


class Action(StrEnum):
    VISIBILITY = "visibility"
    REQUEUE = "requeue"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class RetryPlan:
    action: Action
    delay: int = 0
    """Seconds until the next attempt (0 for DEAD_LETTER)."""

    @property
    def send_delay(self) -> int:
        """DelaySeconds of a REQUEUE copy."""
        return min(self.delay, SQS_MAX_DELAY_SECONDS)


def scheduled_wait(attempt: int) -> int:
    """The wait after attempt `attempt` (1-based) failed, before any Retry-After."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    return SCHEDULE[attempt - 1] if attempt <= len(SCHEDULE) else DAILY


def retry_delay(attempt: int, *, elapsed: float, retry_after: float | None = None) -> int | None:
    """Seconds to wait before the next attempt, or None when the schedule is used up.
    `elapsed`: seconds since the first attempt (since the message was first enqueued)."""
    delay = scheduled_wait(attempt)
    if retry_after is not None:
        delay = max(delay, math.ceil(min(retry_after, RETRY_AFTER_CAP_SECONDS)))
    if elapsed + delay > MAX_AGE_SECONDS:
        return None
    return delay


def plan_retry(
    attempt: int, *, elapsed: float, retry_after: float | None = None, chained: bool = False
) -> RetryPlan:
    """What to do with a message whose attempt `attempt` just failed. A message that is already a
    requeued copy (`chained`) is requeued again: its receive count no longer counts attempts."""
    delay = retry_delay(attempt, elapsed=elapsed, retry_after=retry_after)
    if delay is None:
        return RetryPlan(Action.DEAD_LETTER)
    if not chained and delay <= MAX_VISIBILITY_SECONDS:
        return RetryPlan(Action.VISIBILITY, delay)
    return RetryPlan(Action.REQUEUE, delay)


def wait_visibility(remaining: float) -> int:
    """Visibility timeout that holds a requeued copy back for `remaining` seconds (or as much of
    it as SQS allows; the copy is then received and held back again)."""
    return max(0, min(math.ceil(remaining), MAX_VISIBILITY_SECONDS))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from `now` that a `Retry-After` header asks for: delta-seconds or an HTTP date
    (RFC 9110 §10.2.3). None when absent or unreadable; a date in the past is 0."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
