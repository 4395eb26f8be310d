"""Checks Step Functions definitions that cfn-lint cannot see inside AWS::Serverless::StateMachine.

Two passes per file: our structural check (StartAt and every Next/Default/Catch target exist,
every state is reachable, terminal states are terminal, nested Map/Parallel graphs too), then
cfn-lint's ASL schema rule E3601 on the definition wrapped in a plain
AWS::StepFunctions::StateMachine. Usage: python -m local.asl_check statemachines/*.asl.json"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

_TERMINAL = {"Succeed", "Fail"}


def _targets(state: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if "Next" in state:
        yield "Next", state["Next"]
    if "Default" in state:
        yield "Default", state["Default"]
    for i, choice in enumerate(state.get("Choices", [])):
        if "Next" in choice:
            yield f"Choices[{i}].Next", choice["Next"]
    for i, catcher in enumerate(state.get("Catch", [])):
        if "Next" in catcher:
            yield f"Catch[{i}].Next", catcher["Next"]


def graph_problems(graph: Mapping[str, Any], where: str = "") -> list[str]:
    """Problems of one state graph (a definition, a Parallel branch or a Map iterator)."""
    problems: list[str] = []
    states: Mapping[str, Any] = graph.get("States") or {}
    start = graph.get("StartAt")
    if not states:
        return [f"{where}States is missing or empty"]
    if start not in states:
        problems.append(f"{where}StartAt '{start}' is not a state")
    for name, state in states.items():
        kind = state.get("Type")
        for field, target in _targets(state):
            if target not in states:
                problems.append(f"{where}{name}.{field} -> '{target}' is not a state")
        ends = state.get("End") is True
        if kind in _TERMINAL and ("Next" in state or ends):
            problems.append(f"{where}{name}: a {kind} state takes neither Next nor End")
        if kind not in _TERMINAL | {"Choice"} and ends == ("Next" in state):
            problems.append(f"{where}{name}: needs exactly one of Next or End")
        if kind == "Choice" and not state.get("Choices"):
            problems.append(f"{where}{name}: a Choice state needs Choices")
        for i, branch in enumerate(state.get("Branches", [])):
            problems += graph_problems(branch, f"{where}{name}.Branches[{i}].")
        nested = state.get("ItemProcessor") or state.get("Iterator")
        if nested:
            problems += graph_problems(nested, f"{where}{name}.ItemProcessor.")
    reachable, frontier = set(), [start] if start in states else []
    while frontier:
        name = frontier.pop()
        if name in reachable:
            continue
        reachable.add(name)
        frontier += [t for _, t in _targets(states[name]) if t in states]
    problems += [f"{where}{name} is unreachable from StartAt" for name in states if name not in reachable]
    return problems


def cfn_lint_problems(definition: Mapping[str, Any]) -> list[str]:
    """cfn-lint's ASL rules (E3601) on the definition, placeholders replaced by sample ARNs."""
    text = re.sub(r"\$\{(\w+)\}", r"PLACEHOLDER_\1", json.dumps(definition))
    wrapped = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/x", "Definition": json.loads(text)},
            }
        },
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        yaml.safe_dump(wrapped, handle)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "parseable", handle.name],
        capture_output=True,
        text=True,
        check=False,
    )
    Path(handle.name).unlink()
    return [line for line in result.stdout.splitlines() if line.strip()]


def check_file(path: Path, *, with_cfn_lint: bool = True) -> list[str]:
    try:
        definition = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        return [f"{path}: not JSON: {exc}"]
    problems = graph_problems(definition)
    if with_cfn_lint:
        problems += cfn_lint_problems(definition)
    return [f"{path}: {p}" for p in problems]


def main(argv: list[str]) -> int:
    problems = [p for arg in argv for p in check_file(Path(arg))]
    for problem in problems:
        print(problem)
    print(f"asl check: {len(argv)} definition(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
