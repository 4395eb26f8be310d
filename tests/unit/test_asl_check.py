"""The ASL check must fail on broken definitions (cfn-lint does not look inside SAM state machines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.asl_check import check_file, graph_problems, main

ROOT = Path(__file__).resolve().parents[2]


def machine(**states: dict) -> dict:
    return {"StartAt": next(iter(states)), "States": states}


def test_project_definitions_are_clean() -> None:
    files = sorted((ROOT / "statemachines").glob("*.asl.json"))
    assert files
    for path in files:
        assert check_file(path) == []


def test_dangling_next_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = machine(A={"Type": "Pass", "Next": "Nowhere"})
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken))
    assert main([str(path)]) == 1
    assert "A.Next -> 'Nowhere' is not a state" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        (machine(A={"Type": "Pass", "End": True}, B={"Type": "Succeed"}), "B is unreachable"),
        ({"StartAt": "X", "States": {"A": {"Type": "Pass", "End": True}}}, "StartAt 'X' is not a state"),
        (machine(A={"Type": "Pass"}), "needs exactly one of Next or End"),
        (machine(A={"Type": "Pass", "Next": "B", "End": True}, B={"Type": "Succeed"}), "needs exactly one"),
        (
            machine(
                A={
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Z"}],
                    "Default": "B",
                },
                B={"Type": "Succeed"},
            ),
            "Choices[0].Next -> 'Z'",
        ),
        (
            machine(
                A={
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Next": "B",
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
                },
                B={"Type": "Succeed"},
            ),
            "Catch[0].Next",
        ),
        (
            machine(
                A={"Type": "Parallel", "End": True, "Branches": [machine(P={"Type": "Pass", "Next": "Q"})]}
            ),
            "A.Branches[0].P.Next -> 'Q'",
        ),
        (machine(A={"Type": "Succeed", "Next": "A"}), "takes neither Next nor End"),
        ({"StartAt": "A", "States": {}}, "States is missing or empty"),
    ],
)
def test_structural_problems(definition: dict, fragment: str) -> None:
    assert any(fragment in p for p in graph_problems(definition)), graph_problems(definition)


def test_cfn_lint_schema_rule_runs(tmp_path: Path) -> None:
    """E3601 (ASL schema) catches what the graph check does not look at, e.g. an unknown state type."""
    path = tmp_path / "schema.asl.json"
    path.write_text(json.dumps(machine(A={"Type": "Teleport", "End": True})))
    assert any("E3601" in p for p in check_file(path))
