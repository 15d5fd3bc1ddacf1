"""What a rule is: metadata (apart from logic) and the outcomes its predicate yields."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from .graph import StackView

ALLOW_EXCEPTIONS = "allowExceptions"
ALLOW_EXCEPTIONS_SCHEMA: Mapping[str, Any] = {
    "type": "boolean",
    "default": True,
    "description": "Report violations marked `secure-api:accept:<rule>` as accepted exceptions; false "
    "refuses the markers (they are violations again).",
}
FAIL_ON_UNDECIDED = "failOnUndecided"
FAIL_ON_UNDECIDED_SCHEMA: Mapping[str, Any] = {
    "type": "boolean",
    "default": False,
    "description": "Report a check that waits for a value only known after the update as a violation at the "
    "rule's level (a mandatory rule then fails the preview) instead of an advisory.",
}
COMMON_PROPERTIES: Mapping[str, Mapping[str, Any]] = {
    ALLOW_EXCEPTIONS: ALLOW_EXCEPTIONS_SCHEMA,
    FAIL_ON_UNDECIDED: FAIL_ON_UNDECIDED_SCHEMA,
}
"""The properties every rule takes, also settable for all rules at once (`all`)."""


@dataclass(frozen=True)
class RuleMeta:
    """Everything a report needs about a rule; no logic, so other packs can reuse it."""

    id: str
    layer: str
    title: str
    description: str
    severity: Severity
    enforcement: EnforcementLevel
    remediation: str
    checkers: tuple[str, ...] = ()
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of the rule's configuration; each has a `default`."""

    @property
    def schema(self) -> dict[str, Mapping[str, Any]]:
        """The rule's configuration properties, with `allowExceptions` and `failOnUndecided` (every rule has them)."""
        return {**self.config, **COMMON_PROPERTIES}

    def defaults(self) -> dict[str, Any]:
        return {key: schema["default"] for key, schema in self.schema.items()}


@dataclass(frozen=True)
class Violation:
    message: str
    urn: str | None = None
    subject: str | None = None
    """What on the resource is at fault (a route, a missing WAF protection), for scoped markers;
    violations found on a tagless resource have its name as subject."""

    @property
    def reported(self) -> str:
        """The message as the analyzer reports it: ` [subject: <subject>]` appended when there is one, the
        token a scoped accepted exception names and `subject_of` reads back on the other side."""
        return f"{self.message}{SUBJECT_MARK}{self.subject}]" if self.subject else self.message


SUBJECT_MARK = " [subject: "


def subject_of(message: str) -> tuple[str, str]:
    """(message without the subject mark, subject or '') of a reported message (`Violation.reported`)."""
    if message.endswith("]") and SUBJECT_MARK in message:
        text, _, subject = message[:-1].rpartition(SUBJECT_MARK)
        return text, subject
    return message, ""


@dataclass(frozen=True)
class Undecided:
    """The rule could not decide: a value it needs is unknown and the graph does not tell.

    With `urn`, the pack reports it on that resource (an advisory starting `UNDECIDED_PREFIX`);
    without, as the analyzer's "can't run policy ... during preview" advisory for the stack.
    """

    message: str
    urn: str | None = None


UNDECIDED_PREFIX = "undecided during preview: "


Outcome = Violation | Undecided
Config = Mapping[str, Any]
ResourcePredicate = Callable[[Mapping[str, Any], Config], Iterable[Outcome]]
StackPredicate = Callable[[StackView, Config], Iterable[Outcome]]


@dataclass(frozen=True)
class ResourceCheck:
    """Per-resource logic, one predicate per resource type the rule covers.

    When a covered type takes no tags, its accepted-exception marker sits on another resource
    (`exceptions.CARRIERS`), so the pack runs the predicates from a stack policy.
    """

    predicates: Mapping[str, ResourcePredicate]

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self.predicates)


@dataclass(frozen=True)
class StackCheck:
    """Whole-stack logic over the resources of `types` (and their links)."""

    types: frozenset[str]
    predicate: StackPredicate


Check = ResourceCheck | StackCheck


def on_resource(resource: PolicyResource, outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
    """One resource's outcomes as a stack rule reports them: a violation names its resource; an
    unknown value makes only that resource undecided."""
    try:
        for outcome in outcomes:
            if isinstance(outcome, Undecided):
                yield Undecided(outcome.message, outcome.urn or resource.urn)
            else:
                yield Violation(outcome.message, outcome.urn or resource.urn, outcome.subject)
    except UnknownValueError as error:
        yield Undecided(getattr(error, "message", str(error)), resource.urn)


def each_resource(predicates: Mapping[str, ResourcePredicate], view: StackView, config: Config) -> Iterator[Outcome]:
    """Per-resource predicates run over a stack, each on the resources of its type."""
    for resource in view.of_type(*sorted(predicates)):
        yield from on_resource(resource, predicates[resource.resource_type](resource.props, config))


class UndecidedError(UnknownValueError):
    """Raised after reporting what could be decided; the analyzer turns it into a preview advisory."""

    def __init__(self, message: str) -> None:
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.message = message
