"""What every layer needs: the validated config, naming, the parent, and where we deploy."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..config import StackConfig
from ..inputs import ComponentInputs


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

    def child(self, role: str) -> str:
        """Children are named `<component>-<role>` so URNs stay stable and readable."""
        return f"{self.name}-{role}"

    def opts(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, **kwargs)  # type: ignore[arg-type]

    def tags(self, **extra: str) -> dict[str, str]:
        return {"secure-api:component": self.name, **self.config.api.tags, **extra}
