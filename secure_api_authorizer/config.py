"""The function's environment, parsed and validated once per execution environment.

Every variable is documented in docs/authorizer.md. Variables that do not apply to the selected
``AUTH_MODE`` are ignored, so the component may always set all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from .errors import ConfigError
from .jose import loads_strict
from .routes import RouteRule, cache_conflicts, parse_routes

AUTH_MODE = "AUTH_MODE"
JWT_ISSUERS = "JWT_ISSUERS"
JWT_ALGORITHMS = "JWT_ALGORITHMS"
JWT_CLOCK_SKEW_SECONDS = "JWT_CLOCK_SKEW_SECONDS"
JWT_MAX_TOKEN_BYTES = "JWT_MAX_TOKEN_BYTES"
JWKS_MIN_REFETCH_SECONDS = "JWKS_MIN_REFETCH_SECONDS"
JWKS_TIMEOUT_SECONDS = "JWKS_TIMEOUT_SECONDS"
JWKS_MAX_AGE_SECONDS = "JWKS_MAX_AGE_SECONDS"
JWT_MAX_TOKEN_LIFETIME_SECONDS = "JWT_MAX_TOKEN_LIFETIME_SECONDS"
ROUTE_REQUIREMENTS = "ROUTE_REQUIREMENTS"
RESULT_TTL_SECONDS = "RESULT_TTL_SECONDS"
API_KEY_SHA256 = "API_KEY_SHA256"
IDENTITY_HEADER = "IDENTITY_HEADER"
RETURN_USAGE_IDENTIFIER = "RETURN_USAGE_IDENTIFIER"

MODES = ("jwt", "api_key", "header")
SUPPORTED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
TOKEN_USES = ("access", "id")
DEFAULT_ALGORITHMS = "RS256"
DEFAULT_CLOCK_SKEW_SECONDS = 10
DEFAULT_MAX_TOKEN_BYTES = 8192
DEFAULT_MIN_REFETCH_SECONDS = 15.0
DEFAULT_TIMEOUT_SECONDS = 2.0
# A cached key set older than this is fetched again before it verifies, so a key withdrawn from the
# issuer's JWKS stops verifying within an hour in a warm environment.
DEFAULT_MAX_KEY_SET_AGE_SECONDS = 3600.0
# Above Cognito's longest access/ID token validity (1 day): `exp - iat` beyond it is refused.
DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86400
MAX_TIMEOUT_SECONDS = 3.0
# API Gateway's default authorizerResultTtlInSeconds: a stage-wide policy is right either way.
DEFAULT_RESULT_TTL_SECONDS = 300
DEFAULT_JWT_HEADER = "authorization"
DEFAULT_KEY_HEADER = "x-api-key"

_ISSUER_FIELDS = frozenset({"issuer", "jwksUrl", "clientIds", "audiences", "tokenUse"})
_COGNITO_ISSUER = re.compile(r"https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[A-Za-z0-9-]+_[A-Za-z0-9]+")
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
Number = TypeVar("Number", int, float)


class IssuerSettings(NamedTuple):
    issuer: str
    jwks_url: str
    client_ids: frozenset[str]
    audiences: frozenset[str]
    token_use: str | None


class Settings(NamedTuple):
    mode: str
    issuers: tuple[IssuerSettings, ...] = ()
    algorithms: frozenset[str] = frozenset({DEFAULT_ALGORITHMS})
    clock_skew_seconds: int = DEFAULT_CLOCK_SKEW_SECONDS
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
    jwks_min_refetch_seconds: float = DEFAULT_MIN_REFETCH_SECONDS
    jwks_timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    jwks_max_age_seconds: float = DEFAULT_MAX_KEY_SET_AGE_SECONDS
    max_token_lifetime_seconds: int = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
    routes: tuple[RouteRule, ...] = ()
    result_ttl_seconds: int = DEFAULT_RESULT_TTL_SECONDS
    api_keys: tuple[tuple[bytes, str | None], ...] = ()
    identity_header: str = DEFAULT_JWT_HEADER
    return_usage_identifier: bool = False


def load_settings(env: Mapping[str, str]) -> Settings:
    mode = env.get(AUTH_MODE, "jwt")
    if mode not in MODES:
        raise ConfigError(f"{AUTH_MODE} must be one of {', '.join(MODES)}, got {mode!r}")
    common: dict[str, Any] = {
        "mode": mode,
        "result_ttl_seconds": _bounded(env, RESULT_TTL_SECONDS, DEFAULT_RESULT_TTL_SECONDS, 0, 3600),
        "identity_header": _header_name(env, DEFAULT_JWT_HEADER if mode == "jwt" else DEFAULT_KEY_HEADER),
    }
    if mode == "jwt":
        settings = Settings(**common, **_jwt_settings(env))
        _check_cacheable(settings)
        return settings
    if env.get(ROUTE_REQUIREMENTS, "").strip() not in ("", "{}"):
        raise ConfigError(f"{ROUTE_REQUIREMENTS} needs scopes or groups, which only {AUTH_MODE}=jwt has")
    return Settings(
        **common,
        api_keys=_api_keys(_json(env, API_KEY_SHA256, "{}")),
        return_usage_identifier=_boolean(env, RETURN_USAGE_IDENTIFIER),
    )


def _check_cacheable(settings: Settings) -> None:
    """With result caching on, refuse route requirements a stage-wide cached policy cannot express."""
    conflicts = cache_conflicts(settings.routes) if settings.result_ttl_seconds > 0 else []
    if conflicts:
        pairs = "; ".join(f"{a!r} covers {b!r}" for a, b in conflicts)
        raise ConfigError(
            f"{ROUTE_REQUIREMENTS} with {RESULT_TTL_SECONDS} > 0: a cached policy's Deny of one route would also "
            f"deny another with other requirements ({pairs}). Set {RESULT_TTL_SECONDS}=0, give the routes "
            "paths whose ARN patterns do not overlap, or use a REQUEST authorizer whose identity source "
            "includes the path"
        )


def _jwt_settings(env: Mapping[str, str]) -> dict[str, Any]:
    algorithms = frozenset(name.strip() for name in env.get(JWT_ALGORITHMS, DEFAULT_ALGORITHMS).split(","))
    if not algorithms <= SUPPORTED_ALGORITHMS:
        unsupported = sorted(algorithms - SUPPORTED_ALGORITHMS)
        raise ConfigError(f"{JWT_ALGORITHMS}: {unsupported} not supported; use {sorted(SUPPORTED_ALGORITHMS)}")
    issuers = _json(env, JWT_ISSUERS, "[]")
    if not isinstance(issuers, list) or not issuers:
        raise ConfigError(f"{JWT_ISSUERS} must be a non-empty JSON array of issuer objects")
    parsed = tuple(_issuer(item) for item in issuers)
    if len({item.issuer for item in parsed}) != len(parsed):
        raise ConfigError(f"{JWT_ISSUERS} lists an issuer twice")
    return {
        "issuers": parsed,
        "algorithms": algorithms,
        "clock_skew_seconds": _bounded(env, JWT_CLOCK_SKEW_SECONDS, DEFAULT_CLOCK_SKEW_SECONDS, 0, 300),
        "max_token_bytes": _bounded(env, JWT_MAX_TOKEN_BYTES, DEFAULT_MAX_TOKEN_BYTES, 256, 65536),
        "jwks_min_refetch_seconds": _bounded(env, JWKS_MIN_REFETCH_SECONDS, DEFAULT_MIN_REFETCH_SECONDS, 1, 3600),
        "jwks_timeout_seconds": _bounded(env, JWKS_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS, 0.05, MAX_TIMEOUT_SECONDS),
        "jwks_max_age_seconds": _bounded(env, JWKS_MAX_AGE_SECONDS, DEFAULT_MAX_KEY_SET_AGE_SECONDS, 60, 86400),
        "max_token_lifetime_seconds": _bounded(
            env, JWT_MAX_TOKEN_LIFETIME_SECONDS, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, 60, 31 * 86400
        ),
        "routes": parse_routes(_json(env, ROUTE_REQUIREMENTS, "{}")),
    }


def _issuer(item: object) -> IssuerSettings:
    if not isinstance(item, dict) or not set(item) <= _ISSUER_FIELDS:
        raise ConfigError(f"{JWT_ISSUERS} entries are objects with only {sorted(_ISSUER_FIELDS)}")
    issuer = item.get("issuer")
    if not isinstance(issuer, str) or not issuer.startswith("https://"):
        raise ConfigError(f"{JWT_ISSUERS}: issuer must be an https:// URL, got {issuer!r}")
    jwks_url = item.get("jwksUrl") or f"{issuer.rstrip('/')}/.well-known/jwks.json"
    check_jwks_url(jwks_url)
    # Cognito issuers default to access tokens; elsewhere token_use is not a standard claim.
    token_use = item.get("tokenUse", "access" if _COGNITO_ISSUER.fullmatch(issuer) else None)
    if token_use is not None and token_use not in TOKEN_USES:
        raise ConfigError(f"{JWT_ISSUERS}[{issuer!r}].tokenUse must be 'access', 'id' or null")
    client_ids = _strings(issuer, "clientIds", item.get("clientIds", []))
    audiences = _strings(issuer, "audiences", item.get("audiences", []))
    if token_use == "access" and (audiences or not client_ids):
        raise ConfigError(f"{JWT_ISSUERS}[{issuer!r}]: access tokens need clientIds (they carry no aud)")
    if token_use == "id" and (client_ids or not audiences):
        raise ConfigError(f"{JWT_ISSUERS}[{issuer!r}]: id tokens need audiences (the app client ids), not clientIds")
    if not client_ids and not audiences:
        raise ConfigError(f"{JWT_ISSUERS}[{issuer!r}] needs clientIds or audiences (who tokens are for)")
    return IssuerSettings(issuer, jwks_url, client_ids, audiences, token_use)


def check_jwks_url(url: object) -> str:
    """https only; plain http only to a loopback address (local tests)."""
    if not isinstance(url, str):
        raise ConfigError(f"jwksUrl must be a string, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback_host(parts.hostname):
        return url
    raise ConfigError(f"jwksUrl must be https:// (or http:// to a loopback address), got {url!r}")


def _is_loopback_host(host: str) -> bool:
    """localhost, ::1 or 127.0.0.0/8 (without importing ipaddress, for a cheaper cold start)."""
    octets = host.split(".")
    return host in ("localhost", "::1") or (
        len(octets) == 4 and octets[0] == "127" and all(o.isdigit() and o.isascii() and int(o) < 256 for o in octets)
    )


def _api_keys(document: object) -> tuple[tuple[bytes, str | None], ...]:
    if not isinstance(document, dict) or not document:
        raise ConfigError(f"{API_KEY_SHA256} must be a non-empty JSON object of SHA-256 hex digest -> usage key")
    entries = []
    for digest, usage in document.items():
        if not _HEX_SHA256.fullmatch(digest):
            raise ConfigError(f"{API_KEY_SHA256} keys must be lowercase hex SHA-256 digests, not the keys themselves")
        if usage is not None and (not isinstance(usage, str) or not usage):
            raise ConfigError(f"{API_KEY_SHA256} values must be a non-empty usage identifier key or null")
        entries.append((bytes.fromhex(digest), usage))
    return tuple(sorted(entries, key=lambda entry: entry[0]))


def _strings(issuer: str, field: str, value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{JWT_ISSUERS}[{issuer!r}].{field} must be a list of non-empty strings")
    return frozenset(value)


def _json(env: Mapping[str, str], name: str, default: str) -> Any:
    try:
        return loads_strict(env.get(name) or default)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{name} is not valid JSON: {exc}") from None


def _bounded(env: Mapping[str, str], name: str, default: Number, low: Number, high: Number) -> Number:
    """An int or float (as ``default`` is) within [low, high]; NaN and junk are errors."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = type(default)(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise ConfigError(f"{name} must be {kind} from {low} to {high}, got {raw!r}")
    return value


def _boolean(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "false")
    if raw not in ("true", "false"):
        raise ConfigError(f"{name} must be 'true' or 'false', got {raw!r}")
    return raw == "true"


def _header_name(env: Mapping[str, str], default: str) -> str:
    name = env.get(IDENTITY_HEADER) or default
    if not _HEADER_NAME.fullmatch(name):
        raise ConfigError(f"{IDENTITY_HEADER} must be an HTTP header name, got {name!r}")
    return name.lower()
