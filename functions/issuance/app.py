"""The issuance workflow's Lambda tasks (statemachines/issue_invoice.asl.json): one function for
every step, chosen by the task's `step` field (billing.issuance.steps).

One function rather than one per step: the steps run back to back for one document, so they
share one warm container (the PDF fonts, the AWS clients) instead of paying a cold start each;
the role's permissions are the union of the steps' (the bucket's tenants/*/documents/ objects,
SES from the one sending identity, PutEvents on the one bus), which stays narrow."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.issuance.steps import run

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run(event)
