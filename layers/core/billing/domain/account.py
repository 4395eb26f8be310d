"""The tenant's account (the reference's read-only `account` model), its users and branch offices."""

from __future__ import annotations

from pydantic import BaseModel, Field

from billing.domain.records import Record, ShortText, WritePayload


class BankAccount(BaseModel):
    iban: str
    currency: str


class Bank(BaseModel):
    name: str
    bic: str = ""
    accounts: list[BankAccount] = Field(default_factory=list)


class Account(Record):
    """Issuer data. Invoices snapshot these as account_xxx fields when written."""

    name: str
    disabled: bool = False
    disabling_reason: str | None = None
    company_name: str = ""
    company_uid: str = ""
    company_registration_id: str = ""
    company_tax_id: str = ""
    company_vat_id: str = ""
    company_euid: str = ""
    company_address_1: str = ""
    company_address_2: str = ""
    company_state: str = ""
    company_city: str = ""
    company_country_id: int | None = None
    company_zip: str = ""
    company_web: str = ""
    company_phone: str = ""
    company_fax: str = ""
    company_email: str = ""
    currency: str = "EUR"
    """Home currency (ISO 4217 code): exchange rates are quoted in it and account totals kept in it."""
    account_banks: list[Bank] = Field(default_factory=list)


class User(Record):
    """A person of the tenant who issues documents (receipts print their identity data)."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    cnp: str = ""
    identity_document: str = ""
    identity_document_series: str = ""
    identity_document_number: str = ""
    identity_document_issued_by: str = ""
    identity_document_issue_date: str = ""


class BranchOffice(Record):
    name: str
    address_1: str = ""
    address_2: str = ""
    state: str = ""
    city: str = ""
    zip: str = ""
    phone: str = ""
    fax: str = ""


class BranchOfficeUpdate(WritePayload):
    """Modify: every field optional; only the fields sent are applied (see `changes`)."""

    name: ShortText = Field(default="", min_length=1)
    address_1: ShortText = ""
    address_2: ShortText = ""
    state: ShortText = ""
    city: ShortText = ""
    zip: ShortText = ""
    phone: ShortText = ""
    fax: ShortText = ""


class BranchOfficeCreate(BranchOfficeUpdate):
    name: ShortText = Field(min_length=1)
