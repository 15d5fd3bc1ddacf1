"""Auth layer: a caller reaches a route only through an authorizer; Lambda authorizers cache safely."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from . import tokens as t
from .graph import StackView, dependencies
from .iam import execute_api_arn
from .model import (
    Config,
    Outcome,
    ResourceCheck,
    ResourcePredicate,
    StackCheck,
    Undecided,
    Violation,
    each_resource,
    on_resource,
)
from .openapi import lambda_authorizers, route_auth_problems
from .values import UNKNOWN, as_list, is_set, parse_document, peek

_AUTHORIZER_BACKED = frozenset({"CUSTOM", "COGNITO_USER_POOLS", "JWT"})
_TOKEN_HEADER = "method.request.header.Authorization"


def body_routes(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """Routes declared in an OpenAPI body (REST or HTTP API)."""
    for route, problem in route_auth_problems(parse_document(props.get("body"))):
        yield Violation(problem, subject=route)


def _authorization(props: Mapping[str, Any], what: str, field: str) -> Iterator[Outcome]:
    """A method's or route's own authorization: NONE, or an authorizer type without its authorizer."""
    authorization = str(props.get(field, "NONE")).upper()
    if authorization == "NONE":
        alone = " and is protected by an API key alone" if props.get("apiKeyRequired") else ""
        yield Violation(f"{what} has {field} NONE{alone}")
    elif authorization in _AUTHORIZER_BACKED and not is_set(props, "authorizerId"):
        yield Violation(f"{what} uses {authorization} without an authorizerId")


_SAME_METHOD = (
    ("restApi", frozenset({t.REST_API}), ("id",)),
    ("resourceId", frozenset({t.RESOURCE, t.REST_API}), ("id", "rootResourceId")),
    ("httpMethod", frozenset(), ()),
)
"""What ties an `Integration` to its `Method` (AWS: the same `restApi`, `resourceId` and
`httpMethod`), with the resources each property may be computed from and their keys."""


def _value(resource: PolicyResource, prop: str) -> Any:
    """`resource.prop`, or when unknown the known value of the `Method`s it was computed from."""
    value = peek(resource.props, prop)
    if value is UNKNOWN:
        sources = {peek(dep.props, prop) for dep in dependencies(resource, prop) if dep.resource_type == t.METHOD}
        if len(sources) == 1 and isinstance(known := next(iter(sources)), str):
            return known
    return value


def _same(
    view: StackView,
    method: PolicyResource,
    integration: PolicyResource,
    prop: str,
    types: frozenset[str],
    keys: tuple[str, ...],
) -> bool | None:
    """Whether `integration.prop` equals `method.prop`: compared when both are known, else True when
    computed from the method itself, else judged by the resources both were computed from (distinct
    APIs or API resources have distinct ids); None when nothing tells (preview)."""
    mine, theirs = _value(method, prop), _value(integration, prop)
    if isinstance(mine, str) and isinstance(theirs, str):
        return mine.upper() == theirs.upper() if prop == "httpMethod" else mine == theirs
    if any(dep.urn == method.urn for dep in dependencies(integration, prop)):
        return True
    if not types:
        return None
    ours, its = view.link(method, prop, types, keys), view.link(integration, prop, types, keys)
    if ours.decided and its.decided and ours.targets and its.targets:
        return bool({r.urn for r in ours.targets} & {r.urn for r in its.targets})
    return None


def _integrations(view: StackView, method: PolicyResource) -> tuple[list[PolicyResource], bool]:
    """The stack's integrations of `method`, and whether every other one is known not to be its.

    Only the integrations that may share the method's `resourceId` are compared (`_ResourceIndex`): a stack
    of N preflights costs about N comparisons, not N x N."""
    found: list[PolicyResource] = []
    decided = True
    for integration in _index(view).candidates(view, method):
        same = _same_method(view, method, integration)
        if same is None:
            decided = False
        elif same:
            found.append(integration)
    return found, decided


class _ResourceIndex:
    """A view's integrations by what decides their `resourceId`: a known value, or (in preview) the API
    resources it was computed from, which have distinct ids. An integration in neither map may be anyone's."""

    def __init__(self, view: StackView) -> None:
        self.by_value: dict[str, list[PolicyResource]] = {}
        self.by_target: dict[str, list[PolicyResource]] = {}
        self.valued: list[PolicyResource] = []
        self.targeted: list[PolicyResource] = []
        self.rest: list[PolicyResource] = []
        for integration in view.of_type(t.INTEGRATION):
            value, targets = _resource_of(view, integration)
            if value is not None:
                self.by_value.setdefault(value, []).append(integration)
                self.valued.append(integration)
            elif targets:
                for urn in targets:
                    self.by_target.setdefault(urn, []).append(integration)
                self.targeted.append(integration)
            else:
                self.rest.append(integration)

    def candidates(self, view: StackView, method: PolicyResource) -> list[PolicyResource]:
        value, targets = _resource_of(view, method)
        if value is not None:  # a known id: same value, or integrations only an API resource decides
            return [*self.by_value.get(value, []), *self.targeted, *self.rest]
        if targets:  # computed from these API resources: integrations of the same, or decided by value
            shared = {i.urn: i for urn in targets for i in self.by_target.get(urn, [])}
            return [*shared.values(), *self.valued, *self.rest]
        return [*self.valued, *self.targeted, *self.rest]


def _resource_of(view: StackView, resource: PolicyResource) -> tuple[str | None, frozenset[str]]:
    """The known `resourceId`, else the URNs of the API resources it was certainly computed from."""
    value = _value(resource, "resourceId")
    if isinstance(value, str):
        return value, frozenset()
    _prop, types, keys = _SAME_METHOD[1]
    if not all(dep.resource_type in types for dep in dependencies(resource, "resourceId")):
        return None, frozenset()  # computed from a method, say: `_same` decides it, pair by pair
    link = view.link(resource, "resourceId", types, keys)
    return None, frozenset(r.urn for r in link.targets) if link.decided else frozenset()


_INDEXES: weakref.WeakKeyDictionary[StackView, _ResourceIndex] = weakref.WeakKeyDictionary()
"""Per stack view, built on its first preflight."""


def _index(view: StackView) -> _ResourceIndex:
    if view not in _INDEXES:
        _INDEXES[view] = _ResourceIndex(view)
    return _INDEXES[view]


def _same_method(view: StackView, method: PolicyResource, integration: PolicyResource) -> bool | None:
    """False as soon as one tie differs (the others are not looked at); None if one is unknown."""
    result: bool | None = True
    for tie in _SAME_METHOD:
        same = _same(view, method, integration, *tie)
        if same is False:
            return False
        if same is None:
            result = None
    return result


def _preflight(view: StackView, method: PolicyResource, problem: str) -> Iterator[Outcome]:
    """An OPTIONS method without an authorizer passes only as a CORS preflight: its integration is
    a MOCK, answered by API Gateway itself; any other type (HTTP, HTTP_PROXY, AWS, AWS_PROXY)
    reaches a backend. Source: API Gateway developer guide, "CORS for REST APIs in API Gateway"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html)."""
    found, decided = _integrations(view, method)
    kinds = {integration.name: _upper(peek(integration.props, "type")) for integration in found}
    backends = ", ".join(f"{name} ({kind})" for name, kind in sorted(kinds.items()) if kind not in (UNKNOWN, "MOCK"))
    if backends:
        yield Violation(f"{problem}, yet its integration reaches a backend: {backends}")
    elif UNKNOWN in kinds.values():
        yield Undecided(f"{problem}, and its integration's type is unknown")
    elif not found and not decided:
        yield Undecided(f"{problem}, and which integration is its own is unknown")
    elif not found:
        yield Violation(f"{problem} and no integration in the stack (a preflight needs a MOCK integration)")


def _upper(value: Any) -> Any:
    return value if value is UNKNOWN else str(value).upper()


def method_authorization(view: StackView, method: PolicyResource) -> Iterator[Outcome]:
    """A REST `Method`: authorized, or an OPTIONS preflight answered by a MOCK integration."""
    verb = str(method.props.get("httpMethod", "")).upper()
    if verb != "OPTIONS":
        yield from _authorization(method.props, f"{verb} method", "authorization")
        return
    for problem in _authorization(method.props, f"OPTIONS method {method.name}", "authorization"):
        yield from _preflight(view, method, problem.message)


def route_authorization(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """HTTP routes and WebSocket `$connect`/`$default` (other WebSocket routes inherit `$connect`).

    An `OPTIONS` route with no `target` is a CORS preflight API Gateway answers itself.
    """
    key = str(props.get("routeKey", ""))
    # An OPTIONS route without a target is answered by API Gateway's CORS; with one it reaches a backend.
    preflight = key.upper().startswith("OPTIONS ") and not is_set(props, "target")
    if not preflight and (" " in key or key in ("$connect", "$default")):
        yield from _authorization(props, f"route {key!r}", "authorizationType")


_ROUTE_PREDICATES: dict[str, ResourcePredicate] = {
    t.REST_API: body_routes,
    t.HTTP_API: body_routes,
    t.HTTP_ROUTE: route_authorization,
}


def route_authorizers(view: StackView, config: Config) -> Iterator[Outcome]:
    """OpenAPI bodies, HTTP API routes and REST `Method`s (whose preflights are judged by their integration)."""
    yield from each_resource(_ROUTE_PREDICATES, view, config)
    for method in view.of_type(t.METHOD):
        yield from on_resource(method, method_authorization(view, method))


def _cache_problems(name: str, ttl: Any, identity_source: Any, config: Config) -> Iterator[Outcome]:
    seconds = float(ttl)
    if seconds <= 0:
        return
    if identity_source is not UNKNOWN and not as_list(identity_source):
        yield Violation(f"{name} caches decisions for {seconds:g}s without an identity source")
    if seconds > config["maxTtlSeconds"]:
        yield Violation(f"{name} caches decisions for {seconds:g}s, above {config['maxTtlSeconds']:g}s")


def rest_authorizer_cache(props: Mapping[str, Any], config: Config) -> Iterator[Outcome]:
    kind = str(props.get("type", "TOKEN")).upper()
    if kind in ("TOKEN", "REQUEST"):
        default_source = _TOKEN_HEADER if kind == "TOKEN" else None
        source = peek(props, "identitySource") or default_source
        yield from _cache_problems(f"{kind} authorizer", props.get("authorizerResultTtlInSeconds", 300), source, config)


def http_authorizer_cache(props: Mapping[str, Any], config: Config) -> Iterator[Outcome]:
    if str(props.get("authorizerType", "")).upper() == "REQUEST":
        ttl = props.get("authorizerResultTtlInSeconds", 300)
        yield from _cache_problems("REQUEST authorizer", ttl, peek(props, "identitySources"), config)


def body_authorizer_cache(props: Mapping[str, Any], config: Config) -> Iterator[Outcome]:
    """Authorizers declared in an OpenAPI body; a token authorizer reads its scheme's header."""
    for name, authorizer in lambda_authorizers(parse_document(props.get("body"))):
        token = str(authorizer.get("type")).lower() == "token"
        source = authorizer.get("identitySource") or (_TOKEN_HEADER if token else None)
        ttl = authorizer.get("authorizerResultTtlInSeconds", 300)
        yield from _cache_problems(f"authorizer {name!r}", ttl, source, config)


def _pins_one_api(arn: str) -> bool:
    parsed = execute_api_arn(arn)
    if parsed is None:
        return False
    _, account, routes = parsed
    api_id = routes.split("/", 1)[0]
    return "*" not in account and api_id not in ("", "*")


_SCOPES = ("sourceArn", "sourceAccount", "principalOrgId")
"""The inputs that scope a permission granted to every principal (Security Hub Lambda.1, CKV_AWS_301)."""


def _open_permission(props: Mapping[str, Any]) -> Iterator[Outcome]:
    """`principal: "*"` with no scope: any AWS account or service may invoke the function."""
    scopes = {key: peek(props, key) for key in _SCOPES}
    if any(value for value in scopes.values() if value is not UNKNOWN):
        return
    unknown = [key for key, value in scopes.items() if value is UNKNOWN]
    if unknown:
        yield Undecided(f"principal '*' is scoped only if {' or '.join(unknown)} (unknown until the update) is set")
    else:
        yield Violation(
            "any principal may invoke the function: principal is '*' and none of sourceArn, "
            "sourceAccount, principalOrgId is set"
        )


def permission_source_arn(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    principal = peek(props, "principal")
    if principal is UNKNOWN:
        yield Undecided("principal is unknown until the update")
        return
    if str(principal or "") == "*":
        yield from _open_permission(props)
        return
    if str(principal or "").lower() != "apigateway.amazonaws.com":
        return
    arn = peek(props, "sourceArn")
    if arn is UNKNOWN:
        return
    if not arn:
        yield Violation("any API Gateway API, in any account, may invoke the function: sourceArn is not set")
    elif not _pins_one_api(str(arn)):
        yield Violation(f"sourceArn {arn!r} does not pin one API of one account")


CHECKS = {
    "api-route-authorizer": StackCheck(
        frozenset({*_ROUTE_PREDICATES, t.METHOD, t.INTEGRATION, t.RESOURCE}), route_authorizers
    ),
    "authorizer-cache-scope": ResourceCheck(
        {
            t.AUTHORIZER: rest_authorizer_cache,
            t.HTTP_AUTHORIZER: http_authorizer_cache,
            t.REST_API: body_authorizer_cache,
            t.HTTP_API: body_authorizer_cache,
        }
    ),
    "lambda-permission-source-arn": ResourceCheck({t.LAMBDA_PERMISSION: permission_source_arn}),
}
