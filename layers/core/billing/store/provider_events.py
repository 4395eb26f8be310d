"""What the payment processor did with each provider event: one item per (tenant, provider event
id), claimed before the event is worked on, so that the same event delivered several times (a
provider's retries, SQS's at-least-once delivery), one after another or at the same moment,
registers one payment and queues its merchant callbacks once.

| item | PK | SK | notes |
|---|---|---|---|
| provider event | `T#<t>#provider_event` | `<provider>:<event id>` | `event_state`, `lease_until`, `payment_id`, `reason`, `event`; TTL `expires_at` |

`event_state`:

- `processing`: claimed until `lease_until` (epoch seconds). A claim is a conditional put that
  succeeds when there is no item, when the item is `failed` (a dead-lettered event redriven by an
  operator is worked on again), or when a `processing` lease has run out (the worker died).
- `done`: the payment is registered and its callbacks queued (`payment_id`).
- `failed`: the event can never be registered as it is (`reason`); it was sent to the
  PaymentEventsDLQ.

Access patterns added: claim / read / finish one event, O(1) (PutItem, GetItem consistent).
Items expire after RETENTION_DAYS (`expires_at`); by then no provider retries the event.
(`T#<t>#payment_event` is billing.store.payments' guard of register_payment, another item.)"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from billing.store import keys
from billing.store.table import ConditionFailed, UsesTable

KIND: Final = "provider_event"
PROCESSING: Final = "processing"
DONE: Final = "done"
FAILED: Final = "failed"
RETENTION_DAYS: Final = 90
_REASON_CHARS: Final = 1000


class ProviderEvents(UsesTable):
    def _key(self, tenant_id: int, provider_event_id: str) -> dict[str, str]:
        return {"PK": keys.tenant_pk(tenant_id, KIND), "SK": provider_event_id}

    def _item(self, tenant_id: int, provider_event_id: str, now: float, **fields: Any) -> dict[str, Any]:
        return {
            **self._key(tenant_id, provider_event_id),
            **fields,
            "updated_at": int(now),
            "expires_at": int(now) + RETENTION_DAYS * 86400,
        }

    def claim(
        self, tenant_id: int, provider_event_id: str, *, event: str, now: float, lease_seconds: int
    ) -> bool:
        """Take the event for `lease_seconds`; False when it is done or another worker holds it."""
        try:
            self.table.put(
                self._item(
                    tenant_id,
                    provider_event_id,
                    now,
                    event_state=PROCESSING,
                    lease_until=int(now) + lease_seconds,
                    event=event,
                ),
                condition=(
                    "attribute_not_exists(PK) OR event_state = :failed"
                    " OR (event_state = :processing AND lease_until < :now)"
                ),
                values={":failed": FAILED, ":processing": PROCESSING, ":now": int(now)},
            )
        except ConditionFailed:
            return False
        return True

    def get(self, tenant_id: int, provider_event_id: str) -> dict[str, Any] | None:
        key = self._key(tenant_id, provider_event_id)
        return self.table.get(key["PK"], key["SK"], consistent=True)

    def done(
        self, tenant_id: int, provider_event_id: str, *, payment_id: int, event: str, now: float
    ) -> None:
        self.table.put(
            self._item(
                tenant_id, provider_event_id, now, event_state=DONE, payment_id=payment_id, event=event
            )
        )

    def fail(self, tenant_id: int, provider_event_id: str, *, reason: str, event: str, now: float) -> None:
        self.table.put(
            self._item(
                tenant_id,
                provider_event_id,
                now,
                event_state=FAILED,
                reason=reason[:_REASON_CHARS],
                event=event,
            )
        )

    def release(self, tenant_id: int, provider_event_id: str, *, event: str, now: float) -> None:
        """Give a claim back after a transient error, so the retry need not wait for the lease."""
        with contextlib.suppress(ConditionFailed):
            self.table.put(
                self._item(
                    tenant_id, provider_event_id, now, event_state=PROCESSING, lease_until=0, event=event
                ),
                condition="event_state = :processing",
                values={":processing": PROCESSING},
            )


provider_events = ProviderEvents()
