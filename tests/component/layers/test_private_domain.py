"""Private custom domain names (issue 24): the PRIVATE DomainName, its policy, access associations,
base path mapping by domainNameId and private-zone aliases, checked against pulumi-aws and botocore."""

from __future__ import annotations

import gzip
import inspect
import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import pulumi_aws as aws
import pytest
from google.protobuf import json_format, struct_pb2
from secure_api_policies.verdict import evaluate, is_mandatory_violation

from secure_api.component.config import ConfigError, parse_config
from secure_api.plan.harness import PlanResult
from secure_api.plan.offline import load_stack_config
from tests.conftest import REPO, Plan

DOMAIN = "aws:apigateway/domainName:DomainName"
ASSOCIATION = "aws:apigateway/domainNameAccessAssociation:DomainNameAccessAssociation"
MAPPING = "aws:apigateway/basePathMapping:BasePathMapping"
RECORD = "aws:route53/record:Record"
API = "aws:apigateway/restApi:RestApi"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
ENDPOINTS = ["vpce-0a1b2c3d4e5f67890", "vpce-0123456789abcdef0"]


@cache
def botocore_shapes() -> dict[str, Any]:
    folder = Path(botocore.__file__).parent / "data" / "apigateway"
    version = sorted(folder.iterdir())[-1]
    return json.loads(gzip.open(version / "service-2.json.gz").read())["shapes"]


def private_config(**domain: Any) -> dict[str, Any]:
    config = load_stack_config("private", REPO)
    config["domain"] = {
        "domainName": "ledger.internal.example.com",
        "certificateArn": CERTIFICATE,
        "hostedZoneId": "Z0123456789EXAMPLE01",
        "basePath": "ledger",
        **domain,
    }
    return config


@pytest.fixture(params=["preview", "update"])
def private_plan(request: pytest.FixtureRequest, plan: Plan) -> PlanResult:
    return plan(private_config(), preview=request.param == "preview", stack="private")


def only(result: PlanResult, type_: str) -> Any:
    [resource] = result.of_type(type_)
    return resource


def test_private_domain_is_private_with_certificate_and_tls_policy(private_plan: PlanResult) -> None:
    inputs = only(private_plan, DOMAIN).inputs
    assert inputs["endpointConfiguration"]["types"] == "PRIVATE"
    assert inputs["certificateArn"] == CERTIFICATE
    assert "regionalCertificateArn" not in inputs
    assert inputs["securityPolicy"] == "SecurityPolicy_TLS13_1_2_2021_06"
    assert inputs["endpointAccessMode"] == "STRICT"
    assert "mutualTlsAuthentication" not in inputs
    shapes = botocore_shapes()
    assert inputs["endpointConfiguration"]["types"] in shapes["EndpointType"]["enum"]
    assert inputs["securityPolicy"] in shapes["SecurityPolicy"]["enum"]
    assert inputs["endpointAccessMode"] in shapes["EndpointAccessMode"]["enum"]
    assert shapes["CreateDomainNameRequest"]["required"] == ["domainName"]
    assert inputs["domainName"] == "ledger.internal.example.com"


def test_private_domain_policy_admits_only_listed_endpoints_and_accounts(private_plan: PlanResult) -> None:
    policy = json.loads(only(private_plan, DOMAIN).inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    arn = "arn:aws:execute-api:eu-west-1:123456789012:/domainnames/ledger.internal.example.com+*"
    assert all(s["Action"] == ["execute-api:Invoke"] and s["Resource"] == [arn] for s in policy["Statement"])
    assert by_sid["AllowInvokeOfDomain"]["Effect"] == "Allow"
    deny = by_sid["DenyOutsideVpcEndpoints"]
    assert deny["Effect"] == "Deny"
    assert sorted(deny["Condition"]["StringNotEquals"]["aws:SourceVpce"]) == sorted(ENDPOINTS)
    accounts = by_sid["DenyOtherAccounts"]["Condition"]
    assert accounts["StringNotEquals"]["aws:PrincipalAccount"] == ["123456789012", "210987654321"]
    assert accounts["Null"] == {"aws:PrincipalAccount": "false"}


def test_one_access_association_per_endpoint(private_plan: PlanResult) -> None:
    associations = private_plan.of_type(ASSOCIATION)
    assert sorted(a.inputs["accessAssociationSource"] for a in associations) == sorted(ENDPOINTS)
    shape = botocore_shapes()["CreateDomainNameAccessAssociationRequest"]
    sdk = inspect.signature(aws.apigateway.DomainNameAccessAssociation._internal_init).parameters
    for association in associations:
        assert (
            association.inputs["accessAssociationSourceType"]
            in botocore_shapes()["AccessAssociationSourceType"]["enum"]
        )
        for member in shape["required"]:
            assert association.inputs.get(member), member
        assert {"domain_name_arn", "access_association_source", "access_association_source_type"} <= set(sdk)
        if not private_plan.preview:
            assert "+" in association.inputs["domainNameArn"]


def test_base_path_mapping_names_the_domain_id(private_plan: PlanResult) -> None:
    mapping = only(private_plan, MAPPING).inputs
    assert mapping["basePath"] == "ledger"
    assert "domain_name_id" in inspect.signature(aws.apigateway.BasePathMapping._internal_init).parameters
    assert botocore_shapes()["CreateBasePathMappingRequest"]["members"]["domainNameId"]["location"] == "querystring"
    if not private_plan.preview:
        domain = only(private_plan, DOMAIN)
        assert mapping["domainNameId"] == domain.outputs["domainNameId"]


def test_private_zone_aliases_point_at_the_first_endpoint(private_plan: PlanResult) -> None:
    records = private_plan.of_type(RECORD)
    assert sorted(r.inputs["type"] for r in records) == ["A", "AAAA"]  # dualstack, the private API's type
    for record in records:
        assert record.inputs["zoneId"] == "Z0123456789EXAMPLE01"
        assert record.inputs["name"] == "ledger.internal.example.com"
        if not private_plan.preview:
            assert record.inputs["aliases"][0]["name"].startswith(ENDPOINTS[0])


def test_private_api_with_domain_keeps_its_execute_api_endpoint(private_plan: PlanResult) -> None:
    api = only(private_plan, API).inputs
    assert not api.get("disableExecuteApiEndpoint")
    # The body says the same: a false argument does not override a true extension (pulumi-aws RestApi docs).
    if isinstance(api.get("body"), str):
        server = json.loads(api["body"])["servers"][0]["x-amazon-apigateway-endpoint-configuration"]
        assert server["disableExecuteApiEndpoint"] is False


@pytest.mark.parametrize(
    ("domain", "key"),
    [
        ({"mutualTls": {"truststorePath": "examples/truststore/dev-ca.pem"}}, "domain.mutualTls"),
        ({"basePath": "ledger/v2"}, "domain.basePath"),
        ({"certificateArn": None}, "domain.certificateArn"),
    ],
)
def test_refuses_what_aws_refuses_for_private_domains(domain: dict[str, Any], key: str) -> None:
    config = private_config(**domain)
    config["domain"] = {k: v for k, v in config["domain"].items() if v is not None}
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    assert key in str(raised.value)


# Inputs the provider adds or that are not an API Gateway request member (tags travel by TagResource too).
NOT_REQUEST_MEMBERS = {"tags", "stageName", "restApi", "domainNameArn"}
REQUESTS = {
    DOMAIN: (aws.apigateway.DomainNameArgs, "CreateDomainNameRequest"),
    ASSOCIATION: (aws.apigateway.DomainNameAccessAssociationArgs, "CreateDomainNameAccessAssociationRequest"),
    MAPPING: (aws.apigateway.BasePathMappingArgs, "CreateBasePathMappingRequest"),
}


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@pytest.mark.parametrize("type_", sorted(REQUESTS))
def test_every_property_set_is_in_the_sdk_and_botocore(private_plan: PlanResult, type_: str) -> None:
    args, request = REQUESTS[type_]
    sdk = set(inspect.signature(args.__init__).parameters)
    members = botocore_shapes()[request]["members"]
    for resource in private_plan.of_type(type_):
        for key in resource.inputs:
            if key.startswith("__"):
                continue
            assert snake(key) in sdk, f"{type_}.{key} is not a pulumi-aws argument"
            if key not in NOT_REQUEST_MEMBERS:
                assert key in members, f"{type_}.{key} is not a member of botocore's {request}"


def test_pack_passes_the_private_domain_and_still_flags_a_regional_one(private_plan: PlanResult) -> None:
    findings = [f for f in evaluate(private_plan.resources) if is_mandatory_violation(f)]
    assert findings == []
    # The same program with the domain made REGIONAL: its open execute-api endpoint is flagged.
    domain = only(private_plan, DOMAIN)
    properties = json_format.MessageToDict(domain.properties)
    properties["endpointConfiguration"] = {**properties["endpointConfiguration"], "types": "REGIONAL"}
    struct = struct_pb2.Struct()
    struct.update(properties)
    regional = [replace(r, properties=struct) if r.urn == domain.urn else r for r in private_plan.resources]
    rules = {f.rule for f in evaluate(regional) if is_mandatory_violation(f)}
    assert "custom-domain-default-endpoint" in rules


def test_outputs_carry_the_urls_clients_call(plan: Plan) -> None:
    result = plan(private_config(), preview=False, stack="private")
    outputs = result.outputs[result.one("secure-api:index:SecureApi").urn]
    api_id = result.one(API).outputs["id"]
    assert outputs["vpcEndpointUrls"] == {
        endpoint: f"https://{api_id}-{endpoint}.execute-api.eu-west-1.amazonaws.com/v1" for endpoint in ENDPOINTS
    }
    assert outputs["privateDnsUrl"] == f"https://{api_id}.execute-api.eu-west-1.amazonaws.com/v1"
    assert outputs["customDomainUrl"] == "https://ledger.internal.example.com/ledger"
    assert outputs["invokeUrl"].endswith("/v1")


def test_a_regional_api_has_no_private_urls(dev_plans: dict[str, PlanResult]) -> None:
    result = dev_plans["update"]
    outputs = result.outputs[result.one("secure-api:index:SecureApi").urn]
    assert outputs["vpcEndpointUrls"] == {}
    assert outputs.get("privateDnsUrl") is None
