"""The REST API as one OpenAPI 3 document with API Gateway's `x-amazon-apigateway-*` extensions.

One document instead of a Resource/Method/Integration per route keeps the resource count flat as
routes grow, and makes the whole API one value the redeploy fingerprint can hash.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import cors as browser
from .config import StackConfig
from .config.cors import CorsSettings
from .config.routes import HttpIntegration, LambdaIntegration, MockIntegration, Route

OPENAPI_VERSION = "3.0.1"

COGNITO_SCHEME = "cognito"
IAM_SCHEME = "sigv4"
CUSTOM_SCHEME = "lambda-authorizer"
API_KEY_SCHEME = "api_key"
SCHEME_FOR_AUTH = {"cognito": COGNITO_SCHEME, "iam": IAM_SCHEME, "custom": CUSTOM_SCHEME}
# API Gateway refuses a TOKEN credential that does not match before the function runs (401). It must
# accept exactly what the function does (docs/authorizer.md, step 1): the `Bearer` scheme in any case
# (RFC 7235 section 2.1), one space, a compact JWS of three base64url parts.
BEARER_JWT_EXPRESSION = r"^[Bb][Ee][Aa][Rr][Ee][Rr] [-0-9A-Za-z_]+\.[-0-9A-Za-z_]+\.[-0-9A-Za-z_]+$"

# Generic bodies: the caller learns the class of failure and a request id, never internal detail.
_SECURITY_HEADERS = {
    "gatewayresponse.header.Strict-Transport-Security": "'max-age=63072000; includeSubDomains'",
    "gatewayresponse.header.X-Content-Type-Options": "'nosniff'",
    "gatewayresponse.header.Cache-Control": "'no-store'",
}
_GATEWAY_RESPONSES = {
    "DEFAULT_4XX": (None, "Bad request"),
    "DEFAULT_5XX": (None, "Internal server error"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "Forbidden"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Forbidden"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "AUTHORIZER_FAILURE": (500, "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal server error"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, "Invalid request parameters"),
    "THROTTLED": (429, "Too many requests"),
    "QUOTA_EXCEEDED": (429, "Too many requests"),
    "WAF_FILTERED": (403, "Forbidden"),
}
# Not REQUEST_TOO_LARGE: "customizing the default gateway response of 413 REQUEST_TOO_LARGE is currently not
# supported" (API Gateway developer guide, "Amazon API Gateway important notes for REST APIs"); with
# failOnWarnings a customised one could fail the body import. Oversized bodies are refused by WAF first.

_OPENAPI_METHOD = {m: m.lower() for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")}
_OPENAPI_METHOD["ANY"] = "x-amazon-apigateway-any-method"
# API Gateway applies a `$default` model to a body whatever content type the client declares.
DEFAULT_CONTENT_TYPE = "$default"


@dataclass(frozen=True)
class ApiReferences:
    """Values from other resources the document embeds (known only after they exist)."""

    region: str
    partition: str
    user_pool_arn: str | None = None
    authorizer_function_arn: str | None = None
    resource_policy: dict[str, Any] | None = None
    vpc_endpoint_ids: tuple[str, ...] = ()
    """A PRIVATE API's interface endpoints (`vpce-…`): the listed ones and the one the component creates."""


def lambda_invoke_uri(partition: str, region: str, function_arn: str) -> str:
    return f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def build_openapi(config: StackConfig, refs: ApiReferences) -> dict[str, Any]:
    """The whole API definition; pure, so it can be validated and hashed without any cloud."""
    paths: dict[str, dict[str, Any]] = {}
    preflights = browser.routes_by_path(config) if config.cors else {}
    ids = operation_ids(config.routes, preflights)
    models = _model_names(config.routes, ids)
    for route in config.routes:
        operation = _operation(route, ids[route.key], config, refs, models.get(route.key))
        paths.setdefault(route.path, {})[_OPENAPI_METHOD[route.method]] = operation
    if config.cors:
        for path, routes in preflights.items():
            paths[path]["options"] = _preflight(ids[f"OPTIONS {path}"], routes, config, config.cors)
    components: dict[str, Any] = {"securitySchemes": _security_schemes(config, refs)}
    if models:
        by_key = {r.key: r for r in config.routes}
        components["schemas"] = {name: _model(by_key[key]) for key, name in models.items()}
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": config.api.name or "secure-api", "description": config.api.description, "version": "1"},
        # Endpoint settings travel in the document too: an overwrite re-import resets what it omits,
        # which would drop a PRIVATE API's VPC endpoint association until the provider re-applies it.
        "servers": [{"url": "/", "x-amazon-apigateway-endpoint-configuration": _endpoint_configuration(config, refs)}],
        "paths": paths,
        "components": components,
        "x-amazon-apigateway-api-key-source": config.api.api_key_source,
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True},
        },
        "x-amazon-apigateway-request-validator": "all",
        "x-amazon-apigateway-gateway-responses": _gateway_responses(config.cors),
        # Likewise the TLS policy: the provider does not re-apply it after an overwrite import.
        "x-amazon-apigateway-security-policy": config.tls.security_policy,
    }
    if config.tls.access_mode:
        document["x-amazon-apigateway-endpoint-access-mode"] = config.tls.access_mode
    # And the resource policy: every overwrite import replaces the API's policy with this one.
    if refs.resource_policy:
        document["x-amazon-apigateway-policy"] = refs.resource_policy
    return document


def _endpoint_configuration(config: StackConfig, refs: ApiReferences) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"disableExecuteApiEndpoint": config.disables_execute_api_endpoint}
    if config.api.endpoint_type == "PRIVATE":
        endpoint["vpcEndpointIds"] = list(refs.vpc_endpoint_ids)
    return endpoint


def render_openapi(config: StackConfig, refs: ApiReferences) -> str:
    """Canonical JSON (sorted keys, no spaces) so equal APIs hash equal."""
    return json.dumps(build_openapi(config, refs), sort_keys=True, separators=(",", ":"))


def _operation(
    route: Route, operation_id: str, config: StackConfig, refs: ApiReferences, model: str | None
) -> dict[str, Any]:
    status = str(route.integration.status_code) if isinstance(route.integration, MockIntegration) else "200"
    cors = config.cors if route.cors else None
    response: dict[str, Any] = {"description": "Success" if status.startswith("2") else "Fixed response"}
    if cors and isinstance(route.integration, MockIntegration):
        response["headers"] = browser.declared(browser.response_headers(cors))
    operation: dict[str, Any] = {
        "operationId": operation_id,
        # A mock's integration response needs a method response with the same status code.
        "responses": {status: response},
        "security": _security_requirement(route, config),
        "x-amazon-apigateway-integration": _integration(route, refs, cors),
    }
    parameters = [
        *_parameters("path", route.path_parameters),
        *_parameters("query", route.required_query_parameters),
        *_parameters("header", route.required_headers),
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.request_body and model:
        reference = {"schema": {"$ref": f"#/components/schemas/{model}"}}
        operation["requestBody"] = {
            "required": route.request_body.required,
            "content": {route.request_body.content_type: reference, DEFAULT_CONTENT_TYPE: reference},
        }
    return operation


def _parameters(where: str, names: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """Required parameters; API Gateway's validator checks each is present and not blank."""
    return [{"name": name, "in": where, "required": True, "schema": {"type": "string"}} for name in names]


def _model_names(routes: Iterable[Route], ids: dict[str, str]) -> dict[str, str]:
    """`METHOD /path` -> model name for routes with a body schema: the operationId made alphanumeric,
    as API Gateway requires (`postOrders` -> `PostOrdersRequest`); a number keeps stripped ids apart."""
    names: dict[str, str] = {}
    for route in routes:
        if route.request_body:
            base = "".join(c for c in ids[route.key] if c.isalnum())
            base = base[:1].upper() + base[1:] + "Request"
            name, suffix = base, 2
            while name in names.values():
                name, suffix = f"{base}{suffix}", suffix + 1
            names[route.key] = name
    return names


def _model(route: Route) -> dict[str, Any]:
    assert route.request_body is not None
    return route.request_body.model_schema


def _preflight(operation_id: str, routes: list[Route], config: StackConfig, cors: CorsSettings) -> dict[str, Any]:
    """OPTIONS answered by API Gateway itself for the path of `routes`: no authorizer, no API key, no backend."""
    headers = browser.preflight_headers(config, routes)
    answer: dict[str, Any] = {
        "statusCode": browser.PREFLIGHT_STATUS,
        "responseParameters": browser.parameter_mappings("method.response", headers, cors),
    }
    if len(cors.allow_origins) > 1:
        answer["responseTemplates"] = {"application/json": browser.origin_override(cors)}
    status = browser.PREFLIGHT_STATUS
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": "CORS preflight",
        "responses": {status: {"description": "CORS preflight", "headers": browser.declared(headers)}},
        "security": [],
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "passthroughBehavior": "when_no_match",
            "requestTemplates": {"application/json": f'{{"statusCode": {status}}}'},
            "responses": {"default": answer},
        },
    }
    if path_parameters := routes[0].path_parameters:
        operation["parameters"] = _parameters("path", path_parameters)
    return operation


def operation_ids(routes: Iterable[Route], preflight_paths: Iterable[str] = ()) -> dict[str, str]:
    """A unique operationId per route key (OpenAPI requires uniqueness; SDK generators rely on it).

    The readable form (`getOrdersOrderId`) drops braces and slashes, so `/orders/{orderId}`,
    `/orders/orderId` and `/ordersOrderId` would share it: routes whose readable ids collide get a
    short digest of their route key appended, so ids of non-colliding routes never change. CORS
    preflights (`OPTIONS <path>` for each of `preflight_paths`) take part as routes do.
    """
    keys = [(route.key, route.method, route.path) for route in routes]
    keys += [(f"OPTIONS {path}", "OPTIONS", path) for path in preflight_paths]
    readable = {key: _readable_operation_id(method, path) for key, method, path in keys}
    counts = Counter(readable.values())
    return {
        key: value if counts[value] == 1 else f"{value}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        for key, value in readable.items()
    }


def _readable_operation_id(method: str, path: str) -> str:
    words = [s.strip("{}+") for s in path.split("/") if s]
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words if w) or "root"


def _security_requirement(route: Route, config: StackConfig) -> list[dict[str, list[str]]]:
    """One requirement object: all its schemes must pass (authorizer AND API key)."""
    requirement: dict[str, list[str]] = {}
    if route.auth in SCHEME_FOR_AUTH:
        scopes = [config.cognito.full_scope(s) for s in route.scopes] if route.auth == "cognito" else []
        requirement[SCHEME_FOR_AUTH[route.auth]] = scopes
    if route.api_key_required:
        requirement[API_KEY_SCHEME] = []
    return [requirement] if requirement else []


def _integration(route: Route, refs: ApiReferences, cors: CorsSettings | None) -> dict[str, Any]:
    integration = route.integration
    if isinstance(integration, HttpIntegration):
        return {
            "type": "http_proxy",
            "httpMethod": "ANY" if route.method == "ANY" else route.method,
            "uri": integration.url,
            "connectionType": "INTERNET",
            "passthroughBehavior": "when_no_match",
            "timeoutInMillis": integration.timeout_ms,
            "requestParameters": {
                f"integration.request.path.{name}": f"method.request.path.{name}" for name in route.path_parameters
            },
        }
    if isinstance(integration, LambdaIntegration):
        return {
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": lambda_invoke_uri(refs.partition, refs.region, integration.function_arn),
            "passthroughBehavior": "when_no_match",
            "timeoutInMillis": integration.timeout_ms,
        }
    assert isinstance(integration, MockIntegration)
    response: dict[str, Any] = {
        "statusCode": str(integration.status_code),
        "responseTemplates": {"application/json": integration.response_body},
    }
    if cors:
        headers = browser.response_headers(cors)
        response["responseParameters"] = browser.parameter_mappings("method.response", headers, cors)
        response["responseTemplates"] = {"application/json": browser.origin_override(cors) + integration.response_body}
    return {
        "type": "mock",
        "passthroughBehavior": "when_no_match",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": response},
    }


def _security_schemes(config: StackConfig, refs: ApiReferences) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    if config.uses_auth("cognito"):
        schemes[COGNITO_SCHEME] = {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {
                "type": "cognito_user_pools",
                "providerARNs": [refs.user_pool_arn],
            },
        }
    if config.uses_auth("iam"):
        schemes[IAM_SCHEME] = {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
    if config.uses_auth("custom"):
        settings = config.lambda_authorizer
        authorizer: dict[str, Any] = {
            "type": settings.type.lower(),
            "authorizerUri": lambda_invoke_uri(refs.partition, refs.region, refs.authorizer_function_arn or ""),
            "authorizerResultTtlInSeconds": settings.result_ttl_seconds,
        }
        if settings.type == "REQUEST":  # a TOKEN authorizer reads the header the scheme names
            authorizer["identitySource"] = settings.identity_source
        elif settings.mode == "jwt":
            authorizer["identityValidationExpression"] = BEARER_JWT_EXPRESSION
        schemes[CUSTOM_SCHEME] = {
            "type": "apiKey",
            "name": settings.identity_header,
            "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": authorizer,
        }
    if any(r.api_key_required for r in config.routes):
        schemes[API_KEY_SCHEME] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
    return schemes


def _gateway_responses(cors: CorsSettings | None) -> dict[str, Any]:
    """Every answer API Gateway gives itself (401, 403, 429, 5xx...); with CORS, readable by the app."""
    cors_headers = browser.parameter_mappings("gatewayresponse", browser.response_headers(cors), cors) if cors else {}
    responses = {}
    for response_type, (status, message) in _GATEWAY_RESPONSES.items():
        body = json.dumps({"message": message, "requestId": "$context.requestId"})
        response: dict[str, Any] = {
            "responseParameters": {**_SECURITY_HEADERS, **cors_headers},
            "responseTemplates": {"application/json": body},
        }
        if status is not None:
            response["statusCode"] = str(status)
        responses[response_type] = response
    return responses
