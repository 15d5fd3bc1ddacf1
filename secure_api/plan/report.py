"""Render an offline plan: resources grouped by layer, a summary line per layer, and the route table."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from pulumi.runtime import rpc
from secure_api_policies.tokens import LOG_GROUP, WEB_ACL
from secure_api_policies.waf_capacity import INCLUDED_WCU, web_acl_capacity

from ..component.config import StackConfig
from ..component.config.routes import HttpIntegration, LambdaIntegration
from .harness import STACK_TYPE, PlannedResource, PlanResult
from .offline import Plan

LAYERS = ("auth", "api", "usage plans", "network", "waf", "observability", "tls")

_LAYER_OF_SERVICE = {
    "cognito": "auth",
    "iam": "auth",
    "lambda": "auth",
    "apigateway": "api",
    "wafv2": "waf",
    "cloudwatch": "observability",
    "sns": "observability",
    "kms": "observability",
    "acm": "tls",
    "route53": "tls",
    "s3": "tls",
    "ec2": "network",
}
_LAYER_OF_TYPE = {
    "aws:apigateway/usagePlan:UsagePlan": "usage plans",
    "aws:apigateway/usagePlanKey:UsagePlanKey": "usage plans",
    "aws:apigateway/apiKey:ApiKey": "usage plans",
    "aws:apigateway/domainName:DomainName": "tls",
    "aws:apigateway/basePathMapping:BasePathMapping": "tls",
    "aws:apigatewayv2/apiMapping:ApiMapping": "tls",
    "aws:apigateway/clientCertificate:ClientCertificate": "tls",
    "aws:apigateway/methodSettings:MethodSettings": "observability",
    "aws:apigateway/account:Account": "observability",
}


def layer_of(resource: PlannedResource) -> str:
    if resource.type in _LAYER_OF_TYPE:
        return _LAYER_OF_TYPE[resource.type]
    service = resource.type.split(":")[1].split("/")[0]
    if service == "lambda" and "route-invoke" in resource.name:
        return "api"
    if service == "iam" and "cloudwatch" in resource.name:
        return "observability"
    if "authorizer" in resource.name:
        return "auth"
    if resource.type == LOG_GROUP and "waf" in resource.name:
        return "waf"
    return _LAYER_OF_SERVICE.get(service, "api")


def _summary(config: StackConfig, resources: list[PlannedResource]) -> dict[str, str]:
    cognito = config.cognito
    auth_kinds = sorted({r.auth for r in config.routes})
    parts = [f"route auth: {', '.join(auth_kinds)}"]
    if config.needs_user_pool:
        parts.append(
            f"user pool MFA {cognito.mfa}, tier {cognito.tier}, threat protection {cognito.threat_protection}, "
            f"{len(cognito.app_clients)} app client(s)"
        )
    if config.uses_auth("custom"):
        la = config.lambda_authorizer
        parts.append(
            f"Lambda authorizer {la.type}/{la.mode}, cache {la.result_ttl_seconds}s, {la.runtime} {la.architecture}"
        )
    if config.uses_auth("iam"):
        parts.append("IAM invoke policy for the iam routes")
    plans = ", ".join(
        f"{p.name} {p.throttle.rate_limit:g} rps/{p.throttle.burst_limit} burst/{p.quota.limit} per {p.quota.period}"
        for p in config.usage_plans
    )
    return {
        "auth": "; ".join(parts),
        "api": f"{len(config.routes)} route(s) in one OpenAPI document, {config.api.endpoint_type}, "
        f"stage {config.api.stage_name}, one fingerprinted deployment; {_browser_summary(config)}",
        "usage plans": f"{len(config.usage_plans)} plan(s) [{plans or 'none'}], {len(config.api_keys)} API key(s)",
        "waf": _waf_summary(config, [r for r in resources if r.type == WEB_ACL]),
        "observability": _observability_summary(config),
        "network": _network_summary(config),
        "tls": _tls_summary(config),
    }


def _browser_summary(config: StackConfig) -> str:
    """CORS and request validation, the checks API Gateway makes for browsers and bodies."""
    bodies = sum(1 for r in config.routes if r.request_body)
    parameters = sum(1 for r in config.routes if r.required_query_parameters or r.required_headers)
    validation = f"request validation: {bodies} body model(s), {parameters} route(s) with required parameters"
    cors = config.cors
    if not cors:
        return f"no CORS; {validation}"
    paths = len({r.path for r in config.cors_routes})
    credentials = "with" if cors.allow_credentials else "without"
    origins = ", ".join(cors.allow_origins)
    return f"CORS for {origins} {credentials} credentials, {paths} preflight path(s); {validation}"


def _network_summary(config: StackConfig) -> str:
    network = config.network
    v4 = sum(1 for n in network.networks if n.version == 4)
    v6 = len(network.networks) - v4
    parts = [
        f"{config.api.endpoint_type} {network.ip_address_type_for(config.api.endpoint_type)}",
        f"source CIDRs {v4} IPv4 / {v6} IPv6" if network.networks else "any source address",
    ]
    if config.api.endpoint_type == "PRIVATE":
        endpoints = [*network.vpc_endpoint_ids, *(["one created here"] if network.vpc_endpoint else [])]
        managed = len(network.managed_endpoint_policies) + (1 if network.vpc_endpoint else 0)
        parts.append(f"only via VPC endpoints {', '.join(endpoints)} ({managed} endpoint policy(ies) managed here)")
    elif network.accept_public_api:
        parts.append("public by network.acceptPublicApi")
    if network.allowed_accounts or network.allowed_organizations:
        parts.append(
            f"iam routes open to {len(network.allowed_accounts)} account(s), "
            f"{len(network.allowed_organizations)} organisation(s)"
        )
    return "resource policy (in the OpenAPI document): " + "; ".join(parts) + "; applied by every body import"


def _tls_summary(config: StackConfig) -> str:
    tls = config.tls
    policy = tls.security_policy + (f" ({tls.access_mode})" if tls.access_mode else "")
    backend = "backend client certificate" if config.backend_client_certificate else "NO backend client certificate"
    domain = config.domain
    if domain is None:
        return f"no custom domain: execute-api endpoint with {policy}, no mTLS; {backend}"
    certificate = "existing certificate" if domain.certificate_arn else "certificate DNS-validated in Route 53"
    mtls = (
        f"mTLS truststore of {len(domain.mutual_tls.certificates())} certificate(s), versioned bucket"
        if domain.mutual_tls
        else "no mTLS"
    )
    if config.api.endpoint_type == "PRIVATE":
        associations = len(config.network.vpc_endpoint_ids)
        return (
            f"private domain {domain.url} with {policy}, {certificate}, policy fenced to the VPC endpoints, "
            f"{associations} access association(s); execute-api endpoint kept (per-endpoint URLs); {backend}"
        )
    return f"{domain.url} with {policy}, {certificate}, {mtls}; execute-api endpoint disabled; {backend}"


def _waf_summary(config: StackConfig, acls: list[PlannedResource]) -> str:
    """The WAF settings, and the capacity of the planned web ACL (`waf_capacity`, from its planned rules)."""
    waf = config.waf
    if not waf.enabled:
        return "OFF (waf.enabled: false)"
    groups = [
        name.removeprefix("AWSManagedRules") + (" (COUNT)" if group.mode == "COUNT" else "")
        for name, group in waf.managed_rule_groups.items()
        if group.enabled
    ]
    parts = [
        f"rate limit {waf.rate_limit.limit}/{waf.rate_limit.evaluation_window_seconds}s per IP"
        + "".join(f", {p.path_prefix}* {p.limit}/{p.evaluation_window_seconds}s" for p in waf.path_rate_limits),
        f"managed groups: {', '.join(groups)}",
        f"SQLi {waf.sql_injection}, XSS {waf.cross_site_scripting}",
        f"bodies over {waf.body_size_limit.max_bytes} B {waf.body_size_limit.mode}",
    ]
    if waf.geo:
        parts.append(f"geo {waf.geo.mode}-list {', '.join(waf.geo.countries)}")
    if waf.blocked_ips:
        parts.append(f"IP blocklist {len(waf.blocked_networks(4))} IPv4 / {len(waf.blocked_networks(6))} IPv6")
    parts.append(f"logs {waf.log_retention_days} d, credential headers redacted")
    parts.extend(
        f"{web_acl_capacity(acl.inputs.get('rules') or []).describe()} (the base price covers {INCLUDED_WCU})"
        for acl in acls
    )
    return "; ".join(parts)


def _observability_summary(config: StackConfig) -> str:
    obs = config.observability
    alarms = obs.alarms
    return "; ".join(
        [
            f"JSON access logs and {obs.execution_logging} execution logs kept {obs.log_retention_days} d, "
            + ("KMS customer-managed key" if obs.kms_encryption else "no KMS key"),
            f"metrics on, data trace off, throttle {obs.throttle.rate_limit:g} rps/{obs.throttle.burst_limit} burst",
            f"alarms 5XX>{alarms.server_error_percent:g}% 4XX>{alarms.client_error_percent:g}% "
            f"p99>{alarms.latency_p99_ms}ms traffic>{alarms.traffic_spike_requests}/5min"
            + (f" WAF blocked>{alarms.waf_blocked_requests}/5min" if config.waf.enabled else "")
            + f" to SNS ({len(alarms.emails)} e-mail)",
            "dashboard" if obs.dashboard else "no dashboard",
            "account CloudWatch role " + ("created" if obs.create_account_role else "must already exist"),
        ]
    )


def route_table(config: StackConfig) -> list[tuple[str, str, str, str, str, str]]:
    rows = []
    for route in config.routes:
        integration = route.integration
        if isinstance(integration, HttpIntegration):
            target = f"https proxy {integration.url}"
        elif isinstance(integration, LambdaIntegration):
            target = f"lambda {integration.function_arn.rsplit(':', 1)[-1]}"
        else:
            target = f"mock {integration.status_code}"
        scopes = ", ".join(config.cognito.full_scope(s).rsplit("/", 1)[-1] for s in route.scopes) or "-"
        rows.append((route.path, route.method, route.auth, scopes, "yes" if route.api_key_required else "no", target))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=False)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def render_plan(stack: str, config: StackConfig | None, result: PlanResult, *, context: Plan | None = None) -> str:
    """The plan by layer, with the layer summaries and the route table of each SecureApi the program built
    (`result.components`, from the stack file or from args in code); `config` stands in for them when the
    result records none. With a SecureApi, the resources no SecureApi created are listed as the program's
    own. `context` adds the project, region and program. Update mode adds the stack outputs and the
    protected log groups."""
    components = dict(result.components) or ({"": config} if config is not None else {})
    mode = "preview" if result.preview else "update"
    count = len(result.custom_resources())
    project = f" of project '{context.project.name}'" if context else ""
    lines = [f"Offline plan for stack '{stack}'{project} ({mode} mode, mock runtime): {count} resources to create"]
    if context:
        lines.append(f"region {context.region.name} (from {context.region.source}); program {context.project.main}")
    lines.append("")
    owned = _by_component(result, components)
    for urn, component_config in components.items():
        if len(components) > 1:
            lines.extend([f"SecureApi '{result.by_urn(urn).name}'", ""])
        resources = owned.pop(urn, [])
        lines.extend(_layers(resources, _summary(component_config, resources)))
        lines.append("Routes")
        lines.extend(
            "  " + row
            for row in _table(
                ("PATH", "METHOD", "AUTH", "SCOPES", "API KEY", "INTEGRATION"), route_table(component_config)
            )
        )
        lines.append("")
    own = owned.pop(None, [])
    if components and own:
        lines.append(f"[program] {len(own)} resource(s) - {_types_summary(own)}")
        lines.extend(_resource_line(resource) for resource in sorted(own, key=lambda r: (r.type, r.name)))
    elif own:
        lines.extend(_layers(own, {}))
    if not result.preview:
        lines.extend(_update_details(result))
    if result.warnings:
        lines.extend(["", "Warnings (controls explicitly turned off or needing attention)"])
        lines.extend(f"  ! {w}" for w in result.warnings)
    return "\n".join(lines).rstrip("\n")


def _by_component(result: PlanResult, components: dict[str, StackConfig]) -> dict[str | None, list[PlannedResource]]:
    """Custom resources by the SecureApi URN they descend from (None: the program's own). A stand-in
    config (key "") owns every resource."""
    parents = {resource.urn: resource.parent for resource in result.resources}
    owned: dict[str | None, list[PlannedResource]] = defaultdict(list)
    for resource in result.custom_resources():
        owner = resource.parent
        while owner and owner not in components:
            owner = parents.get(owner, "")
        owned["" if "" in components else owner or None].append(resource)
    return owned


def _layers(resources: list[PlannedResource], summaries: dict[str, str]) -> list[str]:
    by_layer: dict[str, list[PlannedResource]] = defaultdict(list)
    for resource in resources:
        by_layer[layer_of(resource)].append(resource)
    lines = []
    for layer in (*LAYERS, *sorted(set(by_layer) - set(LAYERS))):
        in_layer = sorted(by_layer.get(layer, []), key=lambda r: (r.type, r.name))
        if not in_layer and layer not in summaries:
            continue
        lines.append(f"[{layer}] {len(in_layer)} resource(s) - {summaries.get(layer, _types_summary(in_layer))}")
        lines.extend(_resource_line(resource) for resource in in_layer)
        lines.append("")
    return lines


def _resource_line(resource: PlannedResource) -> str:
    flags = [f for f, on in (("protect", resource.protect), ("retain", resource.retain_on_delete)) if on]
    return f"    + {resource.type:<55} {resource.name}{'  [' + ', '.join(flags) + ']' if flags else ''}"


def _update_details(result: PlanResult) -> list[str]:
    """Stack outputs and the physical names of protected log groups (what re-adoption after a teardown needs)."""
    lines = []
    outputs = next((v for urn, v in result.outputs.items() if f"::{STACK_TYPE}::" in urn), {})
    if outputs:
        lines.extend(["", "Stack outputs"])
        width = max(len(key) for key in outputs)
        lines.extend(f"  {key:<{width}}  {_show(value)}" for key, value in sorted(outputs.items()))
    groups = [r for r in result.of_type(LOG_GROUP) if r.protect]
    if groups:
        lines.extend(["", "Protected log groups (physical names)"])
        lines.extend(f"  {r.outputs.get('name', r.inputs.get('name', '?'))}  ({r.name})" for r in groups)
    return lines


def _show(value: Any) -> str:
    if isinstance(value, dict) and rpc._special_sig_key in value:  # a secret output
        return "[secret]"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _types_summary(resources: list[PlannedResource]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for resource in resources:
        counts[resource.type.rsplit(":", 1)[-1]] += 1
    return ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "nothing"
