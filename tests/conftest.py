"""Shared fixtures: the dev stack's config and a one-call way to plan any variant of it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secure_api.plan.harness import PlanResult
from secure_api.plan.offline import load_stack_config, plan_stack

Plan = Callable[..., PlanResult]
REPO = Path(__file__).resolve().parents[1]
"""This repository's Pulumi project (Pulumi.yaml, `main: deploy`, the example stack files)."""


@pytest.fixture(scope="session")
def dev_config_pristine() -> dict[str, Any]:
    return load_stack_config("dev", REPO)


@pytest.fixture
def dev_config(dev_config_pristine: dict[str, Any]) -> dict[str, Any]:
    """A deep copy each test may change freely."""
    return copy.deepcopy(dev_config_pristine)


@pytest.fixture
def plan() -> Plan:
    def run(config: dict[str, Any], *, preview: bool, stack: str = "dev") -> PlanResult:
        return plan_stack(stack, preview=preview, project_dir=REPO, config=config)

    return run


@pytest.fixture(scope="session")
def dev_plans() -> dict[str, PlanResult]:
    """The dev stack planned once per mode; tests that only read it share these."""
    return {mode: plan_stack("dev", preview=mode == "preview", project_dir=REPO) for mode in ("preview", "update")}


@pytest.fixture(params=["preview", "update"])
def dev_plan(request: pytest.FixtureRequest, dev_plans: dict[str, PlanResult]) -> PlanResult:
    return dev_plans[request.param]
