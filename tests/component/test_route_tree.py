"""Routes API Gateway would refuse on import or route wrongly, caught at plan time with the key path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secure_api.component.config import ConfigError, parse_config
from tests.conftest import Plan

NETWORK = {"allowedSourceCidrs": ["203.0.113.0/24"]}


def route(path: str, method: str = "GET", url: str | None = None) -> dict[str, Any]:
    integration = {"type": "http", "url": url} if url else {"type": "mock"}
    return {"path": path, "method": method, "auth": "iam", "integration": integration}


def problems(*routes: dict[str, Any]) -> dict[str, str]:
    """Key path -> its messages, joined (one route may break several rules)."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"routes": list(routes), "network": NETWORK})
    found: dict[str, str] = {}
    for key, message in caught.value.problems:
        found[key] = f"{found[key]} | {message}" if key in found else message
    return found


def test_two_variable_siblings_at_one_level_are_refused() -> None:
    found = problems(route("/payments/{id}"), route("/payments/{paymentId}", "DELETE"), route("/payments"))
    assert "{id} under '/payments' sits next to {paymentId}" in found["secure-api:routes[0].path"]
    assert "{paymentId} under '/payments' sits next to {id}" in found["secure-api:routes[1].path"]
    assert "secure-api:routes[2].path" not in found


def test_siblings_are_found_below_the_leaf_and_next_to_a_greedy_parameter() -> None:
    found = problems(route("/a/{x}/b/{y}"), route("/a/{x}/b/{z}/c"), route("/a/{proxy+}", "ANY"))
    assert "{y} under '/a/{x}/b' sits next to {z}" in found["secure-api:routes[0].path"]
    assert "{x} under '/a' sits next to {proxy+}" in found["secure-api:routes[0].path"]
    assert "{proxy+} under '/a' sits next to {x}" in found["secure-api:routes[2].path"]


def test_one_parameter_name_per_level_is_fine() -> None:
    config = parse_config(
        {
            "routes": [route("/payments/{id}"), route("/payments/{id}/refunds"), route("/orders/{id}")],
            "network": NETWORK,
        }
    )
    assert len(config.routes) == 3


@pytest.mark.parametrize(
    ("path", "url", "missing"),
    [
        ("/orders", "https://backend.example.com/orders/{orderId}", "{orderId}"),
        ("/orders/{id}", "https://backend.example.com/orders/{orderId}", "{orderId}"),
        ("/admin/{proxy+}", "https://backend.example.com/{proxy+}", "{proxy+}"),
    ],
)
def test_backend_url_parameters_must_exist_in_the_path(path: str, url: str, missing: str) -> None:
    found = problems(route(path, url=url))
    assert f"integration.url uses {missing}, which {path!r} does not have" in found["secure-api:routes[0]"]


def test_backend_url_may_use_the_path_parameters() -> None:
    routes = [
        route("/orders/{orderId}", url="https://b.example.com/o/{orderId}"),
        route("/x/{proxy+}", url="https://b.example.com/{proxy}"),
    ]
    assert parse_config({"routes": routes, "network": NETWORK})


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_operation_ids_are_unique_even_when_readable_forms_collide(plan: Plan, preview: bool) -> None:
    values = {
        "routes": [route("/orders/{orderId}"), route("/orders/orderId"), route("/ordersOrderId"), route("/health")],
        "network": NETWORK,
        "cognito": {"enabled": False},
    }
    body = json.loads(plan(values, preview=preview).one("aws:apigateway/restApi:RestApi").inputs["body"])
    ids = {path: item["get"]["operationId"] for path, item in body["paths"].items()}
    assert len(set(ids.values())) == 4
    assert ids["/health"] == "getHealth"  # routes that collide with nothing keep their readable id
    for path in ("/orders/{orderId}", "/orders/orderId", "/ordersOrderId"):
        assert ids[path].startswith("getOrdersOrderId_")
