"""A private custom domain through the request model: access association, the domain's own policy, then the API's.

Developer guide, "Tasks of API providers and API consumers for custom domain names for private APIs": the
provider manages the domain's execute-api `policy` (which VPC endpoints may invoke it) and the consumer's
VPC endpoint needs a domain name access association. The battery of `examples/requests/private.yaml` runs
through `secure-api requests`; the mutations here change one gate at a time on the planned stack.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.request import IamCaller, Request, Result
from secure_api.gateway.resources import GatewayStack
from secure_api.gateway.stack import load
from secure_api.plan.cli import main
from secure_api.plan.offline import plan_stack

REPO = Path(__file__).resolve().parents[2]
LISTED = "vpce-0a1b2c3d4e5f67890"
UNLISTED = "vpce-0fedcba9876543210"


@pytest.fixture(scope="module")
def stack() -> GatewayStack:
    return load(plan_stack("private", preview=False, project_dir=REPO).resources)


def _ask(stack: GatewayStack, request: Request) -> Result:
    gateway = Gateway(stack)
    try:
        return gateway.evaluate(request)
    finally:
        gateway.close()


def _health(endpoint: str = LISTED, **changes: object) -> Request:
    return replace(
        Request("GET", "/ledger/health", via="domain", vpc_endpoint=endpoint, source_ip="10.20.1.15"), **changes
    )


def _with_domain(stack: GatewayStack, **changes: object) -> GatewayStack:
    (domain,) = stack.domains
    return replace(stack, domains=[replace(domain, **changes)])


def test_the_private_battery_holds_through_the_requests_command(capsys: pytest.CaptureFixture[str]) -> None:
    example = REPO / "examples" / "requests" / "private.yaml"
    code = main(["requests", "--cwd", str(REPO), "--stack", "private", "--format", "json", str(example)])
    document = json.loads(capsys.readouterr().out)
    assert code == 0, document
    cases = {c["name"]: c for c in document["cases"]}
    assert len(cases) >= 10
    assert all(c["ok"] is True for c in cases.values())
    foreign = next(c for name, c in cases.items() if name.startswith("a signed caller of an account not listed"))
    assert foreign["reason"].startswith(f"the endpoint policy of {LISTED} denies")
    assert "DenyOtherAccounts" in foreign["reason"]


def test_the_planned_domain_carries_its_policy_and_one_association_per_endpoint(stack: GatewayStack) -> None:
    (domain,) = stack.domains
    assert domain.endpoint_type == "PRIVATE"
    assert set(domain.access_vpc_endpoints) == {LISTED, "vpce-0123456789abcdef0"}
    assert domain.invoke_arn.startswith(
        "arn:aws:execute-api:eu-west-1:123456789012:/domainnames/ledger.internal.example.com+"
    )
    assert {s["Sid"] for s in domain.policy["Statement"]} >= {"AllowInvokeOfDomain", "DenyOutsideVpcEndpoints"}


def test_an_association_alone_is_not_enough_the_domain_policy_must_list_the_endpoint(stack: GatewayStack) -> None:
    (domain,) = stack.domains
    associated = _with_domain(stack, access_vpc_endpoints=(*domain.access_vpc_endpoints, UNLISTED))
    result = _ask(associated, _health(UNLISTED))
    assert (result.status, result.layer) == (403, "entry")
    assert "DenyOutsideVpcEndpoints" in result.reason
    assert UNLISTED in result.reason


def test_without_an_association_the_endpoint_cannot_reach_the_domain(stack: GatewayStack) -> None:
    (domain,) = stack.domains
    others = tuple(endpoint for endpoint in domain.access_vpc_endpoints if endpoint != LISTED)
    assert others, "the private stack associates a second endpoint"
    result = _ask(_with_domain(stack, access_vpc_endpoints=others), _health(LISTED))
    assert (result.status, result.layer) == (0, "entry")
    assert "domain name access association" in result.reason


def test_a_private_domain_without_a_policy_refuses_everyone(stack: GatewayStack) -> None:
    result = _ask(_with_domain(stack, policy=None), _health())
    assert (result.status, result.layer) == (403, "entry")
    assert "has no policy" in result.reason


def test_a_domain_policy_condition_the_model_cannot_judge_is_not_evaluated(stack: GatewayStack) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/team": "payments"}},
            }
        ],
    }
    result = _ask(_with_domain(stack, policy=policy), _health())
    assert (result.status, result.layer) == (0, "entry")
    assert result.not_evaluated
    assert "not evaluated offline" in result.reason


def _entries(account: str) -> Request:
    return replace(
        _health(), path="/ledger/ledger/entries", caller=IamCaller(account=account, identity_policy_allows=True)
    )


def test_the_managed_endpoint_policies_cover_this_api_and_its_domain(stack: GatewayStack) -> None:
    assert set(stack.endpoint_policies) == {LISTED, "vpce-0123456789abcdef0"}
    (domain,) = stack.domains
    (policy,) = {json.dumps(p, sort_keys=True) for p in stack.endpoint_policies.values()}
    allow = next(s for s in json.loads(policy)["Statement"] if s["Effect"] == "Allow")
    assert allow["Resource"] == [
        f"{stack.apis[0].resource.outputs['executionArn']}/v1/*",
        domain.invoke_arn[:-10] + "*",
    ]


def test_the_endpoint_policy_judges_before_the_domain_policy(stack: GatewayStack) -> None:
    allowed, foreign = _ask(stack, _entries("210987654321")), _ask(stack, _entries("444455556666"))
    assert (allowed.status, allowed.layer) == (200, "integration")
    assert (foreign.status, foreign.layer) == (403, "entry")
    assert foreign.reason.startswith(f"the endpoint policy of {LISTED} denies")


def test_without_endpoint_policies_the_domain_policy_fences_the_accounts(stack: GatewayStack) -> None:
    foreign = _ask(replace(stack, endpoint_policies={}), _entries("444455556666"))
    assert (foreign.status, foreign.layer) == (403, "entry")
    assert foreign.reason.startswith("the policy of private custom domain ledger.internal.example.com denies")
    assert "DenyOtherAccounts" in foreign.reason


def test_an_endpoint_policy_for_another_api_stops_the_call_at_the_endpoint(stack: GatewayStack) -> None:
    other = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:eu-west-1:123456789012:otherapi01/*",
            }
        ],
    }
    result = _ask(replace(stack, endpoint_policies={LISTED: other}), _health())
    assert (result.status, result.layer) == (403, "entry")
    assert f"the endpoint policy of {LISTED} has no Allow for" in result.reason


def test_a_false_argument_leaves_the_bodys_disabled_default_endpoint_disabled() -> None:
    """pulumi-aws RestApi: the argument overrides the body's extension only when it is true."""
    resources = plan_stack("private", preview=False, project_dir=REPO).resources
    api = next(r for r in resources if r.type == "aws:apigateway/restApi:RestApi")
    body = json.loads(api.inputs["body"])
    body["servers"][0]["x-amazon-apigateway-endpoint-configuration"]["disableExecuteApiEndpoint"] = True
    inputs = {**api.inputs, "body": json.dumps(body), "disableExecuteApiEndpoint": False}
    stack = load([replace(r, inputs=inputs) if r is api else r for r in resources])
    result = _ask(stack, Request("GET", "/v1/health", vpc_endpoint=LISTED, source_ip="10.20.1.15"))
    assert (result.status, result.layer) == (403, "entry")
    assert "disables its default execute-api endpoint" in result.reason
