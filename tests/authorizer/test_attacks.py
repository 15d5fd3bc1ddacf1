"""Known JWT attacks and malformed input: every one is a 401 ``Unauthorized``, never a 500.

Each case also names the reason class the decision log must record, which proves the token was
refused for the intended reason and not by accident further down the pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.authorizer.support import (
    ISSUER,
    STAGE_ARN,
    FakeClock,
    Forge,
    Harness,
    JwksServer,
    Keys,
    b64url,
    effects,
    public_jwk,
    segment,
    token_event,
)


@dataclass(frozen=True)
class Attack:
    forge: Forge
    keys: Keys
    clock: FakeClock
    attacker_jwks_url: str

    @property
    def now(self) -> int:
        return int(self.clock())

    def valid(self) -> str:
        return self.forge.token()

    def with_header(self, **header: Any) -> str:
        return self.forge.token(header={"alg": "RS256", "kid": "local-1", **header})

    def by_attacker(self, kid: str = "local-1", **header: Any) -> str:
        return self.forge.token(key=self.keys.attacker, header={"alg": "RS256", "kid": kid, **header})

    def claims(self, **claims: Any) -> str:
        return self.forge.token(self.forge.claims(**claims))

    def raw_payload(self, text: str) -> str:
        return self.forge.token(text)


def _flip_signature_bit(token: str) -> str:
    head, _, signature = token.rpartition(".")
    first = "B" if signature[0] == "A" else "A"
    return f"{head}.{first}{signature[1:]}"


def _non_canonical_signature(token: str) -> str:
    """Same signature bytes, other spelling: set unused low bits of the last character."""
    head, _, signature = token.rpartition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return f"{head}.{signature[:-1]}{alphabet[alphabet.index(signature[-1]) | 1]}"


def _tampered_payload(attack: Attack) -> str:
    header, _, signature = attack.valid().split(".")
    return f"{header}.{segment(attack.forge.claims(sub='admin'))}.{signature}"


def _duplicate_member(claims: dict[str, Any], name: str, value: Any) -> str:
    return json.dumps(claims)[:-1] + f", {json.dumps(name)}: {json.dumps(value)}}}"


def _hs256_with_public_key(attack: Attack) -> str:
    pem = attack.keys.primary.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return attack.forge.token(key=pem, alg="HS256")


Build = Callable[[Attack], str]
TOKEN_ATTACKS: list[tuple[str, Build, str]] = [
    ("alg none", lambda a: a.forge.token(key=None, alg="none"), "alg_not_allowed"),
    ("alg None", lambda a: a.forge.token(key=None, alg="None"), "alg_not_allowed"),
    ("alg NONE with signature", lambda a: a.with_header(alg="NONE"), "alg_not_allowed"),
    ("HS256 keyed with the public key", _hs256_with_public_key, "alg_not_allowed"),
    ("PS256 not in the allow-list", lambda a: a.forge.token(alg="PS256"), "alg_not_allowed"),
    (
        "ES256 not in the allow-list",
        lambda a: a.forge.token(key=a.keys.ec256, alg="ES256", kid="ec-1"),
        "alg_not_allowed",
    ),
    ("alg missing", lambda a: a.forge.token(header={"kid": "local-1"}), "alg_not_allowed"),
    ("signature stripped", lambda a: a.valid().rpartition(".")[0] + ".", "malformed_token"),
    ("signature tampered", lambda a: _flip_signature_bit(a.valid()), "bad_signature"),
    ("signature spelled non-canonically", lambda a: _non_canonical_signature(a.valid()), "malformed_token"),
    ("payload tampered after signing", _tampered_payload, "bad_signature"),
    ("signed by an attacker under our kid", lambda a: a.by_attacker(), "bad_signature"),
    ("kid missing", lambda a: a.forge.token(header={"alg": "RS256"}), "missing_kid"),
    ("kid not a string", lambda a: a.forge.token(header={"alg": "RS256", "kid": 1}), "missing_kid"),
    ("kid unknown", lambda a: a.by_attacker(kid="attacker-1"), "unknown_kid"),
    ("kid path traversal", lambda a: a.by_attacker(kid="../../../../etc/passwd"), "unknown_kid"),
    ("jku to the attacker's JWKS", lambda a: a.by_attacker("attacker-1", jku=a.attacker_jwks_url), "unknown_kid"),
    ("x5u to the attacker's key", lambda a: a.by_attacker("attacker-1", x5u=a.attacker_jwks_url), "unknown_kid"),
    (
        "jwk header embedding the attacker's key",
        lambda a: a.by_attacker(jwk=public_jwk(a.keys.attacker, "local-1")),
        "bad_signature",
    ),
    ("x5c header with a forged chain", lambda a: a.by_attacker(x5c=[b64url(b"not a certificate")]), "bad_signature"),
    ("weak 1024-bit RSA key", lambda a: a.forge.token(key=a.keys.weak, kid="weak"), "unknown_kid"),
    ("unknown crit extension", lambda a: a.with_header(crit=["exp"]), "unsupported_header"),
    ("empty crit", lambda a: a.with_header(crit=[]), "unsupported_header"),
    ("b64 false (unencoded payload)", lambda a: a.with_header(b64=False), "unsupported_header"),
    ("zip (JWE compression)", lambda a: a.with_header(zip="DEF"), "unsupported_header"),
    ("typ of a non-JWT", lambda a: a.with_header(typ="JOSE+JSON"), "unsupported_header"),
    (
        "duplicate header parameter",
        lambda a: a.forge.token(header='{"alg":"RS256","kid":"local-1","alg":"none"}'),
        "malformed_token",
    ),
    ("header is not an object", lambda a: a.forge.token(header="[]"), "malformed_token"),
    ("empty header", lambda a: "." + a.valid().split(".", 1)[1], "malformed_token"),
    ("expired", lambda a: a.claims(iat=a.now - 3600, exp=a.now - 60), "expired"),
    ("nbf in the future", lambda a: a.claims(nbf=a.now + 120), "not_yet_valid"),
    ("iat in the future", lambda a: a.claims(iat=a.now + 120, exp=a.now + 900), "issued_in_future"),
    ("exp before iat", lambda a: a.claims(exp=a.now - 1, iat=a.now), "bad_claim"),
    ("exp missing", lambda a: a.forge.token(a.forge.claims(drop=("exp",))), "missing_claim"),
    ("iat missing", lambda a: a.forge.token(a.forge.claims(drop=("iat",))), "missing_claim"),
    ("sub missing", lambda a: a.forge.token(a.forge.claims(drop=("sub",))), "missing_claim"),
    ("sub empty", lambda a: a.claims(sub=""), "bad_claim"),
    ("iss missing", lambda a: a.forge.token(a.forge.claims(drop=("iss",))), "unknown_issuer"),
    ("exp as a string", lambda a: a.claims(exp=str(a.now + 600)), "bad_claim"),
    ("exp as a boolean", lambda a: a.claims(exp=True), "bad_claim"),
    (
        "exp infinite (1e999)",
        lambda a: a.raw_payload(json.dumps(a.forge.claims(exp=0)).replace('"exp": 0', '"exp": 1e999')),
        "bad_claim",
    ),
    ("exp too large for a float", lambda a: a.claims(exp=10**400), "bad_claim"),
    (
        "nbf infinite",
        lambda a: a.raw_payload(json.dumps(a.forge.claims(nbf=0)).replace('"nbf": 0', '"nbf": -1e999')),
        "bad_claim",
    ),
    (
        "exp NaN",
        lambda a: a.raw_payload(json.dumps(a.forge.claims(exp=0)).replace('"exp": 0', '"exp": NaN')),
        "malformed_token",
    ),
    (
        "duplicate sub claim",
        lambda a: a.raw_payload(_duplicate_member(a.forge.claims(), "sub", "admin")),
        "malformed_token",
    ),
    (
        "duplicate exp claim",
        lambda a: a.raw_payload(_duplicate_member(a.forge.claims(), "exp", 2**40)),
        "malformed_token",
    ),
    ("payload is an array", lambda a: a.raw_payload("[]"), "malformed_token"),
    ("payload nested 2000 deep", lambda a: a.raw_payload("[" * 2000 + "]" * 2000), "malformed_token"),
    ("wrong issuer", lambda a: a.claims(iss="https://evil.example/tenant-1"), "unknown_issuer"),
    ("issuer prefix only", lambda a: a.claims(iss=ISSUER[:-2]), "unknown_issuer"),
    ("issuer with a trailing slash", lambda a: a.claims(iss=ISSUER + "/"), "unknown_issuer"),
    ("issuer in another case", lambda a: a.claims(iss=ISSUER.upper()), "unknown_issuer"),
    ("issuer as a list", lambda a: a.claims(iss=[ISSUER]), "unknown_issuer"),
    ("client of another app", lambda a: a.claims(client_id="other-app"), "client_not_allowed"),
    (
        "audience instead of client_id",
        lambda a: a.forge.token(a.forge.claims(drop=("client_id",), aud="app-client-1")),
        "client_not_allowed",
    ),
    ("id token where access is expected", lambda a: a.claims(token_use="id"), "wrong_token_use"),
    ("token_use missing", lambda a: a.forge.token(a.forge.claims(drop=("token_use",))), "wrong_token_use"),
    ("scope as a list", lambda a: a.claims(scope=["orders/read"]), "bad_claim"),
    ("groups as a string", lambda a: a.claims(**{"cognito:groups": "admins"}), "bad_claim"),
    ("four parts", lambda a: a.valid() + ".e30", "malformed_token"),
    ("five parts (JWE shape)", lambda _: "e30.e30.e30.e30.e30", "malformed_token"),
    ("two parts", lambda a: a.valid().rpartition(".")[0], "malformed_token"),
    ("standard base64 characters", lambda a: a.valid().replace("-", "+").replace("_", "/") + "+/", "malformed_token"),
    ("base64 padding", lambda a: a.valid() + "==", "malformed_token"),
    ("non-ASCII character", lambda a: a.valid()[:-1] + "\u00e9", "malformed_token"),
    ("oversized token", lambda a: a.claims(padding="x" * 9000), "token_too_large"),
    ("garbage", lambda _: "garbage", "malformed_token"),
]

SCHEME_ATTACKS: list[tuple[str, Callable[[str], Any], str]] = [
    ("no scheme", lambda t: t, "bad_scheme"),
    ("Basic scheme", lambda t: f"Basic {t}", "bad_scheme"),
    ("Bearer without a token", lambda _: "Bearer", "bad_scheme"),
    ("Bearer and a space only", lambda _: "Bearer ", "bad_scheme"),
    ("Bearer: with a colon", lambda t: f"Bearer: {t}", "bad_scheme"),
    ("Bearer with a tab", lambda t: f"Bearer\t{t}", "bad_scheme"),
    ("Bearer with two spaces", lambda t: f"Bearer  {t}", "malformed_token"),
    ("Bearer with a trailing space", lambda t: f"Bearer {t} ", "malformed_token"),
    ("Bearer with a trailing newline", lambda t: f"Bearer {t}\n", "malformed_token"),
    ("Bearer twice", lambda t: f"Bearer Bearer {t}", "malformed_token"),
    ("empty header", lambda _: "", "missing_credentials"),
    ("not a string", lambda _: 12345, "missing_credentials"),
    ("one megabyte", lambda _: "Bearer " + "a" * 2**20, "token_too_large"),
]

EVENT_ATTACKS: list[tuple[str, Any, str]] = [
    ("event is a list", [], "bad_event"),
    ("event is None", None, "bad_event"),
    ("unknown event type", {"type": "COOKIE", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x"}, "bad_event"),
    ("missing methodArn", {"type": "TOKEN", "authorizationToken": "Bearer x"}, "bad_event"),
    (
        "methodArn of another service",
        {"type": "TOKEN", "authorizationToken": "x", "methodArn": "arn:aws:s3:::b"},
        "bad_event",
    ),
    (
        "missing authorizationToken",
        {"type": "TOKEN", "methodArn": STAGE_ARN.replace("*/*", "GET/")},
        "missing_credentials",
    ),
]


@pytest.fixture
def attacker_jwks(keys: Keys) -> Iterator[JwksServer]:
    server = JwksServer()
    server.serve(public_jwk(keys.attacker, "attacker-1", alg="RS256"), public_jwk(keys.attacker, "local-1"))
    yield server
    server.stop()


@pytest.fixture
def attack(forge: Forge, keys: Keys, clock: FakeClock, attacker_jwks: JwksServer) -> Attack:
    return Attack(forge, keys, clock, attacker_jwks.url)


def test_the_table_is_large_enough() -> None:
    assert len(TOKEN_ATTACKS) + len(SCHEME_ATTACKS) + len(EVENT_ATTACKS) >= 25


def test_positive_control_the_untouched_token_is_allowed(harness: Harness, attack: Attack) -> None:
    assert effects(harness(token_event(attack.valid()))) == [("Allow", STAGE_ARN)]


@pytest.mark.parametrize(("build", "reason"), [case[1:] for case in TOKEN_ATTACKS], ids=[c[0] for c in TOKEN_ATTACKS])
def test_forged_or_malformed_token_is_unauthorized(
    harness: Harness, attack: Attack, attacker_jwks: JwksServer, build: Build, reason: str
) -> None:
    assert harness.unauthorized(token_event(build(attack))) == reason
    assert attacker_jwks.hits == 0  # jku/x5u are never followed


@pytest.mark.parametrize(("wrap", "reason"), [c[1:] for c in SCHEME_ATTACKS], ids=[c[0] for c in SCHEME_ATTACKS])
def test_bad_authorization_header_is_unauthorized(
    harness: Harness, attack: Attack, wrap: Callable[[str], Any], reason: str
) -> None:
    event = {"type": "TOKEN", "authorizationToken": wrap(attack.valid()), "methodArn": STAGE_ARN.replace("*/*", "GET/")}

    assert harness.unauthorized(event) == reason


@pytest.mark.parametrize(("event", "reason"), [c[1:] for c in EVENT_ATTACKS], ids=[c[0] for c in EVENT_ATTACKS])
def test_malformed_event_is_unauthorized(harness: Harness, event: Any, reason: str) -> None:
    assert harness.unauthorized(event) == reason


def test_scheme_is_case_insensitive(harness: Harness, attack: Attack) -> None:
    assert effects(harness(token_event(attack.valid(), scheme="bearer "))) == [("Allow", STAGE_ARN)]


def test_decision_log_never_contains_the_token(harness: Harness, attack: Attack) -> None:
    token = attack.valid()
    harness(token_event(token))
    harness.unauthorized(token_event(_flip_signature_bit(token)))

    logged = harness.log.getvalue()
    assert token.split(".")[2][:20] not in logged
    assert token.split(".")[1][:20] not in logged
    assert all(json.loads(line) for line in logged.splitlines())
