"""Join rule metadata with rule logic into `pulumi_policy` policies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from . import alarms, auth, cognito, cors, logs, network, tls, usage, waf
from .catalog import RULES
from .graph import StackView
from .model import Check, Outcome, ResourceCheck, RuleMeta, StackCheck, Undecided, UndecidedError

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
    """The pack's version: the `secure-api` distribution's (`policy/PulumiPolicy.yaml` states the same, tested).

    Raises `importlib.metadata.PackageNotFoundError` when the distribution is not installed.
    """
    return metadata.version("secure-api")


@dataclass(frozen=True)
class Binding:
    """A rule as the analyzer runs it: metadata, the types it reads, the policy object."""

    meta: RuleMeta
    check: Check
    policy: Policy

    @property
    def types(self) -> frozenset[str]:
        return self.check.types


def _report(outcomes: Iterable[Outcome], report_violation: ReportViolation) -> None:
    """Report every violation; then, if something could not be decided, say so as a preview advisory."""
    undecided = []
    for outcome in outcomes:
        if isinstance(outcome, Undecided):
            undecided.append(outcome.message)
        else:
            report_violation(outcome.message, outcome.urn)
    if undecided:
        raise UndecidedError("; ".join(undecided))


def _config(meta: RuleMeta, configured: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**meta.defaults(), **(configured or {})}


def _resource_policy(meta: RuleMeta, check: ResourceCheck) -> Policy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        predicate = check.predicates.get(args.resource_type)
        if predicate is not None:
            _report(predicate(args.props, _config(meta, args.get_config())), report_violation)

    return ResourceValidationPolicy(validate=validate, **_policy_fields(meta))


def _stack_policy(meta: RuleMeta, check: StackCheck) -> Policy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        view = StackView(r for r in args.resources if r.resource_type in check.types)
        _report(check.predicate(view, _config(meta, args.get_config())), report_violation)

    return StackValidationPolicy(validate=validate, **_policy_fields(meta))


def _policy_fields(meta: RuleMeta) -> dict[str, Any]:
    return {
        "name": meta.id,
        "description": meta.description,
        "enforcement_level": meta.enforcement,
        "config_schema": PolicyConfigSchema(dict(meta.config)) if meta.config else None,
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
        policy = _resource_policy(meta, check) if isinstance(check, ResourceCheck) else _stack_policy(meta, check)
        result.append(Binding(meta, check, policy))
    return result


def policies() -> list[Policy]:
    return [binding.policy for binding in bindings()]
