"""Per-issuer JWKS cache: fetched at init, refreshed on an unknown kid at most once per interval.

A failed or empty refresh keeps the last good key set, so an IdP outage does not lock users out,
and an unknown-kid flood costs at most one fetch per interval (the miss is cached by that wait).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .audit import AuditLog
from .config import DEFAULT_MAX_KEY_SET_AGE_SECONDS, check_jwks_url
from .jose import loads_strict
from .keys import UnusableKeyError, VerifyKey, load_jwk

MAX_JWKS_BYTES = 256 * 1024

_READ_CHUNK = 16 * 1024


class JwksError(Exception):
    """The key set could not be fetched; the message names the cause, never a key."""


def fetch_jwks(url: str, timeout: float) -> bytes:
    """One GET of a JWK set, e.g. ``b'{"keys": [...]}'``, bounded in time and size.

    `timeout` (seconds) is one overall deadline for connect, TLS handshake, status line, headers and
    body together: every read from the socket waits at most for what is left of it, so a server that
    stalls or trickles one byte at a time is cut off at the deadline, not at a per-read timeout.
    http.client follows no redirects (a 3xx is a failure), uses no proxy, and refuses a header line
    over 64 KiB or more than 100 headers; the body is capped at `MAX_JWKS_BYTES`.
    Raises `JwksError` naming the cause.
    """
    import http.client  # deferred: only init and key rotation need it (and its email import)
    import ssl

    parts = urlsplit(check_jwks_url(url))
    deadline = time.monotonic() + timeout
    connection = (
        http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context())
        if parts.scheme == "https"
        else http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    raw = None
    try:
        connection.connect()
        raw = connection.sock
        connection.sock = _DeadlineSocket(raw, deadline)
        connection.request("GET", target, headers={"Accept": "application/json", "User-Agent": "secure-api-authorizer"})
        response = connection.getresponse()
        if response.status != 200:
            raise JwksError(f"HTTP {response.status} (redirects are not followed)")
        body = bytearray()
        while chunk := response.read1(_READ_CHUNK):
            body += chunk
            if len(body) > MAX_JWKS_BYTES:
                raise JwksError(f"larger than {MAX_JWKS_BYTES} bytes")
    except TimeoutError:
        raise JwksError(f"slower than {timeout}s") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise JwksError(f"{type(exc).__name__}: {exc}"[:200]) from None
    finally:
        connection.close()
        if raw is not None:
            raw.close()
    return bytes(body)


class _DeadlineSocket:
    """A connected socket whose every read and write waits at most until `deadline` (time.monotonic)."""

    def __init__(self, sock: Any, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def _budget(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        self._sock.settimeout(remaining)

    def sendall(self, data: bytes) -> None:
        self._budget()
        self._sock.sendall(data)

    def recv_into(self, buffer: Any, size: int = 0) -> int:
        self._budget()
        return self._sock.recv_into(buffer, size)

    def makefile(self, mode: str) -> io.BufferedReader:
        assert mode == "rb"  # http.client reads the response through this file only
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        """http.client closes the connection while the response is still being read: `fetch_jwks` closes
        the real socket once it is done."""


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)


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
        max_age: float = DEFAULT_MAX_KEY_SET_AGE_SECONDS,
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
        self._max_age = max_age
        self._fetched_at = float("-inf")
        self._reported: set[tuple[str, str]] = set()

    def get(self, kid: str) -> VerifyKey | None:
        """The key for `kid`; refetches (at most every `min_refetch` s) for an unknown kid or a set older
        than `max_age` s, so a key withdrawn from the issuer's JWKS stops verifying within `max_age`."""
        key = self._keys.get(kid)
        now = self._monotonic()
        stale = now - self._fetched_at >= self._max_age
        if (key is None or stale) and now - self._last_attempt >= self._min_refetch:
            self.refresh()
            key = self._keys.get(kid)
        return key

    def prefetch(self) -> bool:
        """`refresh` that never raises: whatever goes wrong is logged, and the first request tries again."""
        try:
            return self.refresh()
        except Exception as exc:  # init must survive anything an issuer's endpoint sends
            self._last_attempt = float("-inf")
            return self._report(False, error=f"prefetch failed: {type(exc).__name__}")

    def refresh(self) -> bool:
        self._last_attempt = self._monotonic()
        try:
            listed, entries, duplicated = _entries(loads_strict(fetch_jwks(self._url, self._timeout).decode("utf-8")))
        except (JwksError, ValueError, RecursionError) as exc:
            return self._report(False, error=str(exc)[:200] or type(exc).__name__)
        keys: dict[str, VerifyKey] = {}
        skipped: dict[str, str] = dict.fromkeys(duplicated, "kid listed more than once")
        for kid, jwk in entries.items():
            # Keys are parsed once: an unchanged JWK keeps its parsed key across refreshes.
            if self._jwks.get(kid) == jwk:
                keys[kid] = self._keys[kid]
                continue
            try:
                keys[kid] = load_jwk(jwk, self._algorithms)
            except UnusableKeyError as exc:
                skipped[kid] = str(exc)
        # Each unusable key is reported once per environment (kid and reason), not at every refresh.
        new = {kid: why for kid, why in skipped.items() if (kid, why) not in self._reported}
        self._reported.update(new.items())
        unusable = [{"kid": kid[:64], "reason": why} for kid, why in sorted(new.items())]
        if not keys:
            # Keep the last good set, as for an HTTP error: one bad publication never locks callers out.
            return self._report(False, error="no usable signing key", unusableKeys=unusable)
        self._keys, self._jwks = keys, {kid: entries[kid] for kid in keys}
        self._fetched_at = self._last_attempt
        return self._report(
            True, keys=len(keys), skipped=listed - len(keys), unusableKeys=unusable, unusableKeyCount=len(skipped)
        )

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


def _entries(document: object) -> tuple[int, dict[str, dict[str, Any]], set[str]]:
    """How many JWKs are listed, those with a kid by kid, and the kids listed twice (trusted neither time)."""
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
    return len(document["keys"]), entries, duplicated
