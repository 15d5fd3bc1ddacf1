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
    foreign = cases["a signed caller of an account not listed, through a listed endpoint (the domain's policy denies)"]
    assert (
        "policy of private custom domain ledger.internal.example.com denies by DenyOtherAccounts" in foreign["reason"]
    )


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
    result = _ask(_with_domain(stack, access_vpc_endpoints=(domain.access_vpc_endpoints[1],)), _health(LISTED))
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


def test_the_domain_policy_fences_signed_callers_to_the_allowed_accounts(stack: GatewayStack) -> None:
    entries = replace(_health(), path="/ledger/ledger/entries")
    allowed = _ask(stack, replace(entries, caller=IamCaller(account="210987654321", identity_policy_allows=True)))
    foreign = _ask(stack, replace(entries, caller=IamCaller(account="444455556666", identity_policy_allows=True)))
    assert (allowed.status, allowed.layer) == (200, "integration")
    assert (foreign.status, foreign.layer) == (403, "entry")
    assert "DenyOtherAccounts" in foreign.reason
