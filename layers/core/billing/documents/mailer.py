"""E-mailing a document with its PDF attached: the one implementation behind
`PUT …/[model-plural]/[id]/email.xml` (reference §7.1.10) and the issuance workflow's e-mail step.

Request (`parse_email_request`), in any wire form the API reads:

- `to`, `cc`, `bcc`: lists of addresses (PHP's http_build_query sends `to[0]=…&to[1]=…`; XML
  and JSON lists work too), or one string with addresses separated by commas, semicolons or
  spaces (the reference: "you can specify only one parameter for bcc or cc with the list of
  emails"). `to` defaults to the client's e-mail address on the document. Every address is
  checked (a 422 names the field and the index: `to[1]`); an address given twice is sent once;
  at most 50 recipients in all (SES's limit per message).
- `body`: the message text (plain text, UTF-8), at most 10 000 characters; a short default
  naming the document when empty. `subject`: optional, one line; default
  "<Kind> <number> - <issuer>" in the document's language.
- the fields may also come wrapped as `email[to][0]=…` / `<email>…</email>`; anything else is
  a 422.

Message (`build_message`): From "<issuer company> <MAIL_FROM>" (MAIL_FROM must be a verified
SES identity), Reply-To the issuer's e-mail when it has one, To and Cc headers, Bcc recipients
only in the SES destinations (never in a header), the text, and the PDF as an attachment named
"<number>.pdf". Sent with SES SendRawEmail (`send`), which returns SES's message id.

Imports of the e-mail package happen inside the functions (Lambda cold start).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict

from billing.domain.errors import BillingError, ValidationFailed

if TYPE_CHECKING:
    from email.message import EmailMessage

    from billing.domain.documents import Document, DocumentKind

MAX_RECIPIENTS: Final = 50
MAX_BODY_CHARS: Final = 10_000
MAX_SUBJECT_CHARS: Final = 200
MAX_RAW_BYTES: Final = 9_500_000
"""SES v1 takes raw messages up to 10 MB, base64 attachment included."""
FIELDS: Final = ("to", "cc", "bcc")

_LOCAL: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD: Final = re.compile(r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})")
_SEPARATORS: Final = re.compile(r"[\s,;]+")
_SUBJECTS: Final = {
    "invoice": ("Factura", "Invoice"),
    "proforma_invoice": ("Factura proforma", "Proforma invoice"),
    "notice": ("Avizul", "Delivery note"),
    "receipt": ("Chitanța", "Receipt"),
}
_DEFAULT_BODY: Final = (
    "Bună ziua,\n\nAveți atașat documentul {title} {number}.\n\n{issuer}",
    "Hello,\n\nPlease find attached {title} {number}.\n\n{issuer}",
)


class MailNotSent(BillingError):
    """SES did not take the message now (throttled, unavailable, unreachable); the caller may
    retry. `maybe_sent` is True when the outcome is unknown (the request went out and no answer
    came back), so a retry could deliver the message twice."""

    def __init__(self, *messages: str, maybe_sent: bool = False) -> None:
        super().__init__(*messages)
        self.maybe_sent = maybe_sent


class EmailRequest(BaseModel):
    """A validated request to e-mail a document (also the workflow's input, as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    body: str = ""
    subject: str = ""

    @property
    def destinations(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]


# -- request ---------------------------------------------------------------------------------


def normalize_address(text: str) -> str | None:
    """`text` as an e-mail address SES can send to (ASCII local part; an internationalized
    domain becomes its IDNA form; the domain is lower-cased), or None when it is not one."""
    text = text.strip()
    if not text or len(text) > 254 or any(c in text for c in "\r\n\0"):
        return None
    local, at, domain = text.rpartition("@")
    if not at or len(local) > 64 or not _LOCAL.fullmatch(local):
        return None
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return None
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels[:-1]):
        return None
    if not _TLD.fullmatch(labels[-1]):
        return None
    address = f"{local}@{'.'.join(labels)}"
    return address if len(address) <= 254 else None


def _addresses(name: str, value: Any, problems: list[str]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[Any] = [v for v in _SEPARATORS.split(value) if v]
        labelled = [(f"{name}", item) for item in items]
    else:
        from billing.wire.codec import as_list

        try:
            items = as_list(value, field=name)
        except BillingError as err:
            problems.extend(err.messages)
            return []
        labelled = [(f"{name}[{i}]", item) for i, item in enumerate(items)]
    found = []
    for label, item in labelled:
        if not isinstance(item, str):
            problems.append(f"{label} must be an e-mail address")
            continue
        address = normalize_address(item)
        if address is None:
            problems.append(f"{label} '{item.strip()[:100]}' is not a valid e-mail address")
        else:
            found.append(address)
    return found


def _one_line(value: str) -> str:
    return " ".join(value.split())


def parse_email_request(params: Mapping[str, Any], *, default_to: str = "") -> EmailRequest:
    """Validate an e-mail request (see the module docstring); every problem in one 422."""
    if set(params) == {"email"} and isinstance(params["email"], Mapping):
        params = params["email"]
    problems: list[str] = []
    unknown = sorted(set(params) - {*FIELDS, "body", "subject"})
    problems.extend(f"{name} is not a known field (send to, cc, bcc, body, subject)" for name in unknown)
    lists = {name: _addresses(name, params.get(name), problems) for name in FIELDS}
    if not lists["to"] and not problems:
        fallback = normalize_address(default_to) if default_to else None
        if fallback is None:
            problems.append("to is required (the client has no e-mail address on this document)")
        else:
            lists["to"] = [fallback]
    body = params.get("body") or ""
    subject = params.get("subject") or ""
    if not isinstance(body, str):
        problems.append("body must be text")
    elif len(body) > MAX_BODY_CHARS:
        problems.append(f"body is longer than {MAX_BODY_CHARS} characters")
    if not isinstance(subject, str):
        problems.append("subject must be text")
    elif len(subject) > MAX_SUBJECT_CHARS:
        problems.append(f"subject is longer than {MAX_SUBJECT_CHARS} characters")
    seen: set[str] = set()
    unique: dict[str, list[str]] = {}
    for name in FIELDS:
        unique[name] = []
        for address in lists[name]:
            if address.lower() not in seen:
                seen.add(address.lower())
                unique[name].append(address)
    if len(seen) > MAX_RECIPIENTS:
        problems.append(f"at most {MAX_RECIPIENTS} recipients (to, cc and bcc together)")
    if problems:
        raise ValidationFailed(*problems)
    return EmailRequest(
        to=tuple(unique["to"]),
        cc=tuple(unique["cc"]),
        bcc=tuple(unique["bcc"]),
        body=body if isinstance(body, str) else "",
        subject=_one_line(subject) if isinstance(subject, str) else "",
    )


# -- message ---------------------------------------------------------------------------------


def attachment_name(number: str) -> str:
    """A safe file name for the document number ("FCT-0042.pdf"); other characters become _."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", number).strip("._") or "document"
    return f"{stem[:100]}.pdf"


def _language(doc: Document) -> int:
    return 0 if doc.locale.strip().lower()[:2] == "ro" else 1


def subject_for(kind: DocumentKind, doc: Document) -> str:
    title = _SUBJECTS[kind.value][_language(doc)]
    issuer = _one_line(doc.account_company_name)
    text = f"{title} {doc.document_number}"
    return _one_line(f"{text} - {issuer}" if issuer else text)


def build_message(
    kind: DocumentKind, doc: Document, pdf: bytes, request: EmailRequest, *, sender: str
) -> EmailMessage:
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate, make_msgid

    message = EmailMessage(policy=SMTP)
    local, _, domain = sender.rpartition("@")
    display = _one_line(doc.account_company_name)[:100]
    message["From"] = Address(display_name=display, username=local, domain=domain)
    reply_to = normalize_address(doc.account_company_email) if doc.account_company_email else None
    if reply_to:
        message["Reply-To"] = reply_to
    message["To"] = ", ".join(request.to)
    if request.cc:
        message["Cc"] = ", ".join(request.cc)
    message["Subject"] = request.subject or subject_for(kind, doc)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=domain or None)
    language = _language(doc)
    body = request.body.strip() or _DEFAULT_BODY[language].format(
        title=_SUBJECTS[kind.value][language].lower(), number=doc.document_number, issuer=display
    )
    message.set_content(body.replace("\r\n", "\n") + "\n", charset="utf-8")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=attachment_name(doc.document_number)
    )
    return message


TRANSIENT_SES_CODES: Final = frozenset(
    {"Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure", "RequestTimeout"}
)


@cache
def _ses() -> Any:
    """SES client that never retries by itself: a retried SendRawEmail whose first answer was
    lost would send the e-mail twice, so retries are left to callers who can tell (the
    workflow's e-mail step keeps a marker; see billing.store.document_marks)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=20)
    return boto3.session.Session().client("ses", config=config)


def reset_client() -> None:
    _ses.cache_clear()


def send(
    kind: DocumentKind, doc: Document, pdf: bytes, request: EmailRequest, *, sender: str | None = None
) -> str:
    """Send the document by e-mail through SES; returns SES's message id. SES refusing the
    message is a ValidationFailed naming the reason; SES not answering is MailNotSent."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ReadTimeoutError,
    )

    from billing.config import settings

    source = sender or settings().mail_from
    raw = build_message(kind, doc, pdf, request, sender=source).as_bytes()
    if len(raw) > MAX_RAW_BYTES:
        raise ValidationFailed(
            f"the e-mail with its PDF would be {len(raw)} bytes; SES sends at most {MAX_RAW_BYTES}"
        )
    try:
        response = _ses().send_raw_email(
            Source=source, Destinations=request.destinations, RawMessage={"Data": raw}
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in TRANSIENT_SES_CODES:
            raise MailNotSent(f"the e-mail could not be sent now ({code}); retry later") from exc
        detail = f": {error['Message']}" if error.get("Message") else ""
        raise ValidationFailed(f"the e-mail was refused ({code}){detail}") from exc
    except (ReadTimeoutError, ConnectionClosedError) as exc:  # sent, maybe: no answer came back
        raise MailNotSent(
            f"no answer from the e-mail service ({type(exc).__name__}); it may have been sent",
            maybe_sent=True,
        ) from exc
    except BotoCoreError as exc:  # could not reach SES: nothing was sent
        raise MailNotSent(f"the e-mail could not be sent now ({type(exc).__name__}); retry later") from exc
    return str(response["MessageId"])
