"""The stack as a graph: which resource a property refers to, decided the way preview allows.

During preview an ARN or id is unknown, so a reference is followed through the engine's
`property_dependencies` (falling back to `dependencies` when an engine sends no per-property
map). A known value is matched against the candidates' own values. When the value is unknown and
the graph does not resolve it, the link is *undecided* — a rule must then say so, not pass.

A link is not a value: a property computed from a resource may hold the wrong one of its outputs
(an API's ARN where its stage's belongs, a log group's name where WAF wants its ARN, a URL where an
id belongs). So a dependency counts only when the property's known value has the form AWS needs:
one of the linked resource's `keys` values, or an ARN of the linked type naming it (`ARN_FORMS`),
or, where an id or name belongs, a value that is neither an ARN nor a URL. An unknown value (the
preview) cannot be compared: the dependency counts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pulumi_policy import PolicyResource

from . import tokens as t
from .values import UNKNOWN, as_list, peek, plain

_ARN = r"arn:[\w-]+"
ARN_FORMS: dict[str, tuple[re.Pattern[str], str | None]] = {
    t.STAGE: (re.compile(rf"{_ARN}:apigateway:[\w-]*::/restapis/[^/]+/stages/(?P<name>[^/]+)"), "stageName"),
    t.REST_API: (re.compile(rf"{_ARN}:apigateway:[\w-]*::/restapis/(?P<name>[^/]+)"), None),
    t.WEB_ACL: (re.compile(rf"{_ARN}:wafv2:[\w-]+:\d*:regional/webacl/(?P<name>[^/]+)/[^/]+"), "name"),
    t.LOG_GROUP: (re.compile(rf"{_ARN}:logs:[\w-]+:\d*:log-group:(?P<name>[^:]+)"), "name"),
    t.USER_POOL: (re.compile(rf"{_ARN}:cognito-idp:[\w-]+:\d*:userpool/(?P<name>.+)"), None),
    t.LAMBDA_FUNCTION: (re.compile(rf"{_ARN}:lambda:[\w-]+:\d*:function:(?P<name>[^:]+)(:[^:]+)?"), "name"),
}
"""The ARN of each linked type AWS expects, and the input its name part must equal (when known)."""


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
        value = peek(resource.props, prop)
        values = [] if value is UNKNOWN else as_list(plain(value))
        known = {_normal(item) for item in values if isinstance(item, str) and item}
        if typed:
            return Link(tuple(dep for dep in typed if _holds(dep, keys, known)), True)
        if value is UNKNOWN or any(item is UNKNOWN for item in values):
            return Link((), False)
        matches = tuple(candidate for candidate in self.of_type(*types) if known & _strings(candidate, keys))
        return Link(matches, True)


def dependencies(resource: PolicyResource, prop: str) -> list[PolicyResource]:
    """The resources `prop` was computed from; all dependencies when the engine sent no per-property map."""
    deps = resource.property_dependencies.get(prop)
    return resource.dependencies if deps is None else deps


def _strings(resource: PolicyResource, keys: tuple[str, ...]) -> set[str]:
    return {_normal(value) for key in keys if isinstance(value := peek(resource.props, key), str)}


def _normal(value: str) -> str:
    """CloudWatch Logs ARNs are written with and without the trailing `:*`."""
    return value.removesuffix(":*")


def _holds(target: PolicyResource, keys: tuple[str, ...], known: set[str]) -> bool:
    """Whether a property computed from `target` holds a value of the form its `keys` need."""
    own = _strings(target, keys)
    if not known or known & own:
        return True
    return any(_has_form(target, keys, value, bool(own)) for value in known)


def _has_form(target: PolicyResource, keys: tuple[str, ...], value: str, stated: bool) -> bool:
    """A key the target states itself (a stage name, a domain name) must match exactly; an output
    (ARN, id) is not among the inputs an analyzer sees, so the value is judged by its form."""
    if not value.startswith("arn:"):
        return not stated and keys != ("arn",) and "://" not in value and not ("id" in keys and "/" in value)
    form = ARN_FORMS.get(target.resource_type)
    if "arn" not in keys or form is None:
        return "arn" in keys
    pattern, name_input = form
    match = pattern.fullmatch(value)
    expected = peek(target.props, name_input) if name_input else None
    return match is not None and (not isinstance(expected, str) or expected == match["name"])


def label(resource: PolicyResource) -> str:
    """How findings name a resource: its logical name and short type."""
    return f"{resource.name} ({resource.resource_type.rsplit(':', 1)[-1]})"
