"""Alarm layer: someone hears about server errors on every stage."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .graph import StackView, dependencies, label
from .model import Config, Outcome, StackCheck, Undecided, Violation
from .values import UNKNOWN, peek, plain

SERVER_ERROR_METRICS = frozenset({"5XXError", "5xx"})
_STAGES = ((t.STAGE, "stageName", "restApi", t.REST_API), (t.HTTP_STAGE, "name", "apiId", t.HTTP_API))


def _server_error_dimensions(alarm: Any) -> list[Any]:
    """Dimensions of every AWS/ApiGateway 5XX metric the alarm watches (plain or metric math)."""
    queries = peek(alarm.props, "metricQueries")
    metrics = [alarm.props, *(peek(query, "metric") or {} for query in ([] if queries is UNKNOWN else queries or []))]
    return [
        plain(peek(metric, "dimensions")) or {}
        for metric in metrics
        if peek(metric, "namespace") == "AWS/ApiGateway" and peek(metric, "metricName") in SERVER_ERROR_METRICS
    ]


class _Watched:
    """Index of what the 5XX alarms watch: by dependency (preview-safe) and by dimension value."""

    def __init__(self, view: StackView) -> None:
        self.keys: set[tuple[str, Any]] = set()
        self.unattributed = False
        for alarm in view.of_type(t.METRIC_ALARM):
            deps = {dep.urn for prop in ("dimensions", "metricQueries") for dep in dependencies(alarm, prop)}
            for dims in _server_error_dimensions(alarm):
                stage = dims.get("Stage") if isinstance(dims, Mapping) else UNKNOWN
                api = dims.get("ApiName", dims.get("ApiId")) if isinstance(dims, Mapping) else UNKNOWN
                self.keys.update((urn, None) for urn in deps)
                self.keys.update((urn, stage) for urn in deps)
                self.keys.add((api, stage))
                self.unattributed |= not deps and (stage is UNKNOWN or api is UNKNOWN)

    def covers(self, stage: Any, stage_name: Any, api: Any) -> Any:
        """True, False, or UNKNOWN when an alarm's dimensions are unknown and could be this stage's."""
        refs = [api.urn, peek(api.props, "name")] if api is not None else []
        wanted = [(stage.urn, None)] + [(ref, name) for ref in refs for name in (None, stage_name)]
        if any(key in self.keys for key in wanted if not isinstance(key[0], Mapping)):
            return True
        unknown = self.unattributed or any((ref, UNKNOWN) in self.keys for ref in refs)
        return UNKNOWN if unknown else False


def stage_alarms(view: StackView, _config: Config) -> Iterator[Outcome]:
    watched = _Watched(view)
    for stage_type, name_prop, api_prop, api_type in _STAGES:
        for stage in view.of_type(stage_type):
            apis = view.link(stage, api_prop, {api_type}, keys=("id",)).targets
            covered = watched.covers(stage, peek(stage.props, name_prop), apis[0] if apis else None)
            if covered is UNKNOWN:
                yield Undecided(f"{label(stage)}: an alarm's dimensions are unknown")
            elif not covered:
                yield Violation(f"no 5XX alarm watches stage {stage.name}", stage.urn)


CHECKS = {
    "stage-5xx-alarm": StackCheck(
        frozenset({t.STAGE, t.HTTP_STAGE, t.REST_API, t.HTTP_API, t.METRIC_ALARM}), stage_alarms
    ),
}
