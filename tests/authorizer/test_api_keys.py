"""API key and shared-header modes: SHA-256 digests compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from secure_api_authorizer import api_keys
from secure_api_authorizer.config import load_settings
from secure_api_authorizer.errors import ConfigError
from tests.authorizer.support import METHOD_ARN, STAGE_ARN, Factory, effects, request_event, token_event

GOLD_KEY = "k3y-gold-4f9a1c7e2b8d6a0f5e3c1b9d7a5f3e1c"
FREE_KEY = "k3y-free-0a2c4e6f8b1d3f5a7c9e0b2d4f6a8c0e"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_env(mode: str = "api_key", **overrides: str) -> dict[str, str]:
    keys = {digest(GOLD_KEY): "usage-plan-gold-key-value", digest(FREE_KEY): None}
    return {"AUTH_MODE": mode, "API_KEY_SHA256": json.dumps(keys), "JWT_ISSUERS": "[]", **overrides}


def test_valid_key_is_allowed_without_metering_by_default(make_harness: Factory) -> None:
    response = make_harness(key_env())(token_event(GOLD_KEY, scheme=""))

    assert effects(response) == [("Allow", STAGE_ARN)]
    assert response["principalId"] == f"key:{digest(GOLD_KEY)[:16]}"
    assert response["context"] == {"keyId": digest(GOLD_KEY)[:16]}
    assert "usageIdentifierKey" not in response


def test_usage_identifier_key_is_returned_for_metered_keys_only(make_harness: Factory) -> None:
    harness = make_harness(key_env(RETURN_USAGE_IDENTIFIER="true"))

    assert harness(token_event(GOLD_KEY, scheme=""))["usageIdentifierKey"] == "usage-plan-gold-key-value"
    assert "usageIdentifierKey" not in harness(token_event(FREE_KEY, scheme=""))


@pytest.mark.parametrize("presented", ["wrong", GOLD_KEY + "x", GOLD_KEY.upper(), digest(GOLD_KEY), " " + GOLD_KEY])
def test_any_other_value_is_unauthorized(make_harness: Factory, presented: str) -> None:
    assert make_harness(key_env()).unauthorized(token_event(presented, scheme="")) == "invalid_key"


def test_every_digest_is_compared_with_compare_digest_and_no_early_exit(
    make_harness: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    harness = make_harness(key_env())
    monkeypatch.setattr(api_keys.hmac, "compare_digest", spy)

    harness(token_event(GOLD_KEY, scheme=""))
    assert len(calls) == 2  # both configured digests, although the first comparison may match
    harness.unauthorized(token_event("wrong", scheme=""))
    assert len(calls) == 4
    assert all(len(a) == len(b) == 32 for a, b in calls)


def test_request_event_reads_the_identity_header_case_insensitively(make_harness: Factory) -> None:
    harness = make_harness(key_env("header", IDENTITY_HEADER="X-Origin-Secret"))

    response = harness(request_event({"x-origin-secret": GOLD_KEY, "Host": "api.example.com"}))

    assert effects(response) == [("Allow", STAGE_ARN)]
    assert harness.unauthorized(request_event({"X-Api-Key": GOLD_KEY})) == "missing_credentials"


def test_a_key_sent_twice_is_ambiguous(make_harness: Factory) -> None:
    event = request_event(
        {"x-api-key": GOLD_KEY},
        multiValueHeaders={"X-Api-Key": [FREE_KEY], "x-api-key": [GOLD_KEY]},
    )

    assert make_harness(key_env()).unauthorized(event) == "ambiguous_credentials"


def test_exact_method_arn_when_result_caching_is_off(make_harness: Factory) -> None:
    response = make_harness(key_env(RESULT_TTL_SECONDS="0"))(request_event({"x-api-key": FREE_KEY}))

    assert effects(response) == [("Allow", METHOD_ARN)]


def test_decision_log_has_the_key_id_but_never_the_key(make_harness: Factory) -> None:
    harness = make_harness(key_env())
    harness(token_event(GOLD_KEY, scheme=""))
    harness.unauthorized(token_event(FREE_KEY + "-typo", scheme=""))

    logged = harness.log.getvalue()
    assert GOLD_KEY not in logged
    assert FREE_KEY not in logged
    assert harness.records()[0]["principalId"] == f"key:{digest(GOLD_KEY)[:16]}"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({GOLD_KEY: None}, "digests"),
        ({digest(GOLD_KEY).upper(): None}, "digests"),
        ({digest(GOLD_KEY): ""}, "usage identifier"),
        ({}, "non-empty"),
    ],
)
def test_only_lowercase_sha256_digests_are_configured(keys: dict[str, str | None], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"AUTH_MODE": "api_key", "API_KEY_SHA256": json.dumps(keys)})
