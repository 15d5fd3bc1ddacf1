"""Mutants of a planned stack: each breaks one control by editing the captured registrations.

A mutant edits `PlannedResource.properties` (the Struct the engine would receive) or drops
resources, exactly as a wrong program would have registered them; unknown values stay unknown.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf import json_format, struct_pb2
from secure_api_policies import tokens as t

from secure_api.plan.harness import PlannedResource

MISNAMED_LOG_GROUP = "arn:aws:logs:eu-west-1:123456789012:log-group:waf-logs"
Props = dict[str, Any]
Resources = list[PlannedResource]


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    """The mandatory rule that must fire."""
    target: str
    """Type of the resource the finding must name."""
    apply: Callable[[Resources], Resources]


def _props(resource: PlannedResource) -> Props:
    return json_format.MessageToDict(resource.properties)


def _with_props(resource: PlannedResource, props: Props) -> PlannedResource:
    struct = struct_pb2.Struct()
    struct.update(props)
    return replace(resource, properties=struct)


def edit(type_: str, change: Callable[[Props], None]) -> Callable[[Resources], Resources]:
    def apply(resources: Resources) -> Resources:
        result = []
        for resource in resources:
            if resource.type == type_:
                props = _props(resource)
                change(props)
                resource = _with_props(resource, props)
            result.append(resource)
        return result

    return apply


def drop(type_: str) -> Callable[[Resources], Resources]:
    return lambda resources: [resource for resource in resources if resource.type != type_]


def _set(path: str, value: Any) -> Callable[[Props], None]:
    def change(props: Props) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            props = props.setdefault(key, {})
        props[leaf] = value

    return change


def _remove(key: str) -> Callable[[Props], None]:
    return lambda props: props.pop(key, None)


def _edit_body(change: Callable[[dict[str, Any]], None]) -> Callable[[Props], None]:
    """Rewrite the OpenAPI body when it is known (during preview it may not be: left unknown)."""

    def apply(props: Props) -> None:
        try:
            body = json.loads(props["body"])
        except (KeyError, ValueError):
            return
        change(body)
        props["body"] = json.dumps(body)

    return apply


def _operations(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in body.get("paths", {}).values() for verb, op in item.items() if verb != "options"]


def _no_auth(body: dict[str, Any]) -> None:
    for operation in _operations(body):
        operation["security"] = []
        operation["x-amazon-apigateway-integration"] = {"type": "http_proxy", "uri": "https://backend"}


def _key_only(body: dict[str, Any]) -> None:
    body.setdefault("components", {}).setdefault("securitySchemes", {})["api_key"] = {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    for operation in _operations(body):
        operation["security"] = [{"api_key": []}]
        operation["x-amazon-apigateway-integration"] = {"type": "http_proxy", "uri": "https://backend"}


def _plaintext_backends(body: dict[str, Any]) -> None:
    for operation in _operations(body):
        integration = operation.get("x-amazon-apigateway-integration", {})
        if str(integration.get("uri", "")).startswith("https://"):
            integration["uri"] = "http://" + integration["uri"][len("https://") :]


def _proxied_preflight(body: dict[str, Any]) -> None:
    """A preflight that reaches a backend is no longer exempt from the authorizer rule."""
    for item in body.get("paths", {}).values():
        if "options" in item:
            item["options"]["x-amazon-apigateway-integration"] = {"type": "http_proxy", "uri": "https://backend"}


def _any_origin_with_credentials(body: dict[str, Any]) -> None:
    for response in body.get("x-amazon-apigateway-gateway-responses", {}).values():
        response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] = "'*'"
        response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Credentials"] = "'true'"


def _long_cache(body: dict[str, Any]) -> None:
    for scheme in body.get("components", {}).get("securitySchemes", {}).values():
        authorizer = scheme.get("x-amazon-apigateway-authorizer", {})
        if authorizer.get("type") in ("token", "request"):
            authorizer["authorizerResultTtlInSeconds"] = 7200


def _open_policy(body: dict[str, Any]) -> None:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    body["x-amazon-apigateway-policy"] = {"Version": "2012-10-17", "Statement": [statement]}


def _no_policy(props: Props) -> None:
    """The API without its resource policy: neither the `policy` argument nor the body's extension."""
    props.pop("policy", None)
    _edit_body(lambda body: body.pop("x-amazon-apigateway-policy", None))(props)


def _without_rate_rules(props: Props) -> None:
    props["rules"] = [rule for rule in props.get("rules", []) if "rateBasedStatement" not in rule.get("statement", {})]


def _count_known_bad_inputs(props: Props) -> None:
    for rule in props.get("rules", []):
        group = rule.get("statement", {}).get("managedRuleGroupStatement", {})
        if group.get("name") == "AWSManagedRulesKnownBadInputsRuleSet":
            rule["overrideAction"] = {"count": {}}


def _count_sqli(props: Props) -> None:
    """Both SQL injection defences in count mode: the own rule and the AWS group."""
    for rule in props.get("rules", []):
        group = rule.get("statement", {}).get("managedRuleGroupStatement", {})
        if group.get("name") == "AWSManagedRulesSQLiRuleSet":
            rule["overrideAction"] = {"count": {}}
        if rule.get("name") == "sql-injection":
            rule["action"] = {"count": {}}


def _unlogged_settings(props: Props) -> None:
    props.setdefault("settings", {})["loggingLevel"] = "OFF"


API_ARN = "arn:aws:apigateway:eu-west-1::/restapis/abc123"


MUTANTS = (
    Mutant("no WAF association", "waf-stage-association", t.STAGE, drop(t.WEB_ACL_ASSOCIATION)),
    Mutant("access logs off", "stage-access-logs", t.STAGE, edit(t.STAGE, _remove("accessLogSettings"))),
    Mutant("execution logging off", "stage-execution-logging", t.STAGE, edit(t.METHOD_SETTINGS, _unlogged_settings)),
    Mutant(
        "data trace on",
        "method-data-trace-off",
        t.METHOD_SETTINGS,
        edit(t.METHOD_SETTINGS, _set("settings.dataTraceEnabled", True)),
    ),
    Mutant("authorization NONE", "api-route-authorizer", t.REST_API, edit(t.REST_API, _edit_body(_no_auth))),
    Mutant("API-key-only routes", "api-route-authorizer", t.REST_API, edit(t.REST_API, _edit_body(_key_only))),
    Mutant(
        "plaintext backends",
        "integration-https-backend",
        t.REST_API,
        edit(t.REST_API, _edit_body(_plaintext_backends)),
    ),
    Mutant(
        "preflight proxied to a backend",
        "api-route-authorizer",
        t.REST_API,
        edit(t.REST_API, _edit_body(_proxied_preflight)),
    ),
    Mutant(
        "CORS any origin with credentials",
        "cors-credentials-exact-origin",
        t.REST_API,
        edit(t.REST_API, _edit_body(_any_origin_with_credentials)),
    ),
    Mutant("authorizer cache 2h", "authorizer-cache-scope", t.REST_API, edit(t.REST_API, _edit_body(_long_cache))),
    Mutant(
        "unscoped invoke permission",
        "lambda-permission-source-arn",
        t.LAMBDA_PERMISSION,
        edit(t.LAMBDA_PERMISSION, _remove("sourceArn")),
    ),
    Mutant(
        "TLS 1.0 domain", "domain-tls-policy", t.DOMAIN_NAME, edit(t.DOMAIN_NAME, _set("securityPolicy", "TLS_1_0"))
    ),
    Mutant(
        "TLS 1.3 without access mode",
        "enhanced-tls-endpoint-access-mode",
        t.DOMAIN_NAME,
        edit(t.DOMAIN_NAME, _set("securityPolicy", "SecurityPolicy_TLS13_1_3_2025_09")),
    ),
    Mutant(
        "truststore unpinned",
        "mtls-truststore-version",
        t.DOMAIN_NAME,
        edit(t.DOMAIN_NAME, lambda p: p["mutualTlsAuthentication"].pop("truststoreVersion")),
    ),
    Mutant(
        "mTLS with default endpoint on",
        "custom-domain-default-endpoint",
        t.REST_API,
        edit(t.REST_API, _set("disableExecuteApiEndpoint", False)),
    ),
    Mutant(
        "open resource policy",
        "resource-policy-no-open-allow",
        t.REST_API,
        edit(t.REST_API, _edit_body(_open_policy)),
    ),
    Mutant("no resource policy", "resource-policy-no-open-allow", t.REST_API, edit(t.REST_API, _no_policy)),
    Mutant(
        "PRIVATE API without VPC endpoint condition",
        "private-api-vpce-policy",
        t.REST_API,
        edit(t.REST_API, _set("endpointConfiguration.types", "PRIVATE")),
    ),
    Mutant(
        "usage plan without throttle",
        "usage-plan-throttle",
        t.USAGE_PLAN,
        edit(t.USAGE_PLAN, _remove("throttleSettings")),
    ),
    Mutant("usage plan without quota", "usage-plan-quota", t.USAGE_PLAN, edit(t.USAGE_PLAN, _remove("quotaSettings"))),
    Mutant("usage plan without stage", "usage-plan-stage", t.USAGE_PLAN, edit(t.USAGE_PLAN, _remove("apiStages"))),
    Mutant("API key in no plan", "api-key-in-usage-plan", t.API_KEY, drop(t.USAGE_PLAN_KEY)),
    Mutant("MFA off", "cognito-mfa", t.USER_POOL, edit(t.USER_POOL, _set("mfaConfiguration", "OFF"))),
    Mutant(
        "weak password policy",
        "cognito-password-policy",
        t.USER_POOL,
        edit(t.USER_POOL, _set("passwordPolicy.minimumLength", 6)),
    ),
    Mutant(
        "deletion protection off",
        "cognito-deletion-protection",
        t.USER_POOL,
        edit(t.USER_POOL, _set("deletionProtection", "INACTIVE")),
    ),
    Mutant(
        "threat protection audit only",
        "cognito-threat-protection",
        t.USER_POOL,
        edit(t.USER_POOL, _set("userPoolAddOns.advancedSecurityMode", "AUDIT")),
    ),
    Mutant(
        "password auth flow",
        "cognito-client-no-password-flows",
        t.USER_POOL_CLIENT,
        edit(t.USER_POOL_CLIENT, _set("explicitAuthFlows", ["ALLOW_USER_PASSWORD_AUTH"])),
    ),
    Mutant(
        "implicit OAuth flow",
        "cognito-client-no-implicit-flow",
        t.USER_POOL_CLIENT,
        edit(t.USER_POOL_CLIENT, _set("allowedOauthFlows", ["implicit"])),
    ),
    Mutant(
        "token revocation off",
        "cognito-client-token-revocation",
        t.USER_POOL_CLIENT,
        edit(t.USER_POOL_CLIENT, _set("enableTokenRevocation", False)),
    ),
    Mutant("log retention missing", "log-group-retention", t.LOG_GROUP, edit(t.LOG_GROUP, _remove("retentionInDays"))),
    Mutant("no WAF rate rule", "waf-acl-rules", t.WEB_ACL, edit(t.WEB_ACL, _without_rate_rules)),
    Mutant("SQLi protection in count mode", "waf-acl-rules", t.WEB_ACL, edit(t.WEB_ACL, _count_sqli)),
    Mutant("KnownBadInputs in count mode", "waf-acl-rules", t.WEB_ACL, edit(t.WEB_ACL, _count_known_bad_inputs)),
    Mutant("WAF logging removed", "waf-logging", t.WEB_ACL, drop(t.WEB_ACL_LOGGING)),
    Mutant(
        "WAF logs keep Authorization",
        "waf-log-redaction",
        t.WEB_ACL_LOGGING,
        edit(t.WEB_ACL_LOGGING, _set("redactedFields", [])),
    ),
    Mutant(
        "WAF associated with the API's ARN, not the stage's",
        "waf-stage-association",
        t.STAGE,
        edit(t.WEB_ACL_ASSOCIATION, _set("resourceArn", API_ARN)),
    ),
    Mutant(
        "WAF logs to a log group's name, not its ARN",
        "waf-log-destination-name",
        t.WEB_ACL_LOGGING,
        edit(t.WEB_ACL_LOGGING, _set("logDestinationConfigs", ["aws-waf-logs-orders"])),
    ),
    Mutant(
        "method settings for another stage name",
        "stage-execution-logging",
        t.STAGE,
        edit(t.METHOD_SETTINGS, _set("stageName", "v2")),
    ),
    Mutant(
        "WAF logs to a misnamed group",
        "waf-log-destination-name",
        t.WEB_ACL_LOGGING,
        edit(t.WEB_ACL_LOGGING, _set("logDestinationConfigs", [MISNAMED_LOG_GROUP])),
    ),
)
