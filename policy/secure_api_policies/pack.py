"""Join rule metadata with rule logic into `pulumi_policy` policies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from . import alarms, auth, cognito, cors, logs, network, tls, usage, waf
from .catalog import RULES
from .exceptions import CARRIERS, MARKER_PREFIX, accepted_message, advisory_reporter, reason_in, reason_in_view
from .graph import StackView
from .model import (
    ALLOW_EXCEPTIONS,
    FAIL_ON_UNDECIDED,
    UNDECIDED_PREFIX,
    Check,
    Outcome,
    ResourceCheck,
    RuleMeta,
    Undecided,
    UndecidedError,
    Violation,
    each_resource,
)
from .values import UNKNOWN

PACK_NAME = "secure-api-gateway"
PACK_DESCRIPTION = "Secure API gateway model: auth, Cognito, usage plans, network, WAF, logging, TLS, alarms."
CHECKS: Mapping[str, Check] = {
    **auth.CHECKS,
    **cognito.CHECKS,
    **usage.CHECKS,
    **network.CHECKS,
    **waf.CHECKS,
    **logs.CHECKS,
    **tls.CHECKS,
    **alarms.CHECKS,
    **cors.CHECKS,
}


@cache
def pack_version() -> str:
    """The pack's version, e.g. `"0.2.0"`: `version` of the `PulumiPolicy.yaml` beside this package.

    In the pack folder (what `pulumi policy publish` uploads and the CLI runs) that manifest is read;
    from the `secure-api` wheel, which ships the rules without the manifest, the distribution's version
    (the same number, tested). Raises `importlib.metadata.PackageNotFoundError` when neither exists.
    """
    manifest = Path(__file__).resolve().parents[1] / "PulumiPolicy.yaml"
    if manifest.is_file():
        return str(yaml.safe_load(manifest.read_text(encoding="utf-8"))["version"])
    return metadata.version("secure-api")


@dataclass(frozen=True)
class Binding:
    """A rule as the analyzer runs it: metadata, the types it reads, the policy object."""

    meta: RuleMeta
    check: Check
    policy: Policy

    @property
    def is_stack(self) -> bool:
        return isinstance(self.policy, StackValidationPolicy)

    @property
    def types(self) -> frozenset[str]:
        return _view_types(self.check) if self.is_stack else self.check.types


def _carried(check: Check) -> bool:
    """A resource rule runs as a stack policy when a type it covers is marked through a carrier."""
    return isinstance(check, ResourceCheck) and any(type_ in CARRIERS for type_ in check.types)


def _view_types(check: Check) -> frozenset[str]:
    carriers = {type_ for covered in check.types if covered in CARRIERS for type_ in CARRIERS[covered].types}
    return check.types | carriers


class _Reporter:
    """Reports a rule's outcomes: marked violations as accepted exceptions (unless refused), the
    others as violations; then, if something could not be decided, says so as a preview advisory."""

    def __init__(self, meta: RuleMeta, config: Mapping[str, Any], report_violation: ReportViolation) -> None:
        self.rule = meta.id
        self.allow = config.get(ALLOW_EXCEPTIONS, True) is not False
        self.strict = config.get(FAIL_ON_UNDECIDED, False) is True
        self.report_violation = report_violation
        self.undecided: list[str] = []

    @cached_property
    def report_advisory(self) -> ReportViolation:
        """`report_violation` at the advisory level, built on the first advisory (most runs have none)."""
        return advisory_reporter(self.report_violation)

    def report(self, outcomes: Iterable[Outcome], reason_of: Callable[[Violation], Any]) -> None:
        try:
            self._report(outcomes, reason_of)
        except UnknownValueError as error:
            if not self.strict:
                raise  # pulumi_policy reports it: "can't run policy ... during preview"
            self._undecided(getattr(error, "message", "") or "a value is unknown during preview", None)

    def _report(self, outcomes: Iterable[Outcome], reason_of: Callable[[Violation], Any]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, Undecided):
                self._undecided(outcome.message, outcome.urn)
                continue
            reason = reason_of(outcome) if self.allow else None
            if reason is UNKNOWN:
                self._undecided(f"{outcome.message} (its {MARKER_PREFIX}{self.rule} tag is unknown)", outcome.urn)
            elif reason is None:
                self.report_violation(outcome.reported, outcome.urn)
            else:
                message = accepted_message(self.rule, outcome.reported, reason)
                self.report_advisory(message, outcome.urn)

    def _undecided(self, message: str, urn: str | None) -> None:
        """On its resource when known (an advisory), else with the stack's "can't run policy" advisory; with
        `failOnUndecided`, a violation at the rule's level, so a mandatory rule fails the preview."""
        if self.strict:
            self.report_violation(f"{UNDECIDED_PREFIX}{message}", urn)
        elif urn:
            self.report_advisory(f"{UNDECIDED_PREFIX}{message}", urn)
        else:
            self.undecided.append(message)

    def finish(self) -> None:
        if self.undecided:
            raise UndecidedError("; ".join(self.undecided))


def _config(meta: RuleMeta, configured: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**meta.defaults(), **(configured or {})}


def _resource_policy(meta: RuleMeta, check: ResourceCheck) -> Policy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        predicate = check.predicates.get(args.resource_type)
        if predicate is not None:
            config = _config(meta, args.get_config())
            reporter = _Reporter(meta, config, report_violation)
            reporter.report(predicate(args.props, config), lambda found: reason_in(args.props, meta.id, found.subject))
            reporter.finish()

    return ResourceValidationPolicy(validate=validate, **_policy_fields(meta))


def _stack_policy(meta: RuleMeta, check: Check) -> Policy:
    types = _view_types(check)

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        view = StackView(r for r in args.resources if r.resource_type in types)
        config = _config(meta, args.get_config())
        if isinstance(check, ResourceCheck):
            outcomes = each_resource(check.predicates, view, config)
        else:
            outcomes = check.predicate(view, config)
        by_urn = {resource.urn: resource for resource in view.of_type(*sorted(types))}

        def reason_of(found: Violation) -> Any:
            resource = by_urn.get(found.urn or "")
            return reason_in_view(view, resource, meta.id, found.subject) if resource is not None else None

        reporter = _Reporter(meta, config, report_violation)
        reporter.report(outcomes, reason_of)
        reporter.finish()

    return StackValidationPolicy(validate=validate, **_policy_fields(meta))


def _policy_fields(meta: RuleMeta) -> dict[str, Any]:
    return {
        "name": meta.id,
        "description": meta.description,
        "enforcement_level": meta.enforcement,
        "config_schema": PolicyConfigSchema(meta.schema),
        "display_name": meta.title,
        "severity": meta.severity,
        "tags": [meta.layer, *meta.checkers],
        "remediation_steps": meta.remediation,
    }


def bindings() -> list[Binding]:
    missing = {meta.id for meta in RULES} ^ set(CHECKS)
    if missing:
        raise AssertionError(f"rules without logic or logic without metadata: {sorted(missing)}")
    result = []
    for meta in RULES:
        check = CHECKS[meta.id]
        if isinstance(check, ResourceCheck) and not _carried(check):
            policy = _resource_policy(meta, check)
        else:
            policy = _stack_policy(meta, check)
        result.append(Binding(meta, check, policy))
    return result


def policies() -> list[Policy]:
    return [binding.policy for binding in bindings()]
