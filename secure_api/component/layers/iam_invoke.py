"""The managed policy callers attach to reach the `iam` routes (and nothing else)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ..config.routes import Route
from .context import LayerContext
from .policy_document import document_json, statement


def method_arn_suffix(stage_name: str, method: str, path: str) -> str:
    """`/<stage>/<METHOD>/<path>` as execute-api ARNs spell it; `ANY` and path parameters become `*`.

    Shape: `/v1/GET/orders/*` for `GET /orders/{id}` on stage `v1` (API Gateway developer guide,
    "Control access for invoking an API": `execute-api:/stage/METHOD/resource-path`).
    """
    segments = ["*" if s.startswith("{") else s for s in path.split("/") if s]
    return f"/{stage_name}/{'*' if method == 'ANY' else method}/" + "/".join(segments)


def route_arn_suffix(stage_name: str, route: Route) -> str:
    """`method_arn_suffix` of one configured route."""
    return method_arn_suffix(stage_name, route.method, route.path)


def build_invoke_policy(ctx: LayerContext, execution_arn: pulumi.Output[str]) -> aws.iam.Policy | None:
    routes = [r for r in ctx.config.routes if r.auth == "iam"]
    if not routes:
        return None
    stage = ctx.config.api.stage_name
    return aws.iam.Policy(
        ctx.child("invoke-policy"),
        # IAM names are per account, across regions (limit 128 characters).
        name=ctx.account_scoped_name("invoke", 128),
        description=f"execute-api:Invoke on the AWS_IAM routes of {ctx.api_name}/{stage}",
        policy=document_json(
            statement(
                "Allow",
                ["execute-api:Invoke"],
                [execution_arn.apply(lambda arn, r=r: arn + route_arn_suffix(stage, r)) for r in routes],
            )
        ),
        tags=ctx.tags(),
        # Principals outside the stack attach it by ARN, and IAM renames nothing (name and description
        # replace the policy): an api.name rename keeps the policy it was created as.
        opts=ctx.opts(ignore_changes=["name", "description"]),
    )
