"""The stack as a graph: which resource a property refers to, decided the way preview allows.

During preview an ARN or id is unknown, so a reference is followed through the engine's
`property_dependencies` (falling back to `dependencies` when an engine sends no per-property
map). A known value is matched against the candidates' own values. When the value is unknown and
the graph does not resolve it, the link is *undecided* — a rule must then say so, not pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pulumi_policy import PolicyResource

from .values import UNKNOWN, as_list, peek, plain


@dataclass(frozen=True)
class Link:
    targets: tuple[PolicyResource, ...]
    decided: bool


class StackView:
    """The resources a stack rule looks at, indexed by type."""

    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.by_type: dict[str, list[PolicyResource]] = defaultdict(list)
        for resource in resources:
            self.by_type[resource.resource_type].append(resource)

    def of_type(self, *types: str) -> list[PolicyResource]:
        return [resource for type_ in types for resource in self.by_type.get(type_, ())]

    def link(
        self,
        resource: PolicyResource,
        prop: str,
        types: Collection[str],
        keys: tuple[str, ...] = ("arn", "id"),
    ) -> Link:
        """The resources of `types` that `resource.prop` refers to.

        `keys` are the candidates' properties a known value is compared with (an ARN, an id,
        a domain name...).
        """
        typed = tuple(dep for dep in dependencies(resource, prop) if dep.resource_type in types)
        if typed:
            return Link(typed, True)
        value = peek(resource.props, prop)
        values = [] if value is UNKNOWN else as_list(plain(value))
        if value is UNKNOWN or any(item is UNKNOWN for item in values):
            return Link((), False)
        wanted = {item for item in values if isinstance(item, str) and item}
        matches = tuple(candidate for candidate in self.of_type(*types) if wanted & _strings(candidate, keys))
        return Link(matches, True)


def dependencies(resource: PolicyResource, prop: str) -> list[PolicyResource]:
    """The resources `prop` was computed from; all dependencies when the engine sent no per-property map."""
    deps = resource.property_dependencies.get(prop)
    return resource.dependencies if deps is None else deps


def _strings(resource: PolicyResource, keys: tuple[str, ...]) -> set[str]:
    return {value for key in keys if isinstance(value := peek(resource.props, key), str)}


def label(resource: PolicyResource) -> str:
    """How findings name a resource: its logical name and short type."""
    return f"{resource.name} ({resource.resource_type.rsplit(':', 1)[-1]})"
