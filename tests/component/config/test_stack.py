"""Invalid stack configs fail with one message naming every bad key, before any resource exists."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from secure_api.component.config import ConfigError, parse_config
from secure_api.plan.harness import PlanResult
from secure_api.plan.offline import plan_stack

HEALTH = {
    "path": "/health",
    "method": "GET",
    "auth": "none",
    "allowUnauthenticated": True,
    "integration": {"type": "mock"},
}
ORDERS = {"path": "/orders", "method": "GET", "integration": {"type": "http", "url": "https://backend.example.com"}}
PLAN = {"name": "basic", "throttle": {"rateLimit": 10, "burstLimit": 20}, "quota": {"limit": 1000, "period": "DAY"}}


def with_routes(*routes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "routes": [copy.deepcopy(r) for r in routes],
        "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
        **extra,
    }


SERVICE_ONLY = {
    "domainPrefix": "orders-auth",
    "resourceServer": {
        "identifier": "https://orders.example.com",
        "name": "orders",
        "scopes": [{"name": "orders.read", "description": "r"}, {"name": "orders.write", "description": "w"}],
    },
    "appClients": [
        {
            "name": "service",
            "generateSecret": True,
            "oauthFlows": ["client_credentials"],
            "explicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],  # no user sign-in through this client
            "allowedScopes": ["https://orders.example.com/orders.read"],
        }
    ],
}


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown top-level key", with_routes(ORDERS, wafEnabled=False), "secure-api:wafEnabled", "unknown key"),
    (
        "unknown route key",
        with_routes({**ORDERS, "scope": ["x"]}),
        "secure-api:routes[0].scope",
        "allowed here: allowApiKeyOnly",
    ),
    (
        "http backend",
        with_routes({**ORDERS, "integration": {"type": "http", "url": "http://backend.example.com"}}),
        "secure-api:routes[0].integration.url",
        "https://",
    ),
    (
        "api key without authorizer",
        with_routes({**HEALTH, "apiKeyRequired": True}, usagePlans=[PLAN]),
        "secure-api:routes[0]",
        "never the only control",
    ),
    (
        "public route not acknowledged",
        with_routes({**HEALTH, "allowUnauthenticated": False}),
        "secure-api:routes[0]",
        "allowUnauthenticated",
    ),
    (
        "quota out of range",
        with_routes(ORDERS, usagePlans=[{**PLAN, "quota": {"limit": 0, "period": "DAY"}}]),
        "secure-api:usagePlans[0].quota.limit",
        "a whole number from 1 to 2,147,483,647",
    ),
    (
        "burst above the AWS ceiling",
        with_routes(ORDERS, usagePlans=[{**PLAN, "throttle": {"rateLimit": 10, "burstLimit": 9000}}]),
        "secure-api:usagePlans[0].throttle.burstLimit",
        "a whole number from 1 to 5,000",
    ),
    (
        "quota period",
        with_routes(ORDERS, usagePlans=[{**PLAN, "quota": {"limit": 5, "period": "YEAR"}}]),
        "secure-api:usagePlans[0].quota.period",
        "one of DAY, WEEK, MONTH",
    ),
    (
        "quota offset beyond the period",
        with_routes(ORDERS, usagePlans=[{**PLAN, "quota": {"limit": 5, "period": "WEEK", "offset": 9}}]),
        "secure-api:usagePlans[0].quota",
        "between 0 and 6",
    ),
    (
        "scopes on an iam route",
        with_routes({**ORDERS, "auth": "iam", "scopes": ["orders.read"]}),
        "secure-api:routes[0]",
        "only valid with auth 'cognito'",
    ),
    (
        "authorizer TTL over 3600",
        with_routes(ORDERS, lambdaAuthorizer={"resultTtlSeconds": 3601}),
        "secure-api:lambdaAuthorizer.resultTtlSeconds",
        "a whole number from 0 to 3,600",
    ),
    ("duplicate route", with_routes(ORDERS, ORDERS), "secure-api:routes[1]", "duplicate route GET /orders"),
    (
        "undeclared scope",
        with_routes({**ORDERS, "scopes": ["orders.read"]}),
        "secure-api:routes[0].scopes",
        "unknown scopes",
    ),
    (
        "API key route without a usage plan",
        with_routes({**ORDERS, "apiKeyRequired": True}),
        "secure-api:routes[0].apiKeyRequired",
        "usagePlans",
    ),
    (
        "API key bound to an unknown plan",
        with_routes(ORDERS, usagePlans=[PLAN], apiKeys=[{"name": "acme", "plan": "gold"}]),
        "secure-api:apiKeys[0].plan",
        "unknown plan 'gold'",
    ),
    (
        "MFA off",
        with_routes(ORDERS, cognito={"mfa": "OFF"}),
        "secure-api:cognito.mfa",
        "one of ON, OPTIONAL",
    ),
    (
        "weak password length",
        with_routes(ORDERS, cognito={"passwordPolicy": {"minimumLength": 8}}),
        "secure-api:cognito.passwordPolicy.minimumLength",
        "a whole number from 12 to 99",
    ),
    (
        "plain-password auth flow",
        with_routes(
            ORDERS, cognito={"appClients": [{"name": "web", "explicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]}]}
        ),
        "secure-api:cognito.appClients[0]",
        "allowPasswordAuth",
    ),
    (
        "threat protection without the PLUS tier",
        with_routes(ORDERS, cognito={"tier": "ESSENTIALS"}),
        "secure-api:cognito",
        "needs tier PLUS",
    ),
    (
        "route path with a bad segment",
        with_routes({**ORDERS, "path": "/orders/<id>"}),
        "secure-api:routes[0].path",
        "is neither a literal (letters, digits, . _ ~ -) nor a {parameter}",
    ),
    (
        "method not HTTP",
        with_routes({**ORDERS, "method": "FETCH"}),
        "secure-api:routes[0].method",
        "one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY",
    ),
    (
        "lambda integration with a non-ARN",
        with_routes({**ORDERS, "integration": {"type": "lambda", "functionArn": "my-function"}}),
        "secure-api:routes[0].integration.functionArn",
        "Lambda function ARN",
    ),
    (
        "api key digests that are not digests",
        with_routes({**ORDERS, "auth": "custom"}, lambdaAuthorizer={"mode": "api_key", "apiKeySha256": {"k": None}}),
        "secure-api:lambdaAuthorizer.apiKeySha256",
        "SHA-256 digests",
    ),
    ("no routes", {}, "secure-api:routes", "at least one route"),
    (
        "API name too long for derived AWS names",
        with_routes(ORDERS, api={"name": "a" * 54}),
        "secure-api:api.name",
        "1 to 53 letters, digits, - or _",
    ),
    (
        "authorizer requirements on a cognito route",
        with_routes({**ORDERS, "authorizerRequirements": {"groups": ["admins"]}}),
        "secure-api:routes[0]",
        "only valid with auth 'custom'",
    ),
    (
        "authorizer requirements without JWTs",
        with_routes(
            {**ORDERS, "auth": "custom", "authorizerRequirements": {"scopes": ["orders/read"]}},
            lambdaAuthorizer={"mode": "api_key", "apiKeySha256": {"a" * 64: None}},
        ),
        "secure-api:routes[0].authorizerRequirements",
        "lambdaAuthorizer.mode: jwt",
    ),
    (
        # A method without scopes takes only ID tokens; client_credentials issues access tokens only.
        "cognito route without scopes and no client that obtains ID tokens",
        with_routes({**ORDERS, "auth": "cognito"}, cognito=SERVICE_ONLY),
        "secure-api:routes[0].scopes",
        "cognito.appClients obtains one (service (client_credentials))",
    ),
    (
        "cognito route with scopes no client may request",
        with_routes({**ORDERS, "auth": "cognito", "scopes": ["orders.write"]}, cognito=SERVICE_ONLY),
        "secure-api:routes[0].scopes",
        "['https://orders.example.com/orders.write'], and no app client in cognito.appClients may request",
    ),
]


@pytest.mark.parametrize(("case", "config", "key", "detail"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_config_names_the_key(case: str, config: dict[str, Any], key: str, detail: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    message = str(raised.value)
    matching = [m for path, m in raised.value.problems if path == key]
    assert matching, f"{case}: no problem reported at {key}; got:\n{message}"
    assert any(detail in m for m in matching), f"{case}: {detail!r} not in {matching}"
    assert "Traceback" not in message


def test_a_client_that_signs_users_in_serves_a_route_without_scopes() -> None:
    web = {
        "name": "web",
        "oauthFlows": ["code"],
        "allowedScopes": ["openid"],
        "callbackUrls": ["https://a.example.com/cb"],
    }
    cognito = {**SERVICE_ONLY, "appClients": [*SERVICE_ONLY["appClients"], web]}
    config = parse_config(with_routes({**ORDERS, "auth": "cognito"}, cognito=cognito))
    assert [c.name for c in config.cognito.app_clients if c.issues_id_tokens] == ["web"]
    assert parse_config(with_routes({**ORDERS, "auth": "cognito", "scopes": ["orders.read"]}, cognito=SERVICE_ONLY))


def test_every_problem_is_listed_at_once() -> None:
    config = with_routes(
        {**ORDERS, "integration": {"type": "http", "url": "http://x.example.com"}},
        {**HEALTH, "allowUnauthenticated": False},
        lambdaAuthorizer={"resultTtlSeconds": 9999},
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    paths = {path for path, _ in raised.value.problems}
    assert {
        "secure-api:routes[0].integration.url",
        "secure-api:routes[1]",
        "secure-api:lambdaAuthorizer.resultTtlSeconds",
    } <= paths


def test_api_key_only_route_is_allowed_when_acknowledged() -> None:
    config = parse_config(with_routes({**HEALTH, "apiKeyRequired": True, "allowApiKeyOnly": True}, usagePlans=[PLAN]))
    assert config.routes[0].api_key_required


def test_defaults_are_secure() -> None:
    config = parse_config(with_routes(ORDERS))
    assert config.routes[0].auth == "cognito"
    assert config.cognito.mfa == "ON"
    assert config.cognito.threat_protection == "ENFORCED"
    assert config.cognito.deletion_protection
    assert config.cognito.password_policy.minimum_length >= 12
    assert "ALLOW_USER_PASSWORD_AUTH" not in config.cognito.app_clients[0].explicit_auth_flows
    assert config.lambda_authorizer.algorithms == ("RS256",)


def test_bad_config_registers_no_resource(dev_config: dict[str, Any]) -> None:
    dev_config["routes"][0]["integration"] = {"type": "http", "url": "http://plain.example.com"}
    seen = PlanResult(preview=True)
    with pytest.raises(ConfigError, match=r"routes\[0\]\.integration\.url"):
        plan_stack("dev", preview=True, config=dev_config, result=seen)
    assert seen.resources == []
