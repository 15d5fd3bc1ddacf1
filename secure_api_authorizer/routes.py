"""Method ARNs and per-route scope/group requirements.

A TOKEN event carries only the method ARN, whose path is the concrete request path
(``/orders/42``), so requirements keyed by API Gateway resource templates
(``GET /orders/{id}``) are matched segment by segment, the most specific template winning.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, NamedTuple

from .errors import AuthenticationError, ConfigError

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})
PARAM = "{}"
GREEDY = "{+}"
# Literal segments never contain IAM wildcards (* ?), so they embed safely in a Deny ARN.
_LITERAL = re.compile(r"[A-Za-z0-9._~:@-]+")
_PARAM = re.compile(r"\{[A-Za-z0-9._-]+\}")
_GREEDY = re.compile(r"\{[A-Za-z0-9._-]+\+\}")
_RANK = {PARAM: 1, GREEDY: 0}


class MethodArn(NamedTuple):
    """``arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}``."""

    raw: str
    prefix: str
    api_id: str
    stage: str
    method: str
    path: str
    stage_resource: str
    """Every method and path of the stage: what a cached response may be reused for."""

    def resource(self, method: str, path: str) -> str:
        return f"{self.prefix}:{self.api_id}/{self.stage}/{method}/{path}"


def parse_method_arn(value: object) -> MethodArn:
    if type(value) is not str:
        raise AuthenticationError("bad_event")
    fields = value.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn" or fields[2] != "execute-api":
        raise AuthenticationError("bad_event")
    parts = fields[5].split("/", 3)
    if len(parts) < 3 or not all(parts[:3]) or "*" in parts[0] + parts[1]:
        raise AuthenticationError("bad_event")
    prefix = value[: len(value) - len(fields[5]) - 1]
    path = parts[3] if len(parts) == 4 else ""
    return MethodArn(value, prefix, parts[0], parts[1], parts[2], path, f"{prefix}:{parts[0]}/{parts[1]}/*/*")


class RouteRule(NamedTuple):
    """Requirements of one route: every listed scope, and at least one listed group."""

    key: str
    method: str
    segments: tuple[str, ...]
    scopes: frozenset[str]
    groups: frozenset[str]

    def matches(self, method: str, parts: list[str]) -> bool:
        if self.method != "ANY" and self.method != method:
            return False
        segments = self.segments
        if segments and segments[-1] == GREEDY:
            segments = segments[:-1]
            if len(parts) <= len(segments):
                return False
            parts = parts[: len(segments)]
        elif len(parts) != len(segments):
            return False
        return all(bool(part) if seg == PARAM else seg == part for seg, part in zip(segments, parts, strict=True))

    def satisfied_by(self, scopes: frozenset[str], groups: frozenset[str]) -> bool:
        return self.scopes <= scopes and (not self.groups or not self.groups.isdisjoint(groups))

    def resource(self, arn: MethodArn) -> str:
        """The ARN pattern of this route; a ``*`` also spans deeper paths (IAM has no segment wildcard)."""
        method = "*" if self.method == "ANY" else self.method
        return arn.resource(method, "/".join("*" if seg in _RANK else seg for seg in self.segments))

    @property
    def specificity(self) -> tuple[tuple[int, ...], int]:
        return tuple(_RANK.get(seg, 2) for seg in self.segments), int(self.method != "ANY")


def cache_conflicts(rules: tuple[RouteRule, ...] | list[RouteRule]) -> list[tuple[str, str]]:
    """Pairs of route keys a cached, stage-wide policy cannot tell apart, e.g.
    ``[("GET /orders/{id}", "GET /orders/public")]``.

    With result caching, API Gateway reuses one authorizer response for every method the same
    identity source calls on the stage until the TTL ends (developer guide, "Configure a Lambda
    authorizer": authorizerResultTtlInSeconds), so the response is ``Allow {stage}/*/*`` plus one
    ``Deny`` per route whose requirements the identity does not meet. IAM cannot carve an exception
    out of a Deny (IAM user guide, "Policy evaluation logic": an explicit deny overrides any allow),
    and its ``*`` spans any run of characters, ``/`` included. So a route whose ARN pattern also covers
    a request of another route with different requirements (fewer, or none) would deny that other
    route to callers a fresh decision allows. Routes without requirements take part with none.
    """
    conflicts: list[tuple[str, str]] = []
    for rule in rules:
        if not (rule.scopes or rule.groups):
            continue
        pattern = rule.resource(_SAMPLE_ARN)
        for other in rules:
            if other is rule or (other.scopes, other.groups) == (rule.scopes, rule.groups):
                continue
            if fnmatch.fnmatchcase(_sample_request(other, rule), pattern):
                conflicts.append((rule.key, other.key))
    return conflicts


_SAMPLE_ARN = MethodArn("", "arn:aws:execute-api:r:a", "api", "stage", "GET", "", "")


def _sample_request(route: RouteRule, against: RouteRule) -> str:
    """The method ARN of one request `route` matches (parameters as `x`), in `against`'s method for ANY."""
    method = route.method
    if method == "ANY":
        method = "GET" if against.method == "ANY" else against.method
    path = "/".join("x" if seg in _RANK else seg for seg in route.segments)
    return _SAMPLE_ARN.resource(method, path)


def match_route(rules: tuple[RouteRule, ...], arn: MethodArn) -> RouteRule | None:
    """The most specific rule for the request; ``rules`` is sorted by ``parse_routes``."""
    if not rules:
        return None
    parts = arn.path.split("/") if arn.path else []
    for rule in rules:
        if rule.matches(arn.method, parts):
            return rule
    return None


def parse_routes(document: object) -> tuple[RouteRule, ...]:
    if not isinstance(document, dict):
        raise ConfigError("ROUTE_REQUIREMENTS must be a JSON object")
    rules = [_parse_rule(key, value) for key, value in document.items()]
    return tuple(sorted(rules, key=lambda rule: rule.specificity, reverse=True))


def route_rule(key: str, scopes: frozenset[str] = frozenset(), groups: frozenset[str] = frozenset()) -> RouteRule:
    """The rule of route `key` (``"GET /orders/{id}"``); raises `ConfigError` for a key of another shape."""
    method, sep, path = key.partition(" ")
    if not sep or method not in METHODS or not path.startswith("/"):
        raise ConfigError(f"ROUTE_REQUIREMENTS key {key!r} must look like 'GET /orders/{{id}}'")
    segments = tuple(_segment(key, part) for part in path[1:].split("/")) if path != "/" else ()
    if GREEDY in segments[:-1]:
        raise ConfigError(f"ROUTE_REQUIREMENTS key {key!r}: a greedy {{name+}} must be the last segment")
    return RouteRule(key, method, segments, scopes, groups)


def _parse_rule(key: str, value: Any) -> RouteRule:
    rule = route_rule(key)
    if not isinstance(value, dict) or not set(value) <= {"scopes", "groups"}:
        raise ConfigError(f"ROUTE_REQUIREMENTS[{key!r}] must be an object with only 'scopes' and 'groups'")
    scopes = _names(key, "scopes", value.get("scopes", []))
    groups = _names(key, "groups", value.get("groups", []))
    if not scopes and not groups:
        raise ConfigError(f"ROUTE_REQUIREMENTS[{key!r}] requires nothing; remove it")
    return rule._replace(scopes=scopes, groups=groups)


def _segment(key: str, part: str) -> str:
    if _LITERAL.fullmatch(part):
        return part
    if _PARAM.fullmatch(part):
        return PARAM
    if _GREEDY.fullmatch(part):
        return GREEDY
    raise ConfigError(f"ROUTE_REQUIREMENTS key {key!r}: invalid path segment {part!r}")


def _names(key: str, field: str, value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"ROUTE_REQUIREMENTS[{key!r}].{field} must be a list of non-empty names")
    return frozenset(value)
