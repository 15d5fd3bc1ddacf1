"""Usage-plan layer: API keys meter and throttle callers; they never authenticate them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .graph import StackView, label
from .model import Config, Outcome, ResourceCheck, StackCheck, Undecided, Violation
from .values import is_set, peek


def plan_throttle(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    throttle = props.get("throttleSettings") or {}
    if not (throttle.get("burstLimit") or 0) > 0 or not (throttle.get("rateLimit") or 0) > 0:
        yield Violation("usage plan sets no throttle (burstLimit and rateLimit)")


def plan_quota(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    quota = props.get("quotaSettings") or {}
    if not (quota.get("limit") or 0) > 0 or not quota.get("period"):
        yield Violation("usage plan sets no quota (limit and period)")


def plan_stage(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    stages = props.get("apiStages") or []
    if not stages:
        yield Violation("usage plan is bound to no API stage, so its limits apply to nothing")
    for index, stage in enumerate(stages):
        if not is_set(stage, "apiId") or not is_set(stage, "stage"):
            yield Violation(f"apiStages[{index}] needs both apiId and stage")


def keys_in_plans(view: StackView, _config: Config) -> Iterator[Outcome]:
    bound: set[str] = set()
    undecided = False
    for plan_key in view.of_type(t.USAGE_PLAN_KEY):
        link = view.link(plan_key, "keyId", {t.API_KEY}, keys=("id",))
        bound.update(key.urn for key in link.targets)
        undecided = undecided or not link.decided
    for key in view.of_type(t.API_KEY):
        if key.urn in bound or peek(key.props, "enabled") is False:
            continue
        if undecided:
            yield Undecided(f"{label(key)}: a usage plan key's keyId cannot be resolved")
        else:
            yield Violation(f"API key {key.name} is in no usage plan, so no throttle or quota applies", key.urn)


CHECKS = {
    "usage-plan-throttle": ResourceCheck({t.USAGE_PLAN: plan_throttle}),
    "usage-plan-quota": ResourceCheck({t.USAGE_PLAN: plan_quota}),
    "usage-plan-stage": ResourceCheck({t.USAGE_PLAN: plan_stage}),
    "api-key-in-usage-plan": StackCheck(frozenset({t.API_KEY, t.USAGE_PLAN_KEY}), keys_in_plans),
}
