"""API keys, usage plans, throttles, quotas: "Usage plans and API keys for REST APIs", "Throttle requests to REST APIs".

A method with `apiKeyRequired` needs a key (from the `x-api-key` header, or the Lambda authorizer's
`usageIdentifierKey` when the API's key source is AUTHORIZER) that is enabled and attached to a usage
plan listing this API and stage; otherwise 403 (INVALID_API_KEY). Throttles are token buckets: `burst`
requests at once, refilled at `rate` per second; the plan's per-method throttle, else the plan's, per
key; then the stage's per-method setting, else its `*/*` setting. An empty bucket answers 429
(THROTTLED). Quotas count requests per key and plan per DAY, WEEK or MONTH (a month is taken as 30
days here); over the limit answers 429 (QUOTA_EXCEEDED).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .authorizers import UnknownNameError
from .request import Request
from .resources import Api, ApiKey, GatewayStack, Operation, Stage, Throttle, UsagePlan

PERIOD_SECONDS = {"DAY": 86_400, "WEEK": 7 * 86_400, "MONTH": 30 * 86_400}


@dataclass
class Buckets:
    """Token buckets and quota counters by key; times are the seconds each request passes."""

    tokens: dict[str, tuple[float, float]] = field(default_factory=dict)
    quotas: dict[str, tuple[int, int]] = field(default_factory=dict)

    def take(self, key: str, throttle: Throttle, now: float, copies: int = 1) -> bool:
        """`copies` requests take a token each from `key`'s bucket; False when the last finds it empty."""
        level, last = self.tokens.get(key, (float(throttle.burst), now))
        level = min(float(throttle.burst), level + max(0.0, now - last) * throttle.rate)
        served = min(copies, int(level))
        self.tokens[key] = (level - served, now)
        return served == copies

    def count(self, key: str, limit: int, period: str, now: float, copies: int = 1) -> bool:
        """Count `copies` requests against `key`'s quota; False when the last finds the period's `limit` used up."""
        window = int(now // PERIOD_SECONDS.get(period, PERIOD_SECONDS["DAY"]))
        start, used = self.quotas.get(key, (window, 0))
        if start != window:
            used = 0
        served = max(0, min(copies, limit - used))
        self.quotas[key] = (window, used + served)
        return served == copies


def method_path(operation: Operation, verb: str) -> str:
    """`/orders/POST`: how usage plan throttles name a method (MethodSettings drop the leading slash)."""
    return f"{operation.path}/{verb if operation.method == 'ANY' else operation.method}"


def _key(stack: GatewayStack, request: Request, api: Api, usage_key: str | None) -> tuple[ApiKey | None, str]:
    name = usage_key if api.api_key_source == "AUTHORIZER" else request.api_key
    if not name:
        source = (
            "the Lambda authorizer returned no usageIdentifierKey"
            if api.api_key_source == "AUTHORIZER"
            else ("no x-api-key header")
        )
        return None, source
    if name == "invalid":
        return None, "the API key is not one of the stack's"
    key = stack.key(name)
    if key is None:
        names = ", ".join(k.name for k in stack.keys) or "none"
        raise UnknownNameError(f"apiKey: no API key named {name!r} (the stack has: {names})")
    return key, ""


def check(
    stack: GatewayStack,
    buckets: Buckets,
    request: Request,
    api: Api,
    stage: Stage,
    operation: Operation,
    usage_key: str | None,
    now: float,
    copies: int = 1,
) -> tuple[str, str, str] | None:
    """(gateway response type, layer, reason) of the first limit that stops the request, else None.

    `copies` identical requests arrive at `now` (seconds); the answer is the last one's.
    """
    verb = request.method.upper()
    path = method_path(operation, verb)
    if operation.api_key_required:
        key, missing = _key(stack, request, api, usage_key)
        if key is None:
            return "INVALID_API_KEY", "api-key", f"{operation.key} requires an API key: {missing}"
        if not key.enabled:
            return "INVALID_API_KEY", "api-key", f"API key {key.name} is disabled"
        plans = [p for p in stack.usage_plans if key in p.keys]
        plan = next((p for p in plans if any(a == api.id and s == stage.name for a, s, _ in p.stages)), None)
        if plan is None:
            where = ", ".join(p.name for p in plans) or "no usage plan"
            return (
                "INVALID_API_KEY",
                "api-key",
                f"API key {key.name} is in {where}, which does not list API {api.name} stage {stage.name}",
            )
        stopped = _plan_limits(buckets, plan, key, api, stage, path, now, copies)
        if stopped is not None:
            return stopped
    throttle = stage.method_throttles.get(path.lstrip("/")) or stage.throttle
    if throttle is not None and not buckets.take(f"stage/{api.id}/{stage.name}/{path}", throttle, now, copies):
        return (
            "THROTTLED",
            "throttle",
            f"stage {stage.name} throttle ({throttle.rate:g}/s, burst {throttle.burst}) is exhausted for {path}",
        )
    return None


def _plan_limits(
    buckets: Buckets, plan: UsagePlan, key: ApiKey, api: Api, stage: Stage, path: str, now: float, copies: int
) -> tuple[str, str, str] | None:
    throttles = next(th for a, s, th in plan.stages if a == api.id and s == stage.name)
    throttle = throttles.get(path) or plan.throttle
    if throttle is not None and not buckets.take(
        f"plan/{plan.id}/{key.id}/{path if path in throttles else '*'}", throttle, now, copies
    ):
        return (
            "THROTTLED",
            "throttle",
            f"usage plan {plan.name} throttle ({throttle.rate:g}/s, burst "
            f"{throttle.burst}) is exhausted for API key {key.name}",
        )
    if plan.quota is not None and not buckets.count(
        f"quota/{plan.id}/{key.id}", plan.quota.limit, plan.quota.period, now, copies
    ):
        return (
            "QUOTA_EXCEEDED",
            "throttle",
            f"usage plan {plan.name} quota ({plan.quota.limit} per "
            f"{plan.quota.period.lower()}) is used up for API key {key.name}",
        )
    return None
