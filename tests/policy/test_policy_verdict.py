"""The offline verdict: same answers as the CLI's analyzer, preview-safe, configurable, three formats."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import grpc
import pulumi_aws as aws
import pytest
from google.protobuf import empty_pb2
from policy_programs import INSECURE_VIOLATIONS, insecure_program, secure_program
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from secure_api_policies import RULES, policies
from secure_api_policies import tokens as t
from secure_api_policies.exceptions import accepted_message
from secure_api_policies.model import UNDECIDED_PREFIX
from secure_api_policies.verdict import (
    SEVERITIES,
    Finding,
    analyze_request,
    analyze_stack_request,
    classify,
    configure_request,
    evaluate,
    findings_of,
    has_mandatory,
    render_json,
    render_sarif,
    render_text,
    servicer,
)

from secure_api.plan.harness import PlannedResource, run_program
from secure_api.plan.offline import plan_stack

REPO = Path(__file__).resolve().parents[2]
BODY_RULES = {
    "api-route-authorizer",
    "authorizer-cache-scope",
    "cors-credentials-exact-origin",
    "integration-https-backend",
    "resource-policy-no-open-allow",  # the body may carry x-amazon-apigateway-policy
}
"""Rules that read a body the program computed; the TLS rules read a security policy it never set."""
# Stack rules that read the body: their undecided finding names the stack, not the API.
BODY_STACK_RULES = {"cors-no-wildcard-with-authorizers"}


def _plan(program: object, mode: str) -> list[PlannedResource]:
    return run_program(program, config={}, project="raw", stack="dev", preview=mode == "preview").resources


def _pairs(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.resource_name) for f in findings if f.state != "undecided"}


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_raw_insecure_program_is_flagged_on_every_control(mode: str) -> None:
    findings = evaluate(_plan(insecure_program, mode))

    assert _pairs(findings) == INSECURE_VIOLATIONS
    assert not [f for f in findings if f.state != "violation"]
    assert has_mandatory(findings)


def test_raw_secure_program_passes_in_update() -> None:
    assert evaluate(_plan(secure_program, "update")) == []


def test_raw_secure_program_in_preview_is_only_undecided_on_its_unknown_body() -> None:
    """The body embeds the authorizer's and pool's ARNs, so it is unknown; nothing else is."""
    findings = evaluate(_plan(secure_program, "preview"))

    assert {(f.rule, f.resource_name, f.state, f.level) for f in findings} == {
        *((rule, "orders", "undecided", "mandatory") for rule in BODY_RULES),
        *((rule, "", "undecided", "advisory") for rule in BODY_STACK_RULES),
    }
    assert not has_mandatory(findings)


def _single_servicer(resources: list[PlannedResource]) -> list[Finding]:
    """What the CLI gets from the pack's one analyzer: every policy on every resource."""
    analyzer = servicer(policies(), configure_request(None))
    index = {resource.urn: resource for resource in resources}
    levels = {meta.id: meta.enforcement.value for meta in RULES}
    found = []
    for resource in resources:
        found += findings_of(analyzer.Analyze(analyze_request(resource), None), resource.urn, index, levels)
    found += findings_of(analyzer.AnalyzeStack(analyze_stack_request(resources), None), "", index, levels)
    return found


@pytest.mark.parametrize("mode", ["preview", "update"])
@pytest.mark.parametrize("program", [insecure_program, secure_program], ids=["insecure", "secure"])
def test_routing_by_type_gives_the_single_analyzers_findings(program: object, mode: str) -> None:
    resources = _plan(program, mode)

    assert sorted(evaluate(resources), key=repr) == sorted(_single_servicer(resources), key=repr)


def _unlinked(resources: list[PlannedResource], type_: str) -> list[PlannedResource]:
    return [replace(r, dependencies=(), property_dependencies={}) if r.type == type_ else r for r in resources]


def test_unknown_reference_the_graph_cannot_resolve_is_undecided_not_passed() -> None:
    resources = _unlinked(_plan(secure_program, "preview"), t.WEB_ACL_ASSOCIATION)

    association = [f for f in evaluate(resources) if f.rule == "waf-stage-association"]

    assert [(f.state, f.level) for f in association] == [("undecided", "mandatory")]


def _preflight_program(kind: Callable[[aws.apigateway.RestApi], object] = lambda _api: "MOCK") -> None:
    """An OPTIONS method without an authorizer and its integration, of type `kind(api)`."""
    api = aws.apigateway.RestApi("preflights")
    method = aws.apigateway.Method(
        "preflight", rest_api=api.id, resource_id=api.root_resource_id, http_method="OPTIONS", authorization="NONE"
    )
    aws.apigateway.Integration(
        "preflight-mock",
        rest_api=api.id,
        resource_id=api.root_resource_id,
        http_method=method.http_method,
        type=kind(api),
    )


def _route_findings(resources: list[PlannedResource]) -> list[tuple[str, str, str]]:
    findings = evaluate(resources, {"all": "disabled", "api-route-authorizer": "mandatory"})
    return [(f.resource_name, f.state, f.level) for f in findings]


def test_an_options_method_whose_integration_is_unknown_is_undecided_in_preview_not_passed() -> None:
    unlinked = _unlinked(_plan(_preflight_program, "preview"), t.INTEGRATION)
    unknown_type = _plan(lambda: _preflight_program(lambda api: api.id.apply(lambda _: "MOCK")), "preview")

    assert _route_findings(unlinked) == [("preflight", "undecided", "mandatory")]
    assert _route_findings(unknown_type) == [("preflight", "undecided", "mandatory")]
    # The update knows the values: the MOCK integration is found by them, and the preflight passes.
    assert _route_findings(_unlinked(_plan(_preflight_program, "update"), t.INTEGRATION)) == []


def test_links_fall_back_to_dependencies_when_no_property_dependencies_are_sent() -> None:
    resources = [replace(r, property_dependencies={}) for r in _plan(secure_program, "preview")]

    assert {f.rule for f in evaluate(resources)} == BODY_RULES | BODY_STACK_RULES


def test_config_thresholds_and_levels_reach_the_rules() -> None:
    secure = _plan(secure_program, "update")
    insecure = _plan(insecure_program, "update")
    stricter = {"log-group-retention": {"minRetentionDays": 400}, "cognito-password-policy": {"minimumLength": 16}}

    tightened = _pairs(evaluate(secure, stricter))
    advisory = evaluate(insecure, {"all": "advisory"})
    disabled = _pairs(evaluate(insecure, {"waf-acl-rules": "disabled"}))

    assert tightened == {
        ("log-group-retention", "access-logs"),
        ("log-group-retention", "waf-logs"),
        ("cognito-password-policy", "users"),
    }
    assert {f.level for f in advisory} == {"advisory"}
    assert not has_mandatory(advisory)
    assert disabled == INSECURE_VIOLATIONS - {("waf-acl-rules", "orders")}


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_remediate_rule_is_enforced_and_shown_as_mandatory(mode: str) -> None:
    # The pack's rules validate and never transform: a violation under `remediate` persists, and
    # pulumi_policy reports it as mandatory. It is neither dropped nor shown as disabled.
    insecure = _plan(insecure_program, mode)
    secure = _plan(secure_program, mode)
    config = {"all": "remediate"}

    remediated = [f for f in evaluate(insecure, config) if f.state == "violation"]

    assert _pairs(remediated) == _pairs(evaluate(insecure, {"all": "mandatory"}))
    assert remediated
    assert {f.level for f in remediated} == {"mandatory"}
    assert has_mandatory(remediated)
    assert not has_mandatory(evaluate(secure, config))


@pytest.mark.parametrize(
    "config", [{"no-such-rule": "disabled"}, {"log-group-retention": {"days": 1}}, {"cognito-mfa": "sometimes"}]
)
def test_config_mistakes_are_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="policy config"):
        evaluate([], config)


@pytest.fixture(scope="module")
def insecure_findings() -> list[Finding]:
    return evaluate(_plan(insecure_program, "update"))


def test_text_groups_findings_by_severity(insecure_findings: list[Finding]) -> None:
    text = render_text(insecure_findings)
    headers = [line for line in text.splitlines() if line.strip().lower() in SEVERITIES]

    assert headers == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    assert text.splitlines()[0].endswith(
        "33 mandatory, 4 advisory, 0 undecided (unknown until the update), 0 accepted exception(s)"
    )
    assert "[mandatory] domain-tls-policy  api (aws:apigateway/domainName:DomainName)" in text


def test_json_lists_every_finding(insecure_findings: list[Finding]) -> None:
    document = json.loads(render_json(insecure_findings))

    assert document["summary"] == {"mandatory": 33, "advisory": 4, "undecided": 0, "accepted": 0}
    assert {(f["rule"], f["resource_name"]) for f in document["findings"]} == INSECURE_VIOLATIONS


def test_sarif_has_what_github_code_scanning_requires(insecure_findings: list[Finding]) -> None:
    sarif = json.loads(render_sarif(insecure_findings, artifact_uri="Pulumi.dev.yaml"))
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]

    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"].endswith("sarif-2.1.0.json")
    assert run["tool"]["driver"]["name"] == "secure-api-gateway"
    assert [rule["id"] for rule in rules] == [meta.id for meta in RULES]
    assert all(0 < float(rule["properties"]["security-severity"]) < 10 for rule in rules)
    assert len(run["results"]) == len(insecure_findings)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning"}
        assert result["message"]["text"]
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.dev.yaml"
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("urn:pulumi:")
        assert result["partialFingerprints"]
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert ("log-group-kms", "warning") in levels
    assert ("domain-tls-policy", "error") in levels


def test_the_pack_runs_as_the_cli_runs_it() -> None:
    """`pulumi preview --policy-pack policy` starts `python -m pulumi.policy <engine> policy`."""
    pack = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:0", str(REPO / "policy")],
        cwd="/",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        port = int(pack.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            pool = run_program(
                lambda: __import__("pulumi_aws").cognito.UserPool("users"),
                config={},
                project="raw",
                stack="dev",
                preview=True,
            ).resources[0]
            response = analyzer.Analyze(analyze_request(pool), timeout=30)
    finally:
        pack.terminate()
        pack.wait(timeout=30)

    assert info.name == "secure-api-gateway"
    assert [p.name for p in info.policies] == [meta.id for meta in RULES]
    assert {p.name: p.enforcementLevel for p in info.policies}["log-group-kms"] == proto.ADVISORY
    assert {d.policyName for d in response.diagnostics} == {
        "cognito-password-policy",
        "cognito-mfa",
        "cognito-deletion-protection",
    }


def test_classify_reads_each_state_from_a_diagnostic() -> None:
    """pulumi_policy prefixes the rule's description; undecided and accepted findings are advisories."""
    description = "Every stage has a web ACL."
    accepted = accepted_message("waf-stage-association", "stage v1 has no web ACL", "waf.acceptNoWaf: dev only")
    unknown = "string value at .body can't be known during preview"

    assert classify(f"{description}\nstage v1 has no web ACL", description) == (
        "violation",
        "",
        "stage v1 has no web ACL",
    )
    assert classify(f"{description}\n{accepted}", description) == (
        "accepted",
        "waf.acceptNoWaf: dev only",
        "stage v1 has no web ACL",
    )
    assert classify(f"{description}\n{UNDECIDED_PREFIX}{unknown}", description) == ("undecided", "", unknown)
    assert classify(f"can't run policy 'api-route-authorizer' during preview: {unknown}") == ("undecided", "", unknown)


NO_WAF = {
    "routes": [{"path": "/hello", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}],
    "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
    "waf": {"enabled": False, "acceptNoWaf": True},
}


@pytest.fixture(scope="module")
def no_waf() -> list[PlannedResource]:
    return plan_stack("minimal", preview=False, config=NO_WAF, project_dir=REPO).resources


def test_accepted_exceptions_render_in_every_format(no_waf: list[PlannedResource]) -> None:
    findings = evaluate(no_waf)
    accepted = [f for f in findings if f.state == "accepted"]
    assert {f.rule for f in accepted} >= {"waf-stage-association"}
    assert all(f.level == meta.enforcement.value for f in accepted for meta in RULES if meta.id == f.rule)
    assert not has_mandatory(findings)

    text = render_text(findings, preview=False)
    section = text.split("Accepted exceptions")[1]
    assert "[accepted] waf-stage-association  " in section
    assert "reason: waf.acceptNoWaf: " in section
    assert text.splitlines()[0].endswith(f"{len(accepted)} accepted exception(s)")

    document = json.loads(render_json(findings))
    stage = [f for f in document["findings"] if f["rule"] == "waf-stage-association"]
    assert [(f["state"], f["level"]) for f in stage] == [("accepted", "mandatory")]
    assert stage[0]["reason"].startswith("waf.acceptNoWaf: ")
    assert document["summary"]["accepted"] == len(accepted)

    results = json.loads(render_sarif(findings))["runs"][0]["results"]
    (result,) = [r for r in results if r["ruleId"] == "waf-stage-association"]
    assert (result["kind"], result["level"], result["properties"]["state"]) == ("fail", "error", "accepted")
    assert result["suppressions"] == [{"kind": "external", "status": "accepted", "justification": stage[0]["reason"]}]


@pytest.mark.parametrize(
    ("everyone", "levels"),
    [
        ({"allowExceptions": False}, {"mandatory"}),
        ({"enforcementLevel": "advisory", "allowExceptions": False}, {"advisory"}),
    ],
)
def test_all_as_an_object_sets_the_level_and_refuses_exceptions(
    no_waf: list[PlannedResource], everyone: dict[str, object], levels: set[str]
) -> None:
    findings = [f for f in evaluate(no_waf, {"all": everyone}) if f.rule == "waf-stage-association"]

    assert findings
    assert {(f.state, f.reason) for f in findings} == {("violation", "")}
    assert {f.level for f in findings} == levels


def _everyone_program() -> None:
    api = aws.apigateway.RestApi("api")
    aws.lambda_.Permission(
        "everyone",
        action="lambda:InvokeFunction",
        function="fn",
        principal="*",
        source_account=api.id.apply(lambda _: "123456789012"),
    )


def test_a_permission_to_every_principal_scoped_by_a_computed_value_is_undecided_in_preview_not_passed() -> None:
    config = {"all": "disabled", "lambda-permission-source-arn": "mandatory"}

    preview = evaluate(_plan(_everyone_program, "preview"), config)

    assert [(f.resource_name, f.state) for f in preview] == [("everyone", "undecided")]
    assert "sourceAccount" in preview[0].message
    assert evaluate(_plan(_everyone_program, "update"), config) == []
