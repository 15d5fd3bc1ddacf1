"""The REST API itself: name, stage, endpoint type and where API keys come from."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import ConfigModel


class ApiSettings(ConfigModel):
    # Derived names must fit AWS limits: `<name>-authorizer` (Lambda, 64) and
    # `<name>-<stage>-blocklist-ipv4` (WAF, 128).
    name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,52}$",
        description="1 to 53 letters, digits, - or _, starting with a letter or digit",
        examples=["orders-api"],
    )
    physical_name_prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$",
        description="What the names AWS keeps unique per account and region start with (log groups, the WAF web "
        "ACL and IP sets, the authorizer function, the alarms, their SNS topic, the KMS alias): 1 to 40 letters, "
        "digits, - or _. Default: `<component name>-<stack>`, so two stacks never share a name. 0.2.0 used "
        "`api.name`: set it to that to keep a 0.2.0 stack's log groups",
        examples=["orders-api"],
    )
    description: str = "Secure REST API managed by secure-api"
    stage_name: str = Field(
        default="v1", pattern=r"^[A-Za-z0-9_-]{1,48}$", description="1 to 48 letters, digits, - or _", examples=["v1"]
    )
    endpoint_type: Literal["REGIONAL", "PRIVATE"] = "REGIONAL"
    api_key_source: Literal["HEADER", "AUTHORIZER"] = "HEADER"
    tags: dict[str, str] = Field(default_factory=dict, examples=[{"team": "platform"}])
