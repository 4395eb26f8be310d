"""The template and the code must describe the same system: every route a function serves is
an Api event of that function in template.yaml and vice versa, and every sample event in
events/ runs against its function."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from local.template import ROOT, api_routes, function_specs, load_template
from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.b2b import sample_event_headers
from tests.support.client import ApiClient
from tests.support.issuance import share_sample_event
from tests.support.payments import sign_sample_event

TEMPLATE = load_template()
API_FUNCTIONS = sorted({route.function for route in api_routes(TEMPLATE)})


@pytest.mark.parametrize("function_name", API_FUNCTIONS)
def test_routes_match_template_events(aws: LocalStack, function_name: str) -> None:
    function = aws.functions.resolve(function_name)
    function.load()
    served = {path.replace("<", "{").replace(">", "}") for path in function.module.api.paths}  # type: ignore[union-attr]
    declared = {r.path for r in api_routes(TEMPLATE) if r.function == function_name}
    assert served == declared
    assert {r.method for r in api_routes(TEMPLATE) if r.function == function_name} == {"ANY"}, (
        "Api events use ANY so the function itself answers 405 for verbs it does not serve"
    )


def test_every_function_has_a_sample_event() -> None:
    samples = {p.stem for p in (ROOT / "events").glob("*.json")}
    assert samples == {spec.code_uri.name for spec in function_specs(TEMPLATE)}


@pytest.mark.parametrize("sample", sorted((ROOT / "events").glob("*.json")), ids=lambda p: p.stem)
def test_sample_event_replays(aws: LocalStack, tenant: Tenant, sample: Path) -> None:
    event = json.loads(sample.read_text())
    spec = next(s for s in function_specs(TEMPLATE) if s.code_uri.name == sample.stem)
    if "httpMethod" in event:  # an API Gateway event: swap in this test tenant's credentials
        headers = {"Authorization": "Basic " + base64.b64encode(f"{tenant.api_key}:x".encode()).decode()}
        if event["path"].startswith(("/billing/b2b", "/oauth")):  # B2B: client credentials, token + key
            headers = sample_event_headers(tenant.tenant_id, event["path"])
        for name, value in headers.items():
            event["headers"][name] = value
            event["multiValueHeaders"][name] = [value]
        if event["path"].startswith("/webhooks/payments/"):  # a provider's event: signed for this tenant, now
            sign_sample_event(event, tenant.tenant_id)
        if event["path"].startswith("/view/"):  # the share page: pointed at a document of this tenant
            share_sample_event(event, ApiClient(aws.gateway, tenant.api_key))
    result = aws.functions.resolve(spec.logical_id).invoke(event)
    if "Records" in event:  # an SQS batch: nothing may be reported as failed
        assert result == {"batchItemFailures": []}, result
    elif "step" in event:  # a Step Functions task (issuance): a JSON result, no error
        assert isinstance(result, dict), result
    else:
        assert 200 <= result["statusCode"] < 300, result


def test_local_table_is_the_template_table(aws: LocalStack) -> None:
    import boto3

    declared = TEMPLATE["Resources"]["BillingTable"]["Properties"]
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = ddb.describe_table(TableName=aws.stack.ref("BillingTable"))["Table"]
    assert table["KeySchema"] == declared["KeySchema"]
    assert {i["IndexName"]: i["KeySchema"] for i in table["GlobalSecondaryIndexes"]} == {
        i["IndexName"]: i["KeySchema"] for i in declared["GlobalSecondaryIndexes"]
    }
    ttl = ddb.describe_time_to_live(TableName=aws.stack.ref("BillingTable"))["TimeToLiveDescription"]
    assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"]


def test_local_queues_have_the_template_redrive(aws: LocalStack) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    for name, resource in TEMPLATE["Resources"].items():
        if resource["Type"] != "AWS::SQS::Queue" or "RedrivePolicy" not in resource["Properties"]:
            continue
        attributes = sqs.get_queue_attributes(QueueUrl=aws.stack.ref(name), AttributeNames=["All"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"])
        declared = resource["Properties"]["RedrivePolicy"]
        target = declared["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert redrive["deadLetterTargetArn"] == aws.stack.att(target, "Arn")
        assert int(redrive["maxReceiveCount"]) == declared["maxReceiveCount"]
