"""python -m infra.stage deploy|destroy --stage NAME (make deploy / make destroy): see __init__.py."""
from __future__ import annotations

import argparse
import sys

from infra.stage.deploy import DeployError, Options, deploy, destroy, print_report
from infra.stage.day_one import DayOneError
from infra.stage.names import StageNameError, check_stage
from infra.stage.stacks import StackError
from infra.stage.templates import stamp_stage


def _parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {text!r}")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stage", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("deploy", help="package the functions, create or update every stack, run day one")
    down = sub.add_parser("destroy", help="delete the stage's stacks (resources marked Retain stay)")
    stamp = sub.add_parser("stamp", help="make STAGE the default Stage of the packaged template (make package)")
    for p in (up, down, stamp):
        p.add_argument("--stage", required=True)
    up.add_argument("--param", action="append", type=_parameter, default=[], metavar="Key=Value",
                    help="a template parameter, given to every stack that declares it (repeatable)")
    up.add_argument("--moto", action=argparse.BooleanOptionalAction, default=None,
                    help="leave out what moto's CloudFormation cannot create (default: when MA_AWS_ENDPOINT_URL is set)")
    up.add_argument("--no-package", dest="package", action="store_false",
                    help="deploy build/package as it is (from an earlier make package)")
    up.add_argument("--owner", default="owner",
                    help="the first owner's user id: a JWT subject of your identity provider, or the default 'owner'")
    up.add_argument("--mint-owner-key", action="store_true",
                    help="mint a new owner key for a stage bootstrapped already")
    up.add_argument("--migrate", choices=("in-process", "lambda"), default="in-process",
                    help="run the migration here (default) or by invoking the stage's migrate function")
    args = parser.parse_args(argv)
    try:
        check_stage(args.stage)
        if args.command == "stamp":
            print(f"{stamp_stage(args.stage)}: Stage defaults to {args.stage}")
            return 0
        if args.command == "destroy":
            deleted = destroy(args.stage)
            print(f"deleted: {', '.join(deleted) or 'nothing (no stack of this stage)'}")
            print("kept (Retain): the table, the artifacts bucket, the KMS key, the log groups; and the settings "
                  f"secret mastra-admin/{args.stage}/settings")
            return 0
        options = Options(stage=args.stage, parameters=dict(args.param), moto=args.moto, package=args.package,
                          owner=args.owner, mint_owner_key=args.mint_owner_key, migrate=args.migrate)
        report = deploy(options)
        print_report(report)
        return 1 if report.day_one and report.day_one.migration_failed else 0
    except StageNameError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (DeployError, DayOneError, StackError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
