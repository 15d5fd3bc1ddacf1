"""The custom Lambda authorizer: function, least-privilege role, log group and invoke permission."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from secure_api_authorizer.build import build_authorizer_package

from .cognito import UserPoolResources
from .context import LayerContext
from .log_groups import protected_log_group
from .policy_document import document_json, statement


@dataclass(frozen=True)
class AuthorizerResources:
    function: aws.lambda_.Function
    function_arn: str
    log_group: aws.cloudwatch.LogGroup


def authorizer_function_name(ctx: LayerContext) -> str:
    return f"{ctx.physical_prefix}-authorizer"


def authorizer_log_group_name(ctx: LayerContext) -> str:
    return f"/aws/lambda/{authorizer_function_name(ctx)}"


def build_lambda_authorizer(
    ctx: LayerContext, user_pool: UserPoolResources | None, log_key: aws.kms.Key | None
) -> AuthorizerResources:
    settings = ctx.config.lambda_authorizer
    function_name = authorizer_function_name(ctx)
    # Known before deployment, so the OpenAPI document (and its fingerprint) can name it in preview.
    function_arn = f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:function:{function_name}"
    package = build_authorizer_package(
        architecture=settings.architecture, python_version=settings.runtime.removeprefix("python")
    )
    log_group = protected_log_group(
        ctx, "authorizer-logs", authorizer_log_group_name(ctx), settings.log_retention_days, log_key
    )
    role = aws.iam.Role(
        ctx.child("authorizer-role"),
        assume_role_policy=document_json(
            statement(
                "Allow",
                ["sts:AssumeRole"],
                None,
                principal={"Service": "lambda.amazonaws.com"},
                condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            )
        ),
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    statements = [
        statement(
            "Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.arn.apply(lambda arn: f"{arn}:*")]
        ),
        # X-Ray has no resource-level permissions.
        statement("Allow", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    ]
    if log_key is not None:
        # The environment (API key digests, issuer config) is encrypted with the component's key; the
        # function decrypts it at start. The key policy delegates to IAM (its account statement), and
        # whoever deploys needs kms:CreateGrant and kms:Encrypt on it (AWS Lambda developer guide,
        # "Securing Lambda environment variables").
        statements.append(statement("Allow", ["kms:Decrypt"], [log_key.arn]))
    role_policy = aws.iam.RolePolicy(
        ctx.child("authorizer-role-policy"),
        role=role.id,
        policy=document_json(*statements),
        opts=ctx.opts(),
    )
    function = aws.lambda_.Function(
        ctx.child("authorizer"),
        name=function_name,
        role=role.arn,
        runtime=settings.runtime,
        architectures=[settings.architecture],
        handler=package.handler,
        code=pulumi.FileArchive(str(package.path)),
        source_code_hash=package.sha256_base64,
        memory_size=settings.memory_mb,
        timeout=settings.timeout_seconds,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=_environment(ctx, user_pool)),
        # None (kmsEncryption off): Lambda's AWS-managed key.
        kms_key_arn=log_key.arn if log_key is not None else None,
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        tags=ctx.tags(),
        # The role may decrypt the environment before the first invocation.
        opts=ctx.opts(depends_on=[log_group, role_policy]),
    )
    return AuthorizerResources(function=function, function_arn=function_arn, log_group=log_group)


def grant_api_gateway_invoke(
    ctx: LayerContext, authorizer: AuthorizerResources, execution_arn: pulumi.Input[str]
) -> aws.lambda_.Permission:
    """API Gateway may call the authorizer only on behalf of this API's authorizers.

    The authorizer id is assigned when API Gateway imports the OpenAPI document, so the
    narrowest ARN known to the program is `<api>/authorizers/*`.
    """
    return aws.lambda_.Permission(
        ctx.child("authorizer-invoke"),
        action="lambda:InvokeFunction",
        function=authorizer.function.name,
        principal="apigateway.amazonaws.com",
        source_arn=pulumi.Output.concat(execution_arn, "/authorizers/*"),
        opts=ctx.opts(),
    )


def _environment(ctx: LayerContext, user_pool: UserPoolResources | None) -> dict[str, pulumi.Input[str]]:
    settings = ctx.config.lambda_authorizer
    # Issuer and JWKS URLs may be Outputs: the list is built once they resolve (and are validated).
    configured = ctx.inputs.resolved("lambdaAuthorizer.issuers").apply(
        lambda config: [
            issuer.model_dump(by_alias=True, exclude_none=True, mode="json")
            for issuer in config.lambda_authorizer.issuers
        ]
    )
    issuers: list[pulumi.Input[dict[str, object]]] = []
    if settings.mode == "jwt" and settings.use_component_user_pool and user_pool is not None:
        client_ids = [client.id for client in user_pool.clients.values()]
        issuers.append(
            pulumi.Output.all(user_pool.issuer_url, user_pool.jwks_url, *client_ids).apply(
                lambda values: {
                    "issuer": values[0],
                    "jwksUrl": values[1],
                    "clientIds": list(values[2:]),
                    "tokenUse": "access",
                }
            )
        )
    return {
        "AUTH_MODE": settings.mode,
        "JWT_ISSUERS": pulumi.Output.all(configured, *issuers).apply(
            lambda items: json.dumps([*items[0], *items[1:]], sort_keys=True)
        ),
        "JWT_ALGORITHMS": ",".join(settings.algorithms),
        "RESULT_TTL_SECONDS": str(settings.result_ttl_seconds),
        "ROUTE_REQUIREMENTS": json.dumps(
            {
                route.key: route.authorizer_requirements.model_dump(mode="json")
                for route in ctx.config.routes
                if route.authorizer_requirements
            },
            sort_keys=True,
        ),
        "API_KEY_SHA256": json.dumps(settings.api_key_sha256, sort_keys=True),
        "IDENTITY_HEADER": settings.identity_header,
        "RETURN_USAGE_IDENTIFIER": "true" if ctx.config.api.api_key_source == "AUTHORIZER" else "false",
    }
