"""OpenAPI bodies of REST and HTTP APIs: routes, their effective security and their authorizers.

API Gateway applies an operation's `security` if present, else the document's; `[]` means none.
A requirement alternative is satisfied by an authorizer scheme (Cognito, IAM/SigV4, Lambda or
JWT, marked by the `x-amazon-apigateway-*` extensions); a plain `apiKey` scheme is only a key.
`mock` integrations reach no backend (a CORS preflight, a canned health answer), so they need no
authorizer; every other integration does, OPTIONS included.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

AUTH_TYPES = frozenset({"cognito_user_pools", "awssigv4", "custom"})
HTTP_METHODS = frozenset(
    {"get", "put", "post", "delete", "patch", "head", "options", "trace", "x-amazon-apigateway-any-method"}
)
LAMBDA_AUTHORIZER_TYPES = frozenset({"token", "request"})


def routes(doc: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(`METHOD /path`, operation) for every operation of the document."""
    paths = doc.get("paths") if isinstance(doc, Mapping) else None
    for path, item in (paths if isinstance(paths, Mapping) else {}).items():
        if not isinstance(item, Mapping):
            continue
        for method, operation in item.items():
            if str(method).lower() in HTTP_METHODS and isinstance(operation, Mapping):
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else str(method).upper()
                yield f"{verb} {path}", operation


def security_schemes(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    components = doc.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    found = schemes or doc.get("securityDefinitions")
    return found if isinstance(found, Mapping) else {}


def is_authorizer(scheme: Any) -> bool:
    if not isinstance(scheme, Mapping):
        return False
    auth_type = str(scheme.get("x-amazon-apigateway-authtype", "")).lower()
    return auth_type in AUTH_TYPES or isinstance(scheme.get("x-amazon-apigateway-authorizer"), Mapping)


def is_api_key(scheme: Any) -> bool:
    return isinstance(scheme, Mapping) and scheme.get("type") == "apiKey" and not is_authorizer(scheme)


def _is_mock(operation: Mapping[str, Any]) -> bool:
    integration = operation.get("x-amazon-apigateway-integration")
    return isinstance(integration, Mapping) and str(integration.get("type", "")).lower() == "mock"


def route_auth_problems(doc: Any) -> Iterator[tuple[str, str]]:
    """(route, message) per non-OPTIONS operation some caller can reach without an authorizer."""
    if not isinstance(doc, Mapping):
        return
    schemes = security_schemes(doc)
    default = doc.get("security")
    for route, operation in routes(doc):
        if _is_mock(operation):
            continue
        requirements = operation.get("security", default) or []
        if not requirements:
            yield route, f"{route} has no authorizer"
            continue
        for requirement in requirements:
            names = list(requirement) if isinstance(requirement, Mapping) else []
            if any(is_authorizer(schemes.get(name)) for name in names):
                continue
            if any(is_api_key(schemes.get(name)) for name in names):
                yield route, f"{route} is protected by an API key alone"
            else:
                yield route, f"{route} can be called without an authorizer"
            break


def lambda_authorizers(doc: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(scheme name, `x-amazon-apigateway-authorizer`) of every Lambda (token/request) authorizer."""
    if not isinstance(doc, Mapping):
        return
    for name, scheme in security_schemes(doc).items():
        authorizer = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, Mapping) else None
        if isinstance(authorizer, Mapping) and str(authorizer.get("type", "")).lower() in LAMBDA_AUTHORIZER_TYPES:
            yield str(name), authorizer


def has_authorizers(doc: Any) -> bool:
    return isinstance(doc, Mapping) and any(is_authorizer(s) for s in security_schemes(doc).values())


def cors_answers(doc: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, header mappings) of every answer whose headers the document sets.

    Gateway responses (`gatewayresponse.header.*`) and integration responses
    (`method.response.header.*`) of every operation; keys are as written.
    """
    if not isinstance(doc, Mapping):
        return
    responses = doc.get("x-amazon-apigateway-gateway-responses")
    for kind, response in (responses if isinstance(responses, Mapping) else {}).items():
        parameters = response.get("responseParameters") if isinstance(response, Mapping) else None
        if isinstance(parameters, Mapping):
            yield f"gateway response {kind}", parameters
    for route, operation in routes(doc):
        integration = operation.get("x-amazon-apigateway-integration")
        answers = integration.get("responses") if isinstance(integration, Mapping) else None
        for status, answer in (answers if isinstance(answers, Mapping) else {}).items():
            parameters = answer.get("responseParameters") if isinstance(answer, Mapping) else None
            if isinstance(parameters, Mapping):
                yield f"{route} response {status}", parameters
