"""Claims are read as their RFCs define them, never leniently.

- `aud` is a string or an array of strings (RFC 7519 section 4.1.3): any other item refuses the token.
- `jti`, when present, is a string (RFC 7519 section 4.1.7).
- `scope` is a list of space-delimited names (RFC 6749 section 3.3, `scope-token *( SP scope-token )`):
  a tab, newline or other whitespace in a signed scope refuses the token instead of splitting a name.
- `exp - iat` is capped (`JWT_MAX_TOKEN_LIFETIME_SECONDS`, default 24 h, above Cognito's longest token
  validity), so a token minted to live for centuries is refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from secure_api_authorizer.config import IssuerSettings
from secure_api_authorizer.errors import AuthenticationError
from secure_api_authorizer.jwt_auth import validate_claims
from tests.authorizer.support import STAGE_ARN, FakeClock, Forge, Harness, effects, jwt_env, token_event

NOW = 1_900_000_000
ISSUER = IssuerSettings("https://issuer.test", "https://issuer.test/jwks", frozenset(), frozenset({"1234"}), None)


def claims(**overrides: Any) -> dict[str, Any]:
    return {"iss": ISSUER.issuer, "sub": "s", "iat": NOW, "exp": NOW + 600, "aud": "1234", **overrides}


def reason(**overrides: Any) -> str | None:
    try:
        validate_claims(claims(**overrides), ISSUER, now=NOW, skew=10)
    except AuthenticationError as exc:
        return exc.reason
    return None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"aud": ["1234", 5678]}, "bad_claim"),
        ({"aud": ["1234", None]}, "bad_claim"),
        ({"aud": ["1234", ["nested"]]}, "bad_claim"),
        ({"aud": ["1234", "other"]}, None),
        ({"aud": ["other"]}, "audience_not_allowed"),
        ({"jti": 42}, "bad_claim"),
        ({"jti": ["a"]}, "bad_claim"),
        ({"jti": "2f1c-44"}, None),
        ({"scope": "orders/read\torders/admin"}, "bad_claim"),
        ({"scope": "orders/read\norders/admin"}, "bad_claim"),
        ({"scope": "orders/read\u00a0orders/admin"}, "bad_claim"),
        ({"scope": "orders/read orders/admin"}, None),
        ({"scp": "orders/read\u2003orders/admin"}, "bad_claim"),
        ({"exp": NOW + 86400 + 1}, "lifetime_too_long"),
        ({"exp": 9_999_999_999}, "lifetime_too_long"),  # the year 2286
        ({"exp": NOW + 86400}, None),
    ],
)
def test_claims_outside_their_rfc_shape_are_refused(overrides: dict[str, Any], expected: str | None) -> None:
    assert reason(**overrides) == expected


def test_space_delimited_scopes_grant_each_name_and_nothing_more() -> None:
    identity = validate_claims(claims(scope="orders/read  orders/write"), ISSUER, now=NOW, skew=10)
    assert identity.scopes == frozenset({"orders/read", "orders/write"})


def test_the_lifetime_cap_is_configurable_and_applies_end_to_end(
    make_harness: Any, jwks: Any, forge: Forge, clock: FakeClock
) -> None:
    harness: Harness = make_harness({**jwt_env(jwks.url), "JWT_MAX_TOKEN_LIFETIME_SECONDS": "3600"})
    now = int(clock())
    assert effects(harness(token_event(forge.token(forge.claims(exp=now + 3600))))) == [("Allow", STAGE_ARN)]
    assert harness.unauthorized(token_event(forge.token(forge.claims(exp=now + 3601)))) == "lifetime_too_long"


def test_every_whitespace_code_point_but_space_refuses_a_scope_and_nothing_else_does() -> None:
    """All of Unicode: the refusal is exactly `str.isspace()` minus U+0020, in `scope` and in a string `scp`."""
    refused = {c for c in map(chr, range(0x110000)) if c.isspace() and c != " "}
    assert {"\t", "\n", "\x1c", "\u00a0", "\u2028", "\u3000"} <= refused
    for claim in ("scope", "scp"):
        for char in sorted(refused):
            assert reason(**{claim: f"orders/read{char}orders/admin"}) == "bad_claim", (claim, hex(ord(char)))
    for char in ("a", "/", "\u200b", "\u2060", "\ufeff"):  # zero-width characters are not whitespace
        assert reason(scope=f"orders/read{char}orders/admin") is None
