"""A REGIONAL or EDGE REST API with no resource policy takes calls from any address, like an open Allow:
`resource-policy-no-open-allow` reports it (accepted when marked), never passes it silently in preview."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pulumi_aws as aws
import pytest
from google.protobuf import json_format
from secure_api_policies.exceptions import marker_key
from secure_api_policies.network import NO_POLICY
from secure_api_policies.verdict import Finding, evaluate, has_mandatory

from secure_api.plan.harness import run_program
from secure_api.plan.offline import plan_stack

MODES = ("preview", "update")
REPO = Path(__file__).resolve().parents[2]
RULE = "resource-policy-no-open-allow"
ONLY = {"all": "disabled", RULE: "mandatory"}
REASON = "public catalogue, rate limited by WAF"
OFFICE_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
                "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}},
            }
        ],
    }
)
BACKEND = {"type": "http", "url": "https://backend.example.com/orders"}


def _regional(name: str, **kwargs: object) -> aws.apigateway.RestApi:
    types = aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL")
    return aws.apigateway.RestApi(name, endpoint_configuration=types, **kwargs)


def _findings(program: Callable[[], None], mode: str, config: dict[str, object] = ONLY) -> list[Finding]:
    plan = run_program(program, config={}, project="raw", stack="test", preview=mode == "preview")
    return evaluate(plan.resources, config)


def _states(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.resource_name, f.state) for f in findings}


def _apis() -> None:
    _regional("bare")
    fenced = _regional("fenced")
    aws.apigateway.RestApiPolicy("fenced", rest_api_id=fenced.id, policy=OFFICE_ONLY)
    _regional("marked", tags={marker_key(RULE): REASON})
    aws.apigateway.RestApi(
        "private", endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="PRIVATE")
    )


@pytest.mark.parametrize("mode", MODES)
def test_an_api_without_a_policy_fails_a_fenced_one_passes_a_marked_one_is_accepted(mode: str) -> None:
    findings = _findings(_apis, mode)

    assert _states(findings) == {("bare", "violation"), ("marked", "accepted")}
    assert {f.message for f in findings} >= {NO_POLICY}
    assert next(f.reason for f in findings if f.state == "accepted") == REASON


@pytest.mark.parametrize("mode", MODES)
def test_a_refused_marker_makes_the_api_without_a_policy_a_violation(mode: str) -> None:
    findings = _findings(_apis, mode, {**ONLY, RULE: {"enforcementLevel": "mandatory", "allowExceptions": False}})

    assert _states(findings) == {("bare", "violation"), ("marked", "violation")}


def _unknown_body() -> None:
    pool = aws.cognito.UserPool("users")
    _regional("computed", body=pool.arn.apply(lambda arn: json.dumps({"openapi": "3.0.1", "info": {"title": arn}})))


def test_an_unknown_body_is_undecided_in_preview_and_decided_by_the_update() -> None:
    assert _states(_findings(_unknown_body, "preview")) == {("computed", "undecided")}
    assert _states(_findings(_unknown_body, "update")) == {("computed", "violation")}


def _unresolved_policy() -> None:
    _regional("maybe-fenced")
    elsewhere = aws.cognito.UserPool("elsewhere")
    aws.apigateway.RestApiPolicy("detached", rest_api_id=elsewhere.id.apply(lambda _: "abc123"), policy=OFFICE_ONLY)


def test_a_policy_whose_api_is_unknown_leaves_an_api_without_its_own_undecided_in_preview() -> None:
    findings = _findings(_unresolved_policy, "preview")

    assert _states(findings) == {("maybe-fenced", "undecided")}
    assert "detached" in findings[0].message
    assert _states(_findings(_unresolved_policy, "update")) == {("maybe-fenced", "violation")}


def test_an_api_whose_policy_and_body_are_known_is_decided_in_preview() -> None:
    assert [f.state for f in _findings(_apis, "preview") if f.resource_name == "fenced"] == []
    assert [f.state for f in _findings(lambda: _regional("bare"), "preview")] == ["violation"]


def test_an_unknown_endpoint_type_of_an_api_without_a_policy_is_undecided() -> None:
    def program() -> None:
        pool = aws.cognito.UserPool("users")
        types = aws.apigateway.RestApiEndpointConfigurationArgs(types=pool.arn.apply(lambda _: "REGIONAL"))
        aws.apigateway.RestApi("unknown-type", endpoint_configuration=types)

    assert _states(_findings(program, "preview")) == {("unknown-type", "undecided")}
    assert _states(_findings(program, "update")) == {("unknown-type", "violation")}


# --- what the component produces


IAM_ONLY_PUBLIC = {
    "routes": [{"path": "/orders", "method": "GET", "auth": "iam", "integration": BACKEND}],
    "network": {"acceptPublicApi": True},
}


def test_the_component_gives_an_api_with_only_iam_routes_and_accept_public_api_no_policy() -> None:
    resources = plan_stack("minimal", preview=False, config=IAM_ONLY_PUBLIC, project_dir=REPO).resources
    api = next(r for r in resources if r.type == "aws:apigateway/restApi:RestApi")
    props = json_format.MessageToDict(api.properties)

    assert props.get("policy") is None
    assert "x-amazon-apigateway-policy" not in json.loads(props["body"])


@pytest.mark.parametrize("mode", MODES)
def test_the_component_s_public_api_without_a_policy_is_an_accepted_exception(mode: str) -> None:
    resources = plan_stack("minimal", preview=mode == "preview", config=IAM_ONLY_PUBLIC, project_dir=REPO).resources
    findings = [f for f in evaluate(resources) if f.rule == RULE]

    assert not has_mandatory(evaluate(resources))
    assert _states(findings) == {("secure-api-api", "accepted")}
    assert findings[0].message == NO_POLICY
    assert "network.acceptPublicApi" in findings[0].reason


@pytest.mark.parametrize("mode", MODES)
def test_the_component_with_source_ranges_always_has_a_policy(mode: str) -> None:
    config = {**IAM_ONLY_PUBLIC, "network": {"allowedSourceCidrs": ["203.0.113.0/24"]}}
    resources = plan_stack("minimal", preview=mode == "preview", config=config, project_dir=REPO).resources

    assert [f for f in evaluate(resources) if f.rule == RULE and f.state != "undecided"] == []
