"""`python -m secure_api plan --stack dev`: the plan `pulumi up` would run, offline, on the mock runtime."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import ConfigError, parse_config
from .offline import PROJECT_DIR, StackFileError, load_stack_config, plan_stack
from .packaging import PackagingError
from .plan_report import render_plan


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m secure_api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="print the resources, layers and routes a stack would create")
    plan.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml (default: dev)")
    plan.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml")
    plan.add_argument("--update", action="store_true", help="simulate `pulumi up` (outputs known) instead of a preview")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = parse_config(load_stack_config(args.stack, args.project_dir))
        result = plan_stack(args.stack, preview=not args.update, project_dir=args.project_dir)
    except (ConfigError, StackFileError, PackagingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render_plan(args.stack, config, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
