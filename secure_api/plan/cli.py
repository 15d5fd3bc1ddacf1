"""`python -m secure_api plan --stack dev`: what `pulumi preview --policy-pack policy` would show, offline.

Runs the program on Pulumi's mock runtime against the stack file, prints the plan by layer, then
runs the CrossGuard pack on the planned resources through pulumi_policy's analyzer service.
Exit status: 0 clean, 1 mandatory policy violations, 2 invalid config or stack file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from secure_api_policies.verdict import evaluate, has_mandatory, render_json, render_sarif, render_text

from .. import __version__
from ..component.config import ConfigError, parse_config
from ..component.packaging import PackagingError
from .offline import PROJECT_DIR, StackFileError, load_stack_config, plan_stack
from .report import render_plan
from .state import load_state, protected_changes, retired_resource_warnings

EXIT_MANDATORY_VIOLATIONS = 1
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secure-api", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="print the resources, layers, routes and policy findings of a stack")
    plan.add_argument("--stack", default="dev", help="stack name: reads Pulumi.<stack>.yaml (default: dev)")
    plan.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="folder holding Pulumi.yaml")
    plan.add_argument("--update", action="store_true", help="simulate `pulumi up` (outputs known) instead of a preview")
    plan.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="text: plan and findings; json or sarif: only the findings, for machines (default: text)",
    )
    plan.add_argument("--no-policy", action="store_true", help="skip the policy pack (text format only)")
    plan.add_argument(
        "--policy-config", type=Path, help="JSON file in the shape of `pulumi preview --policy-pack-config`"
    )
    plan.add_argument(
        "--state",
        type=Path,
        help="output of `pulumi stack export`: warn about protected resources the config would delete or replace",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.no_policy and args.format != "text":
        print("error: --no-policy only goes with --format text", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        policy_config = json.loads(args.policy_config.read_text()) if args.policy_config else None
        values = load_stack_config(args.stack, args.project_dir)
        # As under the Pulumi CLI, the program runs in the project folder (schemaFile paths are relative to it).
        with contextlib.chdir(args.project_dir):
            config = parse_config(values)  # fails fast, before the runtime starts
            result = plan_stack(args.stack, preview=not args.update, project_dir=args.project_dir, config=values)
        if args.state:
            state = load_state(args.state)
            result.warnings.extend(retired_resource_warnings(state))
            result.warnings.extend(c.message for c in protected_changes(state, result))
        findings = [] if args.no_policy else evaluate(result.resources, policy_config)
    except (ConfigError, StackFileError, PackagingError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == "json":
        print(render_json(findings))
    elif args.format == "sarif":
        print(render_sarif(findings, artifact_uri=f"Pulumi.{args.stack}.yaml"))
    else:
        print(render_plan(args.stack, config, result))
        if not args.no_policy:
            print()
            print(render_text(findings))
    return EXIT_MANDATORY_VIOLATIONS if has_mandatory(findings) else 0


def run() -> None:
    """Console-script entry point (`secure-api`, `python -m secure_api`): exit with `main`'s status."""
    sys.exit(main())
