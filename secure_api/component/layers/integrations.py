"""Invoke rights for Lambda-backed routes: each route's permission names that route only.

A function in another account cannot be granted from here (`AddPermission` runs with the deploying
account's credentials): the route is wired, the plan warns, and the grant is the function owner's
(AWS API Gateway developer guide, "cross-account Lambda proxy integration"). A function in another
region is an error: the integration URI and the permission are built in the API's region.
"""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_aws as aws

from ..config import NAMESPACE, ConfigError
from ..config.routes import LambdaIntegration
from .context import LayerContext
from .iam_invoke import route_arn_suffix


def check_lambda_integrations(ctx: LayerContext) -> None:
    """Before any resource: ConfigError for functions in another region, a warning for another account."""
    problems = []
    for index, route in enumerate(ctx.config.routes):
        integration = route.integration
        if not isinstance(integration, LambdaIntegration):
            continue
        where = f"routes[{index}].integration.functionArn"
        if integration.region != ctx.region:
            problems.append(
                (
                    where,
                    f"the function is in {integration.region}, the API in {ctx.region}: the integration and its "
                    "invoke permission are made in the API's region; use a function there (or an http "
                    "integration to a URL in front of it)",
                )
            )
        elif integration.account_id != ctx.account_id:
            pulumi.log.warn(
                f"{NAMESPACE}:{where}: the function is in account {integration.account_id}, the API deploys to "
                f"{ctx.account_id}: no invoke permission is created for {route.key}; in account "
                f"{integration.account_id} run `aws lambda add-permission --function-name {integration.function_arn} "
                "--action lambda:InvokeFunction --principal apigateway.amazonaws.com --statement-id <id> "
                f"--source-arn arn:{ctx.partition}:execute-api:{ctx.region}:{ctx.account_id}:<api-id>"
                f"{route_arn_suffix(ctx.config.api.stage_name, route)}` (or the calls fail with 500)"
            )
    if problems:
        raise ConfigError(NAMESPACE, problems)


def build_lambda_permissions(ctx: LayerContext, execution_arn: pulumi.Output[str]) -> list[aws.lambda_.Permission]:
    permissions = []
    stage = ctx.config.api.stage_name
    for route in ctx.config.routes:
        if not isinstance(route.integration, LambdaIntegration) or route.integration.account_id != ctx.account_id:
            continue
        # Name by route, not by position, so adding a route never renames the others.
        digest = hashlib.sha256(route.key.encode()).hexdigest()[:10]
        permissions.append(
            aws.lambda_.Permission(
                ctx.child(f"route-invoke-{digest}"),
                action="lambda:InvokeFunction",
                function=route.integration.function_arn,
                principal="apigateway.amazonaws.com",
                source_arn=execution_arn.apply(lambda arn, r=route: arn + route_arn_suffix(stage, r)),
                opts=ctx.opts(),
            )
        )
    return permissions
