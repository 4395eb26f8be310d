"""Operator CLI: create tenants and API keys. Prints JSON; a key is shown only this once.

python -m billing.admin --local .local/demo.json tenant create --name ACME
python -m billing.admin --stack factura-prod tenant create --name ACME --company-name "ACME SRL"
python -m billing.admin --table factura-dev key create --tenant 123 --user 456
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def _target(args: argparse.Namespace) -> None:
    """Point the billing store at the chosen deployment through the usual environment variables."""
    if args.local:
        demo = json.loads(Path(args.local).read_text())
        os.environ.update(
            AWS_ENDPOINT_URL=demo["aws_endpoint_url"],
            TABLE_NAME=demo["table_name"],
            AWS_DEFAULT_REGION=demo.get("region", "us-east-1"),
        )
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(key, "testing")
    elif args.stack:
        import boto3

        stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        os.environ["TABLE_NAME"] = outputs["TableName"]
    elif args.table:
        os.environ["TABLE_NAME"] = args.table
    else:
        raise SystemExit("choose a deployment: --local DEMO_JSON, --stack NAME or --table NAME")


def _create_tenant(args: argparse.Namespace) -> dict[str, Any]:
    from billing.store.accounts import Accounts

    account = {"name": args.name, "company_name": args.company_name or args.name}
    if args.country_id:
        account["company_country_id"] = args.country_id
    user = {"first_name": args.first_name, "last_name": args.last_name, "email": args.email}
    created = Accounts().create_tenant(account, user)
    return {"tenant_id": created.account.id, "user_id": created.user.id, "api_key": created.api_key.plaintext}


def _create_key(args: argparse.Namespace) -> dict[str, Any]:
    from billing.store.accounts import Accounts

    key = Accounts().add_api_key(args.tenant, args.user)
    return {"tenant_id": args.tenant, "user_id": args.user, "api_key": key.plaintext}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m billing.admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = root.add_mutually_exclusive_group()
    where.add_argument("--local", metavar="DEMO_JSON", help="the local runtime described by this demo.json")
    where.add_argument("--stack", help="a deployed CloudFormation stack (uses its TableName output)")
    where.add_argument("--table", help="a DynamoDB table name (credentials from the usual AWS chain)")
    groups = root.add_subparsers(dest="group", required=True)

    tenant = groups.add_parser("tenant").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", help="a tenant with its first user and API key")
    create.add_argument("--name", required=True)
    create.add_argument("--company-name")
    create.add_argument("--country-id", type=int, help="ISO 3166 numeric code, e.g. 642 for Romania")
    create.add_argument("--first-name", default="")
    create.add_argument("--last-name", default="")
    create.add_argument("--email", default="")
    create.set_defaults(run=_create_tenant)

    key = groups.add_parser("key").add_subparsers(dest="action", required=True)
    key_create = key.add_parser("create", help="another API key for an existing user")
    key_create.add_argument("--tenant", type=int, required=True)
    key_create.add_argument("--user", type=int, required=True)
    key_create.set_defaults(run=_create_key)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _target(args)
    print(json.dumps(args.run(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
