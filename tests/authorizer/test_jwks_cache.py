"""The JWKS cache: outages, unknown-kid floods, rotation, and what a fetch may and may not do."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import pytest

from secure_api_authorizer.audit import AuditLog
from secure_api_authorizer.errors import ConfigError
from secure_api_authorizer.jwks import MAX_JWKS_BYTES, JwksCache
from tests.authorizer.support import (
    STAGE_ARN,
    Factory,
    FakeClock,
    Forge,
    Harness,
    JwksServer,
    Keys,
    effects,
    jwt_env,
    public_jwk,
    token_event,
)


@pytest.fixture
def other_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.stop()


def refresh_outcomes(harness: Harness) -> list[str]:
    return [record["outcome"] for record in harness.records("jwks_refresh")]


def test_cached_keys_keep_working_when_the_jwks_endpoint_is_down(
    harness: Harness, jwks: JwksServer, forge: Forge, clock: FakeClock
) -> None:
    token = forge.token()
    assert effects(harness(token_event(token))) == [("Allow", STAGE_ARN)]

    jwks.stop()
    clock.advance(60)
    assert harness.unauthorized(token_event(forge.token(kid="rotated-away"))) == "unknown_kid"

    assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]
    assert refresh_outcomes(harness) == ["ok", "failed"]


def test_unknown_kid_flood_fetches_at_most_once_per_interval(
    harness: Harness, jwks: JwksServer, forge: Forge, clock: FakeClock
) -> None:
    assert jwks.hits == 1  # the prefetch at init

    for attempt in range(100):  # 100 unknown kids over 25 s, with a 10 s interval
        clock.advance(0.25)
        assert harness.unauthorized(token_event(forge.token(kid=f"flood-{attempt}"))) == "unknown_kid"

    assert jwks.hits == 1 + 2  # refetched at 10 s and 20 s, never in between


def test_a_rotated_key_is_picked_up_once_the_interval_allows_a_refetch(
    harness: Harness, jwks: JwksServer, keys: Keys, forge: Forge, clock: FakeClock
) -> None:
    rotated = forge.token(key=keys.rotated, kid="local-2")
    jwks.serve(public_jwk(keys.primary, "local-1"), public_jwk(keys.rotated, "local-2"))

    assert harness.unauthorized(token_event(rotated)) == "unknown_kid"  # the miss is cached
    clock.advance(10)

    assert effects(harness(token_event(rotated))) == [("Allow", STAGE_ARN)]
    assert jwks.hits == 2


def test_a_key_withdrawn_from_the_jwks_stops_verifying_after_the_next_refresh(
    harness: Harness, jwks: JwksServer, keys: Keys, forge: Forge, clock: FakeClock
) -> None:
    jwks.serve(public_jwk(keys.rotated, "local-2"))
    clock.advance(10)
    harness(token_event(forge.token(key=keys.rotated, kid="local-2")))

    assert harness.unauthorized(token_event(forge.token())) == "unknown_kid"


@pytest.mark.parametrize(
    "broken",
    [
        {"status": 500},
        {"body": b"<html>maintenance</html>"},
        {"body": b'{"keys": "nope"}'},
        {"body": b'{"keys": [{"kty": "oct", "kid": "local-1", "k": "c2VjcmV0"}]}'},
        {"body": b'{"keys": [], "keys": []}'},
    ],
    ids=["HTTP 500", "not JSON", "keys not a list", "only a symmetric key", "duplicate member"],
)
def test_a_failed_or_useless_refresh_keeps_the_last_good_key_set(
    harness: Harness, jwks: JwksServer, forge: Forge, clock: FakeClock, broken: dict[str, object]
) -> None:
    for name, value in broken.items():
        setattr(jwks, name, value)
    clock.advance(10)
    harness.unauthorized(token_event(forge.token(kid="new-kid")))

    assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]
    assert refresh_outcomes(harness) == ["ok", "failed"]


def test_first_request_fetches_when_init_did_not(make_harness: Factory, jwks: JwksServer, forge: Forge) -> None:
    harness = make_harness(jwt_env(jwks.url))

    assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]
    assert jwks.hits == 1


def test_redirects_are_not_followed(make_harness: Factory, jwks: JwksServer, other_server: JwksServer) -> None:
    jwks.status, jwks.headers = 302, {"Location": other_server.url}
    harness = make_harness(jwt_env(jwks.url))

    harness.authorizer.prefetch()

    assert other_server.hits == 0
    [record] = harness.records("jwks_refresh")
    assert record["outcome"] == "failed"
    assert "302" in record["error"]


def test_a_slow_endpoint_is_abandoned_at_the_timeout(make_harness: Factory, jwks: JwksServer) -> None:
    jwks.delay = 1.5
    harness = make_harness(jwt_env(jwks.url, JWKS_TIMEOUT_SECONDS="0.2"))

    started = time.monotonic()
    harness.authorizer.prefetch()

    assert time.monotonic() - started < 1.0
    assert refresh_outcomes(harness) == ["failed"]


def test_an_oversized_key_set_is_refused(make_harness: Factory, jwks: JwksServer) -> None:
    jwks.body = b'{"keys": [], "pad": "' + b"x" * MAX_JWKS_BYTES + b'"}'
    harness = make_harness(jwt_env(jwks.url))

    harness.authorizer.prefetch()

    assert "larger than" in harness.records("jwks_refresh")[0]["error"]


@pytest.mark.parametrize(
    "url",
    ["http://idp.example.com/jwks.json", "ftp://127.0.0.1/jwks.json", "file:///etc/passwd", "https://"],
)
def test_only_https_or_loopback_http_jwks_urls_are_accepted(make_harness: Factory, url: str) -> None:
    with pytest.raises(ConfigError, match="jwksUrl"):
        make_harness(jwt_env(url))


def test_unusable_jwks_entries_are_ignored_and_a_shared_kid_trusts_neither(
    make_harness: Factory, jwks: JwksServer, keys: Keys, forge: Forge
) -> None:
    jwks.serve(
        public_jwk(keys.primary, "local-1", alg="RS256"),
        public_jwk(keys.primary, "enc-key", use="enc"),
        public_jwk(keys.primary, "rs512-only", alg="RS512"),
        public_jwk(keys.primary, "verify-not-allowed", key_ops=["encrypt"]),
        public_jwk(keys.primary, "twice"),
        public_jwk(keys.attacker, "twice"),
    )
    harness = make_harness(jwt_env(jwks.url))
    harness.authorizer.prefetch()

    for kid in ("enc-key", "rs512-only", "verify-not-allowed", "twice"):
        assert harness.unauthorized(token_event(forge.token(kid=kid))) == "unknown_kid"
    assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]
    [record] = harness.records("jwks_refresh")
    assert (record["keys"], record["skipped"]) == (1, 5)


@pytest.mark.parametrize(("alg", "kid"), [("ES256", "ec-1"), ("PS256", "local-1"), ("RS256", "local-1")])
def test_each_configured_algorithm_verifies_with_its_key_type(
    make_harness: Factory, jwks: JwksServer, keys: Keys, forge: Forge, alg: str, kid: str
) -> None:
    jwks.serve(public_jwk(keys.primary, "local-1"), public_jwk(keys.ec256, "ec-1"))
    harness = make_harness(jwt_env(jwks.url, JWT_ALGORITHMS="RS256,PS256,ES256"))
    key = keys.ec256 if alg == "ES256" else keys.primary

    assert effects(harness(token_event(forge.token(key=key, alg=alg, kid=kid)))) == [("Allow", STAGE_ARN)]
    # The same key under another family's alg never verifies.
    other = "RS256" if alg == "ES256" else "ES256"
    assert harness.unauthorized(token_event(forge.token(key=key, alg=other, kid=kid))) == "bad_signature"


def test_unchanged_keys_are_parsed_once_across_refreshes(jwks: JwksServer, clock: FakeClock) -> None:
    cache = JwksCache(
        "https://issuer.test.example/tenant-1",
        jwks.url,
        algorithms=frozenset({"RS256"}),
        timeout=1.0,
        min_refetch=10,
        monotonic=clock,
        log=AuditLog(io.StringIO()),
    )
    assert cache.refresh()
    first = cache.get("local-1")
    assert cache.refresh()

    assert first is not None
    assert cache.get("local-1") is first
    assert json.loads(jwks.body)["keys"][0]["kid"] == "local-1"
