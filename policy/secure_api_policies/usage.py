"""Usage-plan layer: API keys meter and throttle callers; they never authenticate them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .graph import StackView, dependencies, label
from .model import Config, Outcome, ResourceCheck, StackCheck, Undecided, Violation, on_resource
from .openapi import is_api_key, routes, security_schemes
from .values import UNKNOWN, as_list, is_set, parse_document, peek


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


def plan_stages(view: StackView, config: Config) -> Iterator[Outcome]:
    """Each usage plan is bound to stages, and a stage it names by a literal name is one its API has.

    API Gateway refuses every call with a key of a plan whose `apiStages` name a stage the API lacks (403,
    "Invalid API identifier specified" in the access log); the plan applies to nothing. A stage name from
    an output, or an API whose stages are not in the stack, is not judged."""
    names = _stage_names(view)
    for plan in view.of_type(t.USAGE_PLAN):
        yield from on_resource(plan, plan_stage(plan.props, config))
        for index, entry in enumerate(as_list(peek(plan.props, "apiStages"))):
            stage = peek(entry, "stage")
            if not isinstance(stage, str) or stage is UNKNOWN:
                continue
            for api in _apis_of(view, plan, peek(entry, "apiId")):
                known = names.get(api.urn)
                if known is None or any(not isinstance(name, str) for name in known) or stage in known:
                    continue
                yield Violation(
                    f"usage plan {plan.name}: apiStages[{index}] names stage {stage!r}, which API {api.name} does not "
                    f"have (its stages: {', '.join(sorted(known))}); every call with one of its keys is refused (403)",
                    plan.urn,
                )


def _stage_names(view: StackView) -> dict[str, list[Any]]:
    """REST API URN -> the `stageName`s of its stages in the stack (UNKNOWN where not known)."""
    names: dict[str, list[Any]] = {}
    for stage in view.of_type(t.STAGE):
        for api in view.link(stage, "restApi", {t.REST_API}, keys=("id",)).targets:
            names.setdefault(api.urn, []).append(peek(stage.props, "stageName"))
    return names


def _apis_of(view: StackView, plan: Any, api_id: Any) -> list[Any]:
    """The REST API an `apiStages` entry names: by its id when a stack API has it, else the one API the entries
    were computed from (none when several or none)."""
    if isinstance(api_id, str) and api_id is not UNKNOWN:
        named = [api for api in view.of_type(t.REST_API) if peek(api.props, "id") == api_id]
        if named:
            return named
    sources = [dep for dep in dependencies(plan, "apiStages") if dep.resource_type == t.REST_API]
    return sources if len(sources) == 1 else []


def keyed_stages_in_plans(view: StackView, _config: Config) -> Iterator[Outcome]:
    """A stage that serves API-key methods is in a usage plan: API Gateway accepts a key only for the stages of
    the plans it is in, so without one every call to those methods is refused (403 Forbidden; developer guide,
    "Usage plans and API keys for REST APIs in API Gateway"). Stages some plan names are not looked into."""
    covered: set[tuple[str, Any]] = set()
    for plan in view.of_type(t.USAGE_PLAN):
        for entry in as_list(peek(plan.props, "apiStages")):
            for api in _apis_of(view, plan, peek(entry, "apiId")):
                covered.add((api.urn, peek(entry, "stage")))
    for stage in view.of_type(t.STAGE):
        name = peek(stage.props, "stageName")
        for api in view.link(stage, "restApi", {t.REST_API}, keys=("id",)).targets:
            if (api.urn, name) in covered or any(urn == api.urn and not isinstance(s, str) for urn, s in covered):
                continue
            keyed = _keyed_methods(view, api)
            if keyed is UNKNOWN:
                yield Undecided(f"{label(stage)}: whether its API's methods require an API key is unknown", stage.urn)
            elif keyed:
                yield Violation(
                    f"stage {stage.name} serves methods that require an API key ({', '.join(keyed[:5])}) and no usage "
                    "plan includes it: API Gateway refuses every call to them (403) until a plan with the key does",
                    stage.urn,
                )


def _keyed_methods(view: StackView, api: Any) -> Any:
    """The API's `METHOD /path`s that require an API key (OpenAPI body, `Method` resources); UNKNOWN if unknown."""
    keyed = []
    body = peek(api.props, "body")
    if body is not None:
        doc = parse_document(body)
        if doc is UNKNOWN:
            return UNKNOWN
        if isinstance(doc, Mapping):
            schemes = security_schemes(doc)
            for route, operation in routes(doc):
                requirements = operation.get("security", doc.get("security")) or []
                names = [n for r in requirements if isinstance(r, Mapping) for n in r]
                if any(is_api_key(schemes.get(n)) for n in names):
                    keyed.append(route)
    for method in view.of_type(t.METHOD):
        if api in view.link(method, "restApi", {t.REST_API}, keys=("id",)).targets:
            required = peek(method.props, "apiKeyRequired")
            if required is UNKNOWN:
                return UNKNOWN
            if required:
                keyed.append(f"{peek(method.props, 'httpMethod')} {method.name}")
    return sorted(keyed)


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
    "usage-plan-stage": StackCheck(frozenset({t.USAGE_PLAN, t.STAGE, t.REST_API}), plan_stages),
    "api-key-in-usage-plan": StackCheck(frozenset({t.API_KEY, t.USAGE_PLAN_KEY}), keys_in_plans),
    "api-key-stage-in-usage-plan": StackCheck(
        frozenset({t.USAGE_PLAN, t.STAGE, t.REST_API, t.METHOD}), keyed_stages_in_plans
    ),
}
