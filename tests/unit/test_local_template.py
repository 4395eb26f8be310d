"""template.yaml as the local runtime reads it: tags, intrinsics, Globals."""

from __future__ import annotations

import pytest

from local.template import Context, UnresolvedReference, api_routes, function_specs, load_template


def context() -> Context:
    ctx = Context(parameters={"Stage": "local"})
    ctx.refs["Queue"] = "https://sqs/q"
    ctx.attributes["Queue"] = {"Arn": "arn:aws:sqs:us-east-1:123456789012:q"}
    return ctx


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "local"),
        ({"Fn::Sub": "factura-${Stage}-${AWS::Region}"}, "factura-local-us-east-1"),
        ({"Fn::Sub": "${Queue.Arn}/x"}, "arn:aws:sqs:us-east-1:123456789012:q/x"),
        ({"Fn::Sub": "${!Literal}"}, "${Literal}"),
        ({"Fn::Sub": ["${A}-${Stage}", {"A": {"Ref": "Queue"}}]}, "https://sqs/q-local"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:us-east-1:123456789012:q"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}, "a-local"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
        ({"Fn::Equals": [{"Ref": "Stage"}, "local"]}, True),
        ({"nested": [{"Ref": "Stage"}]}, {"nested": ["local"]}),
    ],
)
def test_intrinsics(value: object, expected: object) -> None:
    assert context().resolve(value) == expected


def test_unresolved_reference_is_reported() -> None:
    with pytest.raises(UnresolvedReference):
        context().resolve({"Ref": "Missing"})


def test_project_template_reads_with_globals_applied() -> None:
    template = load_template()
    specs = {spec.logical_id: spec for spec in function_specs(template)}
    account = specs["AccountFunction"]
    assert account.handler == "app.lambda_handler"
    assert account.environment["TABLE_NAME"] == {"Ref": "BillingTable"}
    assert account.environment["POWERTOOLS_SERVICE_NAME"] == "account"
    assert ("AccountFunction", "/api/v1/account.xml") in {(r.function, r.path) for r in api_routes(template)}
