"""Strict parsing of compact JWS tokens (RFC 7515), done before any key is looked up.

Everything here is stdlib, so a malformed token costs microseconds and never reaches OpenSSL.
"""

from __future__ import annotations

import binascii
import json
from typing import Any, NamedTuple

from .errors import AuthenticationError

# Parameters that change how the signature or payload must be processed; we implement none.
# Key-carrying parameters (jku, x5u, jwk, x5c) are simply never read: keys come only from the
# configured issuer's JWKS URL.
_UNSUPPORTED_HEADER_PARAMS = ("crit", "b64", "zip", "enc")
_ACCEPTED_TYP = frozenset({"jwt", "at+jwt", "application/jwt", "application/at+jwt"})
MAX_KID_LENGTH = 256
_HEADER_CACHE_SIZE = 128
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/***")
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64_VALUE = {char: value for value, char in enumerate(_B64URL_ALPHABET)}
_UNUSED_BITS = (0, 0, 0b1111, 0b11)  # by length % 4: the last character's bits that carry no data
_PADDING = (b"", b"===", b"==", b"=")  # by length % 4


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name")
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_members, parse_constant=_reject_constant)
_SCAN = _DECODER.scan_once


def loads_strict(text: str) -> Any:
    """JSON without duplicate member names or NaN/Infinity, which parsers disagree on.

    The scanner is called directly first: tokens and key sets rarely carry surrounding
    whitespace, and skipping ``decode``'s whitespace regexes and frames is measurable on the hot path.
    """
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError):
        return _DECODER.decode(text)  # leading whitespace, or invalid: decode says which
    return value if end == len(text) else _DECODER.decode(text)


def b64url_decode(segment: str) -> bytes:
    """Unpadded base64url with zero unused trailing bits, so one token has exactly one spelling.

    ``+``, ``/`` and ``=`` are mapped to ``*`` so that strict mode rejects them along with every
    other character outside the alphabet (non-ASCII fails to encode): no regex over the token.
    """
    size = len(segment) & 3
    raw = binascii.a2b_base64(segment.encode("ascii").translate(_TO_STANDARD) + _PADDING[size], strict_mode=True)
    if size and _B64_VALUE[segment[-1]] & _UNUSED_BITS[size]:
        raise ValueError("non-canonical base64url")
    return raw


class CompactJws(NamedTuple):
    alg: str
    kid: str
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


class JwsParser:
    """Parses tokens; validated headers are memoised because every token of a key shares one."""

    def __init__(self, algorithms: frozenset[str], max_bytes: int) -> None:
        self._algorithms = algorithms
        self._max_bytes = max_bytes
        self._headers: dict[str, tuple[str, str]] = {}

    def parse(self, token: str) -> CompactJws:
        if len(token) > self._max_bytes:
            raise AuthenticationError("token_too_large")
        parts = token.split(".")
        if len(parts) != 3:
            raise AuthenticationError("malformed_token")
        header_b64, payload_b64, signature_b64 = parts
        alg, kid = self._headers.get(header_b64) or self._header(header_b64)
        try:
            claims = loads_strict(b64url_decode(payload_b64).decode("utf-8"))
            signature = b64url_decode(signature_b64)
        except (ValueError, RecursionError):
            raise AuthenticationError("malformed_token") from None
        if type(claims) is not dict or not signature:
            raise AuthenticationError("malformed_token")
        signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
        return CompactJws(alg, kid, claims, signing_input, signature)

    def _header(self, header_b64: str) -> tuple[str, str]:
        try:
            header = loads_strict(b64url_decode(header_b64).decode("utf-8"))
        except (ValueError, RecursionError):
            raise AuthenticationError("malformed_token") from None
        if type(header) is not dict:
            raise AuthenticationError("malformed_token")
        alg = header.get("alg")
        if type(alg) is not str or alg not in self._algorithms:
            raise AuthenticationError("alg_not_allowed")
        kid = header.get("kid")
        if type(kid) is not str or not 0 < len(kid) <= MAX_KID_LENGTH:
            raise AuthenticationError("missing_kid")
        if any(name in header for name in _UNSUPPORTED_HEADER_PARAMS):
            raise AuthenticationError("unsupported_header")
        typ = header.get("typ")
        if typ is not None and (type(typ) is not str or typ.lower() not in _ACCEPTED_TYP):
            raise AuthenticationError("unsupported_header")
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()
        self._headers[header_b64] = (alg, kid)
        return alg, kid
