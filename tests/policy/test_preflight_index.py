"""Preflights in a big hand-written REST API: each OPTIONS method is judged by its own integration only.

`auth._ResourceIndex` compares a method only with the integrations that may share its `resourceId`
(bench/bench_policy.py: 1,000 preflights in 0.4 s of preview, where every pair was compared before). The
verdicts must be the ones a pair-by-pair comparison gives, in preview (ids unknown) and update.
"""

from __future__ import annotations

import pulumi_aws as aws
import pytest
from secure_api_policies.verdict import evaluate

from secure_api.plan.harness import run_program

RULE = "api-route-authorizer"


def _program(count: int, backend: int, via_method: int) -> None:
    api = aws.apigateway.RestApi("api", endpoint_configuration={"types": "REGIONAL"})
    for index in range(count):
        resource = aws.apigateway.Resource(
            f"path-{index}", rest_api=api.id, parent_id=api.root_resource_id, path_part=f"p{index}"
        )
        method = aws.apigateway.Method(
            f"options-{index}", rest_api=api.id, resource_id=resource.id, http_method="OPTIONS", authorization="NONE"
        )
        kind = "HTTP_PROXY" if index == backend else "MOCK"
        aws.apigateway.Integration(
            f"integration-{index}",
            rest_api=api.id,
            # One integration takes its resource from the method: only a pair-by-pair look can tie it.
            resource_id=method.resource_id if index == via_method else resource.id,
            http_method=method.http_method,
            type=kind,
            integration_http_method="OPTIONS" if kind == "HTTP_PROXY" else None,
            uri="https://backend.example.com/options" if kind == "HTTP_PROXY" else None,
        )


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize("backend", [0, 17, 23, 39])  # 23: the integration tied through its method
def test_only_the_preflight_whose_own_integration_reaches_a_backend_is_flagged(preview: bool, backend: int) -> None:
    result = run_program(
        lambda: _program(40, backend, via_method=23),
        config={"aws:region": "eu-west-1"},
        project="p",
        stack="dev",
        preview=preview,
    )
    findings = [f for f in evaluate(result.resources) if f.rule == RULE]
    flagged = sorted(f.resource_name for f in findings if f.state == "violation")
    assert flagged == [f"options-{backend}"]
    assert "reaches a backend: integration-" + str(backend) in next(
        f.message for f in findings if f.state == "violation"
    )
    assert not [f for f in findings if f.state == "undecided"]


def test_a_preflight_without_an_integration_is_still_found() -> None:
    def program() -> None:
        _program(10, backend=-1, via_method=-1)
        api = aws.apigateway.RestApi("other", endpoint_configuration={"types": "REGIONAL"})
        resource = aws.apigateway.Resource("lonely", rest_api=api.id, parent_id=api.root_resource_id, path_part="x")
        aws.apigateway.Method(
            "options-lonely", rest_api=api.id, resource_id=resource.id, http_method="OPTIONS", authorization="NONE"
        )

    for preview in (True, False):
        result = run_program(program, config={"aws:region": "eu-west-1"}, project="p", stack="dev", preview=preview)
        flagged = [f for f in evaluate(result.resources) if f.rule == RULE and f.state == "violation"]
        assert [f.resource_name for f in flagged] == ["options-lonely"], preview
        assert "no integration in the stack" in flagged[0].message
