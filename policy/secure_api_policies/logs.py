"""Logging layer: every request leaves an attributable trace that outlives the incident."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .graph import Link, StackView, label
from .model import Config, Outcome, ResourceCheck, StackCheck, Undecided, Violation
from .values import UNKNOWN, is_set, peek

_BARE_VARIABLE = re.compile(r":\s*(\$context\.[A-Za-z0-9_.]+)")
EXECUTION_LEVELS = frozenset({"ERROR", "INFO"})


def _is_json_object(template: str) -> bool:
    """Access-log formats may leave `$context` numbers unquoted; quote them before parsing."""
    try:
        return isinstance(json.loads(_BARE_VARIABLE.sub(r': "\1"', template)), dict)
    except ValueError:
        return False


def access_logs(props: Mapping[str, Any], config: Config) -> Iterator[Outcome]:
    settings = props.get("accessLogSettings")
    if not settings:
        yield Violation("stage writes no access logs")
        return
    if not is_set(settings, "destinationArn"):
        yield Violation("access logs have no destinationArn")
    template = settings.get("format")
    if not isinstance(template, str) or not _is_json_object(template):
        yield Violation("access log format is not a JSON object")
        return
    missing = [variable for variable in config["requiredVariables"] if variable not in template]
    if missing:
        yield Violation(f"access log format lacks {', '.join(missing)}")


def _stages_of(view: StackView, settings: Any) -> Link:
    """Stages a MethodSettings applies to: by the graph, or by stage name within the same API."""
    by_name = view.link(settings, "stageName", {t.STAGE}, keys=("stageName",))
    if len(by_name.targets) <= 1:
        return by_name
    apis = set(view.link(settings, "restApi", {t.REST_API}, keys=("id",)).targets)
    return Link(
        tuple(
            stage
            for stage in by_name.targets
            if apis & set(view.link(stage, "restApi", {t.REST_API}, keys=("id",)).targets)
        ),
        by_name.decided,
    )


def _execution_problem(settings: Any) -> Any:
    """None when the `*/*` settings log at ERROR/INFO with metrics; else what is wrong (or UNKNOWN)."""
    level = peek(settings.props, "settings", "loggingLevel")
    metrics = peek(settings.props, "settings", "metricsEnabled")
    if level is UNKNOWN or metrics is UNKNOWN:
        return UNKNOWN
    if str(level).upper() not in EXECUTION_LEVELS:
        return f"execution logging is {level or 'OFF'}"
    return None if metrics is True else "CloudWatch metrics are off"


def execution_logging(view: StackView, _config: Config) -> Iterator[Outcome]:
    problems: dict[str, list[Any]] = {}
    unresolved = []
    for settings in view.of_type(t.METHOD_SETTINGS):
        if peek(settings.props, "methodPath") != "*/*":
            continue
        link = _stages_of(view, settings)
        if not link.decided:
            unresolved.append(label(settings))
        for stage in link.targets:
            problems.setdefault(stage.urn, []).append(_execution_problem(settings))
    for stage in view.of_type(t.STAGE):
        found = problems.get(stage.urn, [])
        if None in found:
            continue
        if UNKNOWN in found or unresolved:
            yield Undecided(f"{label(stage)}: method settings are unknown")
        elif found:
            yield Violation(f"stage {stage.name}: {'; '.join(found)}", stage.urn)
        else:
            yield Violation(f"stage {stage.name} has no */* method settings: no execution logs or metrics", stage.urn)


def method_data_trace(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    if (props.get("settings") or {}).get("dataTraceEnabled") is True:
        yield Violation("data trace logs full request and response bodies, credentials included")


def http_stage_data_trace(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    routes = [props.get("defaultRouteSettings") or {}, *(props.get("routeSettings") or [])]
    if any(route.get("dataTraceEnabled") is True for route in routes):
        yield Violation("data trace logs full messages, credentials included")


def log_retention(props: Mapping[str, Any], config: Config) -> Iterator[Outcome]:
    """0 means never expire, which satisfies any minimum; unset is the unbounded default CKV_AWS_66 flags."""
    days = props.get("retentionInDays")
    minimum = config["minRetentionDays"]
    if days is None:
        yield Violation(f"log group sets no retention (policy minimum {minimum:g} days)")
    elif 0 < days < minimum:
        yield Violation(f"log group keeps logs {days:g} days, below the {minimum:g}-day minimum")


def log_kms(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    if not is_set(props, "kmsKeyId"):
        yield Violation("log group is encrypted with the service key, not a customer-managed KMS key")


CHECKS = {
    "stage-access-logs": ResourceCheck({t.STAGE: access_logs, t.HTTP_STAGE: access_logs}),
    "stage-execution-logging": StackCheck(frozenset({t.STAGE, t.REST_API, t.METHOD_SETTINGS}), execution_logging),
    "method-data-trace-off": ResourceCheck({t.METHOD_SETTINGS: method_data_trace, t.HTTP_STAGE: http_stage_data_trace}),
    "log-group-retention": ResourceCheck({t.LOG_GROUP: log_retention}),
    "log-group-kms": ResourceCheck({t.LOG_GROUP: log_kms}),
}
