"""Creates the template's data and messaging resources on moto (in-process or server mode),
so local tables, GSIs, queues and redrive policies are exactly the deployed ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.template import (
    ACCOUNT_ID,
    REGION,
    ROOT,
    Context,
    UnresolvedReference,
    load_template,
    parameter_defaults,
)

LOCAL_STAGE = "local"
_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/factura-local"


@dataclass
class Stack:
    """What was created: the resolution context (Ref / GetAtt per logical id) and the template."""

    template: dict[str, Any]
    context: Context
    skipped: list[str] = field(default_factory=list)

    def ref(self, logical_id: str) -> Any:
        return self.context.ref(logical_id)

    def att(self, logical_id: str, attribute: str) -> Any:
        return self.context.get_att(logical_id, attribute)


def _session(endpoint_url: str | None) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint_url)

    return client


def provision(
    template: dict[str, Any] | None = None, *, endpoint_url: str | None = None, stage: str = LOCAL_STAGE
) -> Stack:
    template = template or load_template()
    ctx = Context(parameters=parameter_defaults(template, {"Stage": stage}))
    stack = Stack(template=template, context=ctx)
    client = _session(endpoint_url)
    pending = dict(template.get("Resources", {}))
    while pending:
        progressed = False
        for name, resource in list(pending.items()):
            creator = _CREATORS.get(resource["Type"])
            if creator is None:
                stack.skipped.append(f"{name} ({resource['Type']})")
                del pending[name]
                continue
            try:
                props = ctx.resolve(resource.get("Properties", {}))
            except UnresolvedReference:
                continue
            ref, attributes = creator(client, name, props)
            ctx.refs[name] = ref
            ctx.attributes[name] = attributes
            del pending[name]
            progressed = True
        if pending and not progressed:
            raise RuntimeError(f"cannot resolve references of: {', '.join(sorted(pending))}")
    return stack


def _table(client: Callable[[str], Any], name: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    ddb = client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": props["TableName"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        kwargs["SSESpecification"] = {"Enabled": True}
    arn = ddb.create_table(**kwargs)["TableDescription"]["TableArn"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        ddb.update_time_to_live(
            TableName=props["TableName"],
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    return props["TableName"], {"Arn": arn}


def _bucket(client: Callable[[str], Any], name: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    s3 = client("s3")
    bucket = props["BucketName"]
    s3.create_bucket(Bucket=bucket)
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    _encryption_rule(r)
                    for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket, {"Arn": f"arn:aws:s3:::{bucket}", "DomainName": f"{bucket}.s3.amazonaws.com"}


def _encryption_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's rule shape -> the S3 API's (the default-encryption key is renamed)."""
    api_rule = {k: v for k, v in rule.items() if k != "ServerSideEncryptionByDefault"}
    api_rule["ApplyServerSideEncryptionByDefault"] = rule["ServerSideEncryptionByDefault"]
    return api_rule


def _bucket_policy(
    client: Callable[[str], Any], name: str, props: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """moto enforces bucket policies but ignores their Condition blocks, so a conditional Deny
    (DenyInsecureTransport: only plain-HTTP requests) would deny every object request. Such
    statements are left out locally; the rest of the policy applies as written."""
    document = dict(props["PolicyDocument"])
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    kept = [s for s in statements if not (s.get("Effect") == "Deny" and "Condition" in s)]
    if kept:
        client("s3").put_bucket_policy(
            Bucket=props["Bucket"], Policy=json.dumps({**document, "Statement": kept})
        )
    return name, {}


_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize",
)


def _queue(client: Callable[[str], Any], name: str, props: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    sqs = client("sqs")
    attributes = {key: str(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    queue_name = props.get("QueueName", name)
    url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": queue_name, "QueueUrl": url}


def _state_machine(
    client: Callable[[str], Any], name: str, props: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    definition = (ROOT / props["DefinitionUri"]).read_text()
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    machine_name = props.get("Name", name)
    arn = client("stepfunctions").create_state_machine(
        name=machine_name, definition=definition, roleArn=_ROLE_ARN, type=props.get("Type", "STANDARD")
    )["stateMachineArn"]
    return arn, {"Arn": arn, "Name": machine_name}


def _event_bus(
    client: Callable[[str], Any], name: str, props: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    bus = props["Name"]
    arn = client("events").create_event_bus(Name=bus)["EventBusArn"]
    return bus, {"Arn": arn, "Name": bus}


def _email_identity(
    client: Callable[[str], Any], name: str, props: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """A verified SES identity (moto's SES refuses to send from an unverified one)."""
    identity = props["EmailIdentity"]
    ses = client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    return identity, {}


def _function(
    client: Callable[[str], Any], name: str, props: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """Functions run in-process; only their names and ARNs are needed for references."""
    return name, {"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"}


def _named(kind: str) -> Callable[[Callable[[str], Any], str, Mapping[str, Any]], tuple[Any, dict[str, Any]]]:
    def create(
        client: Callable[[str], Any], name: str, props: Mapping[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        return f"{kind}-{name}", {"Arn": f"arn:aws:{kind}:{REGION}:{ACCOUNT_ID}:{name}"}

    return create


_CREATORS: dict[str, Callable[[Callable[[str], Any], str, Mapping[str, Any]], tuple[Any, dict[str, Any]]]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SQS::Queue": _queue,
    "AWS::Serverless::StateMachine": _state_machine,
    "AWS::Events::EventBus": _event_bus,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::Serverless::Function": _function,
    "AWS::Serverless::Api": _named("apigateway"),
    "AWS::Serverless::LayerVersion": _named("lambda"),
}
