"""Auth layer: a caller reaches a route only through an authorizer; Lambda authorizers cache safely."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .model import Config, Outcome, ResourceCheck, Violation
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


def method_authorization(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    verb = str(props.get("httpMethod", "")).upper()
    if verb != "OPTIONS":
        yield from _authorization(props, f"{verb} method", "authorization")


def route_authorization(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """HTTP routes and WebSocket `$connect`/`$default` (other WebSocket routes inherit `$connect`).

    An `OPTIONS` route with no `target` is a CORS preflight API Gateway answers itself.
    """
    key = str(props.get("routeKey", ""))
    # An OPTIONS route without a target is answered by API Gateway's CORS; with one it reaches a backend.
    preflight = key.upper().startswith("OPTIONS ") and not is_set(props, "target")
    if not preflight and (" " in key or key in ("$connect", "$default")):
        yield from _authorization(props, f"route {key!r}", "authorizationType")


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
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "execute-api":
        return False
    api_id = parts[5].split("/", 1)[0]
    return "*" not in parts[4] and api_id not in ("", "*")


def permission_source_arn(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    if str(props.get("principal", "")).lower() != "apigateway.amazonaws.com":
        return
    arn = peek(props, "sourceArn")
    if arn is UNKNOWN:
        return
    if not arn:
        yield Violation("any API Gateway API, in any account, may invoke the function: sourceArn is not set")
    elif not _pins_one_api(str(arn)):
        yield Violation(f"sourceArn {arn!r} does not pin one API of one account")


CHECKS = {
    "api-route-authorizer": ResourceCheck(
        {
            t.REST_API: body_routes,
            t.HTTP_API: body_routes,
            t.METHOD: method_authorization,
            t.HTTP_ROUTE: route_authorization,
        }
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
