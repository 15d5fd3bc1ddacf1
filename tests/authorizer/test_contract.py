"""The component's wiring and the function's documented contract agree (docs/authorizer.md).

API Gateway applies the TOKEN authorizer's identityValidationExpression before the function runs: a
credential it refuses never reaches the function, so the expression must accept every credential the
function allows. Scopes are read from `scope` (a string), else `scp` (a string or an array).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from secure_api.component.openapi import BEARER_JWT_EXPRESSION
from tests.authorizer.support import METHOD_ARN, Factory, Forge, Harness, JwksServer, jwt_env, token_event

REQUIREMENT = {"GET /orders": {"scopes": ["orders/read"]}}
ORDERS_ARN = METHOD_ARN.removesuffix("/42")  # …/prod/GET/orders


@pytest.mark.parametrize(
    ("scheme", "mangle"),
    [
        ("Bearer ", None),
        ("bearer ", None),
        ("BEARER ", None),
        ("bEaReR ", None),
        ("Bearer  ", None),  # two spaces
        ("Bearer\t", None),
        ("Token ", None),
        ("Bearer ", "pad"),  # base64url padding is not canonical
        ("Bearer ", "four-parts"),
        ("Bearer ", "trailing-space"),
    ],
)
def test_the_validation_expression_admits_exactly_what_the_function_allows(
    harness: Harness, forge: Forge, scheme: str, mangle: str | None
) -> None:
    token = forge.token()
    if mangle == "pad":
        token += "="
    elif mangle == "four-parts":
        token += ".e30"
    elif mangle == "trailing-space":
        token += " "
    credential = scheme + token
    # API Gateway matches the expression against the whole credential (Java `matches`, as fullmatch).
    admitted = re.fullmatch(BEARER_JWT_EXPRESSION, credential) is not None
    allowed = harness.outcome(token_event(token, scheme=scheme)) == "allow"
    assert admitted == allowed, (credential, admitted, allowed)


def scoped(make_harness: Factory, jwks: JwksServer) -> Harness:
    return make_harness(jwt_env(jwks.url, ROUTE_REQUIREMENTS=REQUIREMENT, RESULT_TTL_SECONDS="0"))


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "orders/read orders/write"},
        {"scp": "orders/read orders/write"},  # Entra ID access tokens, Cognito trigger-added scp
        {"scp": ["orders/write", "orders/read"]},  # Okta
    ],
    ids=["scope-string", "scp-string", "scp-array"],
)
def test_scp_is_read_as_string_or_array_like_scope(
    make_harness: Factory, jwks: JwksServer, forge: Forge, claims: dict[str, Any]
) -> None:
    harness = scoped(make_harness, jwks)
    token = forge.token(forge.claims(drop=() if "scope" in claims else ("scope",), **claims))
    response = harness(token_event(token, ORDERS_ARN))
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert set(response["context"]["scopes"].split()) == {"orders/read", "orders/write"}


def test_scp_without_the_scope_is_a_deny_not_a_401(make_harness: Factory, jwks: JwksServer, forge: Forge) -> None:
    harness = scoped(make_harness, jwks)
    token = forge.token(forge.claims(drop=("scope",), scp="orders/write"))
    assert harness.outcome(token_event(token, ORDERS_ARN)) == "deny"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("scp", ["orders/read", ""]),
        ("scp", ["orders/read orders/write"]),
        ("scp", ["orders/read", 7]),
        ("scp", {"orders/read": True}),
        ("scp", 7),
        ("scope", ["orders/read"]),  # RFC 9068: scope is a string
    ],
)
def test_malformed_scope_claims_are_refused(harness: Harness, forge: Forge, claim: str, value: Any) -> None:
    token = forge.token(forge.claims(drop=() if claim == "scope" else ("scope",), **{claim: value}))
    assert harness.unauthorized(token_event(token)) == "bad_claim"


def test_scope_wins_over_scp(make_harness: Factory, jwks: JwksServer, forge: Forge) -> None:
    harness = scoped(make_harness, jwks)
    token = forge.token(forge.claims(scope="profile", scp="orders/read"))
    response = harness(token_event(token, ORDERS_ARN))
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert json.dumps(response["context"]["scopes"]) == '"profile"'
