"""Reading resource properties during preview: unknowns are explicit, never a silent pass.

The analyzer hands rules proxies that raise `UnknownValueError` on any unknown value. Resource
predicates read them directly (an unknown makes the rule undecided, reported as an advisory);
`peek` and `plain` are for the places where a rule can still decide around an unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import yaml
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

_SENTINELS = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()
"""A value that is only known after the update (an ARN or id during preview)."""


def peek(value: Any, *path: str | int) -> Any:
    """The value at `path`: `UNKNOWN` if it or a step is unknown, None if absent."""
    for key in path:
        if value is None or value is UNKNOWN:
            return value
        try:
            if isinstance(value, Mapping):
                value = value.get(key)
            elif isinstance(key, int) and not isinstance(value, str) and key < len(value):
                value = value[key]
            else:
                return None
        except UnknownValueError:
            return UNKNOWN
    return value


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """True when `key` has a non-empty value; an unknown value counts as set (it comes from an output)."""
    value = peek(props, key)
    return value is UNKNOWN or value not in (None, "", [], {})


def plain(value: Any) -> Any:
    """A plain copy of a (proxied) value with every unknown replaced by `UNKNOWN`."""
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        return {key: plain(_item(value, key)) for key in value}
    if isinstance(value, Sequence):
        return [plain(_item(value, index)) for index in range(len(value))]
    return value


def _item(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False


def as_list(value: Any) -> list[Any]:
    """IAM and provider fields accept one item or a list; None is no items."""
    if value is None:
        return []
    if isinstance(value, (str, Mapping)) or value is UNKNOWN:
        return [value]
    return list(value)


def parse_document(text: Any) -> Any:
    """A JSON (or YAML) document given as a string: the parsed object, `UNKNOWN`, or None if unreadable.

    A string is parsed once however many rules read it (an API's OpenAPI body is read by most of
    them): the result is shared, so callers read it and never change it.
    """
    if text is UNKNOWN or isinstance(text, (Mapping, list)):
        return text
    if not isinstance(text, str) or not text.strip():
        return None
    return _parse_text(text)


@lru_cache(maxsize=128)
def _parse_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def statements(document: Any) -> Iterator[Mapping[str, Any]]:
    """The statements of an IAM policy document."""
    if isinstance(document, Mapping):
        yield from (s for s in as_list(document.get("Statement")) if isinstance(s, Mapping))


def lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
