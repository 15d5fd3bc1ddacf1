"""`secure-api requests`: evaluate request cases against the planned stack and check their expectations.

The stack is planned as `pulumi up` would leave it (update mode on the mock provider): a request
meets a deployed API, and in a preview the API's OpenAPI body and every id are still unknown.

Exit status: 0 every expectation holds; 1 one does not; 2 an invalid case file, project, stack or
program (the message names the key at fault).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .authorizers import UnknownNameError
from .cases import Case, CaseFileError, load_cases, mismatches
from .pipeline import Gateway
from .request import Result
from .resources import StackModelError
from .stack import load

EXIT_EXPECTATION_FAILED = 1
EXIT_BAD_INPUT = 2
CASE_INTERVAL_SECONDS = 1.0


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "requests",
        help="evaluate request cases through every layer of the planned stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="YAML or JSON list of cases (see the README)")
    parser.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml (default: the only stack file)")
    parser.add_argument(
        "--cwd", type=Path, default=None, help="run as if started in DIR: the project is at or above it"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


class RequestsError(Exception):
    """Bad input for `secure-api requests` (exit 2)."""


def evaluate_cases(gateway: Gateway, cases: list[Case]) -> list[tuple[Case, Result, list[str]]]:
    """Each case's answer (the last of its `repeat`), on one gateway whose clock advances case by case."""
    answers = []
    clock = 0.0
    for case in cases:
        clock = case.at if case.at is not None else clock + CASE_INTERVAL_SECONDS
        try:
            result = gateway.evaluate(case.request, now=clock, copies=case.repeat)
        except UnknownNameError as error:
            raise RequestsError(f"case {case.name!r}: {error}") from None
        answers.append((case, result, mismatches(case.expect, result)))
    return answers


def render(answers: list[tuple[Case, Result, list[str]]], fmt: str) -> str:
    if fmt == "json":
        document = {
            "cases": [
                {
                    "name": case.name,
                    "status": result.status,
                    "layer": result.layer,
                    "reason": result.reason,
                    "headers": dict(result.headers),
                    "ok": None if case.expect is None else not problems,
                    "notEvaluated": list(result.not_evaluated),
                    "accessLog": result.access_log,
                }
                for case, result, problems in answers
            ],
            "error": None,
        }
        return json.dumps(document, indent=2)
    lines = []
    for case, result, problems in answers:
        mark = "    " if case.expect is None else ("ok  " if not problems else "FAIL")
        lines.append(f"{mark} {case.name}: {result.status} [{result.layer}] {result.reason}")
        lines += [f"       expected: {p}" for p in problems]
    passed = sorted({note for _, result, _ in answers for note in result.not_evaluated})
    if passed:
        lines.append("passed without being judged offline (a live request may still be stopped here):")
        lines += [f"  - {note}" for note in passed]
    failed = sum(1 for _, _, p in answers if p)
    checked = sum(1 for c, _, _ in answers if c.expect is not None)
    lines.append(f"{len(answers)} case(s), {checked} with expectations, {failed} failed")
    return "\n".join(lines)


def run(args: argparse.Namespace, plan: Any) -> tuple[str, int]:
    """(output, exit status); `plan(args)` plans the project's stack in update mode (the CLI's runner)."""
    try:
        cases = load_cases(args.file)
    except CaseFileError as error:
        raise RequestsError(str(error)) from None
    outcome = plan(args)
    try:
        gateway = Gateway(load(outcome.result.resources))
    except StackModelError as error:
        raise RequestsError(str(error)) from None
    try:
        answers = evaluate_cases(gateway, cases)
    finally:
        gateway.close()
    code = EXIT_EXPECTATION_FAILED if any(problems for _, _, problems in answers) else 0
    return render(answers, args.format), code
