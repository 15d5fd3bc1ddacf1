"""`secure-api plan`: what `pulumi preview --policy-pack` would show for the Pulumi project here, offline.

Runs the project's own program (any Pulumi Python program, with or without SecureApi) on Pulumi's
mock runtime against `Pulumi.<stack>.yaml`, prints the plan, then runs the CrossGuard pack on the
planned resources through pulumi_policy's analyzer service.

Then it asks every route the standard callers through the request model (`secure_api.gateway`) of
the stack as `pulumi up` would leave it, and shows the access matrix: a caller the layered model
must stop who gets in is a mandatory finding.

With --state (a `pulumi stack export`), it also shows what `pulumi up` would do to each resource of the
stack: create, update, replace or delete, protected and stateful resources first (`plan.changes`).

Exit status: 0 clean; 1 mandatory policy violations or access-matrix violations; 2 invalid project,
stack file, config or program; 3 invalid policy config; 4 (with --fail-on-replace) the update would
replace a resource. With --format json/sarif, stdout is a valid document on every exit status (an error
is a tool notification).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from secure_api_policies.model import FAIL_ON_UNDECIDED
from secure_api_policies.verdict import (
    PolicyConfigError,
    configure_request,
    evaluate,
    has_mandatory,
    render_json,
    render_json_error,
    render_sarif,
    render_sarif_error,
    render_text,
)

from secure_api_authorizer.build import PackagingError

from .. import __version__
from ..component.config import ConfigError
from ..gateway import cli as requests_cli
from ..gateway import matrix as access_matrix
from ..gateway.pipeline import Gateway
from ..gateway.resources import StackModelError
from ..gateway.stack import load as load_gateway
from . import codegen
from .changes import Change, against_state, ordered, render_changes
from .harness import Seed, UnsupportedDataSourceError
from .locations import Locator, repository_root
from .offline import Plan, Project, StackFileError, find_project, run_plan
from .report import render_plan
from .schema import render_schema
from .state import StateFileError, load_state, mfa_upgrade_warnings, protected_changes, retired_resource_warnings

EXIT_MANDATORY_VIOLATIONS = 1
EXIT_BAD_INPUT = 2
EXIT_BAD_POLICY_CONFIG = 3
EXIT_REPLACEMENTS = 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secure-api", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser(
        "plan",
        help="run the project's program offline and judge it with the policy pack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml (default: the only stack file)")
    plan.add_argument("--cwd", type=Path, default=None, help="run as if started in DIR: the project is at or above it")
    plan.add_argument(
        "--update",
        action="store_true",
        help="simulate `pulumi up` (outputs known) instead of a new-stack preview (outputs unknown)",
    )
    plan.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="text: plan and findings; json or sarif: only the findings, for machines (default: text)",
    )
    plan.add_argument("--no-policy", action="store_true", help="skip the policy pack (text format only)")
    plan.add_argument(
        "--policy-config",
        type=Path,
        help="JSON file in the shape of `pulumi preview --policy-pack-config` (rule id -> level or object)",
    )
    plan.add_argument(
        "--no-access-matrix",
        action="store_true",
        help="skip the access matrix (the standard callers of every route, through the request model)",
    )
    plan.add_argument(
        "--state",
        type=Path,
        help="output of `pulumi stack export`: show what `pulumi up` would create, update, replace or delete, "
        "protected and stateful resources first",
    )
    plan.add_argument(
        "--fail-on-undecided",
        action="store_true",
        help="exit 1 when a mandatory rule waits for a value only known after the update (pack config "
        "`failOnUndecided: true` for every rule, as `pulumi preview --policy-pack-config` would pass it)",
    )
    plan.add_argument(
        "--fail-on-replace",
        action="store_true",
        help=f"with --state: exit {EXIT_REPLACEMENTS} when the update would replace or delete a protected or "
        "stateful resource (for CI)",
    )
    requests_cli.add_parser(commands)
    matrix = commands.add_parser(
        "matrix",
        help="the access matrix: every route asked by the standard callers through the request model",
        description=access_matrix.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    matrix.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml (default: the only stack file)")
    matrix.add_argument(
        "--cwd", type=Path, default=None, help="run as if started in DIR: the project is at or above it"
    )
    matrix.add_argument("--format", choices=("text", "json"), default="text")
    schema = commands.add_parser("schema", help="print the JSON Schema of a stack file with secure-api config")
    schema.add_argument("--output", type=Path, help="write to this file instead of stdout")
    schema.add_argument(
        "--regenerate",
        action="store_true",
        help="in a checkout: rewrite every generated file (stack-file schema, package schema snapshot)",
    )
    return parser


class _PlanError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _policy_config(path: Path | None) -> dict[str, Any] | None:
    """The policy config file, checked against every rule's schema; _PlanError(exit 3) names what is wrong."""
    if path is None:
        return None
    expected = 'a JSON object of rule ids, e.g. {"all": "advisory", "log-group-retention": {"minRetentionDays": 400}}'
    try:
        text = path.read_text()
    except OSError as error:
        raise _PlanError(f"cannot read the policy config {path}: {error.strerror}", EXIT_BAD_POLICY_CONFIG) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise _PlanError(
            f"the policy config {path} is not JSON (line {error.lineno}: {error.msg}); expected {expected}",
            EXIT_BAD_POLICY_CONFIG,
        ) from None
    if not isinstance(config, dict):
        raise _PlanError(f"the policy config {path} must be {expected}", EXIT_BAD_POLICY_CONFIG)
    try:
        configure_request(config)
    except PolicyConfigError as error:
        raise _PlanError(f"{path}: {error}", EXIT_BAD_POLICY_CONFIG) from None
    return config


def _strict(config: dict[str, Any] | None) -> dict[str, Any]:
    """`config` with `all.failOnUndecided: true` (an `all` level string kept as its enforcementLevel)."""
    config = dict(config or {})
    everyone = config.get("all") or {}
    everyone = {"enforcementLevel": everyone} if isinstance(everyone, str) else dict(everyone)
    config["all"] = {**everyone, FAIL_ON_UNDECIDED: True}
    return config


def _state(path: Path | None) -> list[dict[str, Any]] | None:
    """The resources of a `pulumi stack export` file, read before the program runs."""
    if path is None:
        return None
    try:
        return load_state(path)
    except StateFileError as error:
        raise _PlanError(str(error), EXIT_BAD_INPUT) from None
    except OSError as error:
        raise _PlanError(
            f"cannot read the state file {path}: {error.strerror}; write it with `pulumi stack export --file {path}`",
            EXIT_BAD_INPUT,
        ) from None


def _only_stack(project: Project) -> str:
    """The stack to plan when --stack is not given: the project's only stack file."""
    stacks = project.stacks()
    if len(stacks) == 1:
        return stacks[0]
    raise StackFileError(
        f"pass --stack: {project.stack_config_dir} holds {'no stack file' if not stacks else 'several'} "
        f"({', '.join(stacks) or 'create one with `pulumi stack init`'})"
    )


def _program_failure(error: BaseException, plan_dir: Path) -> str:
    """An exception from the user's program, without a traceback: type, message and the program's line."""
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve().is_relative_to(plan_dir)
    ]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"the program failed{where}: {type(error).__name__}: {error}"


def _plan(args: argparse.Namespace, *, update: bool | None = None, seed: Seed | None = None) -> Plan:
    try:
        project = find_project(args.cwd or Path.cwd())
        preview = not (args.update if update is None else update)
        return run_plan(project, args.stack or _only_stack(project), preview=preview, seed=seed)
    except (ConfigError, StackFileError, PackagingError, UnsupportedDataSourceError) as error:
        raise _PlanError(str(error), EXIT_BAD_INPUT) from None
    except Exception as error:  # any exception of the user's program is a bad program, exit 2
        raise _PlanError(_program_failure(error, project.directory), EXIT_BAD_INPUT) from None


@contextlib.contextmanager
def _progress_on_stderr() -> Iterator[None]:
    """Progress lines (the authorizer package build) on stderr, so stdout stays a clean document."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("secure_api_authorizer.build")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _run_plan(args: argparse.Namespace) -> tuple[str, int]:
    """The text to print and the exit status."""
    if args.no_policy and args.format != "text":
        raise _PlanError("--no-policy only goes with --format text", EXIT_BAD_INPUT)
    policy_config = _policy_config(args.policy_config)
    if args.fail_on_undecided:
        policy_config = _strict(policy_config)
    state = _state(args.state)
    if args.fail_on_replace and state is None:
        raise _PlanError("--fail-on-replace needs --state", EXIT_BAD_INPUT)
    with _progress_on_stderr():
        changes: list[Change] | None = None
        if state is None:
            plan = _plan(args)
        else:
            plan, changes = against_state(state, lambda seed: _plan(args, seed=seed), lambda p: p.result)
    if state is not None:
        plan.result.warnings.extend(retired_resource_warnings(state))
        plan.result.warnings.extend(change.message for change in protected_changes(state, plan.result))
        plan.result.warnings.extend(mfa_upgrade_warnings(state, plan.result))
    resources = plan.result.resources
    findings = [] if args.no_policy else evaluate(resources, policy_config)
    root = repository_root(plan.project.directory, Path.cwd())
    locate = Locator(plan, resources, root)
    matrix = None if args.no_access_matrix else _access_matrix(args, plan)
    code = EXIT_MANDATORY_VIOLATIONS if has_mandatory(findings) or (matrix and matrix.violations) else 0
    if not code and args.fail_on_replace and any(change.matters for change in changes or ()):
        code = EXIT_REPLACEMENTS
    if args.format == "json":
        document = json.loads(render_json(findings, locate=locate))
        if matrix is not None:
            document["accessMatrix"] = access_matrix.to_json(matrix)
        if changes is not None:
            document["changes"] = [change.to_json() for change in ordered(changes)]
        return json.dumps(document, indent=2) + "\n", code
    if args.format == "sarif":
        sarif = json.loads(render_sarif(findings, locate=locate))
        if matrix is not None:
            cells = access_matrix.to_sarif_run(matrix, lambda cell: locate.of_api(cell.api_urn), __version__)
            sarif["runs"].append({**cells, "invocations": sarif["runs"][0]["invocations"]})
        return json.dumps(sarif, indent=2) + "\n", code
    with contextlib.chdir(plan.project.work_dir):  # schemaFile and truststorePath resolve as in the program
        text = render_plan(plan.stack_file.stack, None, plan.result, context=plan)
    if changes is not None:
        text += "\n\n" + "\n".join(render_changes(changes))
    if not args.no_policy:
        text += "\n\n" + render_text(findings, preview=plan.result.preview, locate=locate)
    if matrix is not None:
        text += "\n\n" + access_matrix.render_text(matrix)
    return text, code


def _access_matrix(args: argparse.Namespace, plan: Plan) -> access_matrix.Matrix | None:
    """The access matrix of the stack as `pulumi up` leaves it; a preview is planned again in update mode.

    None when the stack has no REST API stage to ask.
    """
    planned = plan if not plan.result.preview else _plan(args, update=True)
    try:
        stack = load_gateway(planned.result.resources)
    except StackModelError as error:
        raise _PlanError(f"the access matrix cannot model the stack: {error}", EXIT_BAD_INPUT) from None
    if not stack.stages:
        return None
    gateway = Gateway(stack)
    try:
        return access_matrix.build(gateway)
    finally:
        gateway.close()


def _run_matrix(args: argparse.Namespace) -> tuple[str, int]:
    """`secure-api matrix`: the access matrix of the stack planned in update mode; exit 1 on a violation."""
    with _progress_on_stderr():
        plan = _plan(args, update=True)
    matrix = _access_matrix(args, plan) or access_matrix.Matrix()
    code = EXIT_MANDATORY_VIOLATIONS if matrix.violations else 0
    if args.format == "json":
        return json.dumps({"accessMatrix": access_matrix.to_json(matrix), "error": None}, indent=2), code
    return access_matrix.render_text(matrix), code


def _emit(text: str) -> None:
    """Print; a closed pipe (`| head`) ends quietly, as a Unix filter should."""
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        if args.regenerate:
            return codegen.main([])
        if args.output:
            args.output.write_text(render_schema())
        else:
            _emit(render_schema())
        return 0
    try:
        if args.command == "requests":
            with _progress_on_stderr():
                text, code = requests_cli.run(args, lambda a: _plan(a, update=True))
        elif args.command == "matrix":
            text, code = _run_matrix(args)
        else:
            text, code = _run_plan(args)
    except requests_cli.RequestsError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.format == "json":
            _emit(json.dumps({"cases": [], "error": {"message": str(error), "exitCode": EXIT_BAD_INPUT}}, indent=2))
        return EXIT_BAD_INPUT
    except _PlanError as error:
        code = error.code
        print(f"error: {error}", file=sys.stderr)
        if args.command == "requests" and args.format == "json":
            _emit(json.dumps({"cases": [], "error": {"message": str(error), "exitCode": code}}, indent=2))
        elif args.command == "matrix" and args.format == "json":
            _emit(json.dumps({"accessMatrix": [], "error": {"message": str(error), "exitCode": code}}, indent=2))
        elif args.format == "json":
            _emit(render_json_error(str(error), code))
        elif args.format == "sarif":
            _emit(render_sarif_error(str(error), code))
        return code
    _emit(text)
    return code


def run() -> None:
    """Console-script entry point (`secure-api`, `python -m secure_api`): exit with `main`'s status.

    The cyclic garbage collector is off in this short-lived process: the Pulumi SDK allocates many
    short-lived objects (tasks, Outputs, lazily imported provider classes) and the collector's passes
    over them cost a quarter of a plan's time (bench/bench_plan.py); reference counting still frees
    them, and peak memory stays the same (about 165 MB for a 1,000-resource program).
    """
    gc.disable()
    sys.exit(main())
