"""The component's own dev stack passes the pack, and breaking any one control fails it."""

from __future__ import annotations

import pytest
from policy_mutants import MUTANTS, Mutant
from secure_api_policies.verdict import Finding, evaluate, has_mandatory, is_mandatory_violation

from secure_api.plan.harness import PlannedResource
from secure_api.plan.offline import plan_stack

MODES = ("preview", "update")


@pytest.fixture(scope="module")
def baseline() -> dict[str, list[PlannedResource]]:
    """Pulumi.dev.yaml planned in both modes."""
    return {mode: plan_stack("dev", preview=mode == "preview").resources for mode in MODES}


def _mandatory(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.resource_name) for f in findings if is_mandatory_violation(f)}


@pytest.mark.parametrize("mode", MODES)
def test_dev_stack_has_no_mandatory_violation(baseline: dict[str, list[PlannedResource]], mode: str) -> None:
    findings = evaluate(baseline[mode])

    assert _mandatory(findings) == set()
    assert not has_mandatory(findings)


def test_preview_is_undecided_only_where_values_are_unknown(baseline: dict[str, list[PlannedResource]]) -> None:
    undecided = {f.rule for f in evaluate(baseline["preview"]) if f.state == "undecided"}

    assert undecided <= {
        "api-route-authorizer",
        "authorizer-cache-scope",
        "integration-https-backend",
        "resource-policy-no-open-allow",
        "cors-credentials-exact-origin",
        "cors-no-wildcard-with-authorizers",
    }


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_each_mutant_fails_with_a_mandatory_violation_naming_the_resource(
    baseline: dict[str, list[PlannedResource]], mutant: Mutant
) -> None:
    resources = mutant.apply(baseline["update"])
    targets = {resource.urn for resource in resources if resource.type == mutant.target}

    named = {f.urn for f in evaluate(resources) if is_mandatory_violation(f) and f.rule == mutant.rule}

    assert targets
    assert named & targets


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_no_mutant_passes_silently_in_preview(baseline: dict[str, list[PlannedResource]], mutant: Mutant) -> None:
    """With unknown ARNs and bodies the rule either still sees the break or says it cannot decide."""
    findings = [f for f in evaluate(mutant.apply(baseline["preview"])) if f.rule == mutant.rule]

    assert any(is_mandatory_violation(f) or f.state == "undecided" for f in findings)
