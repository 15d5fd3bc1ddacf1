"""Invoke rights for Lambda-backed routes: each route's permission names that route only."""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_aws as aws

from ..config.routes import LambdaIntegration
from .context import LayerContext
from .iam_invoke import route_arn_suffix


def build_lambda_permissions(ctx: LayerContext, execution_arn: pulumi.Output[str]) -> list[aws.lambda_.Permission]:
    permissions = []
    stage = ctx.config.api.stage_name
    for route in ctx.config.routes:
        if not isinstance(route.integration, LambdaIntegration):
            continue
        # Name by route, not by position, so adding a route never renames the others.
        digest = hashlib.sha256(route.key.encode()).hexdigest()[:10]
        permissions.append(
            aws.lambda_.Permission(
                ctx.child(f"route-invoke-{digest}"),
                action="lambda:InvokeFunction",
                function=ctx.input(route.integration.function_arn),
                principal="apigateway.amazonaws.com",
                source_arn=execution_arn.apply(lambda arn, r=route: arn + route_arn_suffix(stage, r)),
                opts=ctx.opts(),
            )
        )
    return permissions
