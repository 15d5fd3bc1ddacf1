"""What API Gateway sends (TOKEN and REQUEST events) and the identity we derive from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .errors import AuthenticationError

MAX_CREDENTIAL_CHARS = 65536


class Identity(NamedTuple):
    """An authenticated caller, new per request; ``context`` values are strings, as API Gateway requires."""

    principal_id: str
    context: dict[str, str]
    scopes: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    usage_identifier_key: str | None = None


def credential(event: Mapping[str, Any], header: str) -> str:
    """The raw credential: ``authorizationToken`` of a TOKEN event, or one header of a REQUEST event."""
    kind = event.get("type")
    if kind == "TOKEN":
        value = event.get("authorizationToken")
    elif kind == "REQUEST":
        value = _single_header(event, header)
    else:
        raise AuthenticationError("bad_event")
    if type(value) is not str or not value:
        raise AuthenticationError("missing_credentials")
    if len(value) > MAX_CREDENTIAL_CHARS:
        raise AuthenticationError("token_too_large")
    return value


def bearer_token(value: str) -> str:
    """RFC 6750 ``Bearer <token>``: the scheme is case-insensitive, anything else is malformed."""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("bad_scheme")
    return token


def _single_header(event: Mapping[str, Any], name: str) -> object:
    """Header names are case-insensitive; a header sent twice is ambiguous and refused.

    ``multiValueHeaders`` is authoritative when present: ``headers`` keeps only the last value.
    """
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict) and multi:
        values = [
            item
            for key, items in multi.items()
            if isinstance(key, str) and key.lower() == name
            for item in (items if type(items) is list else [items])
        ]
    else:
        headers = event.get("headers")
        items = headers.items() if isinstance(headers, dict) else ()
        values = [value for key, value in items if isinstance(key, str) and key.lower() == name]
    if len(values) > 1:
        raise AuthenticationError("ambiguous_credentials")
    return values[0] if values else None
