"""Per-client throttling of the B2B Billing API: fixed-window request counters in DynamoDB.

API Gateway usage plans throttle per API Gateway API key, and the B2B `X-Api-Key` is not one
(it is our own credential, checked by billing.http.b2b_auth), so the stage's throttling can only
protect the API as a whole. Each authenticated B2B call therefore counts itself in two windows
of its client, one per second and one per minute:

| item            | PK                     | SK                                  | attributes             |
|-----------------|------------------------|-------------------------------------|------------------------|
| window counter  | `T#<t>#b2b_throttle`   | `<client id>#s#<epoch second>`      | `n`, `expires_at` (TTL)|
|                 |                        | `<client id>#m#<epoch minute start>`|                        |

One conditional UpdateItem per window (`ADD n 1` if `n < limit`), so concurrent calls can never
exceed a limit: DynamoDB applies each update atomically. The call that finds the window full
gets 429 with `Retry-After` (seconds until the window ends). Counter items expire through the
table's TTL a minute after their window (TTL deletion is lazy; a stale item is never read again,
since the window's key is in the past).

Limits: the client record's `rate_limit_per_second` / `rate_limit_per_minute` when set, else
B2B_RATE_PER_SECOND / B2B_RATE_PER_MINUTE (billing.b2b_settings); 0 turns a window off.
Requests that fail authentication are not counted (they have no client); floods of those are
the API stage's throttling's business. Cost: two small writes per call.
"""

from __future__ import annotations

import math
import time
from typing import Any, Final

from botocore.exceptions import ClientError

from billing.b2b_settings import b2b_settings
from billing.domain.b2b_clients import B2bClient
from billing.domain.errors import TooManyRequests
from billing.store import keys
from billing.store.aws import client as aws_client
from billing.store.table import UsesTable

THROTTLE_KIND: Final = "b2b_throttle"
EXPIRY_MARGIN: Final = 60


def limits(record: B2bClient) -> tuple[tuple[str, int, int], ...]:
    """(window name, window seconds, limit) of each window in force for the client."""
    defaults = b2b_settings()
    per_second = record.rate_limit_per_second
    per_minute = record.rate_limit_per_minute
    windows = (
        ("s", 1, defaults.rate_per_second if per_second is None else per_second),
        ("m", 60, defaults.rate_per_minute if per_minute is None else per_minute),
    )
    return tuple(window for window in windows if window[2] > 0)


class Throttle(UsesTable):
    def check(self, tenant_id: int, record: B2bClient, now: float | None = None) -> None:
        """Count one call of the client; TooManyRequests (429) when a window is full."""
        moment = time.time() if now is None else now
        for name, seconds, limit in limits(record):
            start = int(moment // seconds) * seconds
            if not self._count(tenant_id, f"{record.id}#{name}#{start}", limit, start + seconds):
                retry_after = max(1, math.ceil(start + seconds - moment))
                unit = "second" if seconds == 1 else "minute"
                raise TooManyRequests(
                    f"too many requests: this client may make {limit} per {unit}; retry in {retry_after} s",
                    retry_after=retry_after,
                )

    def _count(self, tenant_id: int, sk: str, limit: int, window_end: int) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table.name,
            "Key": {"PK": {"S": keys.tenant_pk(tenant_id, THROTTLE_KIND)}, "SK": {"S": sk}},
            "UpdateExpression": "ADD n :one SET expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(n) OR n < :limit",
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
                ":expires": {"N": str(window_end + EXPIRY_MARGIN)},
            },
        }
        try:
            aws_client("dynamodb").update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


throttle = Throttle()
