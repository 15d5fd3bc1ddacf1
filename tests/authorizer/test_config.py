"""The environment contract: defaults, and a clear ConfigError for every invalid value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secure_api_authorizer import config
from secure_api_authorizer.config import ConfigError, load_settings
from secure_api_authorizer.keys import ALGORITHMS

COGNITO = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
OIDC = "https://login.example.com/realms/main"


def jwt(*issuers: dict[str, Any], **env: str) -> dict[str, str]:
    return {"AUTH_MODE": "jwt", "JWT_ISSUERS": json.dumps(list(issuers)), **env}


def test_defaults_are_small_and_strict() -> None:
    settings = load_settings(jwt({"issuer": COGNITO, "clientIds": ["app"]}))

    assert settings.algorithms == frozenset({"RS256"})
    assert settings.clock_skew_seconds == config.DEFAULT_CLOCK_SKEW_SECONDS == 10
    assert settings.max_token_bytes == 8192
    assert 10 <= settings.jwks_min_refetch_seconds <= 30
    assert settings.jwks_timeout_seconds <= 3
    assert settings.result_ttl_seconds == 300  # API Gateway's default: stage-wide policies
    assert settings.identity_header == "authorization"
    [issuer] = settings.issuers
    assert issuer.jwks_url == f"{COGNITO}/.well-known/jwks.json"
    assert issuer.token_use == "access"  # Cognito issuers default to access tokens


def test_generic_oidc_issuer_has_no_token_use_and_checks_the_audience() -> None:
    settings = load_settings(jwt({"issuer": OIDC, "audiences": ["api://orders"]}))

    assert settings.issuers[0].token_use is None
    assert settings.issuers[0].audiences == frozenset({"api://orders"})


def test_variables_of_other_modes_are_ignored_as_the_component_sets_them_all() -> None:
    digest = "a" * 64
    jwt_mode = load_settings(jwt({"issuer": COGNITO, "clientIds": ["app"]}, API_KEY_SHA256="{}"))
    key_mode = load_settings(
        {"AUTH_MODE": "api_key", "API_KEY_SHA256": json.dumps({digest: None}), "JWT_ISSUERS": "[]"}
    )

    assert jwt_mode.api_keys == ()
    assert key_mode.issuers == ()
    assert key_mode.identity_header == "x-api-key"


def test_supported_algorithm_names_match_the_verifiers() -> None:
    assert frozenset(ALGORITHMS) == config.SUPPORTED_ALGORITHMS


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"AUTH_MODE": "oauth"}, "AUTH_MODE"),
        (jwt(), "JWT_ISSUERS"),
        ({"AUTH_MODE": "jwt", "JWT_ISSUERS": "{not json"}, "JWT_ISSUERS"),
        (jwt({"issuer": "http://insecure.example", "clientIds": ["a"]}), "https"),
        (jwt({"issuer": OIDC, "clientIds": ["a"], "jwks": "typo"}), "only"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, {"issuer": OIDC, "clientIds": ["b"]}), "twice"),
        (jwt({"issuer": OIDC}), "clientIds or audiences"),
        (jwt({"issuer": COGNITO, "audiences": ["app"]}), "access tokens need clientIds"),
        (jwt({"issuer": COGNITO, "tokenUse": "id", "clientIds": ["app"]}), "id tokens need audiences"),
        (jwt({"issuer": COGNITO, "tokenUse": "refresh", "clientIds": ["app"]}), "tokenUse"),
        (jwt({"issuer": OIDC, "clientIds": "app"}), "clientIds"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWT_ALGORITHMS="HS256"), "JWT_ALGORITHMS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWT_ALGORITHMS="none"), "JWT_ALGORITHMS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWT_CLOCK_SKEW_SECONDS="600"), "JWT_CLOCK_SKEW_SECONDS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWT_CLOCK_SKEW_SECONDS="²"), "JWT_CLOCK_SKEW_SECONDS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWT_MAX_TOKEN_BYTES="10"), "JWT_MAX_TOKEN_BYTES"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWKS_TIMEOUT_SECONDS="5"), "JWKS_TIMEOUT_SECONDS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWKS_MIN_REFETCH_SECONDS="0"), "JWKS_MIN_REFETCH_SECONDS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, JWKS_TIMEOUT_SECONDS="nan"), "JWKS_TIMEOUT_SECONDS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, RESULT_TTL_SECONDS="3601"), "RESULT_TTL_SECONDS"),
        (jwt({"issuer": OIDC, "clientIds": ["a"]}, IDENTITY_HEADER="x api key"), "IDENTITY_HEADER"),
        (
            {"AUTH_MODE": "api_key", "API_KEY_SHA256": '{"' + "a" * 64 + '": null}', "RETURN_USAGE_IDENTIFIER": "yes"},
            "true",
        ),
        ({"AUTH_MODE": "header", "API_KEY_SHA256": "{}"}, "API_KEY_SHA256"),
        (
            {
                "AUTH_MODE": "api_key",
                "API_KEY_SHA256": '{"' + "a" * 64 + '": null}',
                "ROUTE_REQUIREMENTS": '{"GET /": {}}',
            },
            "ROUTE_REQUIREMENTS",
        ),
    ],
)
def test_invalid_environment_is_a_config_error_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        load_settings(env)


@pytest.mark.parametrize(
    "routes",
    [
        {"FETCH /x": {"scopes": ["a"]}},
        {"GET x": {"scopes": ["a"]}},
        {"GET /x/{id}y": {"scopes": ["a"]}},
        {"GET /x/*": {"scopes": ["a"]}},
        {"GET /{proxy+}/x": {"scopes": ["a"]}},
        {"GET /x": {}},
        {"GET /x": {"scopes": ["a"], "roles": ["b"]}},
        {"GET /x": {"scopes": "a"}},
        ["GET /x"],
    ],
)
def test_invalid_route_requirements_are_refused(routes: object) -> None:
    env = jwt({"issuer": OIDC, "clientIds": ["a"]}, ROUTE_REQUIREMENTS=json.dumps(routes))

    with pytest.raises(ConfigError, match="ROUTE_REQUIREMENTS"):
        load_settings(env)
