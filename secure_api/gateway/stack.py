"""The planned stack as API Gateway would hold it after `pulumi up`: APIs, stages, keys, domains, pools.

Read from the resources a program registers (`secure_api.plan.harness.PlannedResource`), not from
`SecureApi`'s config, so a raw Pulumi program is modelled as well as the component. An API's
operations come from its OpenAPI body (`x-amazon-apigateway-*` extensions, "Working with API Gateway
extensions to OpenAPI") and from classic `Resource`/`Method`/`Integration` resources; both end up
as `Operation`s. References between resources are followed by value: this model reads an update-mode
plan, where the mock provider has filled in the ids and ARNs AWS would return (`plan.mock_state`).

Shapes: ids and ARNs are strings as AWS returns them; rates are requests per second, bursts are
requests, quota limits are requests per `period` (DAY, WEEK, MONTH).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from secure_api_policies import tokens as t

from ..plan.harness import PlannedResource
from .operations import body_operations, body_responses, classic_operations, default_status, header_values, parse_json
from .resources import (
    Api,
    ApiKey,
    AppClient,
    BasePathMapping,
    Domain,
    Function,
    GatewayResponse,
    GatewayStack,
    Quota,
    StackModelError,
    Stage,
    Throttle,
    UsagePlan,
    UserPool,
)

COMPONENT_TYPE = "secure-api:index:SecureApi"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC_ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"
BUCKET_OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
IP_SET = "aws:wafv2/ipSet:IpSet"
DOMAIN_ACCESS_ASSOCIATION = "aws:apigateway/domainNameAccessAssociation:DomainNameAccessAssociation"


def load(resources: Iterable[PlannedResource]) -> GatewayStack:
    """Model the planned resources of an update-mode plan (see the module docstring).

    Raises StackModelError for a preview plan, whose ids and bodies are unknown.
    """
    resources = list(resources)
    by_type: dict[str, list[PlannedResource]] = {}
    for resource in resources:
        by_type.setdefault(resource.type, []).append(resource)
    apis_ = by_type.get(t.REST_API, [])
    if any("id" not in r.outputs for r in resources if r.custom):
        raise StackModelError(
            "the request model reads what AWS holds after `pulumi up`: plan in update mode (ids and bodies are "
            "unknown in a preview)"
        )
    region, account = _region_account(resources)
    pools = [_user_pool(r, by_type) for r in by_type.get(t.USER_POOL, [])]
    by_urn = {r.urn: r for r in resources}
    functions = {f.arn: f for f in (_function(r, by_urn) for r in by_type.get(t.LAMBDA_FUNCTION, []))}
    apis = [_api(r, by_type, by_urn) for r in apis_]
    ip_sets = {str(r.outputs.get("arn")): tuple(r.inputs.get("addresses") or ()) for r in by_type.get(IP_SET, [])}
    stages = [_stage(r, apis, by_type) for r in by_type.get(t.STAGE, [])]
    keys = [
        ApiKey(
            r.name,
            str(r.inputs.get("name") or r.outputs.get("name") or r.name),
            r.outputs["id"],
            r.inputs.get("enabled", True) is not False,
        )
        for r in by_type.get(t.API_KEY, [])
    ]
    plans = [_usage_plan(r, keys, by_type) for r in by_type.get(t.USAGE_PLAN, [])]
    domains = [_domain(r, by_type, region, account) for r in by_type.get(t.DOMAIN_NAME, [])]
    endpoints = tuple(r.outputs["id"] for r in by_type.get(VPC_ENDPOINT, []))
    endpoint_policies = {
        str(r.outputs["id"]): parse_json(r.inputs["policy"])
        for r in by_type.get(VPC_ENDPOINT, [])
        if r.inputs.get("policy")
    }
    for attached in by_type.get(VPC_ENDPOINT_POLICY, []):  # applied after the endpoint's own, so it wins
        if attached.inputs.get("policy"):
            endpoint_policies[str(attached.inputs.get("vpcEndpointId"))] = parse_json(attached.inputs["policy"])
    return GatewayStack(
        region,
        account,
        apis,
        [s for s in stages if s],
        plans,
        keys,
        domains,
        pools,
        functions,
        ip_sets,
        endpoints,
        endpoint_policies,
    )


def _region_account(resources: list[PlannedResource]) -> tuple[str, str]:
    for resource in resources:
        arn = resource.outputs.get("arn")
        if isinstance(arn, str) and (m := re.match(r"arn:[\w-]+:[\w-]+:([\w-]+):(\d{12}):", arn)):
            return m[1], m[2]
    return "us-east-1", "123456789012"


def _component_of(resource: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> str:
    """The URN of the SecureApi component the resource was registered under (at any depth), or ''."""
    parent = by_urn.get(resource.parent)
    while parent is not None:
        if parent.type == COMPONENT_TYPE:
            return parent.urn
        parent = by_urn.get(parent.parent)
    return ""


def _api(
    resource: PlannedResource, by_type: dict[str, list[PlannedResource]], by_urn: Mapping[str, PlannedResource]
) -> Api:
    inputs = resource.inputs
    api_id = resource.outputs["id"]
    body = parse_json(inputs.get("body")) or {}
    endpoint = inputs.get("endpointConfiguration") or {}
    types = endpoint.get("types")
    endpoint_type = (types[0] if isinstance(types, list) and types else types) or "EDGE"
    servers = body.get("servers") or [{}]
    server_config = (servers[0] or {}).get("x-amazon-apigateway-endpoint-configuration") or {}
    policies = [
        parse_json(p.inputs.get("policy"))
        for p in by_type.get(t.REST_API_POLICY, [])
        if p.inputs.get("restApiId") == api_id
    ]
    policy = policies[-1] if policies else parse_json(inputs.get("policy")) or body.get("x-amazon-apigateway-policy")
    api = Api(
        resource=resource,
        id=api_id,
        name=str(inputs.get("name") or resource.name),
        endpoint_type=str(endpoint_type),
        # The argument overrides the body's extension only when it is true (pulumi-aws RestApi,
        # `disable_execute_api_endpoint`: "If the argument value is true and is different than the OpenAPI
        # value, the argument value will override the OpenAPI value"): a false argument leaves the body's.
        disable_execute_api_endpoint=inputs.get("disableExecuteApiEndpoint") is True
        or server_config.get("disableExecuteApiEndpoint") is True,
        policy=policy or None,
        api_key_source=str(inputs.get("apiKeySource") or body.get("x-amazon-apigateway-api-key-source") or "HEADER"),
        vpc_endpoint_ids=tuple(endpoint.get("vpcEndpointIds") or server_config.get("vpcEndpointIds") or ()),
        schemas=(body.get("components") or {}).get("schemas") or {},
        component=_component_of(resource, by_urn),
    )
    api.operations = body_operations(body, resource.name) + classic_operations(api, by_type)
    api.gateway_responses = body_responses(body)
    for response in by_type.get(t.GATEWAY_RESPONSE, []):
        if response.inputs.get("restApiId") == api_id:
            api.gateway_responses[str(response.inputs.get("responseType"))] = GatewayResponse(
                int(response.inputs.get("statusCode") or default_status(str(response.inputs.get("responseType")))),
                header_values(response.inputs.get("responseParameters") or {}, "gatewayresponse.header."),
                (response.inputs.get("responseTemplates") or {}).get("application/json", ""),
            )
    return api


def _throttle(spec: Mapping[str, Any] | None, rate: str = "rateLimit", burst: str = "burstLimit") -> Throttle | None:
    if not spec or spec.get(rate) is None:
        return None
    return Throttle(float(spec[rate]), int(spec.get(burst) or 0))


def _stage(resource: PlannedResource, apis: list[Api], by_type: dict[str, list[PlannedResource]]) -> Stage | None:
    api = next((a for a in apis if a.id == resource.inputs.get("restApi")), None)
    if api is None:
        return None
    name = str(resource.inputs.get("stageName"))
    arn = str(resource.outputs.get("arn") or "")
    association = next((a for a in by_type.get(t.WEB_ACL_ASSOCIATION, []) if a.inputs.get("resourceArn") == arn), None)
    acl = None
    if association is not None:
        acl = next(
            (w for w in by_type.get(t.WEB_ACL, []) if w.outputs.get("arn") == association.inputs.get("webAclArn")), None
        )
    throttle, methods = None, {}
    for settings in by_type.get(t.METHOD_SETTINGS, []):
        if settings.inputs.get("restApi") != api.id or settings.inputs.get("stageName") != name:
            continue
        found = _throttle(settings.inputs.get("settings"), "throttlingRateLimit", "throttlingBurstLimit")
        if found is None:
            continue
        path = str(settings.inputs.get("methodPath"))
        if path == "*/*":
            throttle = found
        else:
            methods[path] = found
    return Stage(
        api=api,
        name=name,
        arn=arn,
        access_log_format=str((resource.inputs.get("accessLogSettings") or {}).get("format") or ""),
        web_acl=acl.inputs if acl else None,
        web_acl_name=str(acl.inputs.get("name") or acl.name) if acl else "",
        throttle=throttle,
        method_throttles=methods,
    )


def _usage_plan(resource: PlannedResource, keys: list[ApiKey], by_type: dict[str, list[PlannedResource]]) -> UsagePlan:
    ins = resource.inputs
    stages = [
        (
            str(s.get("apiId")),
            str(s.get("stage")),
            {
                str(th.get("path")): Throttle(float(th.get("rateLimit") or 0), int(th.get("burstLimit") or 0))
                for th in s.get("throttles") or []
            },
        )
        for s in ins.get("apiStages") or []
    ]
    quota = ins.get("quotaSettings")
    plan = UsagePlan(
        name=str(ins.get("name") or resource.name),
        id=resource.outputs["id"],
        stages=stages,
        throttle=_throttle(ins.get("throttleSettings")),
        quota=Quota(int(quota["limit"]), str(quota.get("period"))) if quota and quota.get("limit") else None,
    )
    ids = {k.id: k for k in keys}
    plan.keys = [
        ids[link.inputs["keyId"]]
        for link in by_type.get(t.USAGE_PLAN_KEY, [])
        if link.inputs.get("usagePlanId") == plan.id and link.inputs.get("keyId") in ids
    ]
    return plan


def _domain(resource: PlannedResource, by_type: dict[str, list[PlannedResource]], region: str, account: str) -> Domain:
    ins = resource.inputs
    name = str(ins.get("domainName"))
    domain_id = resource.outputs.get("domainNameId")
    endpoint = ins.get("endpointConfiguration") or {}
    types = endpoint.get("types")
    mtls = ins.get("mutualTlsAuthentication") or {}
    uri = str(mtls.get("truststoreUri") or "")
    pem = None
    if uri.startswith("s3://"):
        bucket, _, key = uri[5:].partition("/")
        for obj in by_type.get(BUCKET_OBJECT, []):
            if obj.inputs.get("bucket") == bucket and obj.inputs.get("key") == key:
                pem = obj.inputs.get("content") if isinstance(obj.inputs.get("content"), str) else None
    mappings: dict[str, BasePathMapping] = {}
    for mapping in by_type.get(t.BASE_PATH_MAPPING, []):
        mi = mapping.inputs
        if mi.get("domainName") == name or (domain_id and mi.get("domainNameId") == domain_id):
            mappings[str(mi.get("basePath") or "")] = BasePathMapping(
                str(mi.get("restApi")), str(mi.get("stageName") or "")
            )
    for mapping in by_type.get(t.HTTP_API_MAPPING, []):
        mi = mapping.inputs
        if mi.get("domainName") == name:
            mappings[str(mi.get("apiMappingKey") or "")] = BasePathMapping(str(mi.get("apiId")), str(mi.get("stage")))
    access = tuple(
        str(a.inputs.get("accessAssociationSource"))
        for a in by_type.get(DOMAIN_ACCESS_ASSOCIATION, [])
        if a.inputs.get("domainNameArn") == resource.outputs.get("arn")
    )
    return Domain(
        name=name,
        endpoint_type=str((types[0] if isinstance(types, list) and types else types) or "EDGE"),
        security_policy=str(ins.get("securityPolicy") or "TLS_1_0"),
        truststore_pem=pem,
        truststore_uri=uri,
        mappings=mappings,
        access_vpc_endpoints=access,
        policy=parse_json(ins.get("policy")) if ins.get("policy") else None,
        invoke_arn=f"arn:aws:execute-api:{region}:{account}:/domainnames/{name}+{domain_id or ''}",
    )


def _user_pool(resource: PlannedResource, by_type: dict[str, list[PlannedResource]]) -> UserPool:
    pool_id = resource.outputs["id"]
    arn = str(resource.outputs.get("arn") or "")
    region = arn.split(":")[3] if arn.count(":") >= 5 else "us-east-1"
    pool = UserPool(pool_id, arn, f"https://cognito-idp.{region}.amazonaws.com/{pool_id}")
    for client in by_type.get(t.USER_POOL_CLIENT, []):
        ins = client.inputs
        if ins.get("userPoolId") != pool_id:
            continue
        pool.clients.append(
            AppClient(
                name=str(ins.get("name") or client.name),
                id=client.outputs["id"],
                pool_id=pool_id,
                oauth_flows=tuple(ins.get("allowedOauthFlows") or ())
                if ins.get("allowedOauthFlowsUserPoolClient")
                else (),
                scopes=tuple(ins.get("allowedOauthScopes") or ()),
                explicit_auth_flows=tuple(ins.get("explicitAuthFlows") or ()),
            )
        )
    return pool


def _function(resource: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> Function:
    env = ((resource.inputs.get("environment") or {}).get("variables")) or {}
    return Function(
        name=str(resource.inputs.get("name") or resource.name),
        arn=str(resource.outputs.get("arn") or ""),
        environment={str(k): str(v) for k, v in env.items()},
        component_authorizer=bool(_component_of(resource, by_urn)) and "AUTH_MODE" in env,
    )
