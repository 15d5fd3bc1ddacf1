"""The API's resource policy (README layer "3. Network"): source ranges, VPC endpoints, accounts and organisations.

The policy travels inside the OpenAPI document as `x-amazon-apigateway-policy`, not as a separate
`RestApiPolicy`: an overwrite `PutRestApi` replaces the API's policy with the document's, so a
policy kept elsewhere is wiped by every body re-import (pulumi-aws#4296, #2321) and needs an
engine feature to be re-applied. In the document it is re-applied by every import, with no
resource ordering and no engine dependency.

The same document is also the RestApi's `policy` argument. Providers built on terraform-provider-aws
before v6.48.0 patch the API's policy back to the value in state after every import when the
argument is unset (hashicorp/terraform-provider-aws#38515, fixed by #48118), which would revert a
changed policy to the previous one; with the argument set they re-apply the new one. Resources are
full ARNs with `*` for the API id (the policy is attached to this API only): the short
`execute-api:/…` form is expanded by API Gateway on save and would then differ from the argument on
every refresh.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import pulumi

from .. import cors as browser
from ..config import StackConfig
from .iam_invoke import method_arn_suffix, route_arn_suffix
from .policy_document import VERSION, statement

INVOKE = ["execute-api:Invoke"]


def warn_open_network(config: StackConfig) -> None:
    if config.api.endpoint_type == "REGIONAL" and config.network.accept_public_api:
        pulumi.log.warn(
            "network.acceptPublicApi: the REGIONAL API takes calls from any address "
            "(authorizers, WAF and usage plans still apply)"
        )


def warn_blocked_but_allowed(config: StackConfig) -> None:
    """An address both in `network.allowedSourceCidrs` and in `waf.blockedIps`: WAF wins.

    AWS WAF evaluates the request before API Gateway reads the resource policy ("Use AWS WAF to protect
    your REST APIs in API Gateway"), so the block answers 403 (WAF_FILTERED) and the policy's Allow is
    never consulted.
    """
    if not config.waf.enabled:
        return
    allowed = config.network.networks
    for entry in config.waf.blocked_ips:
        blocked = ipaddress.ip_network(entry, strict=False)
        overlaps = [str(n) for n in allowed if n.version == blocked.version and n.overlaps(blocked)]
        if overlaps:
            pulumi.log.warn(
                f"waf.blockedIps {entry} is inside network.allowedSourceCidrs {', '.join(overlaps)}: WAF runs before "
                "the resource policy, so WAF wins and these callers get 403 (WAF_FILTERED)"
            )


def api_arn_pattern(partition: str, region: str, account_id: str) -> str:
    """`arn:<partition>:execute-api:<region>:<account>:*`: any API id, i.e. the API the policy is attached to."""
    return f"arn:{partition}:execute-api:{region}:{account_id}:*"


def resource_policy(config: StackConfig, api_arn: str, vpc_endpoint_ids: Sequence[str] = ()) -> dict[str, Any] | None:
    """The policy document; None when there is nothing to say (only `iam` routes, no network restriction).

    `api_arn` is what route suffixes (`/<stage>/<METHOD>/<path>`) are appended to, see `api_arn_pattern`;
    `vpc_endpoint_ids` (`vpce-…`) are the only sources a PRIVATE API accepts (`aws:SourceVpce`): the
    listed ones and the one the component creates (`vpc_endpoints.VpcEndpoints.resolved`).
    """
    statements = _statements(config, api_arn, vpc_endpoint_ids)
    return {"Version": VERSION, "Statement": statements} if statements else None


def _statements(config: StackConfig, api_arn: str, vpc_endpoint_ids: Sequence[str]) -> list[dict[str, Any]]:
    network = config.network
    stage = config.api.stage_name

    def arns(iam: bool) -> list[str]:
        return [api_arn + route_arn_suffix(stage, r) for r in config.routes if (r.auth == "iam") == iam]

    statements: list[dict[str, Any]] = []
    # Anonymous callers (Cognito, Lambda authorizer, public routes) need the resource policy's Allow.
    # The `iam` routes are left out: for same-account callers an Allow for "*" would stand in for
    # their IAM policy, so those routes stay governed by IAM (and the grants below).
    # CORS preflights are mock OPTIONS methods without an authorizer: API Gateway evaluates them
    # against the resource policy alone, where "an implicit denial or any explicit denial results in
    # denying the caller" (developer guide, "How API Gateway resource policies affect authorization
    # workflow"), so each preflight path needs the Allow too, or every non-simple browser call fails.
    public = arns(iam=False) + _preflight_arns(config, api_arn)
    if public := list(dict.fromkeys(public)):
        statements.append(statement("Allow", INVOKE, public, principal="*", sid="AllowInvokeOfRoutes"))
    for key, allowed, sid in (
        ("aws:PrincipalAccount", network.allowed_accounts, "AllowIamRoutesToAccounts"),
        ("aws:PrincipalOrgID", network.allowed_organizations, "AllowIamRoutesToOrganizations"),
    ):
        if allowed:
            condition = {"StringEquals": {key: list(allowed)}}
            statements.append(statement("Allow", INVOKE, arns(iam=True), principal="*", condition=condition, sid=sid))
    whole_api = [api_arn + "/*"]
    private = config.api.endpoint_type == "PRIVATE"
    if network.allowed_source_cidrs:
        # Through a VPC endpoint the caller's address is its VPC address, not aws:SourceIp.
        key = "aws:VpcSourceIp" if private else "aws:SourceIp"
        condition = {"NotIpAddress": {key: list(network.allowed_source_cidrs)}}
        statements.append(
            statement("Deny", INVOKE, whole_api, principal="*", condition=condition, sid="DenyOutsideSourceCidrs")
        )
    if private:
        condition = {"StringNotEquals": {"aws:SourceVpce": list(vpc_endpoint_ids)}}
        statements.append(
            statement("Deny", INVOKE, whole_api, principal="*", condition=condition, sid="DenyOutsideVpcEndpoints")
        )
    return statements


def _preflight_arns(config: StackConfig, api_arn: str) -> list[str]:
    """`<api_arn>/<stage>/OPTIONS/<path>` of every path that has a CORS preflight (none without `cors`)."""
    if not config.cors:
        return []
    stage = config.api.stage_name
    return [api_arn + method_arn_suffix(stage, "OPTIONS", path) for path in browser.routes_by_path(config)]
