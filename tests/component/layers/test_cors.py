"""CORS in the OpenAPI body: a preflight per path, CORS headers on mocks and on every gateway response."""

from __future__ import annotations

import json
from typing import Any

import airspeed
import pytest
from openapi_spec_validator import validate
from secure_api_policies.verdict import evaluate, has_mandatory

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.openapi import ApiReferences, build_openapi
from secure_api.plan.report import render_plan
from tests.conftest import Plan

REFS = ApiReferences(
    region="eu-west-1",
    partition="aws",
    user_pool_arn="arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc",
    authorizer_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:orders-api-authorizer",
)
APP = "https://app.example.com"
REPORT_FN = "arn:aws:lambda:eu-west-1:123456789012:function:reports"
CORS_RESPONSE_HEADERS = {"Access-Control-Allow-Origin", "Vary"}


def minimal(cors: dict[str, Any] | None) -> dict[str, Any]:
    """No Cognito, so the body is known in preview too."""
    config: dict[str, Any] = {
        "routes": [
            {
                "path": "/health",
                "method": "GET",
                "auth": "none",
                "allowUnauthenticated": True,
                "integration": {"type": "mock"},
            },
            {
                "path": "/reports/{day}",
                "method": "GET",
                "auth": "iam",
                "integration": {"type": "lambda", "functionArn": REPORT_FN},
            },
            {
                "path": "/reports/{day}",
                "method": "DELETE",
                "auth": "iam",
                "integration": {"type": "lambda", "functionArn": REPORT_FN},
            },
        ],
        "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
    }
    if cors is not None:
        config["cors"] = cors
    return config


def document_of(config: dict[str, Any]) -> dict[str, Any]:
    return build_openapi(parse_config(config), REFS)


def answer_headers(parameters: dict[str, str], prefix: str) -> dict[str, str]:
    """`prefix.header.X: 'v'` mappings as the header values a browser receives (all fixed values)."""
    headers = {}
    for key, value in parameters.items():
        assert value[:1] == value[-1:] == "'", f"{key} is not a fixed value: {value}"
        headers[key.removeprefix(f"{prefix}.header.")] = value[1:-1]
    return headers


def preflight(document: dict[str, Any], path: str) -> dict[str, Any]:
    return document["paths"][path]["options"]


def test_preflight_per_cors_path_with_the_configured_headers(dev_config: dict[str, Any]) -> None:
    document = document_of(dev_config)
    with_preflight = {path for path, item in document["paths"].items() if "options" in item}
    # /partners/webhook and /admin/{proxy+} set cors: false (server-to-server).
    assert with_preflight == {"/health", "/orders", "/orders/{orderId}", "/reports/daily"}

    orders = preflight(document, "/orders")
    answer = orders["x-amazon-apigateway-integration"]["responses"]["default"]
    assert answer["statusCode"] == "200"
    assert answer_headers(answer["responseParameters"], "method.response") == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
        # Cognito's Authorization, the API key, Content-Type and the POST's required Idempotency-Key.
        "Access-Control-Allow-Headers": "Authorization,Content-Type,x-api-key,Idempotency-Key",
        "Access-Control-Expose-Headers": "x-amzn-RequestId",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }
    # Every header the integration response sets is declared on the method response (else import fails).
    declared = set(orders["responses"]["200"]["headers"])
    assert declared == set(answer_headers(answer["responseParameters"], "method.response"))
    # IAM routes need the SigV4 headers.
    reports = preflight(document, "/reports/daily")["x-amazon-apigateway-integration"]["responses"]["default"]
    allowed = answer_headers(reports["responseParameters"], "method.response")["Access-Control-Allow-Headers"]
    assert allowed == "Authorization,Content-Type,x-api-key,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256"


def test_preflight_is_answered_by_api_gateway_without_authorizer_or_api_key(dev_config: dict[str, Any]) -> None:
    for path, item in document_of(dev_config)["paths"].items():
        if "options" not in item:
            continue
        operation = item["options"]
        assert operation["security"] == [], path
        assert operation["x-amazon-apigateway-integration"]["type"] == "mock"
        assert "uri" not in operation["x-amazon-apigateway-integration"]
    assert preflight(document_of(dev_config), "/orders/{orderId}")["parameters"] == [
        {"name": "orderId", "in": "path", "required": True, "schema": {"type": "string"}}
    ]


def test_configured_methods_and_headers_replace_the_defaults(dev_config: dict[str, Any]) -> None:
    dev_config["cors"].update(allowMethods=["get", "POST"], allowHeaders=["Authorization"], maxAgeSeconds=60)
    answer = preflight(document_of(dev_config), "/health")["x-amazon-apigateway-integration"]["responses"]["default"]
    headers = answer_headers(answer["responseParameters"], "method.response")
    assert headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Authorization"
    assert headers["Access-Control-Max-Age"] == "60"


def test_any_method_route_allows_every_method() -> None:
    config = minimal({"allowOrigins": [APP]})
    config["routes"][1]["method"] = "ANY"
    del config["routes"][2]
    answer = preflight(document_of(config), "/reports/{day}")["x-amazon-apigateway-integration"]["responses"]
    methods = answer_headers(answer["default"]["responseParameters"], "method.response")["Access-Control-Allow-Methods"]
    assert methods == "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"


def test_every_gateway_response_carries_cors_headers(dev_config: dict[str, Any]) -> None:
    responses = document_of(dev_config)["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "WAF_FILTERED"} <= set(
        responses
    )
    for kind, response in responses.items():
        cors = {
            k: v for k, v in answer_headers(response["responseParameters"], "gatewayresponse").items() if "Access" in k
        }
        assert cors == {"Access-Control-Allow-Origin": APP, "Access-Control-Expose-Headers": "x-amzn-RequestId"}, kind
        assert response["responseParameters"]["gatewayresponse.header.Vary"] == "'Origin'"


def test_credentials_add_allow_credentials_everywhere_with_an_exact_origin(dev_config: dict[str, Any]) -> None:
    dev_config["cors"]["allowCredentials"] = True
    document = document_of(dev_config)
    answers = [r["responseParameters"] for r in document["x-amazon-apigateway-gateway-responses"].values()]
    answers += [
        item["options"]["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
        for item in document["paths"].values()
        if "options" in item
    ]
    answers.append(
        document["paths"]["/health"]["get"]["x-amazon-apigateway-integration"]["responses"]["default"][
            "responseParameters"
        ]
    )
    for parameters in answers:
        values = {k.rsplit(".", 1)[-1]: v for k, v in parameters.items()}
        assert values["Access-Control-Allow-Credentials"] == "'true'"
        assert values["Access-Control-Allow-Origin"] == f"'{APP}'"
        assert values["Vary"] == "'Origin'"


def test_any_origin_never_comes_with_credentials() -> None:
    document = document_of(minimal({"allowOrigins": ["*"]}))
    text = json.dumps(document)
    assert "Access-Control-Allow-Credentials" not in text
    for response in document["x-amazon-apigateway-gateway-responses"].values():
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert "gatewayresponse.header.Vary" not in response["responseParameters"]
    with pytest.raises(ConfigError) as raised:
        parse_config(minimal({"allowOrigins": ["*"], "allowCredentials": True}))
    assert "allowCredentials: true is refused" in dict(raised.value.problems)["secure-api:cors.allowOrigins"]


def test_mock_routes_answer_with_cors_headers_and_proxies_do_not(dev_config: dict[str, Any]) -> None:
    document = document_of(dev_config)
    health = document["paths"]["/health"]["get"]
    answer = health["x-amazon-apigateway-integration"]["responses"]["default"]
    assert answer_headers(answer["responseParameters"], "method.response") == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Expose-Headers": "x-amzn-RequestId",
        "Vary": "Origin",
    }
    assert set(health["responses"]["200"]["headers"]) == set(
        answer_headers(answer["responseParameters"], "method.response")
    )
    # A proxy integration passes the backend's answer through: API Gateway cannot add headers to it.
    orders = document["paths"]["/orders"]["get"]["x-amazon-apigateway-integration"]
    assert orders["type"] == "http_proxy"
    assert "responses" not in orders


def test_several_origins_echo_only_a_listed_origin_and_errors_name_the_first() -> None:
    origins = [APP, "https://admin.example.com"]
    document = document_of(minimal({"allowOrigins": origins, "allowCredentials": True}))
    for response in document["x-amazon-apigateway-gateway-responses"].values():
        # A gateway response holds a fixed value or copies a request header: never the copy.
        assert response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{APP}'"
    answer = preflight(document, "/health")["x-amazon-apigateway-integration"]["responses"]["default"]
    assert "method.response.header.Access-Control-Allow-Origin" not in answer["responseParameters"]
    template = answer["responseTemplates"]["application/json"]
    assert "#if($origin == 'https://app.example.com' || $origin == 'https://admin.example.com')" in template
    assert "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)" in template
    assert "Access-Control-Allow-Origin" in preflight(document, "/health")["responses"]["200"]["headers"]
    mock = document["paths"]["/health"]["get"]["x-amazon-apigateway-integration"]["responses"]["default"]
    assert mock["responseTemplates"]["application/json"] == template + '{"status": "ok"}'


def test_no_cors_section_no_cors_headers(dev_config: dict[str, Any]) -> None:
    del dev_config["cors"]
    document = document_of(dev_config)
    assert "Access-Control" not in json.dumps(document)
    assert not [item for item in document["paths"].values() if "options" in item]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_document_with_cors_and_validation_stays_valid_openapi(plan: Plan, preview: bool) -> None:
    config = minimal({"allowOrigins": [APP, "https://admin.example.com"], "exposeHeaders": ["x-request-id"]})
    config["routes"][2]["requestBody"] = {"schema": {"type": "object", "required": ["reason"]}}
    config["routes"][2]["requiredQueryParameters"] = ["confirm"]
    result = plan(config, preview=preview)
    body = result.one("aws:apigateway/restApi:RestApi").inputs["body"]
    document = json.loads(body)  # no Cognito: known in preview too
    validate(document)
    assert "options" in document["paths"]["/reports/{day}"]


def test_dev_document_stays_valid_openapi(dev_plans: dict[str, Any]) -> None:
    """In preview the dev body embeds the unknown user pool ARN; the update has it whole."""
    document = json.loads(dev_plans["update"].one("aws:apigateway/restApi:RestApi").inputs["body"])
    validate(document)
    assert "options" in document["paths"]["/orders"]


def test_plan_warns_about_proxy_routes_and_relaxations(plan: Plan) -> None:
    config = minimal({"allowOrigins": ["*"]})
    result = plan(config, preview=True)
    assert "CORS allows any origin (cors.allowOrigins: ['*']): every website may call the API" in result.warnings
    for method in ("GET", "DELETE"):
        assert (
            f"route {method} /reports/{{day}} uses a proxy integration (lambda): with CORS on, its backend must set "
            "Access-Control-Allow-Origin on its own answers"
        ) in result.warnings
    assert not [w for w in result.warnings if "/health" in w and "proxy" in w]

    local = minimal({"allowOrigins": [APP, "http://localhost:3000"], "allowLocalhost": True})
    warnings = plan(local, preview=True).warnings
    assert "CORS allows the local development origin http://localhost:3000 (cors.allowLocalhost)" in warnings
    assert any(
        w.startswith(f"CORS: gateway error answers (401, 403, 429, 5xx) name only the first origin {APP}")
        for w in warnings
    )


def test_without_cors_no_cors_warning(plan: Plan) -> None:
    assert not [w for w in plan(minimal(None), preview=True).warnings if "CORS" in w]


def problems_of(config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    return dict(raised.value.problems)


BAD_CORS = [
    pytest.param({"allowOrigins": ["app.example.com"]}, "cors.allowOrigins", "https:// origin", id="no-scheme"),
    pytest.param({"allowOrigins": ["http://app.example.com"]}, "cors.allowOrigins", "https:// origin", id="http"),
    pytest.param({"allowOrigins": ["https://app.example.com/"]}, "cors.allowOrigins", "trailing", id="slash"),
    pytest.param({"allowOrigins": ["https://app.example.com/x"]}, "cors.allowOrigins", "no path", id="path"),
    pytest.param({"allowOrigins": ["https://*.example.com"]}, "cors.allowOrigins", "wildcards", id="wildcard"),
    pytest.param({"allowOrigins": ["https://App.example.com"]}, "cors.allowOrigins", "lowercase", id="case"),
    pytest.param({"allowOrigins": ["https://app.example.com:443"]}, "cors.allowOrigins", "default port", id="port"),
    pytest.param(
        {"allowOrigins": ["https://app.example.com:99999"]}, "cors.allowOrigins", "not an origin", id="bad-port"
    ),
    pytest.param({"allowOrigins": ["http://localhost:3000"]}, "cors.allowOrigins", "allowLocalhost", id="localhost"),
    pytest.param(
        {"allowOrigins": ["http://localhost"], "allowLocalhost": True}, "cors.allowOrigins", "port", id="local-no-port"
    ),
    pytest.param({"allowOrigins": [APP, APP]}, "cors.allowOrigins", "duplicate", id="duplicate"),
    pytest.param({"allowOrigins": [APP, "*"]}, "cors.allowOrigins", "alone", id="star-and-more"),
    pytest.param(
        {"allowOrigins": ["*"], "allowCredentials": True}, "cors.allowOrigins", "allowCredentials", id="star-creds"
    ),
    pytest.param({"allowOrigins": []}, "cors.allowOrigins", "at least 1", id="empty"),
    pytest.param(
        {"allowOrigins": [APP], "allowMethods": ["FETCH"]}, "cors.allowMethods", "unknown methods", id="method"
    ),
    pytest.param(
        {"allowOrigins": [APP], "allowHeaders": ["bad header"]}, "cors.allowHeaders", "header names", id="hdr"
    ),
    pytest.param({"allowOrigins": [APP], "allowHeaders": ["*"]}, "cors.allowHeaders", "name the headers", id="hdr-*"),
    pytest.param({"allowOrigins": [APP], "maxAgeSeconds": 86400}, "cors.maxAgeSeconds", "0 to 7,200", id="max-age"),
    pytest.param({"allowOrigins": [APP], "maxAgeSeconds": -1}, "cors.maxAgeSeconds", "0", id="negative-age"),
    pytest.param({"allowOrigin": [APP]}, "cors.allowOrigin", "allowOrigins", id="typo"),
]


@pytest.mark.parametrize(("cors", "path", "message"), BAD_CORS)
def test_bad_cors_settings_fail_with_the_key_named(cors: dict[str, Any], path: str, message: str) -> None:
    problems = problems_of(minimal(cors))
    assert f"secure-api:{path}" in problems, problems
    assert message in problems[f"secure-api:{path}"]


def test_unknown_route_method_is_named() -> None:
    config = minimal({"allowOrigins": [APP]})
    config["routes"][0]["method"] = "FETCH"
    assert "secure-api:routes[0].method" in problems_of(config)


def test_an_options_route_on_a_cors_path_conflicts_with_the_preflight() -> None:
    config = minimal({"allowOrigins": [APP]})
    config["routes"].append({**config["routes"][1], "method": "OPTIONS"})
    assert "preflight" in problems_of(config)["secure-api:routes[3].method"]
    # Without CORS on that path the OPTIONS route is the user's own.
    for route in config["routes"][1:]:
        route["cors"] = False
    parse_config(config)


def test_cors_without_any_browser_route_is_refused() -> None:
    config = minimal({"allowOrigins": [APP]})
    for route in config["routes"]:
        route["cors"] = False
    assert "no route" in problems_of(config)["secure-api:cors"]


def test_plan_summary_names_cors_and_request_validation(dev_plan: Any, dev_config: dict[str, Any]) -> None:
    report = render_plan("dev", parse_config(dev_config), dev_plan)
    (api,) = [line for line in report.splitlines() if line.startswith("[api]")]
    assert "CORS for https://app.example.com without credentials, 4 preflight path(s)" in api
    assert "request validation: 2 body model(s), 2 route(s) with required parameters" in api
    (waf,) = [line for line in report.splitlines() if line.startswith("[waf]")]
    assert "bodies over 16384 B BLOCK" in waf


@pytest.mark.parametrize(
    ("request_headers", "echoed"),
    [
        ({"Origin": "https://admin.example.com"}, "https://admin.example.com"),
        ({"origin": APP}, APP),  # HTTP/2 clients send lowercase names; API Gateway keeps the case
        ({"Origin": "https://evil.example.com"}, None),
        ({"Origin": "https://app.example.com.evil.example"}, None),
        ({}, None),
    ],
)
def test_origin_echo_template_echoes_only_listed_origins(request_headers: dict[str, str], echoed: str | None) -> None:
    """The mapping template, run by a Velocity engine that follows API Gateway's (`airspeed-ext`)."""
    document = document_of(minimal({"allowOrigins": [APP, "https://admin.example.com"]}))
    answer = document["paths"]["/health"]["get"]["x-amazon-apigateway-integration"]["responses"]["default"]

    class Input:
        def params(self) -> dict[str, dict[str, str]]:
            return {"header": request_headers, "path": {}, "querystring": {}}

    context: dict[str, Any] = {"responseOverride": {"header": {}}}
    body = airspeed.Template(answer["responseTemplates"]["application/json"]).merge(
        {"input": Input(), "context": context}
    )
    assert json.loads(body) == {"status": "ok"}
    assert context["responseOverride"]["header"].get("Access-Control-Allow-Origin") == echoed


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_pack_reports_any_origin_as_the_plan_warns_it(plan: Plan, preview: bool) -> None:
    """One truth: `*` is accepted, warned in the plan, and an advisory (never mandatory) finding of the pack."""
    exact = evaluate(plan(minimal({"allowOrigins": [APP]}), preview=preview).resources)
    assert not [f for f in exact if f.rule.startswith("cors-")]

    result = plan(minimal({"allowOrigins": ["*"]}), preview=preview)
    findings = [f for f in evaluate(result.resources) if f.rule.startswith("cors-")]
    assert {(f.rule, f.level, f.state) for f in findings} == {
        ("cors-no-wildcard-with-authorizers", "advisory", "violation")
    }
    assert not has_mandatory(evaluate(result.resources))
    assert any(w.startswith("CORS allows any origin") for w in result.warnings)


def test_preflights_take_part_in_unique_operation_ids() -> None:
    """`/orders/{id}` and `/orders/id` read the same (`optionsOrdersId`): each preflight still gets its own id."""
    config = minimal({"allowOrigins": [APP]})
    route = config["routes"][0]
    config["routes"] = [{**route, "path": "/orders/{id}"}, {**route, "path": "/orders/id"}]
    document = document_of(config)
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == 4
    assert {document["paths"][p]["options"]["operationId"][:15] for p in ("/orders/{id}", "/orders/id")} == {
        "optionsOrdersId"
    }
    validate(document)
