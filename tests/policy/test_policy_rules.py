"""Every rule, compliant and non-compliant, through the analyzer service in preview and update mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from policy_cases import CASES
from secure_api_policies import RULES
from secure_api_policies.verdict import Finding, evaluate

from secure_api.plan.harness import run_program

MODES = ("preview", "update")


def _only(rule: str) -> dict[str, str]:
    """Pack config that runs `rule` at its default level and disables every other rule."""
    level = next(meta.enforcement.value for meta in RULES if meta.id == rule)
    return {"all": "disabled", rule: level}


def _verdict(program: Callable[[], object], rule: str, mode: str) -> list[Finding]:
    plan = run_program(program, config={}, project="cases", stack="test", preview=mode == "preview")
    return evaluate(plan.resources, _only(rule))


def test_every_rule_has_a_case() -> None:
    assert set(CASES) == {meta.id for meta in RULES}


def test_the_docs_list_every_rule_with_its_level_and_the_readme_counts_them() -> None:
    root = Path(__file__).resolve().parents[2]
    rows = {
        line.split("|")[1].strip().strip("`"): line.split("|")[5].strip()
        for line in (root / "docs" / "policy.md").read_text().splitlines()
        if line.startswith("| `") and line.count("|") >= 8  # the rule table's rows, not the other tables'
    }
    assert rows == {meta.id: meta.enforcement.value for meta in RULES}
    mandatory = sum(meta.enforcement.value == "mandatory" for meta in RULES)
    assert f"{len(RULES)} rules ({mandatory} mandatory)" in (root / "README.md").read_text()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rule", sorted(CASES))
def test_compliant_program_passes(rule: str, mode: str) -> None:
    assert _verdict(CASES[rule].compliant, rule, mode) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rule", sorted(CASES))
def test_violating_program_is_flagged_on_each_resource(rule: str, mode: str) -> None:
    findings = _verdict(CASES[rule].violating, rule, mode)
    expected_level = next(meta.enforcement.value for meta in RULES if meta.id == rule)

    assert {(f.rule, f.resource_name) for f in findings} == {(rule, name) for name in CASES[rule].violators}
    assert {(f.level, f.state) for f in findings} == {(expected_level, "violation")}
