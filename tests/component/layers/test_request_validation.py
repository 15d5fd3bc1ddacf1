"""Request validation: body schemas become models with the validator that checks them; bad schemas fail the plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.openapi import ApiReferences, build_openapi

REFS = ApiReferences(region="eu-west-1", partition="aws", user_pool_arn="arn:pool", authorizer_function_arn="arn:fn")
REPO = Path(__file__).resolve().parents[3]
ORDER_SCHEMA = REPO / "examples" / "schemas" / "create-order.json"


def route(**extra: Any) -> dict[str, Any]:
    return {
        "path": "/orders",
        "method": "POST",
        "auth": "iam",
        "integration": {"type": "http", "url": "https://orders.internal.example.com/orders"},
        **extra,
    }


def config_with(*routes: dict[str, Any]) -> dict[str, Any]:
    return {"routes": list(routes), "network": {"allowedSourceCidrs": ["203.0.113.0/24"]}}


def effective_validator(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, bool]:
    """The validator API Gateway applies to an operation: its own, else the document's default."""
    name = operation.get("x-amazon-apigateway-request-validator", document.get("x-amazon-apigateway-request-validator"))
    return document["x-amazon-apigateway-request-validators"][name]


def problems_of(config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    return dict(raised.value.problems)


def test_a_body_schema_becomes_a_model_the_validator_applies(dev_config: dict[str, Any]) -> None:
    document = build_openapi(parse_config(dev_config), REFS)
    operation = document["paths"]["/orders"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    reference = {"schema": {"$ref": "#/components/schemas/PostOrdersRequest"}}
    # The declared content type and `$default`: another Content-Type does not skip validation.
    assert body["content"] == {"application/json": reference, "$default": reference}
    model = document["components"]["schemas"]["PostOrdersRequest"]
    expected = json.loads(ORDER_SCHEMA.read_text())
    expected.pop("$schema")  # draft 4 is what API Gateway models are; OpenAPI 3.0 has no $schema keyword
    assert model == expected
    assert effective_validator(document, operation) == {"validateRequestBody": True, "validateRequestParameters": True}
    assert {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string"}} in operation[
        "parameters"
    ]
    # Model names are alphanumeric, as API Gateway requires.
    assert all(name.isalnum() for name in document["components"]["schemas"])
    webhook = document["paths"]["/partners/webhook"]["post"]
    assert webhook["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PostPartnersWebhookRequest"
    )


def test_required_query_parameters_and_headers_are_declared() -> None:
    config = config_with(
        route(method="GET", requiredQueryParameters=["page", "size"], requiredHeaders=["X-Tenant"]),
    )
    document = build_openapi(parse_config(config), REFS)
    operation = document["paths"]["/orders"]["get"]
    assert operation["parameters"] == [
        {"name": "page", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "size", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string"}},
    ]
    assert effective_validator(document, operation)["validateRequestParameters"] is True
    assert "requestBody" not in operation
    assert "schemas" not in document["components"]
    validate(document)


def test_inline_schema_optional_body_and_vendor_json_type() -> None:
    schema = {"type": "object", "properties": {"note": {"type": "string", "maxLength": 10}}}
    config = config_with(
        route(requestBody={"schema": schema, "contentType": "application/vnd.orders+json", "required": False})
    )
    document = build_openapi(parse_config(config), REFS)
    body = document["paths"]["/orders"]["post"]["requestBody"]
    assert body["required"] is False
    assert set(body["content"]) == {"application/vnd.orders+json", "$default"}
    assert document["components"]["schemas"]["PostOrdersRequest"] == schema
    validate(document)


def test_schema_file_is_read_from_the_project_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order.json").write_text(json.dumps({"type": "object", "required": ["id"]}))
    monkeypatch.chdir(tmp_path)
    document = build_openapi(parse_config(config_with(route(requestBody={"schemaFile": "schemas/order.json"}))), REFS)
    assert document["components"]["schemas"]["PostOrdersRequest"] == {"type": "object", "required": ["id"]}


SCHEMA_KEY = "secure-api:routes[0].requestBody.schema"
FILE_KEY = "secure-api:routes[0].requestBody.schemaFile"
BAD_SCHEMAS = [
    pytest.param({"type": "objekt"}, "not a valid JSON Schema (draft 4)", id="bad-type"),
    pytest.param({"required": []}, "not a valid JSON Schema (draft 4)", id="draft4-required-nonempty"),
    pytest.param({"type": "object", "additionalProperties": False}, "additionalProperties", id="additional-props"),
    pytest.param(
        {"type": "object", "properties": {"kind": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}},
        "at (root).properties.kind: oneOf is not supported by API Gateway",
        id="nested-oneOf",
    ),
    pytest.param(
        {"type": "array", "items": {"type": "number", "format": "int64"}},
        "at (root).items: format int64 on type number",
        id="int64-number",
    ),
    pytest.param({"type": "number", "minimum": 0, "exclusiveMinimum": True}, "exclusiveMinimum", id="exclusive-min"),
    pytest.param({"type": "object", "example": {}}, "example is not supported", id="example"),
    pytest.param({"$ref": "#/definitions/x", "definitions": {"x": {}}}, "$ref is not supported", id="ref"),
    pytest.param({"type": "object", "patternProperties": {"^x": {}}}, "patternProperties cannot be expressed", id="pp"),
    pytest.param({"type": ["string", "null"]}, "one type name", id="type-list"),
]


@pytest.mark.parametrize(("schema", "message"), BAD_SCHEMAS)
def test_schemas_api_gateway_cannot_use_fail_with_the_key_named(schema: dict[str, Any], message: str) -> None:
    problems = problems_of(config_with(route(requestBody={"schema": schema})))
    assert SCHEMA_KEY in problems, problems
    assert message in problems[SCHEMA_KEY]


def test_schema_file_problems_name_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "outside.json").write_text("{}")
    (tmp_path / "project" / "not-json.json").write_text("{type: object")
    (tmp_path / "project" / "bad.json").write_text(json.dumps({"type": "object", "anyOf": [{"required": ["a"]}]}))
    monkeypatch.chdir(tmp_path / "project")
    cases = {
        "missing.json": "no file 'missing.json' in the project folder",
        "not-json.json": "'not-json.json' is not JSON",
        "bad.json": "bad.json: at (root): anyOf is not supported in API Gateway models",
        "../outside.json": "is outside the project folder",
    }
    for path, message in cases.items():
        problems = problems_of(config_with(route(requestBody={"schemaFile": path})))
        assert message in problems[FILE_KEY], (path, problems)


def test_one_schema_source_json_content_types_and_parameter_names() -> None:
    both = problems_of(
        config_with(route(requestBody={"schema": {}, "schemaFile": "examples/schemas/create-order.json"}))
    )
    assert "exactly one of schema" in both["secure-api:routes[0].requestBody"]
    neither = problems_of(config_with(route(requestBody={})))
    assert "exactly one of schema" in neither["secure-api:routes[0].requestBody"]
    form = problems_of(
        config_with(route(requestBody={"schema": {}, "contentType": "application/x-www-form-urlencoded"}))
    )
    assert "JSON bodies" in form["secure-api:routes[0].requestBody.contentType"]
    get = problems_of(config_with(route(method="GET", requestBody={"schema": {}})))
    assert "no body to validate" in get["secure-api:routes[0].requestBody"]
    names = problems_of(config_with(route(requiredQueryParameters=["ok", "not ok"], requiredHeaders=["A", "a"])))
    assert "not parameter names" in names["secure-api:routes[0].requiredQueryParameters"]
    assert "duplicate" in names["secure-api:routes[0].requiredHeaders"]
