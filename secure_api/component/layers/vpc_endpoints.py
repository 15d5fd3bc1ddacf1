"""The interface VPC endpoints of a PRIVATE API: the ones the config lists, the one the component creates, and
the endpoint policies the component manages.

An endpoint policy is evaluated by the VPC endpoint, for every call through it, before API Gateway sees the
request; the default one allows everything, to any API of any account ("Control access to VPC endpoints using
endpoint policies", AWS PrivateLink guide; developer guide, "Private REST APIs in API Gateway": "Use VPC
endpoint policies for private APIs"). The policy here allows execute-api:Invoke on this API's stage, and on its
private custom domain when there is one, and denies signed callers of accounts other than this one and
`network.allowedAccounts` (unsigned callers carry no principal account: the API's resource policy and the
route's authorizer judge them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .context import LayerContext
from .network import INVOKE
from .policy_document import VERSION, statement


@dataclass(frozen=True)
class VpcEndpoints:
    """Every interface endpoint the API is reached through: config ids (Outputs allowed), then the created one."""

    ids: list[pulumi.Input[str]]
    created: aws.ec2.VpcEndpoint | None

    @property
    def resolved(self) -> pulumi.Output[list[str]]:
        """The ids once known (`vpce-…`), in config order, the created endpoint last."""
        return pulumi.Output.all(*self.ids).apply(list)


def build_vpc_endpoints(ctx: LayerContext) -> VpcEndpoints:
    """Create `network.vpcEndpoint`'s interface endpoint when it is set; collect it with the listed ones.

    The endpoint is `Interface`, for `com.amazonaws.<region>.execute-api`, IPv4 (ec2 CreateVpcEndpoint's
    default `IpAddressType`: its subnets need no IPv6 range), private DNS as configured (off by default).
    Its policy is set by `build_endpoint_policies` once the API exists, as a separate `VpcEndpointPolicy`
    (the API's resource policy names the endpoint, and the endpoint's policy names the API).
    """
    network = ctx.config.network
    listed: list[pulumi.Input[str]] = [ctx.input(i) or i for i in network.vpc_endpoint_ids]
    settings = network.vpc_endpoint
    if settings is None:
        return VpcEndpoints(listed, None)
    if settings.private_dns_enabled:
        pulumi.log.warn(
            "network.vpcEndpoint.privateDnsEnabled: every *.execute-api."
            f"{ctx.region}.amazonaws.com name in {settings.vpc_id} resolves to this endpoint, so that VPC can no "
            "longer call public (REGIONAL or EDGE) APIs by their default names"
        )
    endpoint = aws.ec2.VpcEndpoint(
        ctx.child("vpc-endpoint"),
        vpc_id=ctx.input(settings.vpc_id),
        service_name=f"com.amazonaws.{ctx.region}.execute-api",
        vpc_endpoint_type="Interface",
        subnet_ids=[ctx.input(i) for i in settings.subnet_ids],
        security_group_ids=[ctx.input(i) for i in settings.security_group_ids],
        private_dns_enabled=settings.private_dns_enabled,
        tags={**ctx.marked_tags("vpc_endpoint"), "Name": ctx.child("execute-api")},
        opts=ctx.opts(),
    )
    return VpcEndpoints([*listed, endpoint.id], endpoint)


def endpoint_policy(ctx: LayerContext, execution_arn: str, domain_name: str | None) -> dict[str, Any]:
    """The least-privilege endpoint policy: Invoke on `<execution_arn>/<stage>/*` (and the private domain's
    `arn:…:execute-api:<region>:<account>:/domainnames/<name>+*`); signed callers of other accounts denied."""
    network = ctx.config.network
    resources = [f"{execution_arn}/{ctx.config.api.stage_name}/*"]
    if domain_name:
        resources.append(f"arn:{ctx.partition}:execute-api:{ctx.region}:{ctx.account_id}:/domainnames/{domain_name}+*")
    accounts = sorted({ctx.account_id, *network.allowed_accounts})
    return {
        "Version": VERSION,
        "Statement": [
            statement("Allow", INVOKE, resources, principal="*", sid="AllowInvokeOfThisApi"),
            statement(
                "Deny",
                INVOKE,
                resources,
                principal="*",
                condition={
                    "StringNotEquals": {"aws:PrincipalAccount": accounts},
                    "Null": {"aws:PrincipalAccount": "false"},
                },
                sid="DenyOtherAccounts",
            ),
        ],
    }


def build_endpoint_policies(
    ctx: LayerContext, endpoints: VpcEndpoints, execution_arn: pulumi.Output[str], domain_name: str | None
) -> None:
    """A `VpcEndpointPolicy` on the created endpoint and on each of `network.managedEndpointPolicies`.

    Warns, per listed endpoint the component does not manage, that its policy is not managed here.
    """
    network = ctx.config.network
    managed = set(network.managed_endpoint_policies)
    for endpoint in network.vpc_endpoint_ids:
        if endpoint not in managed:
            shown = endpoint if not ctx.inputs.is_deferred(endpoint) else "an endpoint given as an Output"
            pulumi.log.warn(
                f"network.vpcEndpointIds: the endpoint policy of {shown} is not managed here (the default one lets "
                "its VPC call any API of any account): list it in network.managedEndpointPolicies, or let the "
                "component create the endpoint (network.vpcEndpoint)"
            )
    policy = execution_arn.apply(lambda arn: json.dumps(endpoint_policy(ctx, arn, domain_name), sort_keys=True))
    targets: list[tuple[str, pulumi.Input[str]]] = []
    for index, endpoint in enumerate(network.managed_endpoint_policies):
        # Named by the id, so reordering the list changes nothing; an Output's id is not known yet.
        name = f"vpc-endpoint-policy-{index if ctx.inputs.is_deferred(endpoint) else endpoint}"
        targets.append((name, ctx.input(endpoint) or endpoint))
    if endpoints.created is not None:
        targets.append(("vpc-endpoint-policy", endpoints.created.id))
    for role, endpoint_id in targets:
        aws.ec2.VpcEndpointPolicy(ctx.child(role), vpc_endpoint_id=endpoint_id, policy=policy, opts=ctx.opts())
