"""Web ACL capacity units (WCUs): what a WAFv2 web ACL's rules cost, from AWS's documented per-statement costs.

Sources (AWS WAF developer guide): "Web ACL capacity units (WCUs) in AWS WAF"; the "WCUs" line of each rule
statement page (IP set match, geographic match, ASN match, label match, string match, regex match, regex
pattern set match, size constraint, SQL injection attack, cross-site scripting attack, rate-based, logical
AND/OR/NOT, managed rule group, rule group); the "WCU" of each group in "AWS Managed Rules rule groups list".
The quota and the price break: AWS What's New, 2023-04-11, "AWS WAF increases web ACL capacity units limit".

The sum is what AWS documents per rule. AWS "might" charge less for a rule group's rules that share a
component and transformation ("processing optimizations"), so the computed total is an upper bound of
what WAF reports as the web ACL's `capacity`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .values import UNKNOWN, peek

INCLUDED_WCU = 1500
"""WCUs a web ACL's base price covers; every further 500 WCU (or part) adds a per-request charge."""

MAX_WCU = 5000
"""Most WCUs a web ACL may use: WAF refuses a create or update above it."""

MANAGED_RULE_GROUP_WCU: dict[str, int] = {
    # Baseline
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesAdminProtectionRuleSet": 100,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    # Use case
    "AWSManagedRulesSQLiRuleSet": 200,
    "AWSManagedRulesLinuxRuleSet": 200,
    "AWSManagedRulesUnixRuleSet": 100,
    "AWSManagedRulesWindowsRuleSet": 200,
    "AWSManagedRulesPHPRuleSet": 100,
    "AWSManagedRulesWordPressRuleSet": 100,
    # IP reputation
    "AWSManagedRulesAmazonIpReputationList": 25,
    "AWSManagedRulesAnonymousIpList": 50,
    # Bot Control, fraud control, anti-DDoS
    "AWSManagedRulesBotControlRuleSet": 50,
    "AWSManagedRulesATPRuleSet": 50,
    "AWSManagedRulesACFPRuleSet": 50,
    "AWSManagedRulesAntiDDoSRuleSet": 50,
}
"""The `WCU` AWS lists for each of its managed rule groups (vendor `AWS`), whatever the group's version."""

# Base cost of the statements that inspect one request component (`fieldToMatch`).
_BYTE_MATCH = {"EXACTLY": 2, "STARTS_WITH": 2, "ENDS_WITH": 2, "CONTAINS": 10, "CONTAINS_WORD": 10}
_COMPONENT_BASE = {
    "regexMatchStatement": 3,
    "regexPatternSetReferenceStatement": 25,
    "sizeConstraintStatement": 1,
    "xssMatchStatement": 40,
}
_SQLI = {"LOW": 20, "HIGH": 30}
TRANSFORMATION_WCU = 10
"""Each text transformation other than NONE."""
ALL_QUERY_ARGUMENTS_WCU = 10
"""Added when a statement inspects `allQueryArguments`; inspecting `jsonBody` doubles the base cost instead."""
CUSTOM_KEY_WCU = 30
"""Each custom aggregation key of a rate-based statement."""


PENDING = "only known after the update"


@dataclass(frozen=True)
class RuleCapacity:
    """One rule: `wcu` as documented, a lower bound when `unknown` lists what could not be costed
    (`<what> only known after the update` in preview, or a cost AWS leaves to a rule group's owner)."""

    name: str
    wcu: int
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capacity:
    """A web ACL's rules and their WCUs, in the order given."""

    rules: tuple[RuleCapacity, ...]

    @property
    def total(self) -> int:
        return sum(rule.wcu for rule in self.rules)

    @property
    def unknown(self) -> tuple[str, ...]:
        """What was not costed, as `<rule>: <what>`; the total is then a lower bound."""
        return tuple(f"{rule.name}: {what}" for rule in self.rules for what in rule.unknown)

    @property
    def pending(self) -> bool:
        """Some value the cost depends on is only known after the update (preview)."""
        return any(what.endswith(PENDING) for what in self.unknown)

    def describe(self) -> str:
        """`1428 WCU`; `at least 1428 WCU` when something was not costed."""
        return f"{'at least ' if self.unknown else ''}{self.total} WCU"

    def largest(self, count: int = 3) -> str:
        """The `count` costliest rules, `AWSManagedRulesCommonRuleSet 700, ...`."""
        ranked = sorted(self.rules, key=lambda rule: -rule.wcu)[:count]
        return ", ".join(f"{rule.name} {rule.wcu}" for rule in ranked)


def web_acl_capacity(rules: Iterable[Any]) -> Capacity:
    """The WCUs of a web ACL's `rules` (pulumi-aws v7 `aws.wafv2.WebAcl` inputs, camelCase, or the same
    shapes from `ruleJson`). An unknown or unreadable rule costs 0 and is listed in `Capacity.unknown`."""
    costed = []
    for index, rule in enumerate(rules):
        name = peek(rule, "name") if isinstance(rule, Mapping) else None
        label = name if isinstance(name, str) else f"rule {index}"
        statement = peek(rule, "statement") if isinstance(rule, Mapping) else UNKNOWN
        unknown: list[str] = []
        wcu = statement_capacity(statement, unknown)
        costed.append(RuleCapacity(label, wcu, tuple(unknown)))
    return Capacity(tuple(costed))


def statement_capacity(statement: Any, unknown: list[str]) -> int:
    """The WCUs of one rule statement, nested statements included; appends to `unknown` what it cannot cost."""
    if not isinstance(statement, Mapping):
        unknown.append(f"statement {PENDING}")
        return 0
    total = 0
    for kind, spec in statement.items():
        if spec is None:
            continue
        total += _cost(kind, spec, unknown)
    return total


def _cost(kind: str, spec: Any, unknown: list[str]) -> int:
    if kind in ("andStatement", "orStatement"):
        nested = peek(spec, "statements")
        if not isinstance(nested, list):
            unknown.append(f"{kind} statements {PENDING}")
            return 0
        return sum(statement_capacity(item, unknown) for item in nested)
    if kind == "notStatement":
        return statement_capacity(peek(spec, "statement"), unknown)
    if kind == "ipSetReferenceStatement":
        # "If you configure the statement to use forwarded IP addresses and specify a position of ANY,
        # increase the WCU usage by 4."
        forwarded = peek(spec, "ipSetForwardedIpConfig", "position")
        return 1 + (4 if forwarded == "ANY" else 0)
    if kind in ("geoMatchStatement", "labelMatchStatement", "asnMatchStatement"):
        return 1
    if kind == "byteMatchStatement":
        constraint = peek(spec, "positionalConstraint")
        if constraint not in _BYTE_MATCH:
            unknown.append(f"byteMatchStatement positionalConstraint {constraint!r}")
            return _component(spec, 0, unknown)
        return _component(spec, _BYTE_MATCH[constraint], unknown)
    if kind == "sqliMatchStatement":
        level = peek(spec, "sensitivityLevel") or "LOW"
        return _component(spec, _SQLI.get(level, _SQLI["HIGH"]), unknown)
    if kind in _COMPONENT_BASE:
        return _component(spec, _COMPONENT_BASE[kind], unknown)
    if kind == "rateBasedStatement":
        keys = peek(spec, "customKeys")
        scope_down = peek(spec, "scopeDownStatement")
        return (
            2
            + CUSTOM_KEY_WCU * (len(keys) if isinstance(keys, list) else 0)
            + (statement_capacity(scope_down, unknown) if scope_down is not None else 0)
        )
    if kind == "managedRuleGroupStatement":
        name, vendor = peek(spec, "name"), peek(spec, "vendorName")
        scope_down = peek(spec, "scopeDownStatement")
        extra = statement_capacity(scope_down, unknown) if scope_down is not None else 0
        if vendor == "AWS" and name in MANAGED_RULE_GROUP_WCU:
            return MANAGED_RULE_GROUP_WCU[str(name)] + extra
        unknown.append(f"managed rule group {vendor}/{name} (its owner sets its capacity)")
        return extra
    if kind == "ruleGroupReferenceStatement":
        unknown.append("ruleGroupReferenceStatement (the rule group's own capacity)")
        return 0
    unknown.append(f"{kind} (no documented cost here)")
    return 0


def _component(spec: Any, base: int, unknown: list[str]) -> int:
    """Base cost adjusted for the inspected component, plus 10 per text transformation other than NONE."""
    field = peek(spec, "fieldToMatch")
    if isinstance(field, Mapping):
        if peek(field, "jsonBody") is not None:
            base *= 2
        if peek(field, "allQueryArguments") is not None:
            base += ALL_QUERY_ARGUMENTS_WCU
    elif field is UNKNOWN:
        unknown.append(f"fieldToMatch {PENDING}")
    transformations = peek(spec, "textTransformations")
    if transformations is UNKNOWN:
        unknown.append(f"textTransformations {PENDING}")
        return base
    applied = [t for t in transformations or () if not isinstance(t, Mapping) or peek(t, "type") != "NONE"]
    return base + TRANSFORMATION_WCU * len(applied)
