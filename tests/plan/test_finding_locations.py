"""A finding with a subject points at the key that relaxed that subject, not at the rule's first key.

The pack reports a violation's subject after its message (` [subject: rate-limit]`, the token a scoped
accepted exception names); the plan reads it back into `Finding.subject` and locates the key by it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from secure_api.plan.cli import main
from secure_api.plan.offline import StackFileLoader
from tests.conftest import REPO
from tests.plan.test_state_diff import _project


def _sarif(tmp_path: Path, waf: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    cwd = _project(tmp_path, {"waf": waf})
    refused = tmp_path / "policy.json"
    refused.write_text(json.dumps({"waf-acl-rules": {"allowExceptions": False}}))
    argv = ["plan", "--stack", "dev", "--cwd", str(cwd), "--no-access-matrix", "--format", "sarif"]
    assert main([*argv, "--policy-config", str(refused)]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    return [r for r in results if r["ruleId"] == "waf-acl-rules"]


def _dev_waf() -> dict[str, Any]:
    return dict(yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)["config"]["secure-api:waf"])


@pytest.mark.parametrize(
    ("change", "subject", "key", "fix"),
    [
        ({"rateLimit": {"limit": 1000, "mode": "COUNT"}}, "rate-limit", "mode: COUNT", "set it to BLOCK"),
        (
            {"sqlInjection": "COUNT", "managedRuleGroups": {"AWSManagedRulesSQLiRuleSet": {"enabled": False}}},
            "sqli",
            "sqlInjection: COUNT",
            "set it to BLOCK, or run AWSManagedRulesSQLiRuleSet in BLOCK mode",
        ),
        (
            {"managedRuleGroups": {"AWSManagedRulesCommonRuleSet": {"mode": "COUNT"}}},
            "AWSManagedRulesCommonRuleSet",
            "mode: COUNT",
            "enable it in BLOCK mode",
        ),
    ],
    ids=["rate-limit", "sqli", "group"],
)
def test_a_relaxed_subject_points_at_its_own_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], subject: str, key: str, fix: str
) -> None:
    waf = {**_dev_waf(), **change}
    waf.pop("pathRateLimits")  # a blocking path rate limit counts as the rate-based rule
    (result,) = [r for r in _sarif(tmp_path, waf, capsys) if r["properties"].get("subject") == subject]
    assert "Fix: set `secure-api:" in result["message"]["text"]
    assert result["message"]["text"].endswith(fix)
    line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert key in (tmp_path / "Pulumi.dev.yaml").read_text().splitlines()[line - 1]


def test_fail_on_undecided_fails_the_preview_on_mandatory_rules_that_wait(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The dev stack's preview waits for its OpenAPI body (it embeds the user pool's ARN): five mandatory
    rules are undecided. Without the flag they never fail; with it, the plan fails as the pack's
    `failOnUndecided` makes `pulumi preview` fail."""
    argv = ["plan", "--stack", "dev", "--cwd", str(REPO), "--no-access-matrix"]
    assert main(argv) == 0
    assert "undecided (unknown until the update; not violations" in capsys.readouterr().out.replace("\n", " ").lower()
    assert main([*argv, "--fail-on-undecided"]) == 1
    out = capsys.readouterr().out
    assert "Undecided (unknown until the update; 5 fail the plan (failOnUndecided)" in out
    assert "[mandatory, fails] api-route-authorizer" in out
    assert "[advisory] cors-no-wildcard-with-authorizers" in out  # advisory rules never fail
    assert main([*argv, "--update", "--fail-on-undecided"]) == 0  # nothing waits after the update
