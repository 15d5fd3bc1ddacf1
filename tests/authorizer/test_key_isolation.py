"""One bad key never takes the issuer down: every other key of the set keeps verifying.

Malformed members follow RFC 7517 section 4 (JWK) and RFC 7518 section 6 (RSA: base64urlUInt `n`, `e`;
EC: `crv`, full-length `x`, `y` on the curve). Each such key is skipped, reported once with its kid
and reason in the `jwks_refresh` record, and the valid keys of the same set work.
"""

from __future__ import annotations

from typing import Any

import pytest

from secure_api_authorizer.keys import UnusableKeyError, load_jwk
from tests.authorizer.support import (
    STAGE_ARN,
    FakeClock,
    Forge,
    Harness,
    JwksServer,
    Keys,
    b64url,
    effects,
    jwt_env,
    public_jwk,
    token_event,
)

ALLOWED = frozenset({"RS256", "ES256"})


def _rsa(keys: Keys) -> dict[str, Any]:
    return public_jwk(keys.rotated, "bad", alg="RS256")


def _ec(keys: Keys) -> dict[str, Any]:
    return public_jwk(keys.ec256, "bad", alg="ES256")


# (name, base key, edit) — each edit makes the JWK unusable in one member.
BROKEN: list[tuple[str, Any, dict[str, Any], str]] = [
    ("rsa n missing", _rsa, {"n": None}, "n is missing"),
    ("rsa e missing", _rsa, {"e": None}, "e is missing"),
    ("rsa n a list", _rsa, {"n": ["AQAB"]}, "n is missing or not a string"),
    ("rsa n a number", _rsa, {"n": 65537}, "n is missing or not a string"),
    ("rsa n not base64url", _rsa, {"n": "!!!!"}, "malformed RSA key"),
    ("rsa n padded", _rsa, {"n": "AQAB=="}, "malformed RSA key"),
    ("rsa modulus 1024 bits", None, {}, "RSA modulus under 2048 bits"),
    ("rsa even exponent", _rsa, {"e": b64url((65536).to_bytes(3, "big"))}, "RSA exponent"),
    ("ec x missing", _ec, {"x": None}, "x is missing"),
    ("ec y missing", _ec, {"y": None}, "y is missing"),
    ("ec y an object", _ec, {"y": {"v": 1}}, "y is missing or not a string"),
    ("ec x short", _ec, {"x": b64url(b"\x01" * 31)}, "x is 31 bytes, not 32"),
    ("ec point off the curve", _ec, {"y": b64url(b"\x01" * 32)}, "EC point is not on P-256"),
    ("ec unknown curve", _ec, {"crv": "P-192"}, "crv is not the curve"),
    ("ec crv a list", _ec, {"crv": ["P-256"]}, "crv is not the curve"),
    ("kty unknown", _rsa, {"kty": "oct"}, "kty is not RSA or EC"),
    ("kty a list", _rsa, {"kty": ["RSA"]}, "kty is not RSA or EC"),
    ("use enc", _rsa, {"use": "enc"}, "use is not sig"),
    ("alg a list", _rsa, {"alg": ["RS256"]}, "alg is not an allowed algorithm"),
    ("key_ops a string", _rsa, {"key_ops": "verify"}, "key_ops"),
]


def _broken(keys: Keys, base: Any, edit: dict[str, Any]) -> dict[str, Any]:
    jwk = public_jwk(keys.weak, "bad", alg="RS256") if base is None else base(keys)
    for member, value in edit.items():
        if value is None:
            jwk.pop(member)
        else:
            jwk[member] = value
    return jwk


@pytest.mark.parametrize(("base", "edit", "reason"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_each_malformed_member_is_refused_with_its_reason(
    keys: Keys, base: Any, edit: dict[str, Any], reason: str
) -> None:
    with pytest.raises(UnusableKeyError, match=reason):
        load_jwk(_broken(keys, base, edit), ALLOWED)


def test_a_valid_key_of_each_type_loads(keys: Keys) -> None:
    assert load_jwk(_rsa(keys), ALLOWED).algorithms == frozenset({"RS256"})
    assert load_jwk(_ec(keys), ALLOWED).algorithms == frozenset({"ES256"})


@pytest.mark.parametrize(("base", "edit"), [b[1:3] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_one_malformed_key_beside_good_ones_leaves_the_good_ones_working(
    make_harness: Any, keys: Keys, forge: Forge, base: Any, edit: dict[str, Any]
) -> None:
    server = JwksServer()
    try:
        server.serve(_broken(keys, base, edit), public_jwk(keys.primary, "local-1", alg="RS256"))
        harness: Harness = make_harness(_env(server.url))
        harness.authorizer.prefetch()

        assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]
        (refresh,) = harness.records("jwks_refresh")
        assert refresh["outcome"] == "ok"
        assert [entry["kid"] for entry in refresh["unusableKeys"]] == ["bad"]
        assert refresh["unusableKeyCount"] == 1
    finally:
        server.stop()


def test_an_unusable_key_is_reported_once_not_at_every_refresh(
    make_harness: Any, keys: Keys, forge: Forge, clock: FakeClock
) -> None:
    server = JwksServer()
    try:
        server.serve(_broken(keys, _rsa, {"n": None}), public_jwk(keys.primary, "local-1", alg="RS256"))
        harness: Harness = make_harness(_env(server.url))
        harness.authorizer.prefetch()
        clock.advance(60)
        harness.unauthorized(token_event(forge.token(kid="unknown")))  # forces a second refresh

        first, second = harness.records("jwks_refresh")
        assert [e["reason"] for e in first["unusableKeys"]] == ["n is missing or not a string"]
        assert second["unusableKeys"] == []
        assert second["unusableKeyCount"] == 1  # still counted, not logged again
    finally:
        server.stop()


def test_a_kid_listed_twice_is_trusted_neither_time_and_says_so(
    make_harness: Any, keys: Keys, forge: Forge
) -> None:
    server = JwksServer()
    try:
        server.serve(
            public_jwk(keys.primary, "local-1", alg="RS256"),
            public_jwk(keys.attacker, "local-1", alg="RS256"),
            public_jwk(keys.rotated, "local-2", alg="RS256"),
        )
        harness: Harness = make_harness(_env(server.url))
        harness.authorizer.prefetch()

        assert harness.unauthorized(token_event(forge.token())) == "unknown_kid"
        assert effects(harness(token_event(forge.token(key=keys.rotated, kid="local-2")))) == [("Allow", STAGE_ARN)]
        (refresh, *_) = harness.records("jwks_refresh")
        assert refresh["unusableKeys"] == [{"kid": "local-1", "reason": "kid listed more than once"}]
    finally:
        server.stop()


def test_a_set_of_only_unusable_keys_keeps_the_last_good_set(
    harness: Harness, jwks: JwksServer, keys: Keys, forge: Forge, clock: FakeClock
) -> None:
    jwks.serve(_broken(keys, _rsa, {"n": ["x"]}))
    clock.advance(60)
    assert harness.unauthorized(token_event(forge.token(kid="new"))) == "unknown_kid"

    assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]
    assert [r["outcome"] for r in harness.records("jwks_refresh")] == ["ok", "failed"]


def test_a_key_withdrawn_from_the_jwks_stops_verifying_within_the_maximum_key_set_age(
    make_harness: Any, keys: Keys, forge: Forge, clock: FakeClock
) -> None:
    server = JwksServer()
    try:
        server.serve(public_jwk(keys.primary, "local-1", alg="RS256"))
        harness: Harness = make_harness(_env(server.url, JWKS_MAX_AGE_SECONDS="600"))
        harness.authorizer.prefetch()
        assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]

        server.serve(public_jwk(keys.rotated, "local-2", alg="RS256"))  # local-1 withdrawn
        clock.advance(599)
        assert effects(harness(token_event(forge.token()))) == [("Allow", STAGE_ARN)]  # still within the age
        clock.advance(2)
        assert harness.unauthorized(token_event(forge.token())) == "unknown_kid"
    finally:
        server.stop()


def test_prefetch_never_fails_init_whatever_the_endpoint_answers(make_harness: Any) -> None:
    server = JwksServer()
    try:
        server.body = b"\xff\xfe not utf-8"
        harness: Harness = make_harness(_env(server.url))
        harness.authorizer.prefetch()  # must not raise
        assert [r["outcome"] for r in harness.records("jwks_refresh")] == ["failed"]
    finally:
        server.stop()


def _env(url: str, **extra: str) -> dict[str, str]:
    """JWT mode for the local issuer: RS256 only, as the `harness` fixture."""
    return {**jwt_env(url), **extra}
