"""Reads template.yaml the way CloudFormation would: YAML with intrinsic-function tags, Globals
merged into each function, intrinsics resolved against the resources we created locally.

This is what keeps the local runtime honest: tables, queues, routes and environment variables
come from the template, never from a second hand-written description."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "factura-local"

_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Sub",
            "GetAtt",
            "Join",
            "Select",
            "Split",
            "If",
            "Equals",
            "Not",
            "And",
            "Or",
            "FindInMap",
            "Base64",
            "Cidr",
            "ImportValue",
            "GetAZs",
            "Transform",
        )
    },
}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands the short forms (!Ref, !Sub, ...)."""


def _make_constructor(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if key == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag, _key in _TAGS.items():
    _CfnLoader.add_constructor(f"!{_tag}", _make_constructor(_key))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as handle:
        return yaml.load(handle, Loader=_CfnLoader)


class UnresolvedReference(Exception):
    """A reference to a resource not created (yet)."""


@dataclass
class Context:
    """What intrinsics resolve against: parameters and, per logical id, Ref and attributes."""

    parameters: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def pseudo(self) -> dict[str, Any]:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self.pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvedReference(name)

    def get_att(self, name: str, attribute: str) -> Any:
        try:
            return self.attributes[name][attribute]
        except KeyError:
            raise UnresolvedReference(f"{name}.{attribute}") from None

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                sep, text = arg
                return self.resolve(text).split(sep)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return left == right
            if key == "Fn::Base64":
                import base64

                return base64.b64encode(str(self.resolve(arg)).encode()).decode()
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} is not supported by the local runtime")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
        out, i = [], 0
        while i < len(text):
            start = text.find("${", i)
            if start < 0:
                out.append(text[i:])
                break
            out.append(text[i:start])
            end = text.index("}", start)
            name = text[start + 2 : end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in variables:
                out.append(str(variables[name]))
            elif "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                out.append(str(self.get_att(logical, attribute)))
            else:
                out.append(str(self.ref(name)))
            i = end + 1
        return "".join(out)


def parameter_defaults(
    template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    params = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    params.update(overrides or {})
    return params


def resources_of_type(template: Mapping[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template.get("Resources", {}).items() if res.get("Type") in types}


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Serverless::Function with Globals applied."""

    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, Any]
    events: dict[str, dict[str, Any]]
    timeout: int


def function_specs(template: Mapping[str, Any]) -> list[FunctionSpec]:
    globals_fn = template.get("Globals", {}).get("Function", {})
    specs = []
    for name, res in resources_of_type(template, "AWS::Serverless::Function").items():
        props = res.get("Properties", {})
        env = copy.deepcopy(globals_fn.get("Environment", {}).get("Variables", {}))
        env.update(props.get("Environment", {}).get("Variables", {}))
        specs.append(
            FunctionSpec(
                logical_id=name,
                code_uri=ROOT / props["CodeUri"],
                handler=props.get("Handler", globals_fn.get("Handler", "app.lambda_handler")),
                environment=env,
                events=props.get("Events", {}),
                timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            )
        )
    return specs


@dataclass(frozen=True)
class ApiRoute:
    function: str
    path: str
    method: str


def api_routes(template: Mapping[str, Any]) -> list[ApiRoute]:
    return [
        ApiRoute(
            function=spec.logical_id,
            path=event["Properties"]["Path"],
            method=event["Properties"]["Method"].upper(),
        )
        for spec in function_specs(template)
        for event in spec.events.values()
        if event.get("Type") == "Api"
    ]
