"""Starting the issuance workflow (statemachines/issue_invoice.asl.json) for a document that has
just become open.

The execution is named after the document and its issue version
(`<kind>-<tenant>-<document id>-v<version>`), so starting it again (a retried request, a repeated
mark_open) cannot run the workflow twice: Step Functions answers an identical start with the
running execution and refuses a finished name with ExecutionAlreadyExists, which is taken as
"already started". Input: {tenant_id, kind, document_id, version, pk, sk[, email]}; `email` (the
recipients and text of billing.documents.mailer.EmailRequest) asks the workflow to e-mail the
archived PDF.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from billing.config import settings
from billing.store.aws import client

logger = Logger()


@dataclass(frozen=True)
class IssuanceRequest:
    tenant_id: int
    kind: str
    document_id: int
    version: int
    pk: str
    sk: str
    email: Mapping[str, Any] | None = None

    @property
    def execution_name(self) -> str:
        return f"{self.kind}-{self.tenant_id}-{self.document_id}-v{self.version}"

    def input(self) -> str:
        data: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "kind": self.kind,
            "document_id": self.document_id,
            "version": self.version,
            "pk": self.pk,
            "sk": self.sk,
        }
        if self.email:
            data["email"] = dict(self.email)
        return json.dumps(data, separators=(",", ":"), sort_keys=True)


def start_issuance(request: IssuanceRequest) -> str | None:
    """Start (at most once) the issuance execution; returns its ARN, or None when no state
    machine is configured (ISSUE_STATE_MACHINE_ARN unset) or the execution already exists."""
    arn = settings().issue_state_machine_arn
    if not arn:
        logger.warning(
            "ISSUE_STATE_MACHINE_ARN is not set; issuance not started", extra={"name": request.execution_name}
        )
        return None
    try:
        response = client("stepfunctions").start_execution(
            stateMachineArn=arn, name=request.execution_name, input=request.input()
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return None
        raise
    return str(response["executionArn"])
