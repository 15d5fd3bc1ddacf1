"""A token presented again is judged again: its expiry, its key and its signature, on every call.

A client presents one token until it expires, so anything remembered between calls (the parsed header,
the key set) must never stand in for checking the token itself.
"""

from __future__ import annotations

from tests.authorizer.support import (
    STAGE_ARN,
    FakeClock,
    Forge,
    Harness,
    JwksServer,
    Keys,
    effects,
    public_jwk,
    token_event,
)


def _flip_signature_bit(token: str) -> str:
    head, _, signature = token.rpartition(".")
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def test_a_memoised_token_is_still_checked_for_expiry_on_every_call(
    harness: Harness, forge: Forge, clock: FakeClock
) -> None:
    token = forge.token()
    assert effects(harness(token_event(token))) == [("Allow", STAGE_ARN)]
    clock.advance(600 + 3600)  # past exp and any skew
    assert harness.unauthorized(token_event(token)) == "expired"


def test_a_memoised_token_stops_verifying_once_its_key_is_withdrawn(
    harness: Harness, jwks: JwksServer, keys: Keys, forge: Forge, clock: FakeClock
) -> None:
    token = forge.token()
    assert effects(harness(token_event(token))) == [("Allow", STAGE_ARN)]
    jwks.serve(public_jwk(keys.rotated, "local-2"))
    clock.advance(10)
    harness(token_event(forge.token(key=keys.rotated, kid="local-2")))  # the refresh drops local-1
    assert harness.unauthorized(token_event(token)) == "unknown_kid"


def test_the_same_header_and_payload_with_another_signature_is_verified_anew(harness: Harness, forge: Forge) -> None:
    token = forge.token()
    harness(token_event(token))
    assert harness.unauthorized(token_event(_flip_signature_bit(token))) == "bad_signature"
    assert effects(harness(token_event(token))) == [("Allow", STAGE_ARN)]
