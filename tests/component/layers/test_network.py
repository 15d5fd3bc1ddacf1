"""Network protection: the resource policy, private APIs, and configs that would lock callers out.

Plans run in preview mode (outputs unknown) and update mode (outputs known). The policy names the
API's execution ARN, so its JSON is only readable in update mode; its wiring is checked in both.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.resource import TYPE_TOKEN
from secure_api.plan.cli import main
from secure_api.plan.harness import PlannedResource, PlanResult
from secure_api.plan.offline import plan_stack
from tests.conftest import Plan

POLICY = "aws:apigateway/restApiPolicy:RestApiPolicy"
REST_API = "aws:apigateway/restApi:RestApi"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"
# Any API id of the deploying account and region: the policy is attached to this API only.
API = "arn:aws:execute-api:eu-west-1:123456789012:*"
REPO = Path(__file__).resolve().parents[3]

IAM_ROUTE = {"path": "/reports", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}
PUBLIC_ROUTE = {
    "path": "/health",
    "method": "GET",
    "auth": "none",
    "allowUnauthenticated": True,
    "integration": {"type": "mock"},
}


def body_policy(result: PlanResult) -> dict[str, Any] | None:
    return json.loads(result.one(REST_API).inputs["body"]).get("x-amazon-apigateway-policy")


def openapi_body(result: PlanResult) -> dict[str, Any]:
    return json.loads(result.one(REST_API).inputs["body"])


def statements(result: PlanResult) -> dict[str, dict[str, Any]]:
    policy = body_policy(result)
    assert policy is not None
    return {s["Sid"]: s for s in policy["Statement"]}


@pytest.fixture(scope="module")
def private_plans() -> dict[str, PlanResult]:
    return {mode: plan_stack("private", preview=mode == "preview") for mode in ("preview", "update")}


@pytest.fixture(params=["preview", "update"])
def private_plan(request: pytest.FixtureRequest, private_plans: dict[str, PlanResult]) -> PlanResult:
    return private_plans[request.param]


def test_policy_travels_in_the_body_so_every_import_reapplies_it(private_plan: PlanResult) -> None:
    """No RestApiPolicy (an overwrite import would wipe it) and no engine feature to re-apply one."""
    api = private_plan.one(REST_API)
    assert not private_plan.of_type(POLICY)
    assert api.inputs["putRestApiMode"] == "overwrite"
    # No user pool in this stack: the body, policy included, is known even in preview.
    assert statements(private_plan)["DenyOutsideVpcEndpoints"]["Resource"] == [f"{API}/*"]
    # The same document as the argument: providers before terraform-provider-aws v6.48.0 would
    # otherwise patch the previous policy from state back over a changed body policy (#38515).
    assert json.loads(api.inputs["policy"]) == body_policy(private_plan)


def test_policy_names_no_api_id_and_needs_no_other_resource(dev_plans: dict[str, PlanResult]) -> None:
    """Full ARNs with `*` for the API id: known before the API exists, and kept as written by API
    Gateway (the short `execute-api:/` form is expanded on save and would diff on every refresh)."""
    update = dev_plans["update"]
    deployment = update.one(DEPLOYMENT)
    assert update.one(REST_API).urn in deployment.dependencies
    assert not update.of_type(POLICY)
    resources = {r for s in body_policy(update)["Statement"] for r in s["Resource"]}
    assert resources
    assert all(r == f"{API}/*" or r.startswith(f"{API}/v1/") for r in resources)
    preview = dev_plans["preview"].one(REST_API)
    assert json.loads(preview.inputs["policy"]) == body_policy(update)  # known in preview too


def test_policy_denies_callers_outside_the_source_ranges(dev_plans: dict[str, PlanResult]) -> None:
    result = dev_plans["update"]
    deny = statements(result)["DenyOutsideSourceCidrs"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == ["execute-api:Invoke"]
    assert deny["Resource"] == [f"{API}/*"]
    assert deny["Condition"] == {
        "NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24", "192.0.2.0/25", "2001:db8:1234::/48"]}
    }


def test_anonymous_allow_covers_the_non_iam_routes_and_the_cors_preflights_only(
    dev_plans: dict[str, PlanResult],
) -> None:
    result = dev_plans["update"]
    arn = API
    found = statements(result)
    allow = found["AllowInvokeOfRoutes"]
    assert (allow["Effect"], allow["Principal"]) == ("Allow", "*")
    preflight_paths = {
        path for path, methods in openapi_body(result)["paths"].items() if "options" in methods
    }
    assert allow["Resource"] == [
        f"{arn}/v1/GET/health",
        f"{arn}/v1/GET/orders",
        f"{arn}/v1/POST/orders",
        f"{arn}/v1/GET/orders/*",
        f"{arn}/v1/POST/partners/webhook",
        # The preflights (mock OPTIONS, no authorizer) are decided by the resource policy alone.
        *[f"{arn}/v1/OPTIONS/{suffix}" for suffix in ("health", "orders", "orders/*", "reports/daily")],
    ]
    assert preflight_paths == {"/health", "/orders", "/orders/{orderId}", "/reports/daily"}
    iam_routes = [f"{arn}/v1/GET/reports/daily", f"{arn}/v1/*/admin/*"]
    assert found["AllowIamRoutesToAccounts"]["Resource"] == iam_routes
    assert found["AllowIamRoutesToAccounts"]["Condition"] == {
        "StringEquals": {"aws:PrincipalAccount": ["210987654321"]}
    }
    assert found["AllowIamRoutesToOrganizations"]["Resource"] == iam_routes
    assert found["AllowIamRoutesToOrganizations"]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}
    }
    assert "DenyOutsideVpcEndpoints" not in found


def fingerprint_of(config: dict[str, Any], plan: Plan) -> str:
    result = plan(config, preview=False)
    return result.outputs[result.one(TYPE_TOKEN).urn]["fingerprint"]


def test_fingerprint_follows_the_policy(dev_config: dict[str, Any], plan: Plan) -> None:
    before = fingerprint_of(dev_config, plan)
    unrelated = copy.deepcopy(dev_config)
    unrelated["api"]["tags"]["owner"] = "someone-else"
    unrelated["backendClientCertificate"] = False
    assert fingerprint_of(unrelated, plan) == before
    dev_config["network"]["allowedSourceCidrs"].append("203.0.113.0/24")
    assert fingerprint_of(dev_config, plan) != before


def test_private_api_is_bound_to_its_vpc_endpoints(private_plan: PlanResult) -> None:
    api = private_plan.one(REST_API)
    endpoints = ["vpce-0a1b2c3d4e5f67890", "vpce-0123456789abcdef0"]
    assert api.inputs["endpointConfiguration"] == {
        "types": "PRIVATE",
        "vpcEndpointIds": endpoints,
        "ipAddressType": "dualstack",
    }
    assert api.inputs["putRestApiMode"] == "overwrite"
    assert api.inputs["disableExecuteApiEndpoint"] is False
    # No user pool here, so the body is known even in preview: an overwrite re-import keeps the association.
    servers = json.loads(api.inputs["body"])["servers"]
    assert servers[0]["x-amazon-apigateway-endpoint-configuration"]["vpcEndpointIds"] == endpoints
    # The stack's custom domain is a private one (its endpoint stays on for the per-endpoint URLs).
    [domain] = private_plan.of_type("aws:apigateway/domainName:DomainName")
    assert domain.inputs["endpointConfiguration"]["types"] == "PRIVATE"
    assert not any("custom domain" in w for w in private_plan.warnings)


def test_private_policy_requires_the_vpc_endpoints_and_vpc_ranges(private_plans: dict[str, PlanResult]) -> None:
    result = private_plans["update"]
    found = statements(result)
    assert found["DenyOutsideVpcEndpoints"]["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": ["vpce-0a1b2c3d4e5f67890", "vpce-0123456789abcdef0"]}
    }
    # Through a VPC endpoint the caller's address is its VPC address.
    assert found["DenyOutsideSourceCidrs"]["Condition"] == {
        "NotIpAddress": {"aws:VpcSourceIp": ["10.20.0.0/16", "fd12:3456:789a::/48"]}
    }
    assert found["AllowInvokeOfRoutes"]["Resource"] == [f"{API}/v1/GET/health"]


def test_no_policy_when_there_is_nothing_to_restrict(plan: Plan) -> None:
    config = {
        "routes": [IAM_ROUTE],
        "waf": {"enabled": False, "acceptNoWaf": True},
        "network": {"acceptPublicApi": True},
    }
    result = plan(config, preview=True)
    assert body_policy(result) is None
    deployment: PlannedResource = result.one(DEPLOYMENT)
    assert deployment.dependencies == (result.one(REST_API).urn,)


def problems_of(values: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(values)
    return dict(caught.value.problems)


def with_network(network: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"routes": [copy.deepcopy(PUBLIC_ROUTE), copy.deepcopy(IAM_ROUTE)], "network": network, **extra}


PRIVATE = {"endpointType": "PRIVATE"}
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "not a CIDR",
        with_network({"allowedSourceCidrs": ["198.51.100.0/33"]}),
        "secure-api:network.allowedSourceCidrs",
        "'198.51.100.0/33' is not an IPv4 or IPv6 CIDR range",
    ),
    (
        "host bits set",
        with_network({"allowedSourceCidrs": ["198.51.100.7/24"]}),
        "secure-api:network.allowedSourceCidrs",
        "did you mean 198.51.100.0/24?",
    ),
    (
        "IPv6-only ranges on an ipv4 endpoint",
        with_network({"allowedSourceCidrs": ["2001:db8::/32"]}),
        "secure-api:network.allowedSourceCidrs",
        "would deny every caller",
    ),
    (
        "private range on a regional API",
        with_network({"allowedSourceCidrs": ["198.51.100.0/24", "10.0.0.0/8"]}),
        "secure-api:network.allowedSourceCidrs",
        "10.0.0.0/8 is a private range",
    ),
    (
        "VPC endpoints on a regional API",
        with_network({"vpcEndpointIds": ["vpce-0a1b2c3d4e5f67890"]}),
        "secure-api:network.vpcEndpointIds",
        "would deny every caller",
    ),
    (
        "private API without VPC endpoints",
        with_network({}, api=PRIVATE),
        "secure-api:network.vpcEndpointIds",
        "a PRIVATE API needs at least one interface VPC endpoint: list its id, or set network.vpcEndpoint",
    ),
    (
        "a created VPC endpoint on a regional API",
        with_network(
            {
                "allowedSourceCidrs": ["198.51.100.0/24"],
                "vpcEndpoint": {
                    "vpcId": "vpc-0a1b2c3d4e5f67890",
                    "subnetIds": ["subnet-0a1b2c3d4e5f67890"],
                    "securityGroupIds": ["sg-0a1b2c3d4e5f67890"],
                },
            }
        ),
        "secure-api:network.vpcEndpoint",
        "would deny every caller",
    ),
    (
        "a managed endpoint policy of an endpoint the API is not reached through",
        with_network(
            {"vpcEndpointIds": ["vpce-0a1b2c3d4e5f67890"], "managedEndpointPolicies": ["vpce-0123456789abcdef0"]},
            api=PRIVATE,
        ),
        "secure-api:network.managedEndpointPolicies[0]",
        "vpce-0123456789abcdef0 is not in network.vpcEndpointIds",
    ),
    (
        "a created VPC endpoint in no subnet",
        with_network(
            {"vpcEndpoint": {"vpcId": "vpc-0a1b2c3d4e5f67890", "subnetIds": [], "securityGroupIds": ["sg-0a1b2c3d"]}},
            api=PRIVATE,
        ),
        "secure-api:network.vpcEndpoint.subnetIds",
        "must be a list of at least 1 entry",
    ),
    (
        "a created VPC endpoint with a security group name, not an id",
        with_network(
            {
                "vpcEndpoint": {
                    "vpcId": "vpc-0a1b2c3d4e5f67890",
                    "subnetIds": ["subnet-0a1b2c3d4e5f67890"],
                    "securityGroupIds": ["execute-api"],
                }
            },
            api=PRIVATE,
        ),
        "secure-api:network.vpcEndpoint.securityGroupIds",
        "'execute-api' is not a security group id",
    ),
    (
        "private API on ipv4",
        with_network({"vpcEndpointIds": ["vpce-0a1b2c3d4e5f67890"], "ipAddressType": "ipv4"}, api=PRIVATE),
        "secure-api:network.ipAddressType",
        "only support dualstack",
    ),
    (
        "not a VPC endpoint id",
        with_network({"vpcEndpointIds": ["vpc-0a1b2c3d"]}, api=PRIVATE),
        "secure-api:network.vpcEndpointIds",
        "is not an interface VPC endpoint id",
    ),
    (
        "not an account id",
        with_network({"allowedAccounts": ["12345"]}),
        "secure-api:network.allowedAccounts",
        "is not a 12-digit AWS account id",
    ),
    (
        "accounts without iam routes",
        {"routes": [PUBLIC_ROUTE], "network": {"allowedOrganizations": ["o-a1b2c3d4e5"]}},
        "secure-api:network.allowedOrganizations",
        "no route uses it",
    ),
    (
        "unknown key",
        with_network({"allowedCidrs": ["198.51.100.0/24"]}),
        "secure-api:network.allowedCidrs",
        "allowed here: acceptPublicApi, allowedAccounts, allowedOrganizations, allowedSourceCidrs",
    ),
]


@pytest.mark.parametrize(("values", "key", "message"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_network_config_names_the_key(values: dict[str, Any], key: str, message: str) -> None:
    problems = problems_of(values)
    assert key in problems, problems
    assert message in problems[key]


def test_a_valid_private_network_parses() -> None:
    config = parse_config(
        with_network(
            {"vpcEndpointIds": ["vpce-0a1b2c3d4e5f67890"], "allowedSourceCidrs": ["10.20.0.0/16"]}, api=PRIVATE
        )
    )
    assert config.network.ip_address_type_for("PRIVATE") == "dualstack"
    assert config.network.allowed_source_cidrs == ("10.20.0.0/16",)


def test_an_unrestricted_regional_api_is_warned_about(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["network"].pop("allowedSourceCidrs")
    dev_config["network"]["acceptPublicApi"] = True
    warning = "network.acceptPublicApi: the REGIONAL API takes calls from any address"
    assert any(w.startswith(warning) for w in plan(dev_config, preview=True).warnings)
    dev_config["network"].pop("acceptPublicApi")
    dev_config["network"]["allowedSourceCidrs"] = ["198.51.100.0/24"]
    assert not any(w.startswith(warning) for w in plan(dev_config, preview=True).warnings)


def test_the_plan_names_the_0_1_0_policy_resource_to_drop_from_the_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Deleting 0.1.0's RestApiPolicy would clear the policy the body now applies: it must leave the state."""
    urn = f"urn:pulumi:dev::secure-api::{TYPE_TOKEN}${POLICY}::secure-api-resource-policy"
    state = {"version": 3, "deployment": {"resources": [{"urn": urn, "type": POLICY, "custom": True}]}}
    (tmp_path / "state.json").write_text(json.dumps(state))
    assert main(["plan", "--stack", "private", "--no-policy", "--state", str(tmp_path / "state.json")]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "secure-api 0.1.0" in line]
    assert f"run `pulumi state delete '{urn}'` before `pulumi up`" in line


@pytest.mark.parametrize("stack", ["dev", "minimal", "private"])
def test_every_preflight_of_every_repository_stack_is_allowed_by_the_resource_policy(stack: str) -> None:
    """A preflight (no authorizer) needs an explicit Allow and no Deny for an allowed caller.

    IAM's `*` in a Resource matches any run of characters, `/` included (IAM user guide, "IAM JSON
    policy elements: Resource"), which is what `fnmatchcase` does for ARNs (they hold no `[`).
    """
    result = plan_stack(stack, preview=False, project_dir=REPO)
    body = openapi_body(result)
    policy = body.get("x-amazon-apigateway-policy")
    if policy is None:
        pytest.skip(f"stack {stack} has no resource policy: nothing can deny its preflights")
    stage = result.one("aws:apigateway/stage:Stage").inputs["stageName"]
    preflights = [path for path, methods in body["paths"].items() if "options" in methods]
    if not preflights:
        pytest.skip(f"stack {stack} configures no CORS: it has no preflight")
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Principal"] == "*"]
    unconditional_denies = [s for s in policy["Statement"] if s["Effect"] == "Deny" and "Condition" not in s]
    assert not unconditional_denies
    for path in preflights:
        suffix = f"/{stage}/OPTIONS/" + "/".join("x" if s.startswith("{") else s for s in path.split("/") if s)
        assert any(
            fnmatch.fnmatchcase(_arn_of_api(pattern) + suffix, pattern)
            for s in allows
            if "Condition" not in s
            for pattern in s["Resource"]
        ), f"{stack}: OPTIONS {path} is not allowed: every browser preflight would get 403"


def _arn_of_api(pattern: str) -> str:
    """`arn:<partition>:execute-api:<region>:<account>:abc123defg` in the pattern's region and account."""
    return ":".join(pattern.split(":")[:5]) + ":abc123defg"
