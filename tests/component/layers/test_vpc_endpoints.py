"""The interface VPC endpoints of a PRIVATE API (issue 24, item 3): the one the component creates from
`network.vpcEndpoint`, the endpoint policies it manages, and the warnings about the ones it only references.

Every property set on the new resources is checked against pulumi-aws and botocore's `ec2` model, in preview
and update; the created endpoint's id must reach every place a listed one does.
"""

from __future__ import annotations

import gzip
import inspect
import json
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import pulumi_aws as aws
import pytest
from secure_api_policies.verdict import evaluate, is_mandatory_violation

from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.request import IamCaller, Request
from secure_api.gateway.stack import load
from secure_api.plan.harness import PlanResult
from secure_api.plan.offline import load_stack_config, plan_stack
from tests.conftest import REPO, Plan

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"
API = "aws:apigateway/restApi:RestApi"
DOMAIN = "aws:apigateway/domainName:DomainName"
ASSOCIATION = "aws:apigateway/domainNameAccessAssociation:DomainNameAccessAssociation"
RECORD = "aws:route53/record:Record"
LISTED = ["vpce-0a1b2c3d4e5f67890", "vpce-0123456789abcdef0"]
CREATED = {
    "vpcId": "vpc-0a1b2c3d4e5f67890",
    "subnetIds": ["subnet-0a1b2c3d4e5f67890", "subnet-0123456789abcdef0"],
    "securityGroupIds": ["sg-0a1b2c3d4e5f67890"],
}


@cache
def ec2_shapes() -> dict[str, Any]:
    folder = Path(botocore.__file__).parent / "data" / "ec2"
    version = sorted(folder.iterdir())[-1]
    return json.loads(gzip.open(version / "service-2.json.gz").read())["shapes"]


def private_config(**network: Any) -> dict[str, Any]:
    config = load_stack_config("private", REPO)
    config["network"] = {**config["network"], **network}
    return config


def created_only(**endpoint: Any) -> dict[str, Any]:
    """The private stack reached only through an endpoint the component creates."""
    config = private_config(vpcEndpoint={**CREATED, **endpoint})
    del config["network"]["vpcEndpointIds"], config["network"]["managedEndpointPolicies"]
    return config


@pytest.fixture(params=["preview", "update"])
def created_plan(request: pytest.FixtureRequest, plan: Plan) -> PlanResult:
    return plan(created_only(), preview=request.param == "preview", stack="private")


@pytest.fixture(scope="module")
def created_update() -> PlanResult:
    return plan_stack("private", preview=False, project_dir=REPO, config=created_only())


def only(result: PlanResult, type_: str) -> Any:
    [resource] = result.of_type(type_)
    return resource


# pulumi-aws input -> botocore request member (ec2's members are PascalCase; tags travel as TagSpecifications).
REQUESTS = {
    ENDPOINT: (aws.ec2.VpcEndpointArgs, "CreateVpcEndpointRequest", {"tags": "TagSpecifications"}),
    ENDPOINT_POLICY: (aws.ec2.VpcEndpointPolicyArgs, "ModifyVpcEndpointRequest", {"policy": "PolicyDocument"}),
}


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@pytest.mark.parametrize("type_", sorted(REQUESTS))
def test_every_property_set_is_in_the_sdk_and_botocore(created_plan: PlanResult, type_: str) -> None:
    args, request, renamed = REQUESTS[type_]
    sdk = set(inspect.signature(args.__init__).parameters)
    members = ec2_shapes()[request]["members"]
    resources = created_plan.of_type(type_)
    assert resources
    for resource in resources:
        for key in (k for k in resource.inputs if not k.startswith("__")):
            assert snake(key) in sdk, f"{type_}.{key} is not a pulumi-aws argument"
            member = renamed.get(key, key[0].upper() + key[1:])
            assert member in members, f"{type_}.{key} is not a member of botocore's {request}"


def test_the_created_endpoint_is_an_interface_endpoint_for_execute_api_with_private_dns_off(
    created_plan: PlanResult,
) -> None:
    inputs = only(created_plan, ENDPOINT).inputs
    assert inputs["vpcEndpointType"] in ec2_shapes()["VpcEndpointType"]["enum"]
    assert (inputs["vpcEndpointType"], inputs["serviceName"]) == ("Interface", "com.amazonaws.eu-west-1.execute-api")
    assert inputs["privateDnsEnabled"] is False
    assert (inputs["vpcId"], inputs["subnetIds"], inputs["securityGroupIds"]) == tuple(
        CREATED[k] for k in ("vpcId", "subnetIds", "securityGroupIds")
    )
    assert not any(key.startswith("secure-api:accept:") for key in inputs["tags"])


def test_the_created_endpoint_reaches_every_place_a_listed_one_does(created_update: PlanResult) -> None:
    endpoint = only(created_update, ENDPOINT)
    created = endpoint.outputs["id"]
    api = only(created_update, API)
    assert api.inputs["endpointConfiguration"]["vpcEndpointIds"] == [created]
    body = json.loads(api.inputs["body"])
    assert body["servers"][0]["x-amazon-apigateway-endpoint-configuration"]["vpcEndpointIds"] == [created]
    fence = next(s for s in json.loads(api.inputs["policy"])["Statement"] if s["Sid"] == "DenyOutsideVpcEndpoints")
    assert fence["Condition"]["StringNotEquals"]["aws:SourceVpce"] == [created]
    domain_policy = json.loads(only(created_update, DOMAIN).inputs["policy"])
    fence = next(s for s in domain_policy["Statement"] if s["Sid"] == "DenyOutsideVpcEndpoints")
    assert fence["Condition"]["StringNotEquals"]["aws:SourceVpce"] == [created]
    assert only(created_update, ASSOCIATION).inputs["accessAssociationSource"] == created
    aliases = {r.inputs["aliases"][0]["name"] for r in created_update.of_type(RECORD)}
    assert aliases == {endpoint.outputs["dnsEntries"][0]["dnsName"]}
    outputs = created_update.outputs[created_update.one("secure-api:index:SecureApi").urn]
    assert list(outputs["vpcEndpointUrls"]) == [created]


def test_the_endpoint_policy_allows_this_stage_and_domain_and_fences_accounts(created_update: PlanResult) -> None:
    policy = only(created_update, ENDPOINT_POLICY)
    assert policy.inputs["vpcEndpointId"] == only(created_update, ENDPOINT).outputs["id"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    execution_arn = only(created_update, API).outputs["executionArn"]
    domain = "arn:aws:execute-api:eu-west-1:123456789012:/domainnames/ledger.internal.example.com+*"
    assert statements["AllowInvokeOfThisApi"]["Resource"] == [f"{execution_arn}/v1/*", domain]
    condition = statements["DenyOtherAccounts"]["Condition"]
    assert condition["StringNotEquals"]["aws:PrincipalAccount"] == ["123456789012", "210987654321"]
    assert condition["Null"] == {"aws:PrincipalAccount": "false"}


def test_a_call_through_the_created_endpoint_passes_and_a_foreign_account_stops_there(
    created_update: PlanResult,
) -> None:
    stack = load(created_update.resources)
    created = only(created_update, ENDPOINT).outputs["id"]
    gateway = Gateway(stack)
    try:
        health = Request("GET", "/ledger/health", via="domain", vpc_endpoint=created, source_ip="10.20.1.15")
        foreign = Request(
            "GET",
            "/ledger/ledger/entries",
            via="domain",
            vpc_endpoint=created,
            source_ip="10.20.1.15",
            caller=IamCaller(account="444455556666"),
        )
        passed, stopped = gateway.evaluate(health), gateway.evaluate(foreign)
    finally:
        gateway.close()
    assert (passed.status, passed.layer) == (200, "integration")
    assert (stopped.status, stopped.layer) == (403, "entry")
    assert stopped.reason.startswith(f"the endpoint policy of {created} denies")


def test_managed_endpoints_get_a_policy_each_and_unmanaged_ones_a_warning(plan: Plan) -> None:
    managed = plan(private_config(), preview=True, stack="private")
    assert {r.inputs["vpcEndpointId"] for r in managed.of_type(ENDPOINT_POLICY)} == set(LISTED)
    assert not [w for w in managed.warnings if "is not managed here" in w]
    unmanaged = plan(private_config(managedEndpointPolicies=[LISTED[1]]), preview=True, stack="private")
    assert [r.inputs["vpcEndpointId"] for r in unmanaged.of_type(ENDPOINT_POLICY)] == [LISTED[1]]
    warnings = [w for w in unmanaged.warnings if "is not managed here" in w]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"network.vpcEndpointIds: the endpoint policy of {LISTED[0]} is not managed here")


def test_private_dns_on_is_warned_and_an_accepted_exception_of_the_pack(plan: Plan) -> None:
    result = plan(created_only(privateDnsEnabled=True), preview=False, stack="private")
    assert only(result, ENDPOINT).inputs["privateDnsEnabled"] is True
    assert any(w.startswith("network.vpcEndpoint.privateDnsEnabled: every *.execute-api.") for w in result.warnings)
    findings = [f for f in evaluate(result.resources) if f.rule == "execute-api-endpoint-private-dns"]
    assert [(f.state, f.level) for f in findings] == [("accepted", "advisory")]
    assert "network.vpcEndpoint.privateDnsEnabled true" in findings[0].reason


def test_the_pack_passes_a_stack_reached_through_a_created_endpoint(created_plan: PlanResult) -> None:
    assert [f for f in evaluate(created_plan.resources) if is_mandatory_violation(f)] == []
    assert not [f for f in evaluate(created_plan.resources) if f.rule == "execute-api-endpoint-private-dns"]
