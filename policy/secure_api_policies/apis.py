"""Facts about a REST API that several layers need, read from its inputs and its OpenAPI body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .values import UNKNOWN, as_list, parse_document, peek, plain


def endpoint_types(props: Mapping[str, Any]) -> Any:
    """The API's endpoint types (EDGE when unset), or `UNKNOWN`."""
    types = peek(props, "endpointConfiguration", "types")
    items = [] if types is UNKNOWN else as_list(plain(types))
    if types is UNKNOWN or any(item is UNKNOWN for item in items):
        return UNKNOWN
    return {str(item).upper() for item in items} or {"EDGE"}


def body_extension(props: Mapping[str, Any], name: str) -> Any:
    """An `x-amazon-apigateway-*` value of the body: None if absent, `UNKNOWN` if the body is."""
    body = parse_document(peek(props, "body"))
    if body is UNKNOWN:
        return UNKNOWN
    return body.get(name) if isinstance(body, Mapping) else None


def setting(props: Mapping[str, Any], key: str, extension: str) -> Any:
    """An API setting given as an argument or, failing that, through the body's extension."""
    value = peek(props, key)
    return body_extension(props, extension) if value is None else value


def optional_setting(props: Mapping[str, Any], key: str, extension: str) -> Any:
    """Like `setting`, for a setting that is optional: unset (None) when the argument is not given
    and the body is unknown during preview. A program sets it through the argument; a body that
    could carry the extension is read once it is known (the update)."""
    value = setting(props, key, extension)
    return None if value is UNKNOWN and peek(props, key) is None else value
