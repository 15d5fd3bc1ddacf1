"""What every layer needs: the validated config, naming, the parent, and where we deploy."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..config import StackConfig
from ..config.accepted import Target, markers


@dataclass(frozen=True)
class LayerContext:
    name: str
    config: StackConfig
    parent: pulumi.Resource
    region: str
    account_id: str
    partition: str

    @property
    def api_name(self) -> str:
        return self.config.api.name or self.name

    def child(self, role: str) -> str:
        """Children are named `<component>-<role>` so URNs stay stable and readable."""
        return f"{self.name}-{role}"

    def opts(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, **kwargs)  # type: ignore[arg-type]

    def tags(self, **extra: str) -> dict[str, str]:
        return {"secure-api:component": self.name, **self.config.api.tags, **extra}

    def marked_tags(self, target: Target) -> dict[str, str]:
        """The tags plus the accepted-exception markers `target` carries (`config.accepted`)."""
        return {**self.tags(), **markers(self.config, self.name, target)}
