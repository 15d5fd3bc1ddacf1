"""Policies that stay correct under API Gateway's result cache, and per-route scope/group rules."""

from __future__ import annotations

import json

import pytest

from secure_api_authorizer.errors import AuthenticationError
from secure_api_authorizer.routes import match_route, parse_method_arn, parse_routes
from tests.authorizer.support import STAGE_ARN, Factory, Forge, Harness, JwksServer, effects, jwt_env, token_event

API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod"
RULES = {
    "GET /orders/{id}": {"scopes": ["orders/read"]},
    "GET /orders/export": {"scopes": ["orders/export"]},
    "DELETE /orders/{id}": {"scopes": ["orders/write"], "groups": ["admins", "support"]},
    "ANY /admin/{proxy+}": {"groups": ["admins"]},
    "GET /": {"scopes": ["home"]},
}


# With caching, `GET /orders/{id}`'s Deny (`GET/orders/*`) would also deny `GET /orders/export` to a caller
# holding only orders/export: that table is refused (test_cached_policies.py); this one is expressible.
CACHEABLE_RULES = {key: value for key, value in RULES.items() if key != "GET /orders/export"}


def route_env(jwks: JwksServer, ttl: int) -> dict[str, str]:
    return jwt_env(jwks.url, ROUTE_REQUIREMENTS=RULES if ttl == 0 else CACHEABLE_RULES, RESULT_TTL_SECONDS=str(ttl))


@pytest.mark.parametrize(
    ("request_line", "scope", "groups", "effect"),
    [
        ("GET/orders/42", "orders/read", [], "Allow"),
        ("GET/orders/42", "orders/write", [], "Deny"),
        ("GET/orders/export", "orders/read", [], "Deny"),  # the literal route wins over {id}
        ("GET/orders/export", "orders/export", [], "Allow"),
        ("DELETE/orders/42", "orders/write", ["support"], "Allow"),
        ("DELETE/orders/42", "orders/write", ["customers"], "Deny"),
        ("DELETE/orders/42", "orders/read", ["admins"], "Deny"),
        ("POST/admin/users/7/disable", "", ["admins"], "Allow"),
        ("POST/admin/users/7/disable", "orders/read", ["customers"], "Deny"),
        ("GET/admin", "", [], "Allow"),  # {proxy+} needs at least one segment
        ("GET/", "home", [], "Allow"),
        ("GET/", "", [], "Deny"),
        ("GET/orders/42/items", "", [], "Allow"),  # no rule: a valid token is enough
    ],
)
def test_without_caching_the_policy_names_the_exact_method(
    make_harness: Factory,
    jwks: JwksServer,
    forge: Forge,
    request_line: str,
    scope: str,
    groups: list[str],
    effect: str,
) -> None:
    harness = make_harness(route_env(jwks, ttl=0))
    token = forge.token(forge.claims(scope=scope, **{"cognito:groups": groups}))

    response = harness(token_event(token, f"{API}/{request_line}"))

    assert effects(response) == [(effect, f"{API}/{request_line}")]
    assert harness.records()[-1]["decision"] == effect.lower()


def test_with_caching_the_policy_allows_the_stage_and_denies_each_unmet_route(
    make_harness: Factory, jwks: JwksServer, forge: Forge
) -> None:
    harness = make_harness(route_env(jwks, ttl=300))
    token = forge.token(forge.claims(scope="orders/read", **{"cognito:groups": ["customers"]}))

    response = harness(token_event(token, f"{API}/GET/orders/42"))

    assert effects(response) == [
        ("Allow", STAGE_ARN),
        ("Deny", f"{API}/DELETE/orders/*"),
        ("Deny", f"{API}/*/admin/*"),
        ("Deny", f"{API}/GET/"),
    ]
    assert harness.records()[-1] | {"decision": "allow", "route": "GET /orders/{id}"} == harness.records()[-1]


def test_with_caching_the_response_does_not_depend_on_the_route_that_triggered_it(
    make_harness: Factory, jwks: JwksServer, forge: Forge
) -> None:
    harness = make_harness(route_env(jwks, ttl=300))
    token = forge.token(forge.claims(scope="orders/read"))

    responses = [harness(token_event(token, f"{API}/{line}")) for line in ("GET/orders/1", "DELETE/orders/1", "GET/")]

    assert responses[0] == responses[1] == responses[2]
    assert [r["decision"] for r in harness.records()] == ["allow", "deny", "deny"]


def test_context_is_flat_strings_and_jwt_mode_never_meters(harness: Harness, forge: Forge) -> None:
    token = forge.token(forge.claims(**{"cognito:groups": ["ops team", 'quo"te']}))

    response = harness(token_event(token))

    assert set(response) == {"principalId", "policyDocument", "context"}
    assert all(isinstance(value, str) for value in response["context"].values())
    assert json.loads(response["context"]["groups"]) == ["ops team", 'quo"te']


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (f"{API}/GET/orders/42", ("GET", "orders/42")),
        (f"{API}/GET/", ("GET", "")),
        ("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/v1/POST/a/b/c", ("POST", "a/b/c")),
    ],
)
def test_method_arn_parts(arn: str, expected: tuple[str, str]) -> None:
    parsed = parse_method_arn(arn)

    assert (parsed.method, parsed.path) == expected
    assert parsed.resource("*", "*").endswith("/*/*")
    assert parsed.resource("*", "*").startswith(arn.split("/")[0])


@pytest.mark.parametrize(
    "arn", ["", "arn:aws:execute-api:r:1:abc", "arn:aws:execute-api:r:1:*/prod/GET/", "arn:aws:lambda:r:1:abc/p/GET/"]
)
def test_malformed_method_arns_are_refused(arn: str) -> None:
    with pytest.raises(AuthenticationError):
        parse_method_arn(arn)


def test_most_specific_template_wins_whatever_the_order() -> None:
    rules = parse_routes(
        {
            "ANY /{proxy+}": {"scopes": ["any"]},
            "GET /a/{x}/c": {"scopes": ["param"]},
            "GET /a/b/c": {"scopes": ["literal"]},
            "ANY /a/b/c": {"scopes": ["any-method"]},
        }
    )

    def winner(line: str) -> str | None:
        rule = match_route(rules, parse_method_arn(f"{API}/{line}"))
        return rule.key if rule else None

    assert winner("GET/a/b/c") == "GET /a/b/c"
    assert winner("POST/a/b/c") == "ANY /a/b/c"
    assert winner("GET/a/z/c") == "GET /a/{x}/c"
    assert winner("GET/q") == "ANY /{proxy+}"
    assert winner("GET/") is None
