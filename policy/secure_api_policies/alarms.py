"""Alarm layer: someone hears about server errors on every stage."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .graph import StackView, dependencies, label
from .model import Config, Outcome, StackCheck, Undecided, Violation
from .values import UNKNOWN, as_list, peek, plain

SERVER_ERROR_METRICS = frozenset({"5XXError", "5xx"})
_STAGES = ((t.STAGE, "stageName", "restApi", t.REST_API), (t.HTTP_STAGE, "name", "apiId", t.HTTP_API))


def _server_error_dimensions(alarm: Any) -> list[Any]:
    """Dimensions of every AWS/ApiGateway 5XX metric the alarm watches (plain or metric math)."""
    props = plain(alarm.props)
    metrics = [props, *[query.get("metric") or {} for query in as_list(props.get("metricQueries"))]]
    return [
        metric.get("dimensions") or {}
        for metric in metrics
        if metric.get("namespace") == "AWS/ApiGateway" and metric.get("metricName") in SERVER_ERROR_METRICS
    ]


def _covers(alarm: Any, dimensions: Any, stage: Any, name_prop: str, api: Any) -> Any:
    """True/False, or UNKNOWN when the dimensions that would decide are unknown."""
    deps = {dep.urn for prop in ("dimensions", "metricQueries") for dep in dependencies(alarm, prop)}
    if stage.urn in deps:
        return True
    if not isinstance(dimensions, Mapping):
        return UNKNOWN
    stage_name = dimensions.get("Stage")
    api_ref = dimensions.get("ApiName", dimensions.get("ApiId"))
    if UNKNOWN in (stage_name, api_ref) and not deps:
        return UNKNOWN
    same_stage = stage_name is None or stage_name == peek(stage.props, name_prop)
    same_api = api is not None and (api.urn in deps or api_ref == peek(api.props, "name"))
    return same_stage and same_api


def stage_alarms(view: StackView, _config: Config) -> Iterator[Outcome]:
    watched = [(alarm, dims) for alarm in view.of_type(t.METRIC_ALARM) for dims in _server_error_dimensions(alarm)]
    for stage_type, name_prop, api_prop, api_type in _STAGES:
        for stage in view.of_type(stage_type):
            apis = view.link(stage, api_prop, {api_type}, keys=("id",)).targets
            api = apis[0] if apis else None
            verdicts = [_covers(alarm, dims, stage, name_prop, api) for alarm, dims in watched]
            if True in verdicts:
                continue
            if UNKNOWN in verdicts:
                yield Undecided(f"{label(stage)}: an alarm's dimensions are unknown")
            else:
                yield Violation(f"no 5XX alarm watches stage {stage.name}", stage.urn)


CHECKS = {
    "stage-5xx-alarm": StackCheck(
        frozenset({t.STAGE, t.HTTP_STAGE, t.REST_API, t.HTTP_API, t.METRIC_ALARM}), stage_alarms
    ),
}
