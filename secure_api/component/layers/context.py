"""What every layer needs: the validated config, naming, the parent, and where we deploy."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi

from ..config import StackConfig
from ..inputs import ComponentInputs
from ..relaxations import Target, markers


@dataclass(frozen=True)
class LayerContext:
    name: str
    inputs: ComponentInputs
    parent: pulumi.Resource
    region: str
    account_id: str
    partition: str

    @property
    def config(self) -> StackConfig:
        """The validated config; a field given as an Output holds a placeholder: read it with `input`."""
        return self.inputs.config

    def input(self, value: str | None) -> pulumi.Input[str] | None:
        """A config value that may have been given as an Output, ready to pass to a resource."""
        return self.inputs.input(value)

    @property
    def api_name(self) -> str:
        return self.config.api.name or self.name

    @property
    def physical_prefix(self) -> str:
        """The start of every name AWS keeps unique per account and region (`physical_prefix`)."""
        return physical_prefix(self.name, self.config)

    def child(self, role: str) -> str:
        """Children are named `<component>-<role>` so URNs stay stable and readable."""
        return f"{self.name}-{role}"

    def account_scoped_name(self, role: str, limit: int) -> str:
        """`<api>-<stage>-<region>-<stack>-<role>` for names AWS scopes per account, not per region.

        IAM policies and CloudWatch dashboards share one namespace across regions: the same config
        in two regions or stacks would otherwise collide (IAM) or silently overwrite (dashboards).
        Only letters, digits, `-` and `_` (allowed by both); past `limit` characters the middle is
        shortened and a digest of the whole keeps it unique. (They carried the stack before
        `physical_prefix` existed, and keep their 0.2.0 names.)
        """
        stack = re.sub(r"[^A-Za-z0-9_-]", "-", pulumi.get_stack())
        prefix = f"{self.api_name}-{self.config.api.stage_name}-{self.region}-{stack}"
        if len(prefix) + 1 + len(role) > limit:
            digest = hashlib.sha256(prefix.encode()).hexdigest()[:8]
            prefix = f"{prefix[: limit - len(role) - len(digest) - 2]}-{digest}"
        return f"{prefix}-{role}"

    def opts(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, **kwargs)  # type: ignore[arg-type]

    def tags(self, **extra: str) -> dict[str, str]:
        return {"secure-api:component": self.name, **self.config.api.tags, **extra}

    def marked_tags(self, target: Target) -> dict[str, str]:
        """The tags plus the accepted-exception markers `target` carries (`component.relaxations`)."""
        return {**self.tags(), **markers(self.config, self.name, target)}


PHYSICAL_PREFIX_LIMIT = 40


def physical_prefix(component: str, config: StackConfig) -> str:
    """`api.physicalNamePrefix`, else `<component>-<stack>` (40 characters at most, letters, digits, `-`, `_`),
    so two stacks never share a name."""
    return config.api.physical_name_prefix or default_physical_prefix(component, pulumi.get_stack())


def default_physical_prefix(component: str, stack: str) -> str:
    """`<component>-<stack>` in letters, digits, `-` and `_`; past 40 characters shortened, a digest of the
    whole keeping it unique."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", f"{component}-{stack}").strip("-_") or "secure-api"
    if len(prefix) > PHYSICAL_PREFIX_LIMIT:
        digest = hashlib.sha256(prefix.encode()).hexdigest()[:8]
        prefix = f"{prefix[: PHYSICAL_PREFIX_LIMIT - 9].rstrip('-_')}-{digest}"
    return prefix
