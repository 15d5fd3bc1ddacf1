"""CORS in the OpenAPI document: the headers of preflights, mock answers and gateway responses.

What the headers may say is decided by `config/cors.py`; what API Gateway can put in them decides
the rest: a gateway response header is a fixed value or a copy of a request header
(`x-amazon-apigateway-gateway-responses.responseParameters`), and an integration response's
mapping template may override headers (`$context.responseOverride`). Sources: "CORS for REST APIs
in API Gateway" and "Override your API's request and response parameters and status codes" (API
Gateway developer guide).
"""

from __future__ import annotations

from typing import Any

from .config import StackConfig
from .config.cors import ANY_ORIGIN, CORS_METHODS, CorsSettings
from .config.routes import Route

PREFLIGHT_STATUS = "200"
SIGV4_HEADERS = ("X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256")


def routes_by_path(config: StackConfig) -> dict[str, list[Route]]:
    """Path -> its CORS routes (those with `cors: true`); each such path gets one preflight."""
    by_path: dict[str, list[Route]] = {}
    for route in config.cors_routes:
        by_path.setdefault(route.path, []).append(route)
    return by_path


def allow_methods(config: StackConfig, routes: list[Route]) -> list[str]:
    """`cors.allowMethods`, else the methods of a path's CORS routes (ANY: all of them)."""
    assert config.cors is not None
    if config.cors.allow_methods:
        return list(config.cors.allow_methods)
    used = {m for r in routes for m in (CORS_METHODS if r.method == "ANY" else (r.method,))}
    return [m for m in CORS_METHODS if m in used]


def allow_headers(config: StackConfig, routes: list[Route]) -> list[str]:
    """`cors.allowHeaders`, else what a path's CORS routes need.

    That is `Authorization`, `Content-Type` and `x-api-key`, the Lambda authorizer's header, the
    SigV4 headers for IAM routes and the routes' `requiredHeaders`.
    """
    assert config.cors is not None
    if config.cors.allow_headers is not None:
        return list(config.cors.allow_headers)
    headers = ["Authorization", "Content-Type", "x-api-key"]
    if any(r.auth == "custom" for r in routes):
        headers.append(config.lambda_authorizer.identity_header)
    if any(r.auth == "iam" for r in routes):
        headers.extend(SIGV4_HEADERS)
    headers.extend(h for r in routes for h in r.required_headers)
    unique: dict[str, str] = {}
    for header in headers:
        unique.setdefault(header.lower(), header)
    return list(unique.values())


def response_headers(cors: CorsSettings) -> dict[str, str]:
    """Headers every CORS answer carries (header -> value); the origin is the one a fixed value can name.

    With several origins that is the first: a gateway response can only hold a fixed value or copy a
    request header, and copying `Origin` would hand any site the answer (with credentials, the
    user's). Mock answers and preflights echo a listed caller's origin instead (`origin_override`).
    """
    headers = {"Access-Control-Allow-Origin": cors.allow_origins[0]}
    if cors.allow_credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    if cors.expose_headers:
        headers["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
    if cors.allow_origins != (ANY_ORIGIN,):
        headers["Vary"] = "Origin"  # caches must not hand one origin's answer to another
    return headers


def preflight_headers(config: StackConfig, routes: list[Route]) -> dict[str, str]:
    """Headers of the preflight answer for the path of `routes` (its CORS routes)."""
    assert config.cors is not None
    return {
        **response_headers(config.cors),
        "Access-Control-Allow-Methods": ",".join([*allow_methods(config, routes), "OPTIONS"]),
        "Access-Control-Allow-Headers": ",".join(allow_headers(config, routes)),
        "Access-Control-Max-Age": str(config.cors.max_age_seconds),
    }


def declared(headers: dict[str, str]) -> dict[str, Any]:
    """Method response headers: an integration response may only set headers its method response declares."""
    return {name: {"schema": {"type": "string"}} for name in headers}


def parameter_mappings(prefix: str, headers: dict[str, str], cors: CorsSettings) -> dict[str, str]:
    """`prefix.header.X: 'value'` parameter mappings; a listed-origin echo replaces the fixed origin."""
    mapped = {f"{prefix}.header.{name}": f"'{value}'" for name, value in headers.items()}
    if prefix == "method.response" and len(cors.allow_origins) > 1:
        del mapped["method.response.header.Access-Control-Allow-Origin"]
    return mapped


def origin_override(cors: CorsSettings) -> str:
    """VTL for a mock's integration response: echo the caller's Origin only when it is listed exactly.

    Needed only with several origins (one origin is a fixed header). Source: "Override your API's
    request and response parameters and status codes" (API Gateway developer guide).
    """
    if len(cors.allow_origins) < 2:
        return ""
    listed = " || ".join(f"$origin == '{origin}'" for origin in cors.allow_origins)
    return (
        "#set($origin = $input.params().header.get('Origin'))\n"
        "#if(\"$!origin\" == '')#set($origin = $input.params().header.get('origin'))#end\n"
        f"#if({listed})#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)#end\n"
    )
