"""Typed domain errors. The HTTP layer maps each class to one status code, in one place
(`billing.http.errors`); nothing below the handlers knows about HTTP."""

from __future__ import annotations


class BillingError(Exception):
    """Base class. `messages` is what the caller is told, one line per problem."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages: list[str] = list(messages) or [self.__class__.__name__]


class MalformedInput(BillingError):
    """The request cannot be read: bad XML/JSON/form syntax, forbidden XML constructs, oversized body."""


class Unauthorized(BillingError):
    """No credentials, or credentials that match nothing."""


class Forbidden(BillingError):
    """Valid credentials that may not do this."""


class NotFound(BillingError):
    """No such record for this tenant (another tenant's record is also 'not found')."""


class MethodNotAllowed(BillingError):
    """The resource exists but does not accept this HTTP verb."""


class NotAcceptable(BillingError):
    """The caller asked for a representation we cannot produce."""


class TooManyRequests(BillingError):
    """The caller exceeded its request rate; `retry_after` is how many seconds to wait."""

    def __init__(self, *messages: str, retry_after: int) -> None:
        super().__init__(*messages)
        self.retry_after = retry_after


class ValidationFailed(BillingError):
    """Well-formed request whose content breaks a rule (missing field, wrong type, bad transition)."""


class Conflict(ValidationFailed):
    """The write collides with existing data (a taken number, a duplicate); reported as 422 like
    other validation failures, because the reference API has no 409."""
