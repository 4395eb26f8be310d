"""The callback dispatcher: POSTs each queued callback to its endpoint, signed per Standard
Webhooks, and applies the retry schedule of `billing.payments.retry`. Only the dispatcher
function imports this module (and so httpx).

Per message:

- the endpoint is read (it may have been disabled, deleted or given a new URL since the callback
  was queued); a disabled or deleted endpoint gets nothing (logged as `skipped`);
- the body is POSTed as queued, with `webhook-id` (stable), `webhook-timestamp` (this attempt)
  and `webhook-signature` (one `v1,` signature per valid secret: two during a rotation overlap);
- redirects are never followed (a 3xx is a failed attempt), cookies are never kept, proxies
  from the environment are ignored, and the connection is made by `_GuardedBackend`: it resolves
  the host itself, checks every address against `billing.payments.urls`, and connects to an
  address it checked (no second DNS lookup, so no DNS rebinding);
- outcome: 2xx delivered; 410 Gone disables the endpoint (no retry); anything else (other
  statuses, timeouts, refused connections, refused addresses) is retried per the schedule, then
  dead-lettered;
- every attempt is written to the delivery log.

A handler that raises leaves the message on the queue (reported in `batchItemFailures`); that is
how a VISIBILITY retry keeps its message. Crashes are retried after the queue's visibility
timeout and, if they persist, the redrive policy moves the message to the dead-letter queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Final
from urllib.parse import urlsplit

import httpcore
import httpx
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from billing.config import settings
from billing.domain.errors import NotFound, ValidationFailed
from billing.domain.webhooks import DELIVERY_LOG_DAYS, Outcome, WebhookEndpoint
from billing.payments import retry
from billing.payments.callbacks import CallbackMessage, webhook_headers
from billing.payments.config import webhook_settings
from billing.payments.urls import checked_addresses, system_resolver
from billing.payments.webhooks import disable_endpoint
from billing.store.aws import client
from billing.store.webhooks import webhook_deliveries, webhook_endpoints, webhook_secrets

logger = Logger()

TIMEOUT: Final = httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=3.0)
ATTEMPT_BUDGET_SECONDS: Final = 30
"""An attempt is not started with less time than this left in the invocation (the message is
requeued untouched instead), so a slow batch never runs into the function timeout."""
MAX_RESPONSE_BYTES: Final = 64 * 1024
MAX_ERROR_TEXT: Final = 500
USER_AGENT: Final = "Factura-Webhooks/1.0"

clock: Callable[[], float] = time.time
"""Wall clock of the schedule (tests move it instead of sleeping)."""


class RetryScheduled(Exception):
    """Raised after ChangeMessageVisibility: the record is reported failed, so SQS keeps it."""


# -- HTTP -------------------------------------------------------------------------------------------


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves and checks at connect time, then connects to a checked address."""

    def __init__(self, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(
                host, port, allow_loopback=self.allow_loopback, resolve=system_resolver
            )
        except ValidationFailed as refused:
            raise httpcore.ConnectError(f"address refused: {'; '.join(refused.messages)}") from None
        failure: Exception | None = None
        for address in addresses[:3]:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not webhook targets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_client(*, allow_loopback: bool) -> httpx.Client:
    """An httpx client that only reaches addresses the URL policy allows."""
    transport = httpx.HTTPTransport(trust_env=False, retries=0)
    # httpx has no public way to give its pool a network backend; the pool is rebuilt with ours
    # (tests/integration/test_callback_dispatcher.py proves the guard is in the path).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=20,
        max_keepalive_connections=10,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(allow_loopback),
    )
    return httpx.Client(
        transport=transport,
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        headers={"user-agent": USER_AGENT},
    )


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


def post_callback(http: httpx.Client, url: str, body: str, headers: dict[str, str]) -> AttemptResult:
    """One POST; never raises for network or HTTP failures (they are the result)."""
    started = time.perf_counter()
    try:
        with http.stream(
            "POST", url, content=body.encode(), headers={**headers, "content-type": "application/json"}
        ) as response:
            received = bytearray()
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= MAX_RESPONSE_BYTES:
                    break
            latency = round((time.perf_counter() - started) * 1000)
            status = response.status_code
            retry_after = retry.parse_retry_after(response.headers.get("retry-after"))
            if 200 <= status < 300:
                return AttemptResult(status, latency)
            if 300 <= status < 400:
                location = response.headers.get("location", "")
                error = f"HTTP {status}: redirect to {location[:200]!r} not followed (callbacks never follow redirects)"
            else:
                text = received[:1024].decode("utf-8", "replace").strip()
                error = f"HTTP {status}" + (f": {text}" if text else "")
            return AttemptResult(status, latency, _clip(error), retry_after)
    except httpx.TimeoutException as exc:
        error = f"timeout ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return AttemptResult(None, round((time.perf_counter() - started) * 1000), _clip(error))


# -- dispatching --------------------------------------------------------------------------------------


class Dispatcher:
    def __init__(self) -> None:
        self._http: httpx.Client | None = None
        self._endpoints: dict[tuple[int, int], WebhookEndpoint | None] = {}

    def start_batch(self) -> None:
        """Forget the endpoints read so far: each is read at most once per batch (so a change to
        an endpoint applies from the next batch on, and a 410 at once to the rest of the batch)."""
        self._endpoints.clear()

    def _endpoint(self, tenant_id: int, endpoint_id: int) -> WebhookEndpoint | None:
        key = (tenant_id, endpoint_id)
        if key not in self._endpoints:
            self._endpoints[key] = webhook_endpoints.find(tenant_id, endpoint_id)
        return self._endpoints[key]

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = guarded_client(allow_loopback=webhook_settings().allow_loopback)
        return self._http

    def reset(self) -> None:
        """Drop the HTTP client (its address policy is read when it is made)."""
        if self._http is not None:
            self._http.close()
        self._http = None

    @property
    def _queue_url(self) -> str:
        return settings().callbacks_queue_url

    # -- one record ----------------------------------------------------------------------------

    def process(self, record: SQSRecord, remaining_seconds: Callable[[], float]) -> None:
        try:
            message = CallbackMessage.model_validate_json(record.body)
        except ValidationError:
            logger.error(
                "malformed callback message sent to the dead-letter queue", message_id=record.message_id
            )
            self._dead_letter(record.body, "malformed callback message")
            return
        now = clock()
        if message.not_before is not None and message.not_before > now + 1:
            self._hold(record, retry.wait_visibility(message.not_before - now))
            raise RetryScheduled(f"{message.webhook_id}: waiting until {message.not_before:.0f}")

        attempt = (
            message.attempts_before + 1
            if message.chained
            else int(record.attributes.approximate_receive_count)
        )
        endpoint = self._endpoint(message.tenant_id, message.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            reason = (
                "endpoint was deleted"
                if endpoint is None
                else f"endpoint is disabled ({endpoint.disabled_reason})"
            )
            self._log(message, endpoint, attempt, Outcome.SKIPPED, AttemptResult(None, 0, reason), None)
            return
        if remaining_seconds() < ATTEMPT_BUDGET_SECONDS:
            self._requeue(message.model_copy(update={"chained": True, "attempts_before": attempt - 1}), 0)
            return
        try:
            signing = webhook_secrets.signing(endpoint, message.tenant_id).valid(now)
        except NotFound:
            self._log(
                message,
                endpoint,
                attempt,
                Outcome.SKIPPED,
                AttemptResult(None, 0, "endpoint was deleted"),
                None,
            )
            return

        headers = webhook_headers(signing, message.webhook_id, message.body, timestamp=int(now))
        result = self._send(endpoint, message, headers)
        if result.delivered:
            self._log(message, endpoint, attempt, Outcome.DELIVERED, result, None)
            return
        if result.status_code == 410:
            self._log(message, endpoint, attempt, Outcome.GONE, result, None)
            reason = (
                f"the receiver answered 410 Gone on {datetime.fromtimestamp(now, UTC):%Y-%m-%d %H:%M:%S} UTC"
            )
            disable_endpoint(message.tenant_id, endpoint.id, reason)
            self._endpoints[(message.tenant_id, endpoint.id)] = endpoint.model_copy(
                update={"enabled": False, "disabled_reason": reason}
            )
            return

        plan = retry.plan_retry(
            attempt,
            elapsed=now - message.enqueued_at,
            retry_after=result.retry_after,
            chained=message.chained,
        )
        if plan.action is retry.Action.DEAD_LETTER:
            self._log(message, endpoint, attempt, Outcome.EXHAUSTED, result, None)
            self._dead_letter(message.to_body(), f"retries exhausted after attempt {attempt}: {result.error}")
            return
        self._log(message, endpoint, attempt, Outcome.FAILED, result, now + plan.delay)
        if plan.action is retry.Action.VISIBILITY:
            self._hold(record, plan.delay)
            raise RetryScheduled(f"{message.webhook_id}: attempt {attempt} failed, next in {plan.delay} s")
        copy = message.model_copy(
            update={"chained": True, "attempts_before": attempt, "not_before": now + plan.delay}
        )
        self._requeue(copy, plan.send_delay)

    def _send(
        self, endpoint: WebhookEndpoint, message: CallbackMessage, headers: dict[str, str]
    ) -> AttemptResult:
        if urlsplit(endpoint.url).scheme != "https" and not webhook_settings().allow_loopback:
            return AttemptResult(None, 0, "url must be an https:// URL")
        return post_callback(self.http, endpoint.url, message.body, headers)

    # -- effects ---------------------------------------------------------------------------------

    def _log(
        self,
        message: CallbackMessage,
        endpoint: WebhookEndpoint | None,
        attempt: int,
        outcome: Outcome,
        result: AttemptResult,
        next_attempt_at: float | None,
    ) -> None:
        now = clock()
        webhook_deliveries.record(
            message.tenant_id,
            {
                "webhook_id": message.webhook_id,
                "endpoint_id": message.endpoint_id,
                "event_type": message.event_type,
                "url": endpoint.url if endpoint else "",
                "attempt": attempt,
                "outcome": outcome,
                "status_code": result.status_code,
                "latency_ms": result.latency_ms,
                "error": result.error,
                "next_attempt_at": datetime.fromtimestamp(next_attempt_at, UTC) if next_attempt_at else None,
                "replay": message.replay,
                "body": message.body,
                "expires_at": int(now) + DELIVERY_LOG_DAYS * 24 * 3600,
            },
        )
        logger.info(
            "callback attempt",
            webhook_id=message.webhook_id,
            endpoint_id=message.endpoint_id,
            attempt=attempt,
            outcome=outcome.value,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error,
        )

    def _hold(self, record: SQSRecord, seconds: int) -> None:
        client("sqs").change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=int(seconds)
        )

    def _requeue(self, message: CallbackMessage, delay_seconds: int) -> None:
        client("sqs").send_message(
            QueueUrl=self._queue_url, MessageBody=message.to_body(), DelaySeconds=int(delay_seconds)
        )

    def _dead_letter(self, body: str, reason: str) -> None:
        url = webhook_settings().dead_letter_queue_url
        if not url:
            raise RuntimeError("CALLBACKS_DLQ_URL is not set")
        client("sqs").send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": _clip(reason)}},
        )
