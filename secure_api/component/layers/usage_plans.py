"""Usage plans and API keys (README layer "2. Rate limits"), bound to the Stage resource, never a literal name."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws

from .context import LayerContext


@dataclass(frozen=True)
class UsageResources:
    plans: dict[str, aws.apigateway.UsagePlan]
    keys: dict[str, aws.apigateway.ApiKey]


def build_usage_plans(ctx: LayerContext, api: aws.apigateway.RestApi, stage: aws.apigateway.Stage) -> UsageResources:
    plans = {}
    for plan in ctx.config.usage_plans:
        # Keyed and named by the plan's id, so renaming `name` with the id kept updates the plan in place.
        plans[plan.stable_id] = aws.apigateway.UsagePlan(
            ctx.child(f"plan-{plan.stable_id}"),
            name=f"{ctx.api_name}-{plan.name}",
            description=plan.description or None,
            api_stages=[
                aws.apigateway.UsagePlanApiStageArgs(
                    api_id=api.id,
                    # The Stage output, so the plan waits for the stage ("Invalid API Stage" otherwise).
                    stage=stage.stage_name,
                    throttles=[
                        aws.apigateway.UsagePlanApiStageThrottleArgs(
                            path=f"{t.path}/{t.method}" if t.path != "/" else f"//{t.method}",
                            rate_limit=t.rate_limit,
                            burst_limit=t.burst_limit,
                        )
                        for t in plan.method_throttles
                    ]
                    or None,
                )
            ],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=plan.throttle.rate_limit, burst_limit=plan.throttle.burst_limit
            ),
            quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(
                limit=plan.quota.limit, period=plan.quota.period, offset=plan.quota.offset
            ),
            tags=ctx.tags(),
            opts=ctx.opts(),
        )
    keys = {}
    for key in ctx.config.api_keys:
        # Keyed by id: a rename with the id kept is an update in place, and the partner's key value stays.
        keys[key.stable_id] = aws.apigateway.ApiKey(
            ctx.child(f"key-{key.stable_id}"),
            name=f"{ctx.api_name}-{key.name}",
            description=key.description or None,
            enabled=key.enabled,
            tags=ctx.tags(),
            opts=ctx.opts(),
        )
        aws.apigateway.UsagePlanKey(
            ctx.child(f"key-{key.stable_id}-plan"),
            key_id=keys[key.stable_id].id,
            key_type="API_KEY",
            usage_plan_id=plans[key.plan].id,
            # A key is in a plan once: a second create of the same pair fails with a conflict.
            opts=ctx.opts(delete_before_replace=True),
        )
    return UsageResources(plans=plans, keys=keys)
