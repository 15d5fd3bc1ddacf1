"""Real Cognito tokens from moto, checked with the JWKS fetched from moto over HTTP."""

from __future__ import annotations

import json

from tests.authorizer.support import STAGE_ARN, CognitoPool, Factory, FakeClock, effects, token_event

ORDERS = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42"
ADMIN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/DELETE/orders/42"


def cognito_env(cognito: CognitoPool, **issuer: object) -> dict[str, str]:
    return {"AUTH_MODE": "jwt", "JWT_ISSUERS": json.dumps([cognito.issuer_config(**issuer)])}


def test_access_token_is_allowed_with_the_callers_identity_in_context(
    cognito: CognitoPool, make_harness: Factory
) -> None:
    harness = make_harness(cognito_env(cognito))

    response = harness(token_event(cognito.access_token, ORDERS))

    assert effects(response) == [("Allow", STAGE_ARN)]
    context = response["context"]
    assert response["principalId"] == context["sub"]
    assert context["username"] == "alice"
    assert context["clientId"] == cognito.client_id
    assert context["tokenUse"] == "access"
    assert context["groups"] == '["admins"]'
    assert context["scopes"] == "aws.cognito.signin.user.admin"
    assert all(isinstance(value, str) for value in context.values())


def test_token_of_another_app_client_is_unauthorized(cognito: CognitoPool, make_harness: Factory) -> None:
    harness = make_harness(cognito_env(cognito, clientIds=[cognito.other_client_id]))

    assert harness.unauthorized(token_event(cognito.access_token)) == "client_not_allowed"


def test_id_token_is_refused_where_access_tokens_are_expected(cognito: CognitoPool, make_harness: Factory) -> None:
    harness = make_harness(cognito_env(cognito))  # tokenUse defaults to access for Cognito issuers

    assert harness.unauthorized(token_event(cognito.id_token)) == "wrong_token_use"


def test_id_token_is_allowed_for_its_audience_and_access_token_then_refused(
    cognito: CognitoPool, make_harness: Factory
) -> None:
    harness = make_harness(cognito_env(cognito, tokenUse="id", clientIds=[], audiences=[cognito.client_id]))

    response = harness(token_event(cognito.id_token))

    assert effects(response) == [("Allow", STAGE_ARN)]
    assert response["context"]["clientId"] == cognito.client_id
    assert response["context"]["username"] == "alice"
    assert harness.unauthorized(token_event(cognito.access_token)) == "wrong_token_use"


def test_missing_scope_is_an_explicit_deny_not_a_401(cognito: CognitoPool, make_harness: Factory) -> None:
    env = cognito_env(cognito)
    env["ROUTE_REQUIREMENTS"] = json.dumps({"GET /orders/{id}": {"scopes": ["orders/read"]}})
    env["RESULT_TTL_SECONDS"] = "0"
    harness = make_harness(env)

    response = harness(token_event(cognito.access_token, ORDERS))

    assert effects(response) == [("Deny", ORDERS)]
    assert harness.records()[-1]["decision"] == "deny"


def test_group_requirement_is_met_by_cognito_groups(cognito: CognitoPool, make_harness: Factory) -> None:
    env = cognito_env(cognito)
    env["ROUTE_REQUIREMENTS"] = json.dumps({"DELETE /orders/{id}": {"groups": ["admins", "support"]}})
    env["RESULT_TTL_SECONDS"] = "0"

    response = make_harness(env)(token_event(cognito.access_token, ADMIN))

    assert effects(response) == [("Allow", ADMIN)]


def test_expired_access_token_is_unauthorized(cognito: CognitoPool, make_harness: Factory, clock: FakeClock) -> None:
    harness = make_harness(cognito_env(cognito))
    assert harness(token_event(cognito.access_token))["principalId"]

    clock.advance(3600 + 10)  # moto's tokens live one hour; the default skew is 10 s

    assert harness.unauthorized(token_event(cognito.access_token)) == "expired"


def test_keys_come_from_moto_over_http_once(cognito: CognitoPool, make_harness: Factory) -> None:
    harness = make_harness(cognito_env(cognito))

    for _ in range(3):
        harness(token_event(cognito.access_token))

    refreshes = harness.records("jwks_refresh")
    assert [(r["outcome"], r["keys"]) for r in refreshes] == [("ok", 1)]
