"""JWT authentication: strict JWS parsing, a pinned key from the issuer's JWKS, then strict claims.

Stricter than aws-jwt-verify on purpose: exp, iat, iss and sub are required, a future iat is
refused, and any ``crit`` header is refused (we implement no extensions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring_ascii
from typing import Any

from .audit import AuditLog
from .config import DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, IssuerSettings, Settings
from .errors import AuthenticationError
from .events import Identity, bearer_token, credential
from .jose import JwsParser
from .jwks import JwksCache

_GROUP_CLAIMS = ("cognito:groups", "groups")
_NUMBERS = (int, float)
_MAX_DATE = 1e11  # seconds: year 5138; also false for NaN
_NON_SPACE_WHITESPACE = re.compile(r"[^\S ]")
"""Whitespace other than U+0020 (`re`'s `\\s` on str is `str.isspace`, both `Py_UNICODE_ISSPACE`)."""


class JwtAuthenticator:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float],
        monotonic: Callable[[], float],
        log: AuditLog,
    ) -> None:
        self._parser = JwsParser(settings.algorithms, settings.max_token_bytes)
        self._header = settings.identity_header
        self._skew = settings.clock_skew_seconds
        self._max_lifetime = settings.max_token_lifetime_seconds
        self._clock = clock
        self._issuers = {
            issuer.issuer: (
                issuer,
                JwksCache(
                    issuer.issuer,
                    issuer.jwks_url,
                    algorithms=settings.algorithms,
                    timeout=settings.jwks_timeout_seconds,
                    min_refetch=settings.jwks_min_refetch_seconds,
                    monotonic=monotonic,
                    log=log,
                    max_age=settings.jwks_max_age_seconds,
                ),
            )
            for issuer in settings.issuers
        }

    def prefetch(self) -> None:
        """Fetch every issuer's key set; never raises, so a bad JWKS cannot fail the Lambda init."""
        for _, cache in self._issuers.values():
            cache.prefetch()

    def authenticate(self, event: Mapping[str, Any]) -> Identity:
        alg, kid, claims, signing_input, signature = self._parser.parse(bearer_token(credential(event, self._header)))
        iss = claims.get("iss")
        entry = self._issuers.get(iss) if type(iss) is str else None
        if entry is None:
            raise AuthenticationError("unknown_issuer")
        issuer, cache = entry
        key = cache.get(kid)
        if key is None:
            raise AuthenticationError("unknown_kid")
        if not key.verify(alg, signing_input, signature):
            raise AuthenticationError("bad_signature")
        return validate_claims(
            claims, issuer, now=self._clock(), skew=self._skew, max_lifetime=self._max_lifetime
        )


def validate_claims(
    claims: dict[str, Any],
    issuer: IssuerSettings,
    *,
    now: float,
    skew: int,
    max_lifetime: int = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
) -> Identity:
    """Claims of a token whose signature and issuer are already verified (RFC 7519 section 4.1).

    Raises `AuthenticationError` for a missing or mistyped registered claim, an expired or future
    token, a lifetime `exp - iat` over `max_lifetime` seconds, a non-string `aud` item or `jti`, and a
    `scope` that is not single-space-delimited (RFC 6749 section 3.3).
    """
    exp, iat = claims.get("exp"), claims.get("iat")
    if exp is None or iat is None:
        raise AuthenticationError("missing_claim")
    # bool is an int subclass, 1e999 parses to inf and 10**400 overflows a float: none is a date.
    if type(exp) not in _NUMBERS or type(iat) not in _NUMBERS or not (abs(exp) < _MAX_DATE > abs(iat)):
        raise AuthenticationError("bad_claim")
    if exp <= iat:
        raise AuthenticationError("bad_claim")
    if exp - iat > max_lifetime:
        raise AuthenticationError("lifetime_too_long")
    jti = claims.get("jti")
    if jti is not None and type(jti) is not str:
        raise AuthenticationError("bad_claim")
    if now >= exp + skew:
        raise AuthenticationError("expired")
    latest = now + skew
    if iat > latest:
        raise AuthenticationError("issued_in_future")
    nbf = claims.get("nbf", 0)
    if type(nbf) not in _NUMBERS or not abs(nbf) < _MAX_DATE:
        raise AuthenticationError("bad_claim")
    if nbf > latest:
        raise AuthenticationError("not_yet_valid")
    sub = claims.get("sub")
    if type(sub) is not str or not sub:
        raise AuthenticationError("missing_claim" if sub is None else "bad_claim")
    token_use = claims.get("token_use")
    if issuer.token_use is not None and token_use != issuer.token_use:
        raise AuthenticationError("wrong_token_use")
    client_id = claims.get("client_id")
    if issuer.client_ids and (type(client_id) is not str or client_id not in issuer.client_ids):
        raise AuthenticationError("client_not_allowed")
    audience = _audience(claims.get("aud"), issuer.audiences) if issuer.audiences else None
    scope, groups = _scope(claims), _names(claims, _GROUP_CLAIMS)
    context = {
        "sub": sub,
        "username": _username(claims),
        "clientId": client_id if type(client_id) is str else audience or "",
        "scopes": scope,
        # Group names may hold spaces or commas outside Cognito: a JSON array is unambiguous.
        "groups": f"[{','.join(map(encode_basestring_ascii, groups))}]",
        "tokenUse": token_use if type(token_use) is str else "",
        "issuer": issuer.issuer,
    }
    return Identity(sub, context, frozenset(scope.split(" ")) - {""}, frozenset(groups))


def _audience(aud: object, allowed: frozenset[str]) -> str:
    """The allowed audience the token names (``aud`` is a string or a list of strings)."""
    candidates = [aud] if type(aud) is str else aud if type(aud) is list else []
    if any(type(candidate) is not str for candidate in candidates):
        raise AuthenticationError("bad_claim")  # RFC 7519 section 4.1.3: an array of strings
    for candidate in candidates:
        if candidate in allowed:
            return candidate
    raise AuthenticationError("audience_not_allowed")


def _scope(claims: dict[str, Any]) -> str:
    """The granted scopes, space-separated: ``scope``, else ``scp``.

    ``scope`` is a space-separated string (RFC 8693 section 4.2, RFC 9068). ``scp`` is that string
    too (Entra ID, Cognito tokens with a trigger-added ``scp``) or an array of names (Okta); array
    items must be non-empty and free of whitespace, so the string form stays unambiguous.
    """
    scope = claims.get("scope")
    if scope is not None:
        # RFC 6749 section 3.3: scope tokens are delimited by spaces (%x20) only; a tab or another
        # whitespace inside a signed scope would otherwise split one granted name into two.
        if type(scope) is not str or _NON_SPACE_WHITESPACE.search(scope):
            raise AuthenticationError("bad_claim")
        return scope
    scp = claims.get("scp")
    if scp is None:
        return ""
    if type(scp) is str:
        if _NON_SPACE_WHITESPACE.search(scp):
            raise AuthenticationError("bad_claim")
        return scp
    if type(scp) is not list:
        raise AuthenticationError("bad_claim")
    for item in scp:
        if type(item) is not str or item.split() != [item]:  # empty, or holds whitespace
            raise AuthenticationError("bad_claim")
    return " ".join(scp)


def _names(claims: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    for name in names:
        value = claims.get(name)
        if value is not None:
            if type(value) is not list:
                raise AuthenticationError("bad_claim")
            for item in value:
                if type(item) is not str or not item:
                    raise AuthenticationError("bad_claim")
            return value
    return []


def _username(claims: dict[str, Any]) -> str:
    """Cognito access tokens say ``username``, its ID tokens ``cognito:username``."""
    name = claims.get("username") or claims.get("cognito:username")
    return name if type(name) is str else ""
