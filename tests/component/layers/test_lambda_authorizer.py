"""The component wires the Lambda authorizer exactly as the function's contract (docs/authorizer.md) says.

Each value API Gateway uses (header, identity source, validation expression, cache TTL) must be the
one the function reads from its environment; and the environment is encrypted with the component's key.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from secure_api.component.openapi import BEARER_JWT_EXPRESSION
from secure_api.plan.harness import PlanResult
from tests.conftest import Plan

FUNCTION = "aws:lambda/function:Function"


def wiring(result: PlanResult) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(security scheme, its x-amazon-apigateway-authorizer, the function's environment)."""
    body = json.loads(result.one("aws:apigateway/restApi:RestApi").inputs["body"])
    scheme = body["components"]["securitySchemes"]["lambda-authorizer"]
    env = result.one(FUNCTION).inputs["environment"]["variables"]
    return scheme, scheme["x-amazon-apigateway-authorizer"], env


def private_config(**authorizer: Any) -> dict[str, Any]:
    """No user pool, so the body is known in preview too."""
    route = {"path": "/hooks", "method": "POST", "auth": "custom", "integration": {"type": "mock"}}
    settings = {"mode": "api_key", "apiKeySha256": {"a" * 64: None}, **authorizer}
    return {"routes": [route], "network": {"allowedSourceCidrs": ["203.0.113.0/24"]}, "lambdaAuthorizer": settings}


def test_token_jwt_wiring_matches_the_function(dev_plans: dict[str, PlanResult]) -> None:
    scheme, authorizer, env = wiring(dev_plans["update"])
    assert authorizer["type"] == "token"
    assert authorizer["identityValidationExpression"] == BEARER_JWT_EXPRESSION
    assert scheme["in"] == "header"
    assert scheme["name"].lower() == env["IDENTITY_HEADER"].lower()
    assert str(authorizer["authorizerResultTtlInSeconds"]) == env["RESULT_TTL_SECONDS"]
    assert env["AUTH_MODE"] == "jwt"


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
@pytest.mark.parametrize(
    ("settings", "source"),
    [
        ({"type": "REQUEST", "identityHeader": "X-Api-Key", "resultTtlSeconds": 0}, "method.request.header.X-Api-Key"),
        ({"type": "TOKEN", "identityHeader": "X-Api-Key", "resultTtlSeconds": 60}, None),
    ],
    ids=["request", "token"],
)
def test_api_key_wiring_matches_the_function(
    plan: Plan, preview: bool, settings: dict[str, Any], source: str | None
) -> None:
    scheme, authorizer, env = wiring(plan(private_config(**settings), preview=preview))
    assert authorizer["type"] == settings["type"].lower()
    assert authorizer.get("identitySource") == source
    assert "identityValidationExpression" not in authorizer  # a key has no fixed shape to pre-check
    assert scheme["name"] == env["IDENTITY_HEADER"] == "X-Api-Key"
    assert str(authorizer["authorizerResultTtlInSeconds"]) == env["RESULT_TTL_SECONDS"]
    assert env["AUTH_MODE"] == "api_key"


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_environment_uses_the_lambda_managed_key_only_when_kms_is_off(plan: Plan, preview: bool) -> None:
    on = plan(private_config(), preview=preview)
    key = on.one("aws:kms/key:Key")
    assert key.urn in on.one(FUNCTION).property_dependencies["kmsKeyArn"]
    values = private_config()
    values["observability"] = {"kmsEncryption": False}
    off = plan(values, preview=preview)
    assert "kmsKeyArn" not in off.one(FUNCTION).inputs
    policy = off.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    if not preview:
        assert "kms:" not in policy
