"""One truth: the component's defaults pass the pack, acknowledged relaxations are accepted exceptions,
and the loopholes real programs used (any-address ranges, a fence on one route) are closed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import policy_programs
import pulumi_aws as aws
import pytest
from policy_mutants import _edit_body, edit
from policy_programs import secure_program
from pulumi.runtime import proto
from secure_api_policies import tokens as t
from secure_api_policies.exceptions import ACCEPTED_PREFIX, advisory_reporter, marker_key, scope_key
from secure_api_policies.pack import policies
from secure_api_policies.verdict import (
    Finding,
    analyze_request,
    configure_request,
    evaluate,
    has_mandatory,
    is_mandatory_violation,
    servicer,
)

from secure_api.component.config import ConfigError, parse_config
from secure_api.plan.harness import PlannedResource, run_program
from secure_api.plan.offline import plan_stack

MODES = ("preview", "update")
REPO = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in REPO.glob("Pulumi.*.yaml"))
HELLO = {"path": "/hello", "method": "GET", "integration": {"type": "mock"}}
BACKEND = {"type": "http", "url": "https://backend.example.com/orders"}


def _raw(program: Callable[[], None], mode: str) -> list[PlannedResource]:
    return run_program(program, config={}, project="raw", stack="test", preview=mode == "preview").resources


def _states(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.rule, f.resource_name, f.state) for f in findings}


# --- every default passes every mandatory rule


def test_the_minimal_stack_and_the_examples_are_all_the_stacks() -> None:
    assert {"minimal", "dev", "private"} <= set(STACKS)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_has_no_mandatory_violation(stack: str, mode: str) -> None:
    findings = evaluate(plan_stack(stack, preview=mode == "preview", project_dir=REPO).resources)

    assert [f for f in findings if is_mandatory_violation(f)] == []
    assert not has_mandatory(findings)


@pytest.mark.parametrize("mode", MODES)
def test_one_route_with_its_network_passes_and_is_not_accepted_anything(mode: str) -> None:
    config = {"routes": [HELLO], "network": {"allowedSourceCidrs": ["203.0.113.0/24"]}}
    result = plan_stack("minimal", preview=mode == "preview", config=config, project_dir=REPO)
    findings = evaluate(result.resources)

    assert not has_mandatory(findings)
    assert [f for f in findings if f.state == "accepted"] == []
    assert {f.rule for f in findings if f.state == "violation"} <= {"waf-reputation-lists"}


def test_a_regional_api_must_state_its_networks_or_accept_being_public() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"routes": [HELLO]})

    problems = dict(caught.value.problems)
    assert "network.acceptPublicApi: true" in problems["secure-api:network.allowedSourceCidrs"]
    assert "network.allowedSourceCidrs" in problems["secure-api:network.allowedSourceCidrs"]
    assert parse_config({"routes": [HELLO], "network": {"acceptPublicApi": True}}).network.accept_public_api


@pytest.mark.parametrize(
    "cidrs", [["0.0.0.0/0"], ["::/0", "203.0.113.0/24"], ["0.0.0.0/1", "128.0.0.0/1"], ["0.0.0.0/0", "::/0"]]
)
def test_ranges_that_cover_every_address_are_refused_with_the_key(cidrs: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"routes": [HELLO], "network": {"allowedSourceCidrs": cidrs}})

    message = dict(caught.value.problems)["secure-api:network.allowedSourceCidrs"]
    assert "restricts nobody" in message
    assert "acceptPublicApi" in message


def test_public_api_acknowledgement_contradicting_ranges_is_refused() -> None:
    values = {"routes": [HELLO], "network": {"allowedSourceCidrs": ["203.0.113.0/24"], "acceptPublicApi": True}}
    with pytest.raises(ConfigError) as caught:
        parse_config(values)

    assert "secure-api:network.acceptPublicApi" in dict(caught.value.problems)


# --- any-address conditions and the scope of a fence, in raw policies

ALLOW_ALL = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}


def _deny(resource: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "execute-api:Invoke",
        "Resource": resource,
        "Condition": condition,
    }


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


OUTSIDE_OFFICE = {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}
OUTSIDE_VPCE = {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234"


def _network_program() -> None:
    everyone = {"IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]}}
    aws.apigateway.RestApi("any-address", policy=_policy({**ALLOW_ALL, "Condition": everyone}))
    aws.apigateway.RestApi(
        "deny-everyone-else", policy=_policy(ALLOW_ALL, _deny("*", {"NotIpAddress": everyone["IpAddress"]}))
    )
    aws.apigateway.RestApi("one-room", policy=_policy(ALLOW_ALL, _deny("execute-api:/*/GET/hello", OUTSIDE_OFFICE)))
    aws.apigateway.RestApi("whole-api", policy=_policy(ALLOW_ALL, _deny(f"{ARN}/*", OUTSIDE_OFFICE)))
    aws.apigateway.RestApi(
        "stage-wide",
        policy=_policy({**ALLOW_ALL, "Resource": f"{ARN}/v1/GET/*"}, _deny("execute-api:/v1/*", OUTSIDE_OFFICE)),
    )
    private = aws.apigateway.RestApiEndpointConfigurationArgs(types="PRIVATE")
    aws.apigateway.RestApi(
        "private-one-room",
        endpoint_configuration=private,
        policy=_policy(ALLOW_ALL, _deny("execute-api:/*/POST/*", OUTSIDE_VPCE)),
    )
    aws.apigateway.RestApi(
        "private-whole",
        endpoint_configuration=private,
        policy=_policy(ALLOW_ALL, _deny("execute-api:/*", OUTSIDE_VPCE)),
    )


@pytest.mark.parametrize("mode", MODES)
def test_any_address_is_no_condition_and_a_fence_covers_only_its_routes(mode: str) -> None:
    config = {"all": "disabled", "resource-policy-no-open-allow": "mandatory", "private-api-vpce-policy": "mandatory"}
    findings = evaluate(_raw(_network_program, mode), config)

    assert _states(findings) == {
        ("resource-policy-no-open-allow", "any-address", "violation"),
        ("resource-policy-no-open-allow", "deny-everyone-else", "violation"),
        ("resource-policy-no-open-allow", "one-room", "violation"),
        ("resource-policy-no-open-allow", "private-one-room", "violation"),
        ("private-api-vpce-policy", "private-one-room", "violation"),
    }


# --- the WAF baseline


@pytest.mark.parametrize("mode", MODES)
def test_a_secure_raw_stack_without_the_anonymous_ip_list_has_no_mandatory_finding(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups = tuple(g for g in policy_programs.MANAGED_GROUPS if g != "AWSManagedRulesAnonymousIpList")
    monkeypatch.setattr(policy_programs, "MANAGED_GROUPS", groups)

    findings = evaluate(_raw(secure_program, mode))

    assert not has_mandatory(findings)
    assert {(f.rule, f.level, f.state) for f in findings if f.state != "undecided"} == {
        ("waf-reputation-lists", "advisory", "violation")
    }


# --- accepted exceptions, from the component

RELAXED: dict[str, Any] = {
    "routes": [
        {"path": "/orders", "method": "GET", "integration": BACKEND},
        {"path": "/status", "method": "GET", "auth": "none", "allowUnauthenticated": True, "integration": BACKEND},
        {
            "path": "/hook",
            "method": "POST",
            "auth": "none",
            "apiKeyRequired": True,
            "allowUnauthenticated": True,
            "allowApiKeyOnly": True,
            "integration": BACKEND,
        },
    ],
    "usagePlans": [
        {"name": "partners", "throttle": {"rateLimit": 10, "burstLimit": 20}, "quota": {"limit": 1000, "period": "DAY"}}
    ],
    "network": {"acceptPublicApi": True},
    "cognito": {
        "mfa": "OPTIONAL",
        "threatProtection": "AUDIT",
        "deletionProtection": False,
        "appClients": [
            {"name": "legacy", "explicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"], "allowPasswordAuth": True},
            {"name": "web"},
        ],
    },
    "waf": {
        "rateLimit": {"mode": "COUNT"},
        "sqlInjection": "COUNT",
        "managedRuleGroups": {
            "AWSManagedRulesSQLiRuleSet": {"enabled": False},
            "AWSManagedRulesAmazonIpReputationList": {"enabled": False},
        },
    },
    "observability": {"kmsEncryption": False},
}
ACCEPTED_IN_UPDATE = {
    ("api-route-authorizer", "secure-api-api"),
    ("resource-policy-no-open-allow", "secure-api-api"),
    ("cognito-mfa", "secure-api-users"),
    ("cognito-threat-protection", "secure-api-users"),
    ("cognito-deletion-protection", "secure-api-users"),
    ("cognito-client-no-password-flows", "secure-api-client-legacy"),
    ("waf-acl-rules", "secure-api-waf"),
    ("waf-reputation-lists", "secure-api-waf"),
    ("log-group-kms", "secure-api-access-logs"),
}
NO_WAF = {
    "routes": [HELLO],
    "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
    "waf": {"enabled": False, "acceptNoWaf": True},
}


@pytest.fixture(scope="module")
def relaxed() -> dict[str, list[PlannedResource]]:
    plans = {mode: plan_stack("minimal", preview=mode == "preview", config=RELAXED, project_dir=REPO) for mode in MODES}
    return {mode: plan.resources for mode, plan in plans.items()}


@pytest.mark.parametrize("mode", MODES)
def test_each_acknowledgement_is_an_accepted_exception_with_its_reason(
    relaxed: dict[str, list[PlannedResource]], mode: str
) -> None:
    findings = evaluate(relaxed[mode])
    accepted = {(f.rule, f.resource_name) for f in findings if f.state == "accepted"}

    assert not has_mandatory(findings)
    assert [f for f in findings if f.state == "violation" and f.rule != "waf-reputation-lists"] == []
    if mode == "update":
        assert accepted >= ACCEPTED_IN_UPDATE
    else:  # the resource policy and the body embed ARNs: unknown until the update
        assert (
            ACCEPTED_IN_UPDATE
            - {
                ("api-route-authorizer", "secure-api-api"),
                ("resource-policy-no-open-allow", "secure-api-api"),
            }
            <= accepted
        )
    reasons = {f.rule: f.reason for f in findings if f.state == "accepted"}
    assert reasons["cognito-mfa"] == "cognito.mfa OPTIONAL"
    assert reasons["cognito-client-no-password-flows"] == "cognito.appClients allowPasswordAuth: legacy"
    assert "rateLimit COUNT" in reasons["waf-acl-rules"]


def test_each_acknowledgement_is_also_a_plan_warning() -> None:
    warnings = " ".join(plan_stack("minimal", preview=True, config=RELAXED, project_dir=REPO).warnings)

    for key in (
        "allowUnauthenticated",
        "allowApiKeyOnly",
        "network.acceptPublicApi",
        "cognito.mfa is OPTIONAL",
        "cognito.threatProtection is AUDIT",
        "cognito.deletionProtection is off",
        "allowPasswordAuth",
        "rateLimit is in COUNT mode",
        "sqlInjection is in COUNT mode",
        "AWSManagedRulesSQLiRuleSet is disabled",
        "AWSManagedRulesAmazonIpReputationList is disabled",
        "observability.kmsEncryption is off",
    ):
        assert key in warnings


def test_routes_are_accepted_one_by_one(relaxed: dict[str, list[PlannedResource]]) -> None:
    routes = [f for f in evaluate(relaxed["update"]) if f.rule == "api-route-authorizer"]

    assert {(f.message, f.state) for f in routes} == {
        ("GET /status has no authorizer", "accepted"),
        ("POST /hook is protected by an API key alone", "accepted"),
    }
    assert {f.reason for f in routes} == {"routes allowUnauthenticated GET /status. allowApiKeyOnly POST /hook"}


def test_a_scoped_marker_accepts_only_what_the_config_relaxed(relaxed: dict[str, list[PlannedResource]]) -> None:
    """The web ACL accepts its rate rule and SQLi in COUNT; a Common group dropped later is a violation."""

    def drop_common(props: dict[str, Any]) -> None:
        props["rules"] = [r for r in props["rules"] if r.get("name") != "AWSManagedRulesCommonRuleSet"]

    def public_admin(body: dict[str, Any]) -> None:
        body["paths"]["/orders"]["get"]["security"] = []

    resources = edit(t.WEB_ACL, drop_common)(relaxed["update"])
    resources = edit(t.REST_API, _edit_body(public_admin))(resources)
    findings = [f for f in evaluate(resources) if f.rule in ("waf-acl-rules", "api-route-authorizer")]

    assert {(f.message.split(" (")[0], f.state) for f in findings} == {
        ("web ACL secure-api-waf lacks a blocking rate-based rule", "accepted"),
        ("web ACL secure-api-waf lacks SQL injection protection", "accepted"),
        ("web ACL secure-api-waf lacks AWSManagedRulesCommonRuleSet", "violation"),
        ("GET /status has no authorizer", "accepted"),
        ("POST /hook is protected by an API key alone", "accepted"),
        ("GET /orders has no authorizer", "violation"),
    }


@pytest.mark.parametrize("mode", MODES)
def test_waf_off_is_accepted(mode: str) -> None:
    findings = evaluate(plan_stack("minimal", preview=mode == "preview", config=NO_WAF, project_dir=REPO).resources)

    assert ("waf-stage-association", "secure-api-stage", "accepted") in _states(findings)
    assert not has_mandatory(findings)


@pytest.mark.parametrize(
    "refusal",
    [{"all": {"allowExceptions": False}}, {"all": {"enforcementLevel": "mandatory", "allowExceptions": False}}],
)
def test_a_pack_config_that_refuses_exceptions_makes_them_violations(
    relaxed: dict[str, list[PlannedResource]], refusal: dict[str, Any]
) -> None:
    findings = evaluate(relaxed["update"], refusal)

    assert [f for f in findings if f.state == "accepted"] == []
    assert {(f.rule, f.resource_name) for f in findings if f.state == "violation"} >= ACCEPTED_IN_UPDATE
    assert has_mandatory(findings)


def test_exceptions_can_be_refused_for_one_rule(relaxed: dict[str, list[PlannedResource]]) -> None:
    findings = evaluate(relaxed["update"], {"cognito-mfa": {"allowExceptions": False}})

    assert {(f.rule, f.state) for f in findings if f.state == "violation" and f.level == "mandatory"} == {
        ("cognito-mfa", "violation")
    }
    assert ("cognito-threat-protection", "secure-api-users", "accepted") in _states(findings)


def test_the_markers_are_tags_on_the_resources(relaxed: dict[str, list[PlannedResource]]) -> None:
    tags = {
        r.name: r.inputs.get("tags", {})
        for r in relaxed["update"]
        if r.name in ("secure-api-api", "secure-api-users", "secure-api-waf")
    }

    assert tags["secure-api-users"][marker_key("cognito-mfa")] == "cognito.mfa OPTIONAL"
    assert tags["secure-api-users"][scope_key("cognito-client-no-password-flows")] == "secure-api-client-legacy"
    assert tags["secure-api-api"][scope_key("api-route-authorizer")] == "GET /status + POST /hook"
    assert tags["secure-api-waf"][scope_key("waf-acl-rules")] == "rate-limit + sqli"
    assert all(len(value) <= 256 for found in tags.values() for value in found.values())


def test_reserved_tag_prefixes_and_the_tag_limit_are_config_errors() -> None:
    base = {"routes": [HELLO], "network": {"allowedSourceCidrs": ["203.0.113.0/24"]}}
    with pytest.raises(ConfigError) as reserved:
        parse_config({**base, "api": {"tags": {marker_key("cognito-mfa"): "mine"}}})
    with pytest.raises(ConfigError) as crowded:
        parse_config(
            {
                **base,
                "cognito": {"mfa": "OPTIONAL"},
                "routes": [{**HELLO, "integration": BACKEND}],
                "api": {"tags": {f"t{i}": "x" for i in range(49)}},
            }
        )

    assert "secure-api:api.tags" in dict(reserved.value.problems)
    assert "50 tags" in dict(crowded.value.problems)["secure-api:api.tags"]


# --- accepted exceptions, in any Pulumi program


def _marked_program() -> None:
    pool = aws.cognito.UserPool(
        "users",
        mfa_configuration="OPTIONAL",
        deletion_protection="ACTIVE",
        tags={
            marker_key("cognito-mfa"): "legacy mobile app has no TOTP until Q3",
            marker_key("cognito-client-no-password-flows"): "migration from the old IdP",
            scope_key("cognito-client-no-password-flows"): "migration",
        },
    )
    for name in ("migration", "other"):
        aws.cognito.UserPoolClient(name, user_pool_id=pool.id, explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"])
    body = {
        "openapi": "3.0.1",
        "paths": {
            "/health": {
                "get": {"security": [], "x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "https://b"}}
            },
            "/admin": {
                "get": {"security": [], "x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "https://b"}}
            },
        },
    }
    tags = {
        marker_key("api-route-authorizer"): "load balancer health check",
        scope_key("api-route-authorizer"): "GET /health",
    }
    aws.apigateway.RestApi("body", body=json.dumps(body), tags=tags)
    api = aws.apigateway.RestApi("methods", tags={marker_key("api-route-authorizer"): "public catalogue"})
    aws.apigateway.Method(
        "catalogue", rest_api=api.id, resource_id=api.root_resource_id, http_method="GET", authorization="NONE"
    )
    # A preflight that reaches a backend is a violation of its own, marked through the same API.
    options = aws.apigateway.Method(
        "catalogue-options",
        rest_api=api.id,
        resource_id=api.root_resource_id,
        http_method="OPTIONS",
        authorization="NONE",
    )
    aws.apigateway.Integration(
        "catalogue-options-proxy",
        rest_api=api.id,
        resource_id=api.root_resource_id,
        http_method=options.http_method,
        type="HTTP_PROXY",
        integration_http_method="OPTIONS",
        uri="https://backend.example.com/catalogue",
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_raw_program_marks_resources_the_same_way(mode: str) -> None:
    rules = ("cognito-mfa", "cognito-client-no-password-flows", "api-route-authorizer")
    findings = evaluate(_raw(_marked_program, mode), {"all": "disabled", **dict.fromkeys(rules, "mandatory")})

    assert {(f.rule, f.resource_name, f.state, f.reason) for f in findings} == {
        ("cognito-mfa", "users", "accepted", "legacy mobile app has no TOTP until Q3"),
        ("cognito-client-no-password-flows", "migration", "accepted", "migration from the old IdP"),
        ("cognito-client-no-password-flows", "other", "violation", ""),
        ("api-route-authorizer", "body", "accepted", "load balancer health check"),
        ("api-route-authorizer", "body", "violation", ""),
        ("api-route-authorizer", "catalogue", "accepted", "public catalogue"),
        ("api-route-authorizer", "catalogue-options", "accepted", "public catalogue"),
    }


def test_a_reporter_the_pack_cannot_read_reports_at_the_rules_level() -> None:
    """Fails closed: if pulumi_policy built its reporter differently, nothing would be accepted silently."""

    def report(message: str, urn: str | None = None) -> None:
        del message, urn

    assert advisory_reporter(report) is report


def test_the_analyzer_reports_an_accepted_exception_as_an_advisory_with_its_reason() -> None:
    """What `pulumi preview --policy-pack` shows: the marked violation at advisory level."""
    pool = next(r for r in _raw(_marked_program, "update") if r.name == "users")
    analyzer = servicer(policies(), configure_request(None))

    diagnostics = [
        d for d in analyzer.Analyze(analyze_request(pool), None).diagnostics if d.policyName == "cognito-mfa"
    ]

    assert [d.enforcementLevel for d in diagnostics] == [proto.ADVISORY]
    message = diagnostics[0].message.split("\n", 1)[1]
    assert message.startswith(f"{ACCEPTED_PREFIX} ({marker_key('cognito-mfa')}): MFA is OPTIONAL")
    assert message.endswith("\nreason: legacy mobile app has no TOTP until Q3")
