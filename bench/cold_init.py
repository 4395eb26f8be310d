"""Cold init of each function: a fresh interpreter imports the handler module and creates the
AWS clients its template policies grant, as Lambda's init phase would. Reported as a ratio to a
floor measured in the same run: a fresh interpreter doing `import boto3; boto3.client("dynamodb")`.

Run: make bench  (or: PYTHONPATH=layers/core:. .venv/bin/python bench/cold_init.py)"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

from local.template import function_specs, load_template  # noqa: E402

TRIALS = int(os.environ.get("BENCH_TRIALS", "7"))

# SAM policy templates -> the service client a function creates.
_POLICY_SERVICES = {
    "DynamoDB": "dynamodb",
    "S3": "s3",
    "SQS": "sqs",
    "SES": "ses",
    "StepFunctions": "stepfunctions",
    "EventBridge": "events",
    "SSM": "ssm",
    "AWSSecretsManager": "secretsmanager",
}

_CHILD = """
import time, sys
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""


def services_of(policies: list) -> list[str]:
    found = []
    for policy in policies:
        name = next(iter(policy)) if isinstance(policy, dict) else str(policy)
        for prefix, service in _POLICY_SERVICES.items():
            if name.startswith(prefix) and service not in found:
                found.append(service)
    return found


def measure(body: str, env: dict[str, str]) -> float:
    samples = []
    for _ in range(TRIALS):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD.format(body=body)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return statistics.median(samples)


def main() -> None:
    template = load_template()
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TABLE_NAME": "bench",
        "BUCKET_NAME": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core")]),
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    floor = measure('import boto3\nboto3.client("dynamodb")', env)
    rows = []
    for spec in function_specs(template):
        props = template["Resources"][spec.logical_id]["Properties"]
        services = services_of(props.get("Policies", []))
        module_path = spec.code_uri / "app.py"
        body = "\n".join(
            [
                "import importlib.util",
                f"spec = importlib.util.spec_from_file_location('app', {str(module_path)!r})",
                "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)",
                "from billing.store.aws import client",
                *[f"client({s!r})" for s in services],
            ]
        )
        rows.append((spec.logical_id, services, measure(body, env)))
    print(
        f"cold init, median of {TRIALS} fresh interpreters; floor = import boto3 + one client: {floor * 1000:.0f} ms"
    )
    print(f"{'function':32} {'clients':28} {'ms':>7} {'ratio':>6}")
    for name, services, seconds in rows:
        print(f"{name:32} {','.join(services) or '-':28} {seconds * 1000:7.0f} {seconds / floor:6.2f}")
    print(json.dumps({"floor_ms": round(floor * 1000, 1), **{n: round(s / floor, 2) for n, _, s in rows}}))


if __name__ == "__main__":
    main()
