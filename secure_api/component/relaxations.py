"""Accepted exceptions: each relaxation the config allows, marked on the resources it affects.

Every acknowledged relaxation (a public or API-key-only route, WAF off, MFA optional, a public
REGIONAL API, password-auth clients, WAF groups or rules in COUNT, ...) is warned in the plan by the
layer that builds it and marked here with the pack's tags (`secure_api_policies.exceptions`):
`secure-api:accept:<rule-id>` = reason on the taggable resource the rule reports (or that carries a
tagless one), scoped by `secure-api:applies-to:<rule-id>` to exactly what the config relaxed (the
routes, the WAF protections, the app clients). The pack then reports those violations as accepted
exceptions with the reason, and any other violation of the rule as a violation.

The reason names the config key that accepted it (lists joined by ` + `, parts by `. `). AWS tag
values allow letters, digits, spaces and `_ . : / = + - @` up to 256 characters: other characters
are dropped; longer reasons are shortened; a scope that does not fit is a config error (it cannot
be shortened without widening it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from secure_api_policies.exceptions import (
    MARKER_PREFIX,
    MAX_TAG_VALUE,
    SCOPE_PREFIX,
    marker_key,
    scope_key,
    scope_value,
    tag_value,
)

from .config.waf import KNOWN_BAD_INPUTS, REPUTATION_GROUPS, WafSettings

if TYPE_CHECKING:
    from .config.stack import StackConfig

Target = Literal["api", "stage", "user_pool", "web_acl", "log_group", "vpc_endpoint"]
"""The component's resources that carry markers: RestApi, Stage, UserPool, WebAcl, LogGroup, VpcEndpoint."""
TARGETS: tuple[Target, ...] = ("api", "stage", "user_pool", "web_acl", "log_group", "vpc_endpoint")
MAX_TAGS = 50
COMMON = "AWSManagedRulesCommonRuleSet"
SQLI_GROUP = "AWSManagedRulesSQLiRuleSet"


@dataclass(frozen=True)
class AcceptedException:
    rule: str
    """The pack rule whose violation is accepted."""
    target: Target
    reason: str
    subjects: tuple[str, ...] = ()
    """What the acceptance is limited to (empty: every violation of the rule on the target)."""

    def tags(self) -> dict[str, str]:
        reason = tag_value(self.reason)
        if len(reason) > MAX_TAG_VALUE:
            reason = reason[: MAX_TAG_VALUE - 3] + "..."
        tags = {marker_key(self.rule): reason}
        if self.subjects:
            tags[scope_key(self.rule)] = scope_value(self.subjects)
        return tags


def _route_exception(config: StackConfig) -> AcceptedException | None:
    """Routes without an authorizer that reach a backend (mock routes break no rule)."""
    relaxed = [r for r in config.routes if r.auth == "none" and r.integration.type != "mock"]
    if not relaxed:
        return None
    by_key = {
        "allowUnauthenticated": [r.key for r in relaxed if not r.api_key_required],
        "allowApiKeyOnly": [r.key for r in relaxed if r.api_key_required],
    }
    reason = "routes " + ". ".join(f"{key} {' + '.join(keys)}" for key, keys in by_key.items() if keys)
    return AcceptedException("api-route-authorizer", "api", reason, tuple(r.key for r in relaxed))


def _counting(waf: WafSettings, name: str, family: str = "") -> bool:
    """The group is off, in COUNT mode, or counts rules of `family` (any rule when empty)."""
    group = waf.managed_rule_groups.get(name)
    if group is None or not group.enabled or group.mode == "COUNT":
        return True
    return bool(family) and any(rule.startswith(family) for rule in group.count_rules)


def _waf_exceptions(waf: WafSettings) -> list[AcceptedException]:
    """WAF relaxations that open a gap the pack's WAF rules report, one subject per gap."""
    gaps: list[tuple[str, str]] = []
    if waf.rate_limit.mode == "COUNT":
        gaps.append(("rate-limit", "rateLimit COUNT"))
    for name in (COMMON, KNOWN_BAD_INPUTS):
        if _counting(waf, name):
            gaps.append((name, f"managedRuleGroups.{name} off or COUNT"))
    if waf.sql_injection == "COUNT" and _counting(waf, SQLI_GROUP, "SQLi"):
        gaps.append(("sqli", "sqlInjection COUNT without a blocking SQLi group"))
    if waf.cross_site_scripting == "COUNT" and _counting(waf, COMMON, "CrossSiteScripting"):
        gaps.append(("xss", "crossSiteScripting COUNT without blocking Common XSS rules"))
    reputation = [name for name in REPUTATION_GROUPS if name in waf.managed_rule_groups and _counting(waf, name)]
    found = []
    if gaps:
        reason = "waf: " + ". ".join(why for _, why in gaps)
        found.append(AcceptedException("waf-acl-rules", "web_acl", reason, tuple(subject for subject, _ in gaps)))
    if reputation:
        reason = "waf: " + ". ".join(f"managedRuleGroups.{name} off or COUNT" for name in reputation)
        found.append(AcceptedException("waf-reputation-lists", "web_acl", reason, tuple(reputation)))
    return found


def accepted_exceptions(config: StackConfig, component: str) -> list[AcceptedException]:
    """Every relaxation `config` acknowledges, with the rule it accepts and the resource it marks.

    `component` is the SecureApi's name (its children are `<component>-<role>`).
    """
    found: list[AcceptedException] = []
    regional = config.api.endpoint_type == "REGIONAL"
    if routes := _route_exception(config):
        found.append(routes)
    if regional and config.network.accept_public_api:
        reason = "network.acceptPublicApi: the REGIONAL API takes calls from any address"
        found.append(AcceptedException("resource-policy-no-open-allow", "api", reason))
    endpoint = config.network.vpc_endpoint
    if not regional and endpoint is not None and endpoint.private_dns_enabled:
        reason = "network.vpcEndpoint.privateDnsEnabled true: the VPC calls no public API by its execute-api name"
        found.append(AcceptedException("execute-api-endpoint-private-dns", "vpc_endpoint", reason))
    if regional and not config.waf.enabled and config.waf.accept_no_waf:
        found.append(AcceptedException("waf-stage-association", "stage", "waf.acceptNoWaf: no web ACL"))
    if config.needs_user_pool:
        cognito = config.cognito
        if cognito.mfa == "OPTIONAL":
            found.append(AcceptedException("cognito-mfa", "user_pool", "cognito.mfa OPTIONAL"))
        if not cognito.deletion_protection:
            reason = "cognito.deletionProtection false"
            found.append(AcceptedException("cognito-deletion-protection", "user_pool", reason))
        if cognito.tier == "PLUS" and cognito.threat_protection != "ENFORCED":
            reason = f"cognito.threatProtection {cognito.threat_protection}"
            found.append(AcceptedException("cognito-threat-protection", "user_pool", reason))
        if clients := [c.name for c in cognito.app_clients if c.allow_password_auth]:
            reason = f"cognito.appClients allowPasswordAuth: {' + '.join(clients)}"
            subjects = tuple(f"{component}-client-{name}" for name in clients)
            found.append(AcceptedException("cognito-client-no-password-flows", "user_pool", reason, subjects))
    if config.waf.enabled:
        found.extend(_waf_exceptions(config.waf))
    if not config.observability.kms_encryption:
        found.append(AcceptedException("log-group-kms", "log_group", "observability.kmsEncryption false"))
    return found


def markers(config: StackConfig, component: str, target: Target) -> dict[str, str]:
    """The marker tags of the resource `target` carries."""
    tags: dict[str, str] = {}
    for accepted in accepted_exceptions(config, component):
        if accepted.target == target:
            tags.update(accepted.tags())
    return tags


def tag_problems(config: StackConfig) -> list[tuple[str, str]]:
    """(key path, message) when the user's tags collide with the markers or leave them no room."""
    problems: list[tuple[str, str]] = []
    reserved = sorted(key for key in config.api.tags if key.startswith((MARKER_PREFIX, SCOPE_PREFIX)))
    if reserved:
        problems.append(("api.tags", f"{reserved}: {MARKER_PREFIX} and {SCOPE_PREFIX} tags are the component's"))
    found = accepted_exceptions(config, "secure-api")
    for accepted in found:
        scope = accepted.tags().get(scope_key(accepted.rule), "")
        if len(scope) > MAX_TAG_VALUE:
            problems.append(
                (
                    "routes" if accepted.rule == "api-route-authorizer" else "cognito.appClients",
                    f"the accepted exceptions of {accepted.rule} ({scope[:60]}...) exceed the {MAX_TAG_VALUE} "
                    "characters of one tag value: give some of them an authorizer",
                )
            )
    busiest = max(sum(len(a.tags()) for a in found if a.target == target) for target in TARGETS)
    if len(config.api.tags) + 1 + busiest > MAX_TAGS:
        problems.append(
            (
                "api.tags",
                f"{len(config.api.tags)} tags, plus secure-api:component and {busiest} accepted-exception tags, "
                f"exceed the {MAX_TAGS} tags AWS allows per resource",
            )
        )
    return problems
