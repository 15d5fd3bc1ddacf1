"""The API's resource policy (seed section 3): source ranges, VPC endpoints, accounts and organisations.

A separate `RestApiPolicy`, not the API's `policy` argument: it can name the API's own execution
ARN (the `execute-api:/*` short form is expanded by AWS on save and then diffs forever), and the
API never waits on it. Re-importing the OpenAPI body in overwrite mode clears the API's policy
(pulumi-aws#4296, #2321), so the policy is re-applied whenever the body changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .context import LayerContext
from .iam_invoke import route_arn_suffix
from .policy_document import document_json, statement

INVOKE = ["execute-api:Invoke"]


@dataclass(frozen=True)
class ResourcePolicy:
    policy: aws.apigateway.RestApiPolicy
    # The JSON as sent: the redeploy fingerprint hashes this, never the policy resource's outputs.
    document: pulumi.Output[str]


def build_resource_policy(
    ctx: LayerContext, api: aws.apigateway.RestApi, body: pulumi.Input[str]
) -> ResourcePolicy | None:
    """None when there is nothing to say: only `iam` routes and no network restriction."""
    if ctx.config.api.endpoint_type == "REGIONAL" and ctx.config.network.accept_public_api:
        pulumi.log.warn(
            "network.acceptPublicApi: the REGIONAL API takes calls from any address "
            "(authorizers, WAF and usage plans still apply)"
        )
    statements = _statements(ctx, api.execution_arn)
    if not statements:
        return None
    document = document_json(*statements)
    policy = aws.apigateway.RestApiPolicy(
        ctx.child("resource-policy"),
        rest_api_id=api.id,
        policy=document,
        opts=ctx.opts(
            # A body re-import wipes the API's policy without this resource seeing a diff: re-create it
            # whenever the body changes. Delete first, because deleting a policy clears the API's policy.
            replacement_trigger=pulumi.Output.from_input(body).apply(lambda b: hashlib.sha256(b.encode()).hexdigest()),
            delete_before_replace=True,
        ),
    )
    return ResourcePolicy(policy=policy, document=document)


def _statements(ctx: LayerContext, execution_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
    config = ctx.config
    network = config.network
    stage = config.api.stage_name

    def arns(iam: bool) -> list[pulumi.Input[str]]:
        return [
            pulumi.Output.concat(execution_arn, route_arn_suffix(stage, r))
            for r in config.routes
            if (r.auth == "iam") == iam
        ]

    statements: list[dict[str, Any]] = []
    # Anonymous callers (Cognito, Lambda authorizer, public routes) need the resource policy's Allow.
    # The `iam` routes are left out: for same-account callers an Allow for "*" would stand in for
    # their IAM policy, so those routes stay governed by IAM (and the grants below).
    if public := arns(iam=False):
        statements.append(statement("Allow", INVOKE, public, principal="*", sid="AllowInvokeOfRoutes"))
    for key, allowed, sid in (
        ("aws:PrincipalAccount", network.allowed_accounts, "AllowIamRoutesToAccounts"),
        ("aws:PrincipalOrgID", network.allowed_organizations, "AllowIamRoutesToOrganizations"),
    ):
        if allowed:
            condition = {"StringEquals": {key: list(allowed)}}
            statements.append(statement("Allow", INVOKE, arns(iam=True), principal="*", condition=condition, sid=sid))
    whole_api: list[pulumi.Input[str]] = [pulumi.Output.concat(execution_arn, "/*")]
    private = config.api.endpoint_type == "PRIVATE"
    if network.allowed_source_cidrs:
        # Through a VPC endpoint the caller's address is its VPC address, not aws:SourceIp.
        key = "aws:VpcSourceIp" if private else "aws:SourceIp"
        condition = {"NotIpAddress": {key: list(network.allowed_source_cidrs)}}
        statements.append(
            statement("Deny", INVOKE, whole_api, principal="*", condition=condition, sid="DenyOutsideSourceCidrs")
        )
    if private:
        condition = {"StringNotEquals": {"aws:SourceVpce": list(network.vpc_endpoint_ids)}}
        statements.append(
            statement("Deny", INVOKE, whole_api, principal="*", condition=condition, sid="DenyOutsideVpcEndpoints")
        )
    return statements
