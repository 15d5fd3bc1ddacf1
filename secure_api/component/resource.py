"""`SecureApi`: an API Gateway REST API behind every layer of the secure API gateway model.

No `from __future__ import annotations` here: Pulumi's schema analyzer reads the annotations of
`SecureApi.__init__` (`args`) and of the class (its outputs) as evaluated types.
"""

import json
import weakref
from typing import Any

import pulumi
import pulumi_aws as aws

from ..args import SecureApiArgs
from .config import StackConfig
from .config.errors import ConfigError
from .fingerprint import redeploy_fingerprint
from .inputs import component_inputs
from .layers.client_certificate import build_client_certificate
from .layers.cognito import build_user_pool
from .layers.context import LayerContext, physical_prefix
from .layers.iam_invoke import build_invoke_policy
from .layers.integrations import build_lambda_permissions, check_lambda_integrations
from .layers.lambda_authorizer import build_lambda_authorizer, grant_api_gateway_invoke
from .layers.network import api_arn_pattern, resource_policy, warn_blocked_but_allowed, warn_open_network
from .layers.observability import build_access_logging, build_monitoring
from .layers.tls import build_custom_domain, check_domain_region
from .layers.usage_plans import build_usage_plans
from .layers.vpc_endpoints import build_endpoint_policies, build_vpc_endpoints
from .layers.waf import build_waf
from .openapi import ApiReferences, render_openapi

TYPE_TOKEN = "secure-api:index:SecureApi"

CONSTRUCTED: list[tuple[str, StackConfig]] = []
"""(name, validated config) of every SecureApi constructed in this process, in order. The offline plan
(`secure_api.plan.harness`) clears it before a run and reads it after, for the layer summaries and the
route table of each component the program built, whichever way its args were given."""


_CLAIMED: "weakref.WeakKeyDictionary[pulumi.Resource, dict[str, str]]" = weakref.WeakKeyDictionary()
"""Per program run (its root stack resource): `prefix:<physical prefix>` and `name:<api.name>` -> the SecureApi."""


def _claim_physical_prefix(name: str, config: StackConfig) -> None:
    """Two SecureApi of one program must not share the names AWS keeps unique per account and region.

    Raises ConfigError naming both components, before either registers a resource of the second."""
    root = pulumi.runtime.settings.get_root_resource()
    if root is None:  # a Construct call of the component plugin: one component per call
        return
    prefix = physical_prefix(name, config)
    api_name = config.api.name or name
    claimed = _CLAIMED.setdefault(root, {})
    problems = []
    if (other := claimed.get(f"prefix:{prefix}")) is not None:
        problems.append(
            (
                "api.physicalNamePrefix",
                f"SecureApi {name!r} and SecureApi {other!r} would both name their log groups, web ACL, authorizer "
                f"function and alarms {prefix}-…; give each its own api.physicalNamePrefix",
            )
        )
    if (other := claimed.get(f"name:{api_name}")) is not None:
        problems.append(
            (
                "api.name",
                f"SecureApi {name!r} and SecureApi {other!r} are both named {api_name!r}: their IAM invoke policies "
                "and dashboards (named by api.name, account-wide) would collide; give each its own api.name",
            )
        )
    if problems:
        raise ConfigError("secure-api", problems)
    claimed[f"prefix:{prefix}"] = claimed[f"name:{api_name}"] = name


class SecureApi(pulumi.ComponentResource):
    """An API Gateway REST API behind every layer of the secure API gateway model (auth, keys, network, WAF, TLS)."""

    invoke_url: pulumi.Output[str]
    """The stage's invoke URL (https://<api>.execute-api.<region>.amazonaws.com/<stage>)."""
    stage_arn: pulumi.Output[str]
    """The stage's ARN."""
    rest_api_id: pulumi.Output[str]
    """The REST API's id."""
    fingerprint: pulumi.Output[str]
    """SHA-256 of what a deployment snapshots (the OpenAPI body and the resource policy)."""
    user_pool_id: pulumi.Output[str | None]
    """The Cognito user pool's id, when the component created one."""
    user_pool_arn: pulumi.Output[str | None]
    """The Cognito user pool's ARN, when the component created one."""
    app_client_ids: pulumi.Output[dict[str, str]]
    """App client id in the config (its name unless it sets `id`) to Cognito app client id."""
    issuer_url: pulumi.Output[str | None]
    """The user pool's JWT issuer URL."""
    jwks_url: pulumi.Output[str | None]
    """The user pool's JSON Web Key Set URL."""
    api_key_ids: pulumi.Output[dict[str, str]]
    """API key id in the config (its name unless it sets `id`) to API Gateway API key id."""
    api_key_values: pulumi.Output[dict[str, str]]
    """API key id in the config (its name unless it sets `id`) to API key value (a secret)."""
    iam_invoke_policy_arn: pulumi.Output[str | None]
    """The managed policy that grants execute-api:Invoke on the iam routes."""
    custom_domain_url: pulumi.Output[str | None]
    """https://<domain>/<base path>, with a custom domain (PRIVATE API: the private custom domain)."""
    vpc_endpoint_urls: pulumi.Output[dict[str, str]]
    """PRIVATE API: VPC endpoint id to https://<api-id>-<vpce-id>.execute-api.<region>.amazonaws.com/<stage>,
    the URL a client in that endpoint's VPC calls when the endpoint's private DNS is off (developer guide,
    "Invoke a private API": Route 53 alias names of the endpoint). Empty for a REGIONAL API."""
    private_dns_url: pulumi.Output[str | None]
    """PRIVATE API: https://<api-id>.execute-api.<region>.amazonaws.com/<stage>, which resolves to the
    endpoint only inside a VPC whose execute-api endpoint has private DNS on."""
    truststore_bucket: pulumi.Output[str | None]
    """The S3 bucket holding the mutual TLS truststore."""
    backend_client_certificate_pem: pulumi.Output[str | None]
    """The PEM certificate the stage presents to HTTP backends."""
    web_acl_arn: pulumi.Output[str | None]
    """The WAF web ACL's ARN."""
    access_log_group_name: pulumi.Output[str]
    """The access log group's name."""
    alarm_topic_arn: pulumi.Output[str]
    """The SNS topic every alarm notifies."""
    dashboard_name: pulumi.Output[str | None]
    """The CloudWatch dashboard's name."""

    def __init__(
        self,
        name: str,
        args: SecureApiArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`args`: `SecureApiArgs` (snake_case keys, as Construct passes them too), the camelCase mapping
        of a stack file, or a validated `StackConfig`. Raises ConfigError, before registering anything,
        listing every plain value at fault with its key path; an Output arg is validated when it resolves."""
        inputs = component_inputs(args)
        config = inputs.config
        _claim_physical_prefix(name, config)
        super().__init__(TYPE_TOKEN, name, None, opts)
        CONSTRUCTED.append((name, config))
        ctx = LayerContext(
            name=name,
            inputs=inputs,
            parent=self,
            region=aws.get_region().region,
            account_id=aws.get_caller_identity().account_id,
            partition=aws.get_partition().partition,
        )
        # Before any resource: a wrong region fails the plan, not the update halfway.
        check_lambda_integrations(ctx)
        check_domain_region(ctx)
        _warn_relaxed_routes(config)
        _warn_unused_settings(config)
        _warn_cors(config)
        user_pool = build_user_pool(ctx) if config.needs_user_pool else None
        access_logging = build_access_logging(ctx)  # first: its KMS key encrypts every log group
        authorizer = build_lambda_authorizer(ctx, user_pool, access_logging.key) if config.uses_auth("custom") else None

        warn_open_network(config)
        warn_blocked_but_allowed(config)
        pool_arn: pulumi.Input[str | None] = user_pool.pool.arn if user_pool else None
        endpoints = build_vpc_endpoints(ctx)
        # Integration targets and VPC endpoint ids may be Outputs: the document and the policy wait for those only.
        resolved = inputs.resolved("routes", "network.vpcEndpointIds")
        endpoint_ids = endpoints.resolved
        policy = pulumi.Output.all(resolved, endpoint_ids).apply(
            lambda values: resource_policy(
                values[0], api_arn_pattern(ctx.partition, ctx.region, ctx.account_id), values[1]
            )
        )
        body = pulumi.Output.all(pool_arn, resolved, policy, endpoint_ids).apply(
            lambda values: render_openapi(
                values[1],
                ApiReferences(
                    region=ctx.region,
                    partition=ctx.partition,
                    user_pool_arn=values[0],
                    authorizer_function_arn=authorizer.function_arn if authorizer else None,
                    resource_policy=values[2],
                    vpc_endpoint_ids=tuple(values[3]),
                ),
            )
        )
        api = aws.apigateway.RestApi(
            ctx.child("api"),
            name=ctx.api_name,
            description=config.api.description,
            body=body,
            # The body's policy again, so no provider restores an older one after an import (see layers/network.py).
            policy=policy.apply(lambda doc: json.dumps(doc, sort_keys=True, separators=(",", ":")) if doc else None),
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types=config.api.endpoint_type,
                vpc_endpoint_ids=endpoints.ids or None,
                ip_address_type=config.network.ip_address_type_for(config.api.endpoint_type),
            ),
            # The same value as the body's: the provider lets this argument override the body only when true.
            disable_execute_api_endpoint=config.disables_execute_api_endpoint,
            security_policy=config.tls.security_policy,
            endpoint_access_mode=config.tls.access_mode,
            api_key_source=config.api.api_key_source,
            # Overwrite keeps the API exactly the document; fail rather than import half of it.
            put_rest_api_mode="overwrite",
            fail_on_warnings=True,
            tags=ctx.marked_tags("api"),
            opts=ctx.opts(),
        )
        # The policy travels in the body (every import applies it); it is named in the fingerprint
        # as well, so the hash's inputs stay explicit.
        self.fingerprint = pulumi.Output.all(body, policy).apply(
            lambda parts: redeploy_fingerprint(
                {"body": parts[0], "resourcePolicy": parts[1], "endpointType": config.api.endpoint_type}
            )
        )
        deployment = aws.apigateway.Deployment(
            ctx.child("deployment"),
            rest_api=api.id,
            description=self.fingerprint.apply(lambda fp: f"secure-api fingerprint {fp[:16]}"),
            # Replaced (create-before-delete) exactly when the fingerprint changes; never
            # delete_before_replace, or the stage would point at a deleted deployment.
            triggers={"fingerprint": self.fingerprint},
            # A deployment snapshots the resource policy, which the API's body import has applied.
            opts=ctx.opts(),
        )
        client_certificate = build_client_certificate(ctx)
        stage = aws.apigateway.Stage(
            ctx.child("stage"),
            rest_api=api.id,
            deployment=deployment.id,
            stage_name=config.api.stage_name,
            xray_tracing_enabled=True,
            client_certificate_id=client_certificate.id if client_certificate else None,
            access_log_settings=access_logging.stage_settings,
            tags=ctx.marked_tags("stage"),
            opts=ctx.opts(depends_on=access_logging.stage_dependencies),
        )
        if authorizer:
            grant_api_gateway_invoke(ctx, authorizer, api.execution_arn)
        build_lambda_permissions(ctx, api.execution_arn)
        invoke_policy = build_invoke_policy(ctx, api.execution_arn)
        usage = build_usage_plans(ctx, api, stage)
        domain = build_custom_domain(ctx, api, stage, endpoints)
        if config.api.endpoint_type == "PRIVATE":
            domain_name = config.domain.domain_name if config.domain else None
            build_endpoint_policies(ctx, endpoints, api.execution_arn, domain_name)
        waf = build_waf(ctx, stage, access_logging.key)
        monitoring = build_monitoring(ctx, api, stage, waf, access_logging)

        self.invoke_url = stage.invoke_url
        self.stage_arn = stage.arn
        self.rest_api_id = api.id
        self.user_pool_id = user_pool.pool.id if user_pool else pulumi.Output.from_input(None)
        self.user_pool_arn = user_pool.pool.arn if user_pool else pulumi.Output.from_input(None)
        self.app_client_ids = pulumi.Output.all(
            **({n: c.id for n, c in user_pool.clients.items()} if user_pool else {})
        )
        self.issuer_url = user_pool.issuer_url if user_pool else pulumi.Output.from_input(None)
        self.jwks_url = user_pool.jwks_url if user_pool else pulumi.Output.from_input(None)
        self.api_key_ids = pulumi.Output.all(**{n: k.id for n, k in usage.keys.items()})
        self.api_key_values = pulumi.Output.secret(pulumi.Output.all(**{n: k.value for n, k in usage.keys.items()}))
        self.iam_invoke_policy_arn = invoke_policy.arn if invoke_policy else pulumi.Output.from_input(None)
        self.custom_domain_url = pulumi.Output.from_input(domain.url if domain else None)
        self.vpc_endpoint_urls, self.private_dns_url = _private_urls(ctx, api.id, endpoint_ids)
        bucket = domain.truststore_bucket if domain else None
        self.truststore_bucket = bucket.id if bucket else pulumi.Output.from_input(None)
        self.backend_client_certificate_pem = (
            client_certificate.pem_encoded_certificate if client_certificate else pulumi.Output.from_input(None)
        )
        self.web_acl_arn = waf.acl.arn if waf else pulumi.Output.from_input(None)
        self.access_log_group_name = access_logging.log_group.name
        self.alarm_topic_arn = monitoring.topic.arn
        self.dashboard_name = (
            monitoring.dashboard.dashboard_name if monitoring.dashboard else pulumi.Output.from_input(None)
        )
        # An Output arg no resource took (a setting this config does not use, e.g. issuers without a
        # `custom` route) is checked all the same: the registered outputs wait for it.
        checks = inputs.not_taken()
        self.register_outputs({key: _after(value, checks) for key, value in self.outputs().items()})

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """Everything a stack exports, by the names `pulumi stack output` shows."""
        return {
            "invokeUrl": self.invoke_url,
            "stageArn": self.stage_arn,
            "restApiId": self.rest_api_id,
            "fingerprint": self.fingerprint,
            "userPoolId": self.user_pool_id,
            "userPoolArn": self.user_pool_arn,
            "appClientIds": self.app_client_ids,
            "issuerUrl": self.issuer_url,
            "jwksUrl": self.jwks_url,
            "apiKeyIds": self.api_key_ids,
            "apiKeyValues": self.api_key_values,
            "iamInvokePolicyArn": self.iam_invoke_policy_arn,
            "customDomainUrl": self.custom_domain_url,
            "vpcEndpointUrls": self.vpc_endpoint_urls,
            "privateDnsUrl": self.private_dns_url,
            "truststoreBucket": self.truststore_bucket,
            "backendClientCertificatePem": self.backend_client_certificate_pem,
            "webAclArn": self.web_acl_arn,
            "accessLogGroupName": self.access_log_group_name,
            "alarmTopicArn": self.alarm_topic_arn,
            "dashboardName": self.dashboard_name,
        }


def _private_urls(
    ctx: LayerContext, api_id: pulumi.Output[str], endpoints: pulumi.Output[list[str]]
) -> tuple[pulumi.Output[dict[str, str]], pulumi.Output[str | None]]:
    """The URLs clients of a PRIVATE API call: one per VPC endpoint (`{api-id}-{vpce-id}` host), and the
    private-DNS host; ({}, None) for a REGIONAL API."""
    config = ctx.config
    if config.api.endpoint_type != "PRIVATE":
        return pulumi.Output.from_input({}), pulumi.Output.from_input(None)
    stage, region = config.api.stage_name, ctx.region
    suffix = "amazonaws.com.cn" if ctx.partition == "aws-cn" else "amazonaws.com"

    def url(host: str) -> str:
        return f"https://{host}.execute-api.{region}.{suffix}/{stage}"

    per_endpoint = pulumi.Output.all(api_id, endpoints).apply(
        lambda args: {endpoint: url(f"{args[0]}-{endpoint}") for endpoint in args[1]}
    )
    return per_endpoint, api_id.apply(url)


def _after(value: pulumi.Output[Any], checks: list[pulumi.Output[Any]]) -> pulumi.Output[Any]:
    """`value`, once every check has resolved (a check that raises fails the registration)."""
    return pulumi.Output.all(value, *checks).apply(lambda values: values[0]) if checks else value


def _warn_relaxed_routes(config: StackConfig) -> None:
    """Acknowledged exceptions still show in every plan, so nobody forgets they exist."""
    for route in config.routes:
        if route.auth == "none" and route.api_key_required:
            pulumi.log.warn(f"route {route.key} is protected by an API key only (allowApiKeyOnly)")
        elif route.auth == "none":
            pulumi.log.warn(f"route {route.key} is public: no authorizer (allowUnauthenticated)")
    for client in config.cognito.app_clients:
        if client.allow_password_auth:
            pulumi.log.warn(f"app client {client.name} accepts plain-password auth (allowPasswordAuth)")


def _warn_unused_settings(config: StackConfig) -> None:
    """A settings block that no route uses builds nothing: say so rather than accept it silently."""
    if "lambda_authorizer" in config.model_fields_set and not config.uses_auth("custom"):
        pulumi.log.warn(
            "lambdaAuthorizer is set but no route has auth: custom, so no Lambda authorizer is built and these "
            "settings have no effect (give a route auth: custom, or remove the lambdaAuthorizer block)"
        )
    if "cognito" in config.model_fields_set and config.cognito.enabled and not config.needs_user_pool:
        pulumi.log.warn(
            "cognito is set but no route has auth: cognito (nor a custom route trusting the component's user "
            "pool), so no user pool is built and these settings have no effect (set cognito.enabled: false, "
            "or give a route auth: cognito)"
        )


def _warn_cors(config: StackConfig) -> None:
    """What CORS cannot do from the gateway alone, and its relaxations, in every plan."""
    cors = config.cors
    if not cors:
        return
    if cors.any_origin:
        pulumi.log.warn("CORS allows any origin (cors.allowOrigins: ['*']): every website may call the API")
    for origin in cors.local_origins:
        pulumi.log.warn(f"CORS allows the local development origin {origin} (cors.allowLocalhost)")
    if len(cors.allow_origins) > 1:
        pulumi.log.warn(
            f"CORS: gateway error answers (401, 403, 429, 5xx) name only the first origin {cors.allow_origins[0]}; "
            "apps on the other cors.allowOrigins see them as network errors"
        )
    for route in config.cors_routes:
        if route.integration.type != "mock":
            pulumi.log.warn(
                f"route {route.key} uses a proxy integration ({route.integration.type}): with CORS on, its backend "
                "must set Access-Control-Allow-Origin on its own answers"
            )
