"""The contract between the issuance steps and the state machine: error names, what is retried
and what is caught, the failure reason kept on the document, and the template's wiring (binary
responses through API Gateway, least-privilege policies)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from billing.documents.mailer import MailNotSent
from billing.domain.errors import NotFound, ValidationFailed
from billing.issuance.errors import (
    IssuanceSuperseded,
    PermanentIssuanceError,
    TransientIssuanceError,
    classify,
)
from billing.issuance.steps import STEPS, failure_reason
from billing.store.document_marks import Superseded
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from local.apigw import HttpRequest, LocalApiGateway
from local.template import ROOT, ApiRoute, load_template

ASL = json.loads((ROOT / "statemachines" / "issue_invoice.asl.json").read_text())
TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
LAMBDA_TRANSIENT = {
    "TransientIssuanceError",
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
}


def client_error(code: str, status: int = 400, operation: str = "PutObject") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("SlowDown", 503), TransientIssuanceError),
        (client_error("ThrottlingException"), TransientIssuanceError),
        (
            client_error("ProvisionedThroughputExceededException", operation="UpdateItem"),
            TransientIssuanceError,
        ),
        (client_error("SomethingNew", 500), TransientIssuanceError),
        (client_error("AccessDenied", 403), PermanentIssuanceError),
        (client_error("MessageRejected", operation="SendRawEmail"), PermanentIssuanceError),
        (EndpointConnectionError(endpoint_url="https://s3"), TransientIssuanceError),
        (ReadTimeoutError(endpoint_url="https://s3"), TransientIssuanceError),
        (MailNotSent("throttled"), TransientIssuanceError),
        (ValidationFailed("refused"), PermanentIssuanceError),
        (NotFound("gone"), PermanentIssuanceError),
        (Superseded("v2"), IssuanceSuperseded),
        (KeyError("x"), PermanentIssuanceError),
    ],
)
def test_classify(error: Exception, expected: type) -> None:
    assert type(classify(error)) is expected


def test_classified_messages_name_the_call() -> None:
    assert str(classify(client_error("AccessDenied", 403))) == "PutObject: AccessDenied: m"


def lambda_tasks() -> dict[str, dict[str, Any]]:
    return {
        name: state
        for name, state in ASL["States"].items()
        if state.get("Resource") == "arn:aws:states:::lambda:invoke"
    }


def test_every_lambda_task_retries_transient_errors_only_and_catches_the_rest() -> None:
    tasks = lambda_tasks()
    assert set(tasks) == {
        "LoadDocument",
        "RenderAndStorePdf",
        "SendEmail",
        "PublishIssued",
        "MarkIssuanceFailed",
    }
    for name, state in tasks.items():
        assert state["Parameters"]["FunctionName"] == "${IssuanceFunctionArn}"
        assert state["Parameters"]["Payload"]["step"] in STEPS
        (retry,) = state["Retry"]
        assert set(retry["ErrorEquals"]) == LAMBDA_TRANSIENT, name
        assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 3 and retry["IntervalSeconds"] >= 1
        caught = [c["ErrorEquals"] for c in state["Catch"]]
        if name != "MarkIssuanceFailed":
            assert caught == [["IssuanceSuperseded"], ["States.ALL"]], name
            assert state["Catch"][1]["Next"] == "MarkIssuanceFailed"
    assert ASL["States"]["MarkIssuanceFailed"]["Next"] == "IssuanceFailed"
    assert ASL["States"]["IssuanceFailed"]["Type"] == "Fail"


def test_error_names_are_the_exception_class_names() -> None:
    assert {TransientIssuanceError.__name__, IssuanceSuperseded.__name__} <= {
        error
        for state in lambda_tasks().values()
        for rule in state["Retry"] + state["Catch"]
        for error in rule["ErrorEquals"]
    }


def test_issuance_writes_of_the_state_machine_bump_rev_on_the_issue_version() -> None:
    for name in ("MarkIssuanceStarted", "MarkIssuanceCompleted"):
        parameters = ASL["States"][name]["Parameters"]
        assert "#rev = #rev + :one" in parameters["UpdateExpression"]
        assert parameters["ConditionExpression"] == "attribute_exists(PK) AND issue_version = :version"
        assert ASL["States"][name]["Catch"][0] == {
            "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
            "ResultPath": "$.error",
            "Next": "Superseded",
        }


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            {
                "Error": "PermanentIssuanceError",
                "Cause": json.dumps(
                    {
                        "errorType": "PermanentIssuanceError",
                        "errorMessage": "PutObject: AccessDenied: m",
                        "stackTrace": ["  File x"],
                    }
                ),
            },
            "PermanentIssuanceError: PutObject: AccessDenied: m",
        ),
        (
            {"Error": "States.Timeout", "Cause": "Task timed out after 60.00 seconds"},
            "States.Timeout: Task timed out after 60.00 seconds",
        ),
        ({"Error": "Lambda.Unknown"}, "Lambda.Unknown"),
        (None, "issuance failed"),
    ],
)
def test_failure_reason_never_keeps_the_stack_trace(error: dict[str, Any] | None, reason: str) -> None:
    assert failure_reason(error) == reason


# -- template ------------------------------------------------------------------------------------


def test_state_machine_wiring_and_policies() -> None:
    machine = RESOURCES["IssueInvoiceStateMachine"]["Properties"]
    assert machine["DefinitionSubstitutions"]["IssuanceFunctionArn"] == {
        "Fn::GetAtt": ["IssuanceFunction", "Arn"]
    }
    policies = machine["Policies"]
    assert {"LambdaInvokePolicy": {"FunctionName": {"Ref": "IssuanceFunction"}}} in policies
    (statement,) = policies[1]["Statement"]
    assert statement["Action"] == "dynamodb:UpdateItem"
    assert RESOURCES["IssueInvoiceFailedAlarm"]["Properties"]["MetricName"] == "ExecutionsFailed"


def test_issuance_function_is_scoped() -> None:
    props = RESOURCES["IssuanceFunction"]["Properties"]
    statements = {s["Sid"]: s for p in props["Policies"] if "Statement" in p for s in p["Statement"]}
    assert statements["ArchiveDocumentPdfs"]["Resource"] == {
        "Fn::Sub": "${FilesBucket.Arn}/tenants/*/documents/*"
    }
    assert statements["SendDocumentMail"]["Action"] == "ses:SendRawEmail"
    assert {"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "DocumentEventsBus"}}} in props["Policies"]
    assert RESOURCES["DocumentEventsBus"]["Type"] == "AWS::Events::EventBus"
    assert RESOURCES["MailIdentity"]["Properties"]["EmailIdentity"] == {"Ref": "MailFrom"}


def test_share_function_is_public_and_read_only() -> None:
    props = RESOURCES["ShareFunction"]["Properties"]
    assert [e["Properties"]["Path"] for e in props["Events"].values()] == ["/view/{hashcode}"]
    assert {"DynamoDBReadPolicy": {"TableName": {"Ref": "BillingTable"}}} in props["Policies"]
    assert not any("DynamoDBCrudPolicy" in p for p in props["Policies"])


# -- binary responses through API Gateway ------------------------------------------------------------


class _Pdf:
    def resolve(self, name: str) -> Any:
        return self

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        import base64

        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/pdf"},
            "body": base64.b64encode(b"%PDF-1.4 binary \x00\xff").decode(),
            "isBase64Encoded": True,
        }


@pytest.mark.parametrize(
    ("binary_types", "accept", "decoded"),
    [
        (["application/pdf"], "*/*", False),  # curl, PHP, httpx: the trap
        (["application/pdf"], "text/html,application/pdf;q=0.9", False),  # a browser
        (["application/pdf"], "application/pdf", True),
        (["*/*"], "*/*", True),
        (["*/*"], "text/html,application/xhtml+xml,*/*;q=0.8", True),
        (["*/*"], "application/pdf", True),
    ],
)
def test_api_gateway_decodes_binary_only_for_a_matching_first_accept(
    binary_types: list[str], accept: str, decoded: bool
) -> None:
    gateway = LocalApiGateway(
        [ApiRoute("Pdf", "/x/{ref}", "ANY")],
        _Pdf(),
        stage="local",
        binary_media_types=binary_types,  # type: ignore[arg-type]
    )
    response = gateway.dispatch(HttpRequest("GET", "/x/1.pdf", headers=[("Accept", accept)]))
    assert (response.body == b"%PDF-1.4 binary \x00\xff") is decoded


def test_the_api_treats_every_media_type_as_binary() -> None:
    assert RESOURCES["BillingApi"]["Properties"]["BinaryMediaTypes"] == ["*/*"]
