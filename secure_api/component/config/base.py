"""Shared base for config models: camelCase keys as in every Pulumi stack file, unknown keys rejected."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.alias_generators import to_camel

# Validation context key: the placeholders standing for Outputs not resolved yet (see component/inputs.py).
PENDING = "pending"
PLACEHOLDER_PREFIX = "<Output at "
"""How the placeholder of an Output arg starts (`<Output at network.vpcEndpointIds[0]>`, see inputs.py)."""


def is_placeholder(value: object) -> bool:
    """Whether a config value stands for an Output arg; for checks that run without the validation context."""
    return isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX)


class ConfigModel(BaseModel):
    """Strict, immutable, camelCase-keyed model; a typo in a stack file is an error, not a silent default."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )


CLOUDWATCH_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def check_retention_days(days: int) -> int:
    """CloudWatch Logs accepts only these retention periods; anything else fails at deploy time."""
    if days not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(f"must be one of {list(CLOUDWATCH_RETENTION_DAYS)}, got {days}")
    return days


def is_pending(value: Any, info: ValidationInfo) -> bool:
    """True for the placeholder of an Output the component validates when it resolves (by this same rule)."""
    pending = (info.context or {}).get(PENDING, ())
    return isinstance(value, str) and value in pending
