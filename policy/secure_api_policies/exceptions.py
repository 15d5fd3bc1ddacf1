"""Accepted exceptions: a violation a resource's owner acknowledged, with a reason, by a tag.

A resource carries the tag `secure-api:accept:<rule-id>` = `<reason>`: the pack then reports that
rule's violations on the resource as *accepted exceptions* (advisory, with the reason), not as
violations — like cdk-nag's suppressions or checkov's skip comments. Resources that take no tags in
pulumi-aws v7 (Method, Integration, RestApiPolicy, MethodSettings, Authorizer, UserPoolClient, the
WAF associations and logging configurations, HTTP API routes...) are marked through the taggable
resource they belong to (`CARRIERS`): the API, the user pool, the web ACL. A marker accepts every
violation of its rule on that resource (and on the resources it carries), unless a second tag
`secure-api:applies-to:<rule-id>` = `<subject> + <subject> ...` scopes it (like cdk-nag's
`appliesTo`): then only violations about those subjects are accepted — routes (`GET /health`) for
`api-route-authorizer` and `integration-https-backend`, the missing protection (`rate-limit`, a
group name, `Log4JRCE`, `sqli`, `xss`) for `waf-acl-rules`, a group name for
`waf-reputation-lists`, and the logical name of a tagless resource marked through its carrier.
Subjects are compared with the characters tags cannot hold removed (`GET /orders/{id}` is
`GET /orders/id`).

A rule's `allowExceptions: false` (or the pack-wide `all: {allowExceptions: false}` of the offline
verdict) refuses markers: marked violations are violations again.

Limits (AWS tagging): keys up to 128 characters, values up to 256, letters, digits, spaces and
`_ . : / = + - @` only; at most 50 user tags per resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, ReportViolation

from . import tokens as t
from .graph import StackView
from .values import UNKNOWN, peek, plain

MARKER_PREFIX = "secure-api:accept:"
SCOPE_PREFIX = "secure-api:applies-to:"
SUBJECT_SEPARATOR = " + "
MAX_TAG_VALUE = 256
_NOT_IN_TAGS = re.compile(r"[^\w .:/=+\-@]")
ACCEPTED_PREFIX = "accepted exception"
"""Every accepted exception's message starts `accepted exception (<marker>): <violation>` and ends
with a line `reason: <reason>`."""
REASON_LINE = "\nreason: "


@dataclass(frozen=True)
class Carrier:
    """The taggable resource a tagless resource is marked through: `prop` links to one of `types`."""

    prop: str
    types: frozenset[str]
    keys: tuple[str, ...] = ("id",)


def _carrier(prop: str, *types: str, keys: tuple[str, ...] = ("id",)) -> Carrier:
    return Carrier(prop, frozenset(types), keys)


CARRIERS: Mapping[str, Carrier] = {
    t.REST_API_POLICY: _carrier("restApiId", t.REST_API),
    t.METHOD: _carrier("restApi", t.REST_API),
    t.INTEGRATION: _carrier("restApi", t.REST_API),
    t.METHOD_SETTINGS: _carrier("restApi", t.REST_API),
    t.AUTHORIZER: _carrier("restApi", t.REST_API),
    t.BASE_PATH_MAPPING: _carrier("restApi", t.REST_API),
    t.USAGE_PLAN_KEY: _carrier("usagePlanId", t.USAGE_PLAN),
    t.HTTP_ROUTE: _carrier("apiId", t.HTTP_API),
    t.HTTP_INTEGRATION: _carrier("apiId", t.HTTP_API),
    t.HTTP_AUTHORIZER: _carrier("apiId", t.HTTP_API),
    t.HTTP_API_MAPPING: _carrier("apiId", t.HTTP_API),
    t.WEB_ACL_ASSOCIATION: _carrier("webAclArn", t.WEB_ACL, keys=("arn",)),
    t.WEB_ACL_LOGGING: _carrier("resourceArn", t.WEB_ACL, keys=("arn",)),
    t.WEB_ACL_RULE: _carrier("webAclArn", t.WEB_ACL, keys=("arn",)),
    t.WEB_ACL_RULE_GROUP_ASSOCIATION: _carrier("webAclArn", t.WEB_ACL, keys=("arn",)),
    t.USER_POOL_CLIENT: _carrier("userPoolId", t.USER_POOL),
    t.LAMBDA_PERMISSION: _carrier("function", t.LAMBDA_FUNCTION, keys=("arn", "name")),
}
"""pulumi-aws v7 types without `tags`, and the taggable resource that carries their markers."""


def marker_key(rule: str) -> str:
    return f"{MARKER_PREFIX}{rule}"


def scope_key(rule: str) -> str:
    return f"{SCOPE_PREFIX}{rule}"


def tag_value(text: str) -> str:
    """`text` as an AWS tag value: allowed characters only, blanks collapsed."""
    return " ".join(_NOT_IN_TAGS.sub("", text).split())


def scope_value(subjects: Iterable[str]) -> str:
    """The `applies-to` tag value naming `subjects`."""
    return SUBJECT_SEPARATOR.join(dict.fromkeys(tag_value(subject) for subject in subjects))


def reason_in(props: Any, rule: str, subject: str | None = None) -> Any:
    """The marker's reason on a resource's own tags, if it covers `subject`: a string, None if
    unmarked (or scoped to other subjects), `UNKNOWN` if the tags are unknown."""
    tags = peek(props, "tags")
    if tags is UNKNOWN:
        return UNKNOWN
    tags = plain(tags) if isinstance(tags, Mapping) else {}
    reason, scope = tags.get(marker_key(rule)), tags.get(scope_key(rule))
    if reason is UNKNOWN or reason is None:
        return reason
    if scope is UNKNOWN:
        return UNKNOWN
    if scope is not None and tag_value(subject or "") not in str(scope).split(SUBJECT_SEPARATOR):
        return None
    return str(reason)


def reason_in_view(view: StackView, resource: PolicyResource, rule: str, subject: str | None = None) -> Any:
    """The reason on `resource` or, for a tagless type, on the resource that carries its markers
    (there the subject is the tagless resource's name unless the violation names one)."""
    carrier = CARRIERS.get(resource.resource_type)
    if carrier is None:
        return reason_in(resource.props, rule, subject)
    link = view.link(resource, carrier.prop, carrier.types, keys=carrier.keys)
    reasons = [reason_in(target.props, rule, subject or resource.name) for target in link.targets]
    if any(reason is None for reason in reasons) or not reasons:
        return None if link.decided else UNKNOWN
    if any(reason is UNKNOWN for reason in reasons):
        return UNKNOWN
    return "; ".join(dict.fromkeys(reasons))


def accepted_message(rule: str, message: str, reason: str) -> str:
    return f"{ACCEPTED_PREFIX} ({marker_key(rule)}): {message}{REASON_LINE}{reason}"


def split_accepted(message: str) -> tuple[str, str] | None:
    """(violation message, reason) of an accepted exception's message, else None."""
    if not message.startswith(f"{ACCEPTED_PREFIX} ({MARKER_PREFIX}"):
        return None
    head, _, reason = message.rpartition(REASON_LINE)
    return head.split("): ", 1)[-1], reason


def advisory_reporter(report_violation: ReportViolation) -> Callable[[str, str | None], None]:
    """A reporter like `report_violation` whose diagnostics are advisory.

    pulumi_policy gives a policy one reporter, at the policy's enforcement level. Its analyzer
    builds that reporter with `_create_report_violation(response, policy_name, policy_description,
    enforcement_level, severity)`; the same call with ADVISORY gives the accepted exceptions (and
    the undecided findings of one resource) their level. If a future pulumi_policy builds reporters
    differently, they are reported at the policy's level (failing closed), never dropped.
    """
    code = getattr(report_violation, "__code__", None)
    cells = getattr(report_violation, "__closure__", None) or ()
    captured = dict(zip(code.co_freevars, (cell.cell_contents for cell in cells), strict=False)) if code else {}
    servicer = captured.get("self")
    factory = getattr(servicer, "_create_report_violation", None)
    needed = ("response", "policy_name", "policy_description", "severity")
    if factory is None or any(name not in captured for name in needed):
        return report_violation
    return factory(*(captured[name] for name in needed[:3]), EnforcementLevel.ADVISORY, captured["severity"])
