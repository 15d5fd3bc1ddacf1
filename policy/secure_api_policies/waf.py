"""WAF layer: every public stage sits behind a web ACL that rate-limits and runs the managed groups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import tokens as t
from .apis import endpoint_types
from .graph import StackView, label
from .model import Config, Outcome, ResourceCheck, StackCheck, Undecided, Violation
from .values import UNKNOWN, as_list, contains_unknown, parse_document, peek, plain
from .waf_capacity import MAX_WCU, web_acl_capacity

WAF_LOG_PREFIX = "aws-waf-logs-"
COMMON_GROUP = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
SQLI_GROUP = "AWSManagedRulesSQLiRuleSet"
LOG4J_PREFIX = "Log4JRCE"
_OWN_RULES = ("sqliMatchStatement", "xssMatchStatement")


def _associated(view: StackView, link_prop: str, source: str, target: str) -> tuple[set[str], list[str]]:
    """URNs of `target` resources some `source` resource points at, and the unresolved sources."""
    linked: set[str] = set()
    unresolved = []
    for resource in view.of_type(source):
        link = view.link(resource, link_prop, {target})
        linked.update(found.urn for found in link.targets)
        if not link.decided:
            unresolved.append(label(resource))
    return linked, unresolved


def stage_association(view: StackView, _config: Config) -> Iterator[Outcome]:
    """REGIONAL and EDGE stages (WAF does not front PRIVATE APIs); an unlinkable API counts as public."""
    protected, unresolved = _associated(view, "resourceArn", t.WEB_ACL_ASSOCIATION, t.STAGE)
    for stage in view.of_type(t.STAGE):
        if stage.urn in protected:
            continue
        apis = view.link(stage, "restApi", {t.REST_API}, keys=("id",)).targets
        types = [endpoint_types(api.props) for api in apis]
        if any(found is not UNKNOWN and found == {"PRIVATE"} for found in types):
            continue
        if unresolved or any(found is UNKNOWN for found in types):
            yield Undecided(f"{label(stage)}: cannot tell whether {', '.join(unresolved) or 'its API'} covers it")
        else:
            yield Violation(f"stage {stage.name} is associated with no WAFv2 web ACL", stage.urn)


def _camel(value: Any) -> Any:
    """`ruleJson` uses the WAF API's PascalCase; the provider's inputs are camelCase."""
    if isinstance(value, Mapping):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def _acl_rules(acl: Any, extra: Mapping[str, list[Any]]) -> list[Any]:
    """Inline rules (read in place: they can be large), `ruleJson` rules and separate rule resources."""
    inline = peek(acl.props, "rules")
    rules = [UNKNOWN] if inline is UNKNOWN else [peek(inline, index) for index in range(len(inline or ()))]
    rule_json = parse_document(peek(acl.props, "ruleJson"))
    rules += [UNKNOWN] if rule_json is UNKNOWN else as_list(_camel(rule_json))
    return rules + extra.get(acl.urn, [])


def _separate_rules(view: StackView) -> tuple[dict[str, list[Any]], list[str]]:
    """Rules declared as their own resources, per web ACL URN; and those whose ACL is unresolved."""
    rules: dict[str, list[Any]] = {}
    unresolved = []
    for resource in view.of_type(t.WEB_ACL_RULE, t.WEB_ACL_RULE_GROUP_ASSOCIATION):
        props = plain(resource.props)
        if resource.resource_type == t.WEB_ACL_RULE_GROUP_ASSOCIATION:
            override = props.get("overrideAction", "none")
            props = {
                "statement": {"managedRuleGroupStatement": props.get("managedRuleGroup") or {}},
                "overrideAction": override if override is UNKNOWN else {str(override): {}},
            }
        link = view.link(resource, "webAclArn", {t.WEB_ACL})
        if not link.decided:
            unresolved.append(label(resource))
        for acl in link.targets:
            rules.setdefault(acl.urn, []).append(props)
    return rules, unresolved


def _is_counting(action: Any) -> bool:
    return isinstance(action, Mapping) and peek(action, "count") is not None


def _contains(statement: Any, key: str) -> bool:
    """Whether `key` appears anywhere in a (nested and/or/not) rule statement."""
    if isinstance(statement, Mapping):
        return key in statement or any(_contains(value, key) for value in statement.values())
    if isinstance(statement, list):
        return any(_contains(value, key) for value in statement)
    return False


def _counted_rules(group: Any) -> set[str]:
    """Rules of a managed group overridden to count (`ruleActionOverrides`)."""
    overrides = as_list(plain(peek(group, "ruleActionOverrides")))
    return {
        str(peek(item, "name"))
        for item in overrides
        if isinstance(item, Mapping) and peek(item, "actionToUse", "count") is not None
    }


@dataclass
class _Protections:
    """What a web ACL's rules add up to; `uncertain` when a deciding value is unknown."""

    rate_limited: bool = False
    groups: dict[str, set[str]] = field(default_factory=dict)
    """Blocking AWS managed groups and the rules each overrides to count."""
    own: set[str] = field(default_factory=set)
    """Blocking own rules: `sqliMatchStatement`, `xssMatchStatement`."""
    uncertain: bool = False

    def add(self, rule: Any) -> None:
        statement = peek(rule, "statement") if isinstance(rule, Mapping) else UNKNOWN
        if not isinstance(statement, Mapping):
            self.uncertain = True
            return
        action, override = peek(rule, "action"), peek(rule, "overrideAction")
        if peek(statement, "rateBasedStatement") is not None:
            self.uncertain |= action is UNKNOWN
            self.rate_limited |= action is not UNKNOWN and not _is_counting(action)
        group = peek(statement, "managedRuleGroupStatement")
        if group is not None:
            name, vendor = peek(group, "name"), peek(group, "vendorName")
            if any(value is UNKNOWN for value in (group, name, vendor, override)):
                self.uncertain = True
            elif vendor == "AWS" and not _is_counting(override):
                self.groups[str(name)] = _counted_rules(group)
        if action is UNKNOWN:
            self.uncertain = True
        elif action is not None and not _is_counting(action) and len(self.own) < len(_OWN_RULES):
            inspected = plain(statement)
            self.own.update(key for key in _OWN_RULES if _contains(inspected, key))

    def _group_blocks(self, name: str, family: str) -> bool:
        """The group runs and blocks, none of its `family` rules overridden to count."""
        counted = self.groups.get(name)
        return counted is not None and not any(rule.startswith(family) for rule in counted)

    def missing(self, required: list[str]) -> list[tuple[str, str]]:
        """(subject, what is missing): subjects `rate-limit`, a group name, `Log4JRCE`, `sqli`, `xss`."""
        absent = [] if self.rate_limited else [("rate-limit", "a blocking rate-based rule")]
        absent += [(name, name) for name in required if name not in self.groups]
        if KNOWN_BAD_INPUTS in required and KNOWN_BAD_INPUTS in self.groups:
            log4j = sorted(rule for rule in self.groups[KNOWN_BAD_INPUTS] if rule.startswith(LOG4J_PREFIX))
            if log4j:
                absent.append((LOG4J_PREFIX, f"blocking Log4j rules ({', '.join(log4j)} count)"))
        if "sqliMatchStatement" not in self.own and not self._group_blocks(SQLI_GROUP, "SQLi"):
            absent.append(("sqli", f"SQL injection protection (a blocking SQLi rule or {SQLI_GROUP})"))
        if "xssMatchStatement" not in self.own and not self._group_blocks(COMMON_GROUP, "CrossSiteScripting_"):
            absent.append(("xss", f"cross-site scripting protection (a blocking XSS rule or {COMMON_GROUP})"))
        return absent

    def missing_groups(self, names: list[str]) -> list[str]:
        return [name for name in names if name not in self.groups]


def _protections(view: StackView) -> Iterator[tuple[Any, _Protections, list[str]]]:
    separate, unresolved = _separate_rules(view)
    for acl in view.of_type(t.WEB_ACL):
        protections = _Protections()
        for rule in _acl_rules(acl, separate):
            protections.add(rule)
        yield acl, protections, unresolved


def acl_rules(view: StackView, config: Config) -> Iterator[Outcome]:
    for acl, protections, unresolved in _protections(view):
        missing = protections.missing(list(config["requiredManagedRuleGroups"]))
        if not missing:
            continue
        if protections.uncertain or unresolved:
            yield Undecided(f"{label(acl)}: some rules are unknown")
            continue
        for subject, what in missing:
            yield Violation(f"web ACL {acl.name} lacks {what}", acl.urn, subject)


def acl_reputation_lists(view: StackView, config: Config) -> Iterator[Outcome]:
    """IP reputation and anonymous-IP lists: a recommendation (they block some legitimate callers)."""
    for acl, protections, unresolved in _protections(view):
        missing = protections.missing_groups(list(config["recommendedManagedRuleGroups"]))
        if not missing:
            continue
        if protections.uncertain or unresolved:
            yield Undecided(f"{label(acl)}: some rules are unknown")
            continue
        for name in missing:
            yield Violation(f"web ACL {acl.name} does not run {name}", acl.urn, name)


def acl_logging(view: StackView, _config: Config) -> Iterator[Outcome]:
    logged, unresolved = _associated(view, "resourceArn", t.WEB_ACL_LOGGING, t.WEB_ACL)
    for acl in view.of_type(t.WEB_ACL):
        if acl.urn in logged:
            continue
        if unresolved:
            yield Undecided(f"{label(acl)}: cannot tell whether {', '.join(unresolved)} logs it")
        else:
            yield Violation(f"web ACL {acl.name} has no logging configuration", acl.urn)


def log_redaction(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    fields = as_list(plain(props.get("redactedFields")))
    names = {str(peek(field, "singleHeader", "name")).lower() for field in fields}
    if "authorization" in names:
        return
    if contains_unknown(fields):
        yield Undecided("redacted fields are unknown")
    else:
        yield Violation("WAF logs keep the Authorization header: redact singleHeader 'authorization'")


_DESTINATION_SERVICES = frozenset({"logs", "firehose", "s3"})


def _destination_name(arn: str) -> str | None:
    """The log group, delivery stream or bucket name in a WAF log destination ARN; None if not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in _DESTINATION_SERVICES:
        return None
    service, resource = parts[2], parts[5]
    if service == "logs":
        return resource.split(":")[1] if resource.startswith("log-group:") else resource
    if service == "firehose":
        return resource.split("/", 1)[-1]
    return resource.split("/", 1)[0]


def log_destination(view: StackView, _config: Config) -> Iterator[Outcome]:
    for logging in view.of_type(t.WEB_ACL_LOGGING):
        destinations = as_list(plain(peek(logging.props, "logDestinationConfigs")))
        for value in destinations:
            if isinstance(value, str) and _destination_name(value) is None:
                yield Violation(
                    f"WAF log destination {value!r} is not the ARN of a log group, Firehose stream or S3 bucket",
                    logging.urn,
                )
        names = [name for arn in destinations if isinstance(arn, str) and (name := _destination_name(arn))]
        if contains_unknown(destinations):
            link = view.link(logging, "logDestinationConfigs", {t.LOG_GROUP})
            names += [peek(group.props, "name") or peek(group.props, "namePrefix") for group in link.targets]
            if not link.targets:
                yield Undecided(f"{label(logging)}: log destination is unknown")
        for name in names:
            if name is UNKNOWN:
                yield Undecided(f"{label(logging)}: log group name is unknown")
            elif not str(name).startswith(WAF_LOG_PREFIX):
                yield Violation(f"WAF log destination {name!r} does not start with {WAF_LOG_PREFIX!r}", logging.urn)


def one_acl_per_stage(view: StackView, _config: Config) -> Iterator[Outcome]:
    """A stage associated more than once: "a resource can only be associated with a single web ACL" (WAF API
    reference, AssociateWebACL), so each association overwrites the last and only one web ACL protects it."""
    by_stage: dict[str, list[Any]] = {}
    unresolved = []
    stages = {stage.urn: stage for stage in view.of_type(t.STAGE)}
    for association in view.of_type(t.WEB_ACL_ASSOCIATION):
        link = view.link(association, "resourceArn", {t.STAGE})
        if not link.decided:
            unresolved.append(association)
        for stage in link.targets:
            by_stage.setdefault(stage.urn, []).append(association)
    for urn, associations in by_stage.items():
        if len(associations) > 1:
            names = ", ".join(sorted(a.name for a in associations))
            yield Violation(
                f"stage {stages[urn].name} has {len(associations)} web ACL associations ({names}): a stage keeps one "
                "web ACL, the last one applied, so the others protect nothing; associate one web ACL per stage",
                urn,
            )
    if unresolved and by_stage:
        yield Undecided(f"{', '.join(label(a) for a in unresolved)}: which stage they associate is unknown")


def _capacities(view: StackView) -> Iterator[tuple[Any, Any, list[str]]]:
    separate, unresolved = _separate_rules(view)
    for acl in view.of_type(t.WEB_ACL):
        rules = [plain(rule) for rule in _acl_rules(acl, separate)]
        yield acl, web_acl_capacity(rules), unresolved


def _over(view: StackView, limit: int, consequence: str) -> Iterator[Outcome]:
    """Web ACLs whose documented WCUs exceed `limit`; undecided when the rest is only known after the update."""
    for acl, capacity, unresolved in _capacities(view):
        if capacity.total > limit:
            yield Violation(
                f"web ACL {acl.name} uses {capacity.describe()}, over {limit} (largest: {capacity.largest()}): "
                f"{consequence}",
                acl.urn,
            )
        elif capacity.pending or unresolved:
            yield Undecided(f"{label(acl)}: some rules are unknown (at least {capacity.total} WCU)", acl.urn)


def acl_capacity(view: StackView, config: Config) -> Iterator[Outcome]:
    """`maxCapacityUnits` (default 1,500, what a web ACL's base price covers); see `waf_capacity`."""
    yield from _over(
        view,
        int(config["maxCapacityUnits"]),
        "WAF charges per request for every further 500 WCU; leave out a managed group or an inspection",
    )


def acl_capacity_quota(view: StackView, _config: Config) -> Iterator[Outcome]:
    """WAF refuses a web ACL over 5,000 WCU at create or update, after the preview passed."""
    yield from _over(view, MAX_WCU, "WAF refuses to create or update it")


CHECKS = {
    "waf-stage-association": StackCheck(frozenset({t.STAGE, t.REST_API, t.WEB_ACL_ASSOCIATION}), stage_association),
    "waf-one-acl-per-stage": StackCheck(frozenset({t.STAGE, t.WEB_ACL_ASSOCIATION}), one_acl_per_stage),
    "waf-acl-rules": StackCheck(frozenset({t.WEB_ACL, t.WEB_ACL_RULE, t.WEB_ACL_RULE_GROUP_ASSOCIATION}), acl_rules),
    "waf-reputation-lists": StackCheck(
        frozenset({t.WEB_ACL, t.WEB_ACL_RULE, t.WEB_ACL_RULE_GROUP_ASSOCIATION}), acl_reputation_lists
    ),
    "waf-capacity": StackCheck(frozenset({t.WEB_ACL, t.WEB_ACL_RULE, t.WEB_ACL_RULE_GROUP_ASSOCIATION}), acl_capacity),
    "waf-capacity-quota": StackCheck(
        frozenset({t.WEB_ACL, t.WEB_ACL_RULE, t.WEB_ACL_RULE_GROUP_ASSOCIATION}), acl_capacity_quota
    ),
    "waf-logging": StackCheck(frozenset({t.WEB_ACL, t.WEB_ACL_LOGGING}), acl_logging),
    "waf-log-redaction": ResourceCheck({t.WEB_ACL_LOGGING: log_redaction}),
    "waf-log-destination-name": StackCheck(frozenset({t.WEB_ACL_LOGGING, t.LOG_GROUP}), log_destination),
}
