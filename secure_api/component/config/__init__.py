"""Typed stack configuration: read the `secure-api:` namespace, validate it all, fail with one clear message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import ValidationError

from .errors import ConfigError, problems_from
from .stack import StackConfig

NAMESPACE = "secure-api"

__all__ = ["NAMESPACE", "ConfigError", "StackConfig", "parse_config", "read_config"]


def parse_config(values: Mapping[str, Any], namespace: str = NAMESPACE) -> StackConfig:
    """Validate a camelCase config object; raise ConfigError listing every problem with its key path.

    Keys are read by their camelCase names only (as documented and as in the published schema): a
    snake_case key is an error that names its camelCase spelling.
    """
    try:
        config = StackConfig.model_validate(dict(values), by_alias=True, by_name=False)
    except ValidationError as error:
        raise ConfigError(namespace, problems_from(error, StackConfig)) from None
    problems = config.cross_problems()
    if problems:
        raise ConfigError(namespace, problems)
    return config


def read_config(namespace: str = NAMESPACE) -> StackConfig:
    """Read every key of the namespace from the running Pulumi program's stack config."""
    prefix = f"{namespace}:"
    raw: dict[str, Any] = dict(pulumi.runtime.config.get_config_env())
    raw.update(pulumi.runtime.config.CONFIG.get())
    values = {key[len(prefix) :]: _decode(value) for key, value in raw.items() if key.startswith(prefix)}
    return parse_config(values, namespace)


def _decode(value: Any) -> Any:
    """Structured values reach the program as JSON text; plain strings stay strings."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
