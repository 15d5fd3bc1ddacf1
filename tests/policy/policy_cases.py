"""One compliant and one non-compliant raw program per rule, and the resources each must flag.

Each program is small and builds only what its rule reads; the test runs it with every other
rule disabled through the pack config, in preview (unknown ids and ARNs) and update mode.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi_aws as aws
from policy_programs import ACCESS_LOG_FORMAT, MANAGED_GROUPS, _rule_visibility, _visibility, _waf_rules

apigw = aws.apigateway
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:auth/invocations"
)


@dataclass(frozen=True)
class Case:
    compliant: Callable[[], None]
    violating: Callable[[], None]
    violators: frozenset[str]
    """Names of the resources the violating program must be flagged on."""


def _api(logical: str = "api", types: str = "REGIONAL", **kwargs: object) -> apigw.RestApi:
    return apigw.RestApi(logical, endpoint_configuration=apigw.RestApiEndpointConfigurationArgs(types=types), **kwargs)


def _stage(api: apigw.RestApi, name: str = "prod", **kwargs: object) -> apigw.Stage:
    deployment = apigw.Deployment(f"{name}-deployment", rest_api=api.id)
    return apigw.Stage(name, rest_api=api.id, deployment=deployment.id, stage_name=name, **kwargs)


def _body(security: list[dict[str, list[str]]], integration: str = "http_proxy", uri: str = "https://b") -> str:
    schemes = {
        "cognito": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": ["arn:pool"]},
        },
        "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
    }
    operation = {"security": security, "x-amazon-apigateway-integration": {"type": integration, "uri": uri}}
    return json.dumps(
        {"openapi": "3.0.1", "paths": {"/orders": {"get": operation}}, "components": {"securitySchemes": schemes}}
    )


# --- auth


def _route_ok() -> None:
    api = _api(body=_body([{"cognito": ["read"]}]))
    pool = aws.cognito.UserPool("pool")
    authorizer = apigw.Authorizer("cognito", rest_api=api.id, type="COGNITO_USER_POOLS", provider_arns=[pool.arn])
    apigw.Method(
        "get",
        rest_api=api.id,
        resource_id=api.root_resource_id,
        http_method="GET",
        authorization="COGNITO_USER_POOLS",
        authorizer_id=authorizer.id,
    )
    preflight = apigw.Method(
        "preflight", rest_api=api.id, resource_id=api.root_resource_id, http_method="OPTIONS", authorization="NONE"
    )
    apigw.Integration(
        "preflight-mock",
        rest_api=api.id,
        resource_id=api.root_resource_id,
        http_method=preflight.http_method,
        type="MOCK",
    )
    # Matched by API, resource and method values, next to the resource's GET (a backend) on the same resource.
    orders = apigw.Resource("orders", rest_api=api.id, parent_id=api.root_resource_id, path_part="orders")
    _options_method(api, orders, "orders-preflight", "MOCK")
    _options_method(api, orders, "orders-get", "HTTP_PROXY", verb="GET", authorization="AWS_IAM")
    _api("health", body=_body([], integration="mock"))
    http = aws.apigatewayv2.Api("http", protocol_type="HTTP")
    aws.apigatewayv2.Route("preflight-route", api_id=http.id, route_key="OPTIONS /orders")


def _options_method(
    api: apigw.RestApi,
    resource: apigw.Resource,
    name: str,
    integration: str | None,
    verb: str = "OPTIONS",
    authorization: str = "NONE",
) -> None:
    """A REST `Method` on `resource` and, unless `integration` is None, its integration of that type."""
    apigw.Method(name, rest_api=api.id, resource_id=resource.id, http_method=verb, authorization=authorization)
    if integration is not None:
        uri = None if integration == "MOCK" else "https://backend.example.com/orders"
        apigw.Integration(
            f"{name}-integration",
            rest_api=api.id,
            resource_id=resource.id,
            http_method=verb,
            type=integration,
            integration_http_method=None if uri is None else verb,
            uri=uri,
        )


def _route_bad() -> None:
    _api("key-only", body=_body([{"api_key": []}]))
    _api("public", body=_body([]))
    api = _api()
    apigw.Method("get", rest_api=api.id, resource_id=api.root_resource_id, http_method="GET", authorization="NONE")
    apigw.Method(
        "custom", rest_api=api.id, resource_id=api.root_resource_id, http_method="POST", authorization="CUSTOM"
    )
    http = aws.apigatewayv2.Api("http", protocol_type="HTTP")
    aws.apigatewayv2.Route("route", api_id=http.id, route_key="GET /orders")
    backend = aws.apigatewayv2.Integration("backend", api_id=http.id, integration_type="HTTP_PROXY")
    aws.apigatewayv2.Route(
        "options-target",
        api_id=http.id,
        route_key="OPTIONS /orders",
        target=backend.id.apply(lambda i: f"integrations/{i}"),
    )
    # An OPTIONS operation that reaches a backend is a route like any other: no preflight exemption.
    options = {"security": [], "x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "https://b"}}
    _api("options-proxy", body=json.dumps({"openapi": "3.0.1", "paths": {"/orders": {"options": options}}}))
    # An OPTIONS Method is a preflight only when its integration is a MOCK.
    methods = _api("methods")
    orders = apigw.Resource("orders", rest_api=methods.id, parent_id=methods.root_resource_id, path_part="orders")
    _options_method(methods, orders, "options-http-proxy", "HTTP_PROXY")
    items = apigw.Resource("items", rest_api=methods.id, parent_id=methods.root_resource_id, path_part="items")
    _options_method(methods, items, "options-no-integration", None)
    _options_method(methods, items, "items-get", "MOCK", verb="GET", authorization="AWS_IAM")


def _cors_body(origin: str, credentials: bool = False, authorizer: bool = False, where: str = "gateway") -> str:
    """A REST API body whose gateway responses (or a mock's integration response) carry CORS headers."""
    headers = {"Access-Control-Allow-Origin": origin}
    if credentials:
        headers["Access-Control-Allow-Credentials"] = "'true'"
    scheme = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": ["arn:pool"]},
    }
    answer = {"statusCode": "200", "responseParameters": {f"method.response.header.{h}": v for h, v in headers.items()}}
    operation = {"security": [], "x-amazon-apigateway-integration": {"type": "mock", "responses": {"default": answer}}}
    document: dict[str, object] = {"openapi": "3.0.1", "paths": {"/health": {"get": operation}}}
    if where == "gateway":
        gateway = {"responseParameters": {f"gatewayresponse.header.{h}": v for h, v in headers.items()}}
        document["x-amazon-apigateway-gateway-responses"] = {"DEFAULT_4XX": gateway}
        document["paths"] = {}
    if authorizer:
        document["components"] = {"securitySchemes": {"cognito": scheme}}
    return json.dumps(document)


def _cors_credentials_ok() -> None:
    _api("exact", body=_cors_body("'https://app.example.com'", credentials=True, authorizer=True))
    _api("exact-mock", body=_cors_body("'https://app.example.com'", credentials=True, where="mock"))
    _api("star-no-credentials", body=_cors_body("'*'"))
    api = _api("plain")
    apigw.Response(
        "exact-response",
        rest_api_id=api.id,
        response_type="UNAUTHORIZED",
        response_parameters={
            "gatewayresponse.header.Access-Control-Allow-Origin": "'https://app.example.com'",
            "gatewayresponse.header.Access-Control-Allow-Credentials": "'true'",
        },
    )


def _cors_credentials_bad() -> None:
    _api("star-credentials", body=_cors_body("'*'", credentials=True))
    _api("echo-credentials", body=_cors_body("method.request.header.Origin", credentials=True, where="mock"))
    api = _api("plain")
    apigw.Response(
        "response-credentials",
        rest_api_id=api.id,
        response_type="DEFAULT_4XX",
        response_parameters={
            "gatewayresponse.header.access-control-allow-origin": "'*'",
            "gatewayresponse.header.Access-Control-Allow-Credentials": "'true'",
        },
    )


def _cors_wildcard_ok() -> None:
    _api("exact", body=_cors_body("'https://app.example.com'", authorizer=True))
    _api("public-star", body=_cors_body("'*'"))
    api = _api("plain")
    apigw.Response(
        "star-response",
        rest_api_id=api.id,
        response_type="DEFAULT_4XX",
        response_parameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )


def _cors_wildcard_bad() -> None:
    _api("open-cors", body=_cors_body("'*'", authorizer=True))
    _api("echo-mock", body=_cors_body("method.request.header.Origin", authorizer=True, where="mock"))
    api = _api("plain")
    pool = aws.cognito.UserPool("pool")
    apigw.Authorizer("cognito", rest_api=api.id, type="COGNITO_USER_POOLS", provider_arns=[pool.arn])
    apigw.Response(
        "star-response",
        rest_api_id=api.id,
        response_type="DEFAULT_4XX",
        response_parameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )


def _cache_ok() -> None:
    api = _api()
    apigw.Authorizer(
        "request",
        rest_api=api.id,
        type="REQUEST",
        authorizer_uri=LAMBDA_URI,
        identity_source="method.request.header.Authorization",
        authorizer_result_ttl_in_seconds=300,
    )
    apigw.Authorizer(
        "uncached", rest_api=api.id, type="REQUEST", authorizer_uri=LAMBDA_URI, authorizer_result_ttl_in_seconds=0
    )
    apigw.Authorizer("token", rest_api=api.id, authorizer_uri=LAMBDA_URI)


def _cache_bad() -> None:
    api = _api()
    apigw.Authorizer("request", rest_api=api.id, type="REQUEST", authorizer_uri=LAMBDA_URI)
    http = aws.apigatewayv2.Api("http", protocol_type="HTTP")
    aws.apigatewayv2.Authorizer(
        "http-request",
        api_id=http.id,
        authorizer_type="REQUEST",
        authorizer_uri=LAMBDA_URI,
        authorizer_payload_format_version="2.0",
    )


def _permission_ok() -> None:
    api = _api()
    aws.lambda_.Permission(
        "invoke",
        action="lambda:InvokeFunction",
        function="fn",
        principal="apigateway.amazonaws.com",
        source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
    )
    aws.lambda_.Permission(
        "literal",
        action="lambda:InvokeFunction",
        function="fn",
        principal="apigateway.amazonaws.com",
        source_arn="arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/orders",
    )
    aws.lambda_.Permission("s3", action="lambda:InvokeFunction", function="fn", principal="s3.amazonaws.com")
    aws.lambda_.Permission(
        "org", action="lambda:InvokeFunction", function="fn", principal="*", principal_org_id="o-abc123def4"
    )


def _permission_bad() -> None:
    aws.lambda_.Permission("open", action="lambda:InvokeFunction", function="fn", principal="apigateway.amazonaws.com")
    aws.lambda_.Permission(
        "any-api",
        action="lambda:InvokeFunction",
        function="fn",
        principal="apigateway.amazonaws.com",
        source_arn="arn:aws:execute-api:us-east-1:123456789012:*/*",
    )
    aws.lambda_.Permission("everyone", action="lambda:InvokeFunction", function="fn", principal="*")


# --- cognito


def _pool(name: str = "users", **overrides: object) -> None:
    settings: dict[str, object] = {
        "mfa_configuration": "ON",
        "software_token_mfa_configuration": aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
        "password_policy": aws.cognito.UserPoolPasswordPolicyArgs(
            minimum_length=14,
            require_lowercase=True,
            require_uppercase=True,
            require_numbers=True,
            require_symbols=True,
            temporary_password_validity_days=3,
        ),
        "user_pool_tier": "PLUS",
        "user_pool_add_ons": aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode="ENFORCED"),
        "deletion_protection": "ACTIVE",
    }
    aws.cognito.UserPool(name, **{**settings, **overrides})


def _client(name: str = "web", **overrides: object) -> None:
    pool = aws.cognito.UserPool(f"{name}-pool")
    settings: dict[str, object] = {
        "explicit_auth_flows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "allowed_oauth_flows": ["code"],
        "enable_token_revocation": True,
    }
    aws.cognito.UserPoolClient(name, user_pool_id=pool.id, **{**settings, **overrides})


def _weak_password() -> None:
    _pool(
        "short",
        password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
            minimum_length=8,
            require_lowercase=True,
            require_uppercase=True,
            require_numbers=True,
            require_symbols=True,
        ),
    )
    _pool("cognito-default", password_policy=None)


# --- usage plans


def _limits() -> dict[str, object]:
    """A usage plan's throttle and quota, as every compliant plan here has them."""
    return {
        "throttle_settings": apigw.UsagePlanThrottleSettingsArgs(burst_limit=20, rate_limit=10),
        "quota_settings": apigw.UsagePlanQuotaSettingsArgs(limit=1000, period="DAY"),
    }


def _plan(name: str = "plan", **overrides: object) -> None:
    api = _api()
    stage = _stage(api)
    settings: dict[str, object] = {
        "api_stages": [apigw.UsagePlanApiStageArgs(api_id=api.id, stage=stage.stage_name)],
        **_limits(),
    }
    plan = apigw.UsagePlan(name, **{**settings, **overrides})
    key = apigw.ApiKey("key")
    apigw.UsagePlanKey("key", key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id)


def _plan_stage_bad() -> None:
    """A plan bound to nothing, and one that names a stage its API does not have (a typo for `prod`)."""
    api = _api()
    _stage(api)
    apigw.UsagePlan("plan", **_limits())
    apigw.UsagePlan("typo", api_stages=[apigw.UsagePlanApiStageArgs(api_id=api.id, stage="prd")], **_limits())


def _keyed_ok() -> None:
    _plan()
    api = _api("keyed")
    _keyed_method(api)
    stage = _stage(api, "keyed-stage")
    stages = [apigw.UsagePlanApiStageArgs(api_id=api.id, stage=stage.stage_name)]
    apigw.UsagePlan("keyed-plan", api_stages=stages, **_limits())


def _keyed_method(api: apigw.RestApi) -> None:
    resource = apigw.Resource("orders", rest_api=api.id, parent_id=api.root_resource_id, path_part="orders")
    apigw.Method(
        "orders-get",
        rest_api=api.id,
        resource_id=resource.id,
        http_method="GET",
        authorization="AWS_IAM",
        api_key_required=True,
    )


def _keyed_bad() -> None:
    """A stage whose API has a method requiring an API key, and no usage plan for it."""
    api = _api("keyed")
    _keyed_method(api)
    _stage(api, "unplanned")


def _keys_bad() -> None:
    _plan()
    apigw.ApiKey("loose")
    apigw.ApiKey("disabled", enabled=False)


# --- network


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALLOW_ALL = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
ALLOW_FROM_OFFICE = {**ALLOW_ALL, "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}}
DENY_OUTSIDE_VPCE = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "execute-api:Invoke",
    "Resource": "execute-api:/*",
    "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}},
}


def _open_ok() -> None:
    _api("office", policy=_policy(ALLOW_FROM_OFFICE))
    api = _api("fenced", types="PRIVATE")
    apigw.RestApiPolicy("fenced", rest_api_id=api.id, policy=_policy(ALLOW_ALL, DENY_OUTSIDE_VPCE))
    regional = _api("office-policy")
    apigw.RestApiPolicy("office-policy", rest_api_id=regional.id, policy=_policy(ALLOW_FROM_OFFICE))
    body = {"openapi": "3.0.1", "x-amazon-apigateway-policy": json.loads(_policy(ALLOW_FROM_OFFICE))}
    _api("body-policy", body=json.dumps(body))


def _open_bad() -> None:
    _api("open", policy=_policy(ALLOW_ALL))
    api = _api("weak")
    apigw.RestApiPolicy(
        "if-exists",
        rest_api_id=api.id,
        policy=_policy({**ALLOW_ALL, "Condition": {"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}}),
    )
    _api("no-policy")
    apigw.RestApi("edge-no-policy")


def _private_ok() -> None:
    api = _api("private", types="PRIVATE")
    apigw.RestApiPolicy("private", rest_api_id=api.id, policy=_policy(ALLOW_ALL, DENY_OUTSIDE_VPCE))
    _api(
        "inline",
        types="PRIVATE",
        policy=_policy({**ALLOW_ALL, "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-0123"}}}),
    )
    _api("public")


def _private_bad() -> None:
    _api("bare", types="PRIVATE")
    api = _api("office-only", types="PRIVATE")
    apigw.RestApiPolicy("office-only", rest_api_id=api.id, policy=_policy(ALLOW_FROM_OFFICE))


# --- backends


def _integrations(scheme: str) -> None:
    """A REST Integration, an HTTP API integration and an OpenAPI body, all calling `scheme` backends."""
    api = _api("body", body=_body([{"cognito": []}], uri=f"{scheme}://orders.example.com"))
    method = apigw.Method(
        "get", rest_api=api.id, resource_id=api.root_resource_id, http_method="GET", authorization="AWS_IAM"
    )
    apigw.Integration(
        "rest",
        rest_api=api.id,
        resource_id=api.root_resource_id,
        http_method=method.http_method,
        type="HTTP_PROXY",
        integration_http_method="GET",
        uri=f"{scheme}://orders.example.com/orders",
    )
    http = aws.apigatewayv2.Api("http", protocol_type="HTTP")
    aws.apigatewayv2.Integration(
        "http-api",
        api_id=http.id,
        integration_type="HTTP_PROXY",
        integration_method="ANY",
        integration_uri=f"{scheme}://orders.example.com",
    )
    apigw.Integration(
        "mock", rest_api=api.id, resource_id=api.root_resource_id, http_method=method.http_method, type="MOCK"
    )


# --- waf


def _acl(name: str = "acl", rules: list[aws.wafv2.WebAclRuleArgs] | None = None) -> aws.wafv2.WebAcl:
    return aws.wafv2.WebAcl(
        name,
        scope="REGIONAL",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        visibility_config=_visibility(name),
        rules=_waf_rules() if rules is None else rules,
    )


def _association_ok() -> None:
    stage = _stage(_api())
    aws.wafv2.WebAclAssociation("prod", resource_arn=stage.arn, web_acl_arn=_acl().arn)
    _stage(_api("private", types="PRIVATE"), "internal")


def _one_acl_bad() -> None:
    stage = _stage(_api())
    aws.wafv2.WebAclAssociation("prod-first", resource_arn=stage.arn, web_acl_arn=_acl().arn)
    aws.wafv2.WebAclAssociation("prod-second", resource_arn=stage.arn, web_acl_arn=_acl("second").arn)


def _association_bad() -> None:
    _acl()
    _stage(_api())
    _stage(_api("edge", types="EDGE"), "edge")


def _acl_rules_ok() -> None:
    _acl()
    _acl("own-sqli", rules=_baseline_only())
    acl = _acl("split", rules=_waf_rules()[:1])
    for priority, group in enumerate(MANAGED_GROUPS, start=1):
        aws.wafv2.WebAclRuleGroupAssociation(
            group,
            rule_name=group,
            priority=priority,
            web_acl_arn=acl.arn,
            managed_rule_group=aws.wafv2.WebAclRuleGroupAssociationManagedRuleGroupArgs(name=group, vendor_name="AWS"),
            visibility_config=aws.wafv2.WebAclRuleGroupAssociationVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=group, sampled_requests_enabled=True
            ),
        )


def _own_sqli_rule(priority: int) -> aws.wafv2.WebAclRuleArgs:
    sqli = aws.wafv2.WebAclRuleStatementSqliMatchStatementArgs(
        field_to_match=aws.wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchArgs(
            query_string=aws.wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchQueryStringArgs()
        ),
        text_transformations=[
            aws.wafv2.WebAclRuleStatementSqliMatchStatementTextTransformationArgs(priority=0, type="URL_DECODE")
        ],
    )
    return aws.wafv2.WebAclRuleArgs(
        name="sqli",
        priority=priority,
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(sqli_match_statement=sqli),
        visibility_config=_rule_visibility("sqli"),
    )


def _baseline_only() -> list[aws.wafv2.WebAclRuleArgs]:
    """Rate rule, Common and KnownBadInputs, an own SQLi rule: no SQLi group, no reputation lists."""
    kept = ("rate", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
    return [rule for rule in _waf_rules() if rule.name in kept] + [_own_sqli_rule(10)]


def _log4j_counted() -> list[aws.wafv2.WebAclRuleArgs]:
    rules = _waf_rules()
    for rule in rules:
        group = rule.statement.managed_rule_group_statement
        if group is not None and group.name == "AWSManagedRulesKnownBadInputsRuleSet":
            group.rule_action_overrides = [
                aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
                    name="Log4JRCE_BODY",
                    action_to_use=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs(
                        count=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs()
                    ),
                )
            ]
    return rules


def _acl_rules_bad() -> None:
    _acl("log4j-counted", rules=_log4j_counted())
    rules = _waf_rules()
    counting = aws.wafv2.WebAclRuleArgs(
        name="rate",
        priority=0,
        action=aws.wafv2.WebAclRuleActionArgs(count=aws.wafv2.WebAclRuleActionCountArgs()),
        statement=rules[0].statement,
        visibility_config=_rule_visibility("rate"),
    )
    _acl("counting", rules=[counting, *rules[1:]])
    _acl("no-sqli", rules=[rule for rule in rules if rule.name != "AWSManagedRulesSQLiRuleSet"])


def _with_groups(groups: tuple[str, ...]) -> list[aws.wafv2.WebAclRuleArgs]:
    rules = _waf_rules()
    return rules + [
        aws.wafv2.WebAclRuleArgs(
            name=group,
            priority=len(rules) + index,
            override_action=aws.wafv2.WebAclRuleOverrideActionArgs(none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    name=group, vendor_name="AWS"
                )
            ),
            visibility_config=_rule_visibility(group),
        )
        for index, group in enumerate(groups)
    ]


def _capacity_bad() -> None:
    """1,177 WCU of rate rule and the five groups, plus 800 of use-case groups: 1,977."""
    _acl(
        "use-case-groups",
        rules=_with_groups(
            (
                "AWSManagedRulesLinuxRuleSet",
                "AWSManagedRulesUnixRuleSet",
                "AWSManagedRulesWindowsRuleSet",
                "AWSManagedRulesPHPRuleSet",
                "AWSManagedRulesWordPressRuleSet",
                "AWSManagedRulesAdminProtectionRuleSet",
            )
        ),
    )


def _quota_bad() -> None:
    """One rule of 40 XSS inspections of the JSON body with two transformations: 40 x (2 x 40 + 20) WCU."""
    field = aws.wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchArgs
    json_body = aws.wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchJsonBodyArgs
    pattern = aws.wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchJsonBodyMatchPatternArgs
    transformation = aws.wafv2.WebAclRuleStatementXssMatchStatementTextTransformationArgs
    statements = [
        aws.wafv2.WebAclRuleStatementArgs(
            xss_match_statement=aws.wafv2.WebAclRuleStatementXssMatchStatementArgs(
                field_to_match=field(
                    json_body=json_body(match_pattern=pattern(included_paths=[f"/field{i}"]), match_scope="VALUE")
                ),
                text_transformations=[
                    transformation(priority=0, type="URL_DECODE"),
                    transformation(priority=1, type="HTML_ENTITY_DECODE"),
                ],
            )
        )
        for i in range(40)
    ]
    heavy = aws.wafv2.WebAclRuleArgs(
        name="json-fields",
        priority=20,
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            or_statement=aws.wafv2.WebAclRuleStatementOrStatementArgs(statements=statements)
        ),
        visibility_config=_rule_visibility("json-fields"),
    )
    _acl("over-quota", rules=[*_waf_rules(), heavy])


def _reputation_bad() -> None:
    _acl("baseline-only", rules=_baseline_only())


def _log_config(acl: aws.wafv2.WebAcl, group: str = "aws-waf-logs-acl", redact: bool = True) -> None:
    logs = aws.cloudwatch.LogGroup(f"{group}-group", name=group, retention_in_days=365)
    redacted = [
        aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
            single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name="Authorization")
        )
    ]
    aws.wafv2.WebAclLoggingConfiguration(
        f"{group}-config",
        resource_arn=acl.arn,
        log_destination_configs=[logs.arn],
        redacted_fields=redacted if redact else None,
    )


def _logging_ok() -> None:
    _log_config(_acl())


def _logging_bad() -> None:
    _log_config(_acl())
    _acl("silent")


def _redaction_bad() -> None:
    _log_config(_acl(), redact=False)


def _destination_ok() -> None:
    acl = _acl()
    _log_config(acl)
    aws.wafv2.WebAclLoggingConfiguration(
        "firehose",
        resource_arn=acl.arn,
        log_destination_configs=["arn:aws:firehose:us-east-1:123456789012:deliverystream/aws-waf-logs-stream"],
    )


def _destination_bad() -> None:
    _log_config(_acl(), group="waf-acl")


# --- logging


def _access_logs_ok() -> None:
    logs = aws.cloudwatch.LogGroup("access", retention_in_days=365)
    settings = apigw.StageAccessLogSettingsArgs(destination_arn=logs.arn, format=ACCESS_LOG_FORMAT)
    _stage(_api(), access_log_settings=settings)
    bare = '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","status":$context.status}'
    _stage(
        _api("bare"),
        "bare",
        access_log_settings=apigw.StageAccessLogSettingsArgs(destination_arn=logs.arn, format=bare),
    )


def _access_logs_bad() -> None:
    logs = aws.cloudwatch.LogGroup("access", retention_in_days=365)
    _stage(_api())
    clf = "$context.identity.sourceIp $context.requestId [$context.requestTime]"
    _stage(
        _api("clf"), "clf", access_log_settings=apigw.StageAccessLogSettingsArgs(destination_arn=logs.arn, format=clf)
    )
    no_ip = json.dumps({"requestId": "$context.requestId"})
    _stage(
        _api("no-ip"),
        "no-ip",
        access_log_settings=apigw.StageAccessLogSettingsArgs(destination_arn=logs.arn, format=no_ip),
    )
    http = aws.apigatewayv2.Api("http", protocol_type="HTTP")
    aws.apigatewayv2.Stage("http-default", api_id=http.id, name="$default")


def _method_settings(name: str, api: apigw.RestApi, stage_name: object, **settings: object) -> None:
    values: dict[str, object] = {"logging_level": "INFO", "metrics_enabled": True, "data_trace_enabled": False}
    apigw.MethodSettings(
        name,
        rest_api=api.id,
        stage_name=stage_name,
        method_path="*/*",
        settings=apigw.MethodSettingsSettingsArgs(**{**values, **settings}),
    )


def _execution_ok() -> None:
    api = _api()
    stage = _stage(api)
    _method_settings("prod-all", api, stage.stage_name)
    other = _api("other")
    _stage(other, "v1")
    _method_settings("v1-all", other, "v1", logging_level="ERROR")


def _execution_bad() -> None:
    api = _api()
    _stage(api)
    quiet = _stage(api, "quiet")
    _method_settings("quiet-all", api, quiet.stage_name, logging_level="OFF")
    blind = _stage(api, "blind")
    _method_settings("blind-all", api, blind.stage_name, metrics_enabled=False)


def _data_trace_ok() -> None:
    api = _api()
    _method_settings("prod-all", api, _stage(api).stage_name)


def _data_trace_bad() -> None:
    api = _api()
    _method_settings("prod-all", api, _stage(api).stage_name, data_trace_enabled=True)
    http = aws.apigatewayv2.Api("ws", protocol_type="WEBSOCKET", route_selection_expression="$request.body.action")
    aws.apigatewayv2.Stage(
        "ws-prod",
        api_id=http.id,
        name="prod",
        default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(data_trace_enabled=True),
    )


# --- tls


def _domain(name: str = "api", **overrides: object) -> apigw.DomainName:
    settings: dict[str, object] = {
        "domain_name": f"{name}.example.com",
        "regional_certificate_arn": CERT,
        "endpoint_configuration": apigw.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
        "security_policy": "TLS_1_2",
    }
    return apigw.DomainName(name, **{**settings, **overrides})


def _tls_ok() -> None:
    _domain()
    _domain("tls13", security_policy="SecurityPolicy_TLS13_1_3_2025_09", endpoint_access_mode="STRICT")
    aws.apigatewayv2.DomainName(
        "http",
        domain_name="http.example.com",
        domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
            certificate_arn=CERT, endpoint_type="REGIONAL", security_policy="TLS_1_2"
        ),
    )


def _tls_bad() -> None:
    _domain("legacy", security_policy="TLS_1_0")
    _domain("implicit", security_policy=None)
    _api("api", security_policy="TLS_1_0")


def _access_mode_bad() -> None:
    _domain("tls13", security_policy="SecurityPolicy_TLS13_1_3_2025_09")
    _api("api", security_policy="SecurityPolicy_TLS13_1_2_2021_06")


def _mtls(version: str | None) -> apigw.DomainNameMutualTlsAuthenticationArgs:
    return apigw.DomainNameMutualTlsAuthenticationArgs(truststore_uri="s3://trust/ca.pem", truststore_version=version)


def _truststore_ok() -> None:
    _domain("mtls", mutual_tls_authentication=_mtls("v3"))
    _domain("plain")


def _truststore_bad() -> None:
    _domain("mtls", mutual_tls_authentication=_mtls(None))


def _mapped(disable: bool) -> None:
    api = _api(disable_execute_api_endpoint=disable)
    stage = _stage(api)
    domain = _domain(mutual_tls_authentication=_mtls("v3"))
    apigw.BasePathMapping("api", rest_api=api.id, stage_name=stage.stage_name, domain_name=domain.domain_name)
    _api("unmapped")


# --- alarms


def _alarm(name: str, dimensions: dict[str, object], metric: str = "5XXError") -> None:
    aws.cloudwatch.MetricAlarm(
        name,
        namespace="AWS/ApiGateway",
        metric_name=metric,
        dimensions=dimensions,
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
    )


def _alarms_ok() -> None:
    api = _api()
    stage = _stage(api)
    _alarm("prod-5xx", {"ApiName": api.name, "Stage": stage.stage_name})
    named = _api("named", name="named-api")
    _stage(named, "v1")
    _alarm("v1-5xx", {"ApiName": "named-api", "Stage": "v1"})


def _alarms_bad() -> None:
    api = _api()
    stage = _stage(api)
    _stage(api, "unwatched")
    _alarm("prod-4xx", {"ApiName": api.name, "Stage": stage.stage_name}, metric="4XXError")


def _execute_api_endpoint(name: str, private_dns: bool | None, service: str = "execute-api") -> None:
    aws.ec2.VpcEndpoint(
        name,
        vpc_id="vpc-0a1b2c3d4e5f67890",
        service_name=f"com.amazonaws.eu-west-1.{service}",
        vpc_endpoint_type="Interface",
        subnet_ids=["subnet-0a1b2c3d4e5f67890"],
        private_dns_enabled=private_dns,
    )


ENDPOINT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/v1/*",
        }
    ],
}
FULL_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}


def _endpoint_policy_ok() -> None:
    aws.ec2.VpcEndpoint(
        "own-policy",
        vpc_id="vpc-0a1b2c3d4e5f67890",
        service_name="com.amazonaws.eu-west-1.execute-api",
        vpc_endpoint_type="Interface",
        policy=json.dumps(ENDPOINT_POLICY),
    )
    attached = aws.ec2.VpcEndpoint(
        "attached",
        vpc_id="vpc-0a1b2c3d4e5f67890",
        service_name="com.amazonaws.eu-west-1.execute-api",
        vpc_endpoint_type="Interface",
    )
    aws.ec2.VpcEndpointPolicy("attached", vpc_endpoint_id=attached.id, policy=json.dumps(ENDPOINT_POLICY))
    aws.ec2.VpcEndpoint(  # not execute-api: not this rule's concern
        "s3", vpc_id="vpc-0a1b2c3d4e5f67890", service_name="com.amazonaws.eu-west-1.s3", vpc_endpoint_type="Gateway"
    )


def _endpoint_policy_bad() -> None:
    aws.ec2.VpcEndpoint(
        "default-policy",
        vpc_id="vpc-0a1b2c3d4e5f67890",
        service_name="com.amazonaws.eu-west-1.execute-api",
        vpc_endpoint_type="Interface",
    )
    full = aws.ec2.VpcEndpoint(
        "full-access",
        vpc_id="vpc-0a1b2c3d4e5f67890",
        service_name="com.amazonaws.eu-west-1.execute-api",
        vpc_endpoint_type="Interface",
        policy=json.dumps(ENDPOINT_POLICY),
    )
    aws.ec2.VpcEndpointPolicy("full-access", vpc_endpoint_id=full.id, policy=json.dumps(FULL_ACCESS))


def _private_dns_ok() -> None:
    _execute_api_endpoint("off", False)
    _execute_api_endpoint("default", None)  # pulumi-aws's default is false
    _execute_api_endpoint("sqs", True, "sqs")  # not an execute-api endpoint: not this rule's concern


def _private_dns_bad() -> None:
    _execute_api_endpoint("resolves-everything", True)


CASES: dict[str, Case] = {
    "api-route-authorizer": Case(
        _route_ok,
        _route_bad,
        frozenset(
            {
                "key-only",
                "public",
                "get",
                "custom",
                "route",
                "options-proxy",
                "options-target",
                "options-http-proxy",
                "options-no-integration",
            }
        ),
    ),
    "authorizer-cache-scope": Case(_cache_ok, _cache_bad, frozenset({"request", "http-request"})),
    "lambda-permission-source-arn": Case(_permission_ok, _permission_bad, frozenset({"open", "any-api", "everyone"})),
    "cognito-password-policy": Case(_pool, _weak_password, frozenset({"short", "cognito-default"})),
    "cognito-mfa": Case(_pool, lambda: _pool(mfa_configuration="OPTIONAL"), frozenset({"users"})),
    "cognito-deletion-protection": Case(_pool, lambda: _pool(deletion_protection=None), frozenset({"users"})),
    "cognito-threat-protection": Case(
        lambda: (_pool(), _pool("essentials", user_pool_tier="ESSENTIALS", user_pool_add_ons=None)),
        lambda: _pool(user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode="AUDIT")),
        frozenset({"users"}),
    ),
    "cognito-client-no-password-flows": Case(
        _client, lambda: _client(explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"]), frozenset({"web"})
    ),
    "cognito-client-no-implicit-flow": Case(
        _client, lambda: _client(allowed_oauth_flows=["code", "implicit"]), frozenset({"web"})
    ),
    "cognito-client-token-revocation": Case(
        _client, lambda: _client(enable_token_revocation=False), frozenset({"web"})
    ),
    "usage-plan-throttle": Case(_plan, lambda: _plan(throttle_settings=None), frozenset({"plan"})),
    "usage-plan-quota": Case(_plan, lambda: _plan(quota_settings=None), frozenset({"plan"})),
    "usage-plan-stage": Case(_plan, _plan_stage_bad, frozenset({"plan", "typo"})),
    "api-key-in-usage-plan": Case(_plan, _keys_bad, frozenset({"loose"})),
    "api-key-stage-in-usage-plan": Case(_keyed_ok, _keyed_bad, frozenset({"unplanned"})),
    "resource-policy-no-open-allow": Case(
        _open_ok, _open_bad, frozenset({"open", "if-exists", "no-policy", "edge-no-policy"})
    ),
    "private-api-vpce-policy": Case(_private_ok, _private_bad, frozenset({"bare", "office-only"})),
    "execute-api-endpoint-private-dns": Case(_private_dns_ok, _private_dns_bad, frozenset({"resolves-everything"})),
    "execute-api-endpoint-policy": Case(
        _endpoint_policy_ok, _endpoint_policy_bad, frozenset({"default-policy", "full-access"})
    ),
    "waf-stage-association": Case(_association_ok, _association_bad, frozenset({"prod", "edge"})),
    "waf-one-acl-per-stage": Case(_association_ok, _one_acl_bad, frozenset({"prod"})),
    "waf-acl-rules": Case(_acl_rules_ok, _acl_rules_bad, frozenset({"counting", "no-sqli", "log4j-counted"})),
    "waf-reputation-lists": Case(_acl, _reputation_bad, frozenset({"baseline-only"})),
    "waf-capacity": Case(_acl, _capacity_bad, frozenset({"use-case-groups"})),
    "waf-capacity-quota": Case(_capacity_bad, _quota_bad, frozenset({"over-quota"})),
    "waf-logging": Case(_logging_ok, _logging_bad, frozenset({"silent"})),
    "waf-log-redaction": Case(_logging_ok, _redaction_bad, frozenset({"aws-waf-logs-acl-config"})),
    "waf-log-destination-name": Case(_destination_ok, _destination_bad, frozenset({"waf-acl-config"})),
    "stage-access-logs": Case(_access_logs_ok, _access_logs_bad, frozenset({"prod", "clf", "no-ip", "http-default"})),
    "stage-execution-logging": Case(_execution_ok, _execution_bad, frozenset({"prod", "quiet", "blind"})),
    "method-data-trace-off": Case(_data_trace_ok, _data_trace_bad, frozenset({"prod-all", "ws-prod"})),
    "log-group-retention": Case(
        lambda: aws.cloudwatch.LogGroup("logs", retention_in_days=365),
        lambda: (aws.cloudwatch.LogGroup("unset"), aws.cloudwatch.LogGroup("short", retention_in_days=30)),
        frozenset({"unset", "short"}),
    ),
    "log-group-kms": Case(
        lambda: aws.cloudwatch.LogGroup("logs", kms_key_id="alias/logs"),
        lambda: aws.cloudwatch.LogGroup("logs"),
        frozenset({"logs"}),
    ),
    "domain-tls-policy": Case(_tls_ok, _tls_bad, frozenset({"legacy", "implicit", "api"})),
    "enhanced-tls-endpoint-access-mode": Case(_tls_ok, _access_mode_bad, frozenset({"tls13", "api"})),
    "mtls-truststore-version": Case(_truststore_ok, _truststore_bad, frozenset({"mtls"})),
    "integration-https-backend": Case(
        lambda: _integrations("https"), lambda: _integrations("http"), frozenset({"body", "rest", "http-api"})
    ),
    "custom-domain-default-endpoint": Case(lambda: _mapped(True), lambda: _mapped(False), frozenset({"api"})),
    "stage-5xx-alarm": Case(_alarms_ok, _alarms_bad, frozenset({"prod", "unwatched"})),
    "cors-credentials-exact-origin": Case(
        _cors_credentials_ok,
        _cors_credentials_bad,
        frozenset({"star-credentials", "echo-credentials", "response-credentials"}),
    ),
    "cors-no-wildcard-with-authorizers": Case(
        _cors_wildcard_ok, _cors_wildcard_bad, frozenset({"open-cors", "echo-mock", "star-response"})
    ),
}
