"""The generated OpenAPI document is valid OpenAPI 3 and says, per route, who may call and where it goes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from secure_api.component.config import StackConfig, parse_config
from secure_api.component.openapi import BEARER_JWT_EXPRESSION, ApiReferences, build_openapi, render_openapi

REFS = ApiReferences(
    region="eu-west-1",
    partition="aws",
    user_pool_arn="arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc",
    authorizer_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:orders-api-authorizer",
)


@pytest.fixture
def config(dev_config: dict[str, Any]) -> StackConfig:
    return parse_config(dev_config)


@pytest.fixture
def document(config: StackConfig) -> dict[str, Any]:
    return build_openapi(config, REFS)


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    key = "x-amazon-apigateway-any-method" if method == "ANY" else method.lower()
    return document["paths"][path][key]


def test_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_route_has_its_security_requirement(config: StackConfig, document: dict[str, Any]) -> None:
    expected = {
        ("/health", "GET"): [],
        ("/orders", "GET"): [{"cognito": ["https://orders.example.com/orders.read"]}],
        ("/orders", "POST"): [{"cognito": ["https://orders.example.com/orders.write"], "api_key": []}],
        ("/orders/{orderId}", "GET"): [{"cognito": ["https://orders.example.com/orders.read"]}],
        ("/reports/daily", "GET"): [{"sigv4": []}],
        ("/partners/webhook", "POST"): [{"lambda-authorizer": [], "api_key": []}],
        ("/admin/{proxy+}", "ANY"): [{"sigv4": []}],
    }
    actual = {(r.path, r.method): operation(document, r.path, r.method)["security"] for r in config.routes}
    assert actual == expected


def test_every_route_has_its_integration(document: dict[str, Any]) -> None:
    health = operation(document, "/health", "GET")["x-amazon-apigateway-integration"]
    assert health["type"] == "mock"
    order = operation(document, "/orders/{orderId}", "GET")["x-amazon-apigateway-integration"]
    assert order["type"] == "http_proxy"
    assert order["uri"] == "https://orders.internal.example.com/orders/{orderId}"
    assert order["requestParameters"] == {"integration.request.path.orderId": "method.request.path.orderId"}
    report = operation(document, "/reports/daily", "GET")["x-amazon-apigateway-integration"]
    assert report["type"] == "aws_proxy"
    assert report["httpMethod"] == "POST"
    assert report["uri"] == (
        "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:eu-west-1:111122223333:function:orders-daily-report/invocations"
    )
    admin = operation(document, "/admin/{proxy+}", "ANY")["x-amazon-apigateway-integration"]
    assert admin["httpMethod"] == "ANY"
    assert admin["requestParameters"] == {"integration.request.path.proxy": "method.request.path.proxy"}


def test_security_schemes_are_api_gateway_authorizers(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["cognito"]["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools",
        "providerARNs": [REFS.user_pool_arn],
    }
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    custom = schemes["lambda-authorizer"]["x-amazon-apigateway-authorizer"]
    assert custom["type"] == "token"
    assert custom["authorizerResultTtlInSeconds"] == 300
    assert schemes["lambda-authorizer"]["name"] == "Authorization"
    assert "identitySource" not in custom  # REQUEST authorizers only
    assert custom["identityValidationExpression"] == BEARER_JWT_EXPRESSION  # any case of the scheme
    assert REFS.authorizer_function_arn in custom["authorizerUri"]
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    assert document["x-amazon-apigateway-api-key-source"] == "HEADER"


def test_requests_are_validated(document: dict[str, Any]) -> None:
    assert document["x-amazon-apigateway-request-validator"] == "all"
    assert document["x-amazon-apigateway-request-validators"]["all"] == {
        "validateRequestBody": True,
        "validateRequestParameters": True,
    }
    params = operation(document, "/orders/{orderId}", "GET")["parameters"]
    assert params == [{"name": "orderId", "in": "path", "required": True, "schema": {"type": "string"}}]


def test_gateway_responses_do_not_leak_detail(document: dict[str, Any]) -> None:
    responses = document["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "ACCESS_DENIED", "WAF_FILTERED"} <= set(responses)
    for response in responses.values():
        body = json.loads(response["responseTemplates"]["application/json"])
        assert set(body) == {"message", "requestId"}
        assert "$context.error" not in response["responseTemplates"]["application/json"]
        assert "gatewayresponse.header.Strict-Transport-Security" in response["responseParameters"]
    # A missing route answers like a forbidden one, so route names cannot be probed.
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "403"
    # API Gateway does not support customising the 413 (important notes for REST APIs).
    assert "REQUEST_TOO_LARGE" not in responses


def test_render_is_canonical(config: StackConfig) -> None:
    assert render_openapi(config, REFS) == render_openapi(config, REFS)
    assert json.loads(render_openapi(config, REFS)) == build_openapi(config, REFS)


def test_request_authorizer_names_its_identity_source(dev_config: dict[str, Any]) -> None:
    dev_config["lambdaAuthorizer"].update(type="REQUEST", identityHeader="x-partner-token")
    document = build_openapi(parse_config(dev_config), REFS)
    custom = document["components"]["securitySchemes"]["lambda-authorizer"]
    assert custom["x-amazon-apigateway-authorizer"]["type"] == "request"
    assert custom["x-amazon-apigateway-authorizer"]["identitySource"] == "method.request.header.x-partner-token"
    assert "identityValidationExpression" not in custom["x-amazon-apigateway-authorizer"]


def test_tls_policy_travels_in_the_document(dev_config: dict[str, Any]) -> None:
    assert build_openapi(parse_config(dev_config), REFS)["x-amazon-apigateway-security-policy"] == "TLS_1_2"
    dev_config.pop("domain")
    dev_config["tls"] = {"securityPolicy": "SecurityPolicy_TLS13_1_2_2021_06"}
    document = build_openapi(parse_config(dev_config), REFS)
    assert document["x-amazon-apigateway-security-policy"] == "SecurityPolicy_TLS13_1_2_2021_06"
    assert document["x-amazon-apigateway-endpoint-access-mode"] == "STRICT"


def test_mock_status_code_has_its_method_response(dev_config: dict[str, Any]) -> None:
    dev_config["routes"][0]["integration"] = {"type": "mock", "statusCode": 503, "responseBody": "{}"}
    document = build_openapi(parse_config(dev_config), REFS)
    validate(document)
    health = operation(document, "/health", "GET")
    assert set(health["responses"]) == {"503"}
    assert health["x-amazon-apigateway-integration"]["responses"]["default"]["statusCode"] == "503"
