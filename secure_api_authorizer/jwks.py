"""Per-issuer JWKS cache: fetched at init, refreshed on an unknown kid at most once per interval.

A failed or empty refresh keeps the last good key set, so an IdP outage does not lock users out,
and an unknown-kid flood costs at most one fetch per interval (the miss is cached by that wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .audit import AuditLog
from .config import check_jwks_url
from .jose import loads_strict
from .keys import VerifyKey, parse_jwk

MAX_JWKS_BYTES = 256 * 1024
_READ_CHUNK = 16 * 1024


class JwksError(Exception):
    """The key set could not be fetched; the message names the cause, never a key."""


def fetch_jwks(url: str, timeout: float) -> bytes:
    """One GET, bounded in time and size. http.client follows no redirects and uses no proxy."""
    import http.client  # deferred: only init and key rotation need it (and its email import)
    import ssl

    parts = urlsplit(check_jwks_url(url))
    connection = (
        http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context())
        if parts.scheme == "https"
        else http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    try:
        connection.request("GET", target, headers={"Accept": "application/json", "User-Agent": "secure-api-authorizer"})
        response = connection.getresponse()
        if response.status != 200:
            raise JwksError(f"HTTP {response.status} (redirects are not followed)")
        body = bytearray()
        while chunk := response.read(_READ_CHUNK):
            body += chunk
            if len(body) > MAX_JWKS_BYTES:
                raise JwksError(f"larger than {MAX_JWKS_BYTES} bytes")
            if time.monotonic() > deadline:
                raise JwksError(f"slower than {timeout}s")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise JwksError(f"{type(exc).__name__}: {exc}"[:200]) from None
    finally:
        connection.close()
    return bytes(body)


class JwksCache:
    def __init__(
        self,
        issuer: str,
        url: str,
        *,
        algorithms: frozenset[str],
        timeout: float,
        min_refetch: float,
        monotonic: Callable[[], float],
        log: AuditLog,
    ) -> None:
        self._issuer = issuer
        self._url = url
        self._algorithms = algorithms
        self._timeout = timeout
        self._min_refetch = min_refetch
        self._monotonic = monotonic
        self._log = log
        self._keys: dict[str, VerifyKey] = {}
        self._jwks: dict[str, dict[str, Any]] = {}
        self._last_attempt = float("-inf")

    def get(self, kid: str) -> VerifyKey | None:
        key = self._keys.get(kid)
        if key is None and self._monotonic() - self._last_attempt >= self._min_refetch:
            self.refresh()
            key = self._keys.get(kid)
        return key

    def refresh(self) -> bool:
        self._last_attempt = self._monotonic()
        try:
            listed, entries = _entries(loads_strict(fetch_jwks(self._url, self._timeout).decode("utf-8")))
        except (JwksError, ValueError, RecursionError) as exc:
            return self._report(False, error=str(exc)[:200] or type(exc).__name__)
        keys: dict[str, VerifyKey] = {}
        for kid, jwk in entries.items():
            # Keys are parsed once: an unchanged JWK keeps its parsed key across refreshes.
            key = self._keys.get(kid) if self._jwks.get(kid) == jwk else parse_jwk(jwk, self._algorithms)
            if key is not None:
                keys[kid] = key
        if not keys:
            return self._report(False, error="no usable signing key")
        self._keys, self._jwks = keys, {kid: entries[kid] for kid in keys}
        return self._report(True, keys=len(keys), skipped=listed - len(keys))

    def _report(self, ok: bool, **fields: Any) -> bool:
        self._log.emit(
            {
                "level": "INFO" if ok else "WARN",
                "event": "jwks_refresh",
                "outcome": "ok" if ok else "failed",
                "issuer": self._issuer,
                "cachedKeys": len(self._keys),
                **fields,
            }
        )
        return ok


def _entries(document: object) -> tuple[int, dict[str, dict[str, Any]]]:
    """How many JWKs are listed, and those with a kid by kid (a kid listed twice trusts neither)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    entries: dict[str, dict[str, Any]] = {}
    duplicated: set[str] = set()
    for jwk in document["keys"]:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if isinstance(kid, str) and kid:
            if kid in entries:
                duplicated.add(kid)
            entries[kid] = jwk
    for kid in duplicated:
        del entries[kid]
    return len(document["keys"]), entries
