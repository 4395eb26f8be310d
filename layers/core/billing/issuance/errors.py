"""Error names the issuance state machine reacts to.

A Lambda task fails with the exception's class name as its error name (the `errorType` of the
function error), so the state machine matches these classes by name:

| error name | raised when | state machine |
|---|---|---|
| `TransientIssuanceError` | throttling, a 5xx, a timeout or a lost connection of S3, DynamoDB, SES, EventBridge or SQS | Retry with backoff (`IntervalSeconds` 1, x2, up to 6 attempts, jittered) |
| `IssuanceSuperseded` | the document is gone, or at another issue version than the execution's | Catch -> Superseded (Succeed: nothing to do) |
| `PermanentIssuanceError` | anything else (a refused e-mail, a broken document, a bug) | Catch -> MarkIssuanceFailed -> Fail |

Besides these, the Retry also names the Lambda service's own transient errors
(`Lambda.TooManyRequestsException`, `Lambda.ServiceException`, `Lambda.AWSLambdaException`,
`Lambda.SdkClientException`). `States.TaskFailed` is deliberately not retried as a whole: it
would retry permanent failures too. Every exception a step raises goes through `classify`, so
no other name reaches the state machine (a crash of the runtime itself surfaces as
`Lambda.Unknown` / `States.TaskFailed` and goes to MarkIssuanceFailed).
"""

from __future__ import annotations

from typing import Final

TRANSIENT_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "TransactionInProgressException",
        "TransactionConflict",
    }
)
"""AWS error codes that mean "not now": the same call may succeed later."""


class IssuanceError(Exception):
    """Base of the errors a step lets out (their class names are the state machine's error names)."""


class TransientIssuanceError(IssuanceError):
    """Retry me: an AWS service was throttled, failed with a 5xx, or could not be reached."""


class PermanentIssuanceError(IssuanceError):
    """Retrying cannot help; the issuance is marked failed with this message as the reason."""


class IssuanceSuperseded(IssuanceError):
    """The document is gone or at another issue version: this execution has nothing to do."""


def classify(error: BaseException) -> IssuanceError:
    """The IssuanceError a step raises for `error`."""
    if isinstance(error, IssuanceError):
        return error
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    from billing.documents.mailer import MailNotSent
    from billing.domain.errors import BillingError
    from billing.store.document_marks import Superseded

    if isinstance(error, Superseded):
        return IssuanceSuperseded(str(error))
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        operation = getattr(error, "operation_name", "") or "AWS call"
        text = f"{operation}: {code}: {details.get('Message', '')}".rstrip(": ")
        if code in TRANSIENT_CODES or status >= 500:
            return TransientIssuanceError(text)
        return PermanentIssuanceError(text)
    if isinstance(
        error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError
    ):
        return TransientIssuanceError(f"{type(error).__name__}: {error}")
    if isinstance(error, MailNotSent):
        return TransientIssuanceError("; ".join(error.messages))
    if isinstance(error, BillingError):
        return PermanentIssuanceError("; ".join(error.messages))
    return PermanentIssuanceError(f"{type(error).__name__}: {error}")
