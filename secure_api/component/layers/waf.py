"""The regional WAF web ACL on the stage (README layer "4. WAF"), its IP sets and its redacted logs.

Rules run cheapest and most certain first: IP blocklists, geo, rate limits, body size, AWS managed groups,
then our own SQL injection and XSS inspection of query string, body, URI path and headers. The body is left
to a managed group's rule where AWS documents that rule as the same statement on the body (SQLi_BODY: SQL
injection at sensitivity LOW; CrossSiteScripting_BODY: cross-site scripting; both with oversize handling
CONTINUE) and the group enforces it: inspecting it twice costs 40 and 60 WCU, which would take the default
web ACL over the 1,500 WCU its base price covers (`secure_api_policies.waf_capacity`).
Every rule and the ACL publish CloudWatch metrics and sampled requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws
from pulumi_aws import wafv2

from ..config import StackConfig
from ..config.waf import ALWAYS_REDACTED_HEADERS, KNOWN_BAD_INPUTS, LOG4J_RULES, RateLimit, RuleMode, WafSettings
from ..config.waf_managed import BOT_CONTROL, COMMON_RULE_SET, SQLI_RULE_SET
from .context import LayerContext
from .log_groups import protected_log_group

# Decoded before inspection, so `%27%20OR%201=1` and `&lt;script&gt;` are seen for what they are.
INSPECTION_TRANSFORMATIONS = ("URL_DECODE", "HTML_ENTITY_DECODE")

# The v7 SDK names nested Args classes by their full path; shorter local names for the deepest ones.
_ScopeDownByteMatch = wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementArgs
_ScopeDownField = wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchArgs
_ScopeDownUriPath = (
    wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchUriPathArgs
)
_ScopeDownTransformation = (
    wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementTextTransformationArgs
)
_RuleOverride = wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs
_OverrideAction = wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs
_OverrideCount = wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs
_OverrideBlock = wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseBlockArgs
_GroupConfig = wafv2.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigArgs
_BotControlConfig = (
    wafv2.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigAwsManagedRulesBotControlRuleSetArgs
)


@dataclass(frozen=True)
class WafResources:
    acl: wafv2.WebAcl
    association: wafv2.WebAclAssociation
    log_group: aws.cloudwatch.LogGroup
    ip_sets: dict[int, wafv2.IpSet]


def waf_log_group_name(ctx: LayerContext) -> str:
    """WAF only logs to CloudWatch log groups whose name starts with `aws-waf-logs-`."""
    return f"aws-waf-logs-{ctx.physical_prefix}-{ctx.config.api.stage_name}"


def build_waf(ctx: LayerContext, stage: aws.apigateway.Stage, log_key: aws.kms.Key | None) -> WafResources | None:
    settings = ctx.config.waf
    if not settings.enabled:
        pulumi.log.warn(f"WAF is off (waf.enabled: false): the {ctx.config.api.endpoint_type} API has no web ACL")
        return None
    _warn_relaxed(settings)
    name = f"{ctx.physical_prefix}-{ctx.config.api.stage_name}"
    ip_sets = {
        version: wafv2.IpSet(
            ctx.child(f"waf-blocklist-ipv{version}"),
            name=f"{name}-blocklist-ipv{version}",
            scope="REGIONAL",
            ip_address_version=f"IPV{version}",
            addresses=settings.blocked_networks(version),
            tags=ctx.tags(),
            opts=ctx.opts(),
        )
        for version in (4, 6)
        if settings.blocked_networks(version)
    }
    acl = wafv2.WebAcl(
        ctx.child("waf"),
        name=name,
        description=f"secure-api web ACL for {ctx.api_name} stage {ctx.config.api.stage_name}",
        scope="REGIONAL",
        default_action=wafv2.WebAclDefaultActionArgs(allow=wafv2.WebAclDefaultActionAllowArgs()),
        # The ACL's metric name is its name, so alarms and dashboards can find it by the WebACL dimension.
        visibility_config=wafv2.WebAclVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        ),
        rules=_rules(settings, ip_sets, redacted_headers(ctx.config)),
        tags=ctx.marked_tags("web_acl"),
        opts=ctx.opts(),
    )
    association = wafv2.WebAclAssociation(
        ctx.child("waf-association"),
        # The Stage's own ARN output: the association waits for the stage instead of racing it.
        resource_arn=stage.arn,
        web_acl_arn=acl.arn,
        # One web ACL per stage: deleting the old association after creating the new one would
        # disassociate the stage and leave it without WAF (pulumi-aws#4782).
        opts=ctx.opts(delete_before_replace=True),
    )
    log_group = protected_log_group(ctx, "waf-logs", waf_log_group_name(ctx), settings.log_retention_days, log_key)
    wafv2.WebAclLoggingConfiguration(
        ctx.child("waf-logging"),
        resource_arn=acl.arn,
        log_destination_configs=[log_group.arn],
        redacted_fields=[
            wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                single_header=wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
            )
            for header in redacted_headers(ctx.config)
        ],
        # One logging configuration per ACL (a put overwrites it): deleting the old one after the new
        # put would switch the ACL's logging off.
        opts=ctx.opts(delete_before_replace=True),
    )
    return WafResources(acl=acl, association=association, log_group=log_group, ip_sets=ip_sets)


def redacted_headers(config: StackConfig) -> list[str]:
    """Credential headers (lowercase): the fixed set, the user's, and the authorizer's identity header.

    They are redacted from the WAF logs and left out of the SQLi/XSS rules' header inspection.
    """
    headers = [*ALWAYS_REDACTED_HEADERS, *config.waf.redact_headers]
    if config.uses_auth("custom"):
        headers.append(config.lambda_authorizer.identity_header.lower())
    return list(dict.fromkeys(headers))


def _warn_relaxed(settings: WafSettings) -> None:
    for group in settings.disabled_baseline_groups:
        pulumi.log.warn(f"WAF managed rule group {group} is disabled (waf.managedRuleGroups.{group}.enabled)")
    for name, group in settings.managed_rule_groups.items():
        if group.enabled and group.count_rules:
            pulumi.log.warn(f"WAF {name} only counts its rules {', '.join(group.count_rules)} (countRules)")
    relaxed = [(n, g.mode) for n, g in settings.managed_rule_groups.items() if g.enabled] + [
        ("rateLimit", settings.rate_limit.mode),
        *((f"pathRateLimits.{p.name}", p.mode) for p in settings.path_rate_limits),
        ("bodySizeLimit", settings.body_size_limit.mode),
        ("sqlInjection", settings.sql_injection),
        ("crossSiteScripting", settings.cross_site_scripting),
    ]
    for what, mode in relaxed:
        if mode == "COUNT":
            pulumi.log.warn(f"WAF {what} is in COUNT mode: matches are counted and logged, not blocked")


@dataclass(frozen=True)
class _Rule:
    name: str
    statement: wafv2.WebAclRuleStatementArgs
    action: wafv2.WebAclRuleActionArgs | None = None
    override_action: wafv2.WebAclRuleOverrideActionArgs | None = None


def _rules(
    settings: WafSettings, ip_sets: dict[int, wafv2.IpSet], uninspected: list[str]
) -> list[wafv2.WebAclRuleArgs]:
    """Rules in evaluation order; priorities follow the list.

    `uninspected`: header names the SQLi/XSS rules leave out. A matching rule logs the value it
    matched (`terminatingRuleMatchDetails`) whatever the logging configuration redacts, so every
    redacted credential header must also be kept out of inspection.
    """
    rules = [
        _Rule(
            f"block-ipv{version}",
            wafv2.WebAclRuleStatementArgs(
                ip_set_reference_statement=wafv2.WebAclRuleStatementIpSetReferenceStatementArgs(arn=ip_set.arn)
            ),
            _action("BLOCK"),
        )
        for version, ip_set in ip_sets.items()
    ]
    if settings.geo:
        rules.append(_Rule(f"geo-{settings.geo.mode}", _geo_statement(settings), _action("BLOCK")))
    rules.append(_rate_limit("rate-limit", settings.rate_limit, None))
    rules.extend(_rate_limit(f"rate-limit-{p.name}", p, p.path_prefix) for p in settings.path_rate_limits)
    rules.append(_Rule("body-size", _body_size(settings), _action(settings.body_size_limit.mode)))
    rules.extend(
        _managed_group(name, settings) for name, group in settings.managed_rule_groups.items() if group.enabled
    )
    rules.append(_Rule("sql-injection", _sqli(settings, uninspected), _action(settings.sql_injection)))
    rules.append(_Rule("cross-site-scripting", _xss(settings, uninspected), _action(settings.cross_site_scripting)))
    return [
        wafv2.WebAclRuleArgs(
            name=rule.name,
            priority=priority,
            statement=rule.statement,
            action=rule.action,
            override_action=rule.override_action,
            visibility_config=wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=rule.name, sampled_requests_enabled=True
            ),
        )
        for priority, rule in enumerate(rules)
    ]


def _action(mode: RuleMode) -> wafv2.WebAclRuleActionArgs:
    if mode == "COUNT":
        return wafv2.WebAclRuleActionArgs(count=wafv2.WebAclRuleActionCountArgs())
    return wafv2.WebAclRuleActionArgs(block=wafv2.WebAclRuleActionBlockArgs())


def _geo_statement(settings: WafSettings) -> wafv2.WebAclRuleStatementArgs:
    assert settings.geo is not None
    match = wafv2.WebAclRuleStatementArgs(
        geo_match_statement=wafv2.WebAclRuleStatementGeoMatchStatementArgs(country_codes=list(settings.geo.countries))
    )
    if settings.geo.mode == "block":
        return match
    # An allow-list blocks every request that is NOT from one of the countries.
    return wafv2.WebAclRuleStatementArgs(not_statement=wafv2.WebAclRuleStatementNotStatementArgs(statement=match))


def _rate_limit(name: str, limit: RateLimit, path_prefix: str | None) -> _Rule:
    scope_down = None
    if path_prefix:
        scope_down = wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs(
            byte_match_statement=_ScopeDownByteMatch(
                field_to_match=_ScopeDownField(uri_path=_ScopeDownUriPath()),
                positional_constraint="STARTS_WITH",
                search_string=path_prefix,
                # `//v1/login/../login` and `%2Fv1%2Flogin` count against the same limit as `/v1/login`.
                text_transformations=[
                    _ScopeDownTransformation(priority=priority, type=kind)
                    for priority, kind in enumerate(("URL_DECODE", "NORMALIZE_PATH"))
                ],
            )
        )
    statement = wafv2.WebAclRuleStatementArgs(
        rate_based_statement=wafv2.WebAclRuleStatementRateBasedStatementArgs(
            aggregate_key_type="IP",
            limit=limit.limit,
            evaluation_window_sec=limit.evaluation_window_seconds,
            scope_down_statement=scope_down,
        )
    )
    return _Rule(name, statement, _action(limit.mode))


def _body_size(settings: WafSettings) -> wafv2.WebAclRuleStatementArgs:
    """Body larger than `waf.bodySizeLimit.maxBytes`; a body past WAF's inspection limit matches too."""
    return wafv2.WebAclRuleStatementArgs(
        size_constraint_statement=wafv2.WebAclRuleStatementSizeConstraintStatementArgs(
            comparison_operator="GT",
            size=settings.body_size_limit.max_bytes,
            field_to_match=wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchArgs(
                body=wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchBodyArgs(oversize_handling="MATCH")
            ),
            text_transformations=[
                wafv2.WebAclRuleStatementSizeConstraintStatementTextTransformationArgs(priority=0, type="NONE")
            ],
        )
    )


def _managed_group(name: str, settings: WafSettings) -> _Rule:
    group = settings.managed_rule_groups[name]
    overrides: list[tuple[str, Literal["block", "count"]]] = [(rule, "count") for rule in group.count_rules]
    if name == KNOWN_BAD_INPUTS:
        # Pinned to BLOCK so the Log4Shell rules stay enforcing whatever AWS changes their default to.
        overrides.extend((rule, "block") for rule in LOG4J_RULES)
    statement = wafv2.WebAclRuleStatementArgs(
        managed_rule_group_statement=wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
            name=name,
            vendor_name="AWS",
            version=group.version,
            # Bot Control is refused without its config (the inspection level); other groups need none.
            managed_rule_group_configs=[
                _GroupConfig(
                    aws_managed_rules_bot_control_rule_set=_BotControlConfig(
                        inspection_level=group.inspection_level or "COMMON"
                    )
                )
            ]
            if name == BOT_CONTROL
            else None,
            rule_action_overrides=[
                _RuleOverride(
                    name=rule,
                    action_to_use=_OverrideAction(count=_OverrideCount())
                    if action == "count"
                    else _OverrideAction(block=_OverrideBlock()),
                )
                for rule, action in overrides
            ]
            or None,
        )
    )
    # COUNT turns the whole group into a dry run (rollout); `none` keeps the group's own actions.
    override = (
        wafv2.WebAclRuleOverrideActionArgs(count=wafv2.WebAclRuleOverrideActionCountArgs())
        if group.mode == "COUNT"
        else wafv2.WebAclRuleOverrideActionArgs(none=wafv2.WebAclRuleOverrideActionNoneArgs())
    )
    return _Rule(name, statement, override_action=override)


def _enforces(settings: WafSettings, group: str, rule: str) -> bool:
    """Whether managed rule group `group` runs, blocks (mode BLOCK) and leaves its `rule` blocking."""
    managed = settings.managed_rule_groups.get(group)
    return managed is not None and managed.enabled and managed.mode == "BLOCK" and rule not in managed.count_rules


def _sqli(settings: WafSettings, uninspected: list[str]) -> wafv2.WebAclRuleStatementArgs:
    """SQL injection in any of query string, body, URI path or headers but `uninspected` (one OR, one rule).

    The body is left to SQLi_BODY when it enforces and our sensitivity is LOW, the level AWS documents for it.
    """
    field = wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchArgs
    body_elsewhere = settings.sql_injection_sensitivity == "LOW" and _enforces(settings, SQLI_RULE_SET, "SQLi_BODY")
    fields = [
        field(query_string=wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchQueryStringArgs()),
        # Past WAF's body inspection limit keep inspecting what fits; the common rule set limits body size.
        *(
            ()
            if body_elsewhere
            else [
                field(
                    body=wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchBodyArgs(oversize_handling="CONTINUE")
                )
            ]
        ),
        field(uri_path=wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchUriPathArgs()),
        field(
            headers=[
                wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchHeaderArgs(
                    match_pattern=wafv2.WebAclRuleStatementSqliMatchStatementFieldToMatchHeaderMatchPatternArgs(
                        excluded_headers=uninspected
                    ),
                    match_scope="ALL",
                    oversize_handling="CONTINUE",
                )
            ]
        ),
    ]
    return _any_of(
        wafv2.WebAclRuleStatementArgs(
            sqli_match_statement=wafv2.WebAclRuleStatementSqliMatchStatementArgs(
                field_to_match=f,
                sensitivity_level=settings.sql_injection_sensitivity,
                text_transformations=[
                    wafv2.WebAclRuleStatementSqliMatchStatementTextTransformationArgs(priority=p, type=t)
                    for p, t in enumerate(INSPECTION_TRANSFORMATIONS)
                ],
            )
        )
        for f in fields
    )


def _xss(settings: WafSettings, uninspected: list[str]) -> wafv2.WebAclRuleStatementArgs:
    """Cross-site scripting in any of query string, body, URI path or headers but `uninspected`.

    The body is left to the common rule set's CrossSiteScripting_BODY when it enforces.
    """
    field = wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchArgs
    body_elsewhere = _enforces(settings, COMMON_RULE_SET, "CrossSiteScripting_BODY")
    fields = [
        field(query_string=wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchQueryStringArgs()),
        *(
            ()
            if body_elsewhere
            else [
                field(body=wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchBodyArgs(oversize_handling="CONTINUE"))
            ]
        ),
        field(uri_path=wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchUriPathArgs()),
        field(
            headers=[
                wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchHeaderArgs(
                    match_pattern=wafv2.WebAclRuleStatementXssMatchStatementFieldToMatchHeaderMatchPatternArgs(
                        excluded_headers=uninspected
                    ),
                    match_scope="ALL",
                    oversize_handling="CONTINUE",
                )
            ]
        ),
    ]
    return _any_of(
        wafv2.WebAclRuleStatementArgs(
            xss_match_statement=wafv2.WebAclRuleStatementXssMatchStatementArgs(
                field_to_match=f,
                text_transformations=[
                    wafv2.WebAclRuleStatementXssMatchStatementTextTransformationArgs(priority=p, type=t)
                    for p, t in enumerate(INSPECTION_TRANSFORMATIONS)
                ],
            )
        )
        for f in fields
    )


def _any_of(statements: Iterable[wafv2.WebAclRuleStatementArgs]) -> wafv2.WebAclRuleStatementArgs:
    return wafv2.WebAclRuleStatementArgs(
        or_statement=wafv2.WebAclRuleStatementOrStatementArgs(statements=list(statements))
    )
