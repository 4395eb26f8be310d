"""The one place where failures become HTTP statuses and error bodies."""

from __future__ import annotations

from http import HTTPStatus

from pydantic import ValidationError

from billing.domain import errors

STATUS_BY_ERROR: dict[type[errors.BillingError], HTTPStatus] = {
    errors.MalformedInput: HTTPStatus.BAD_REQUEST,
    errors.Unauthorized: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.MethodNotAllowed: HTTPStatus.METHOD_NOT_ALLOWED,
    errors.NotAcceptable: HTTPStatus.NOT_ACCEPTABLE,
    errors.ValidationFailed: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
}


def status_for(error: errors.BillingError) -> HTTPStatus:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return HTTPStatus.INTERNAL_SERVER_ERROR


def validation_messages(error: ValidationError, root: str | None = None) -> list[str]:
    """pydantic errors as sentences naming the field the way the caller wrote it
    (`invoice[document_positions][2][unit_count]` becomes `invoice.document_positions[2].unit_count`)."""
    messages = []
    for detail in error.errors(include_url=False):
        path = ""
        for part in detail["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        field = f"{root}.{path}" if root and path else (path or root or "request")
        kind = detail["type"]
        if kind == "missing":
            messages.append(f"{field} is required")
        elif kind == "extra_forbidden":
            messages.append(f"{field} is not a known field")
        else:
            messages.append(f"{field}: {detail['msg']}")
    return messages
