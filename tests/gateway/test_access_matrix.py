"""The access matrix over every stack and example of the repository, and the mutations that flip its cells.

Each mutation is one of the broken-together paths of the request-model issue: the resource policy
stops preflights, two routes' scopes are swapped, the usage plan loses its stage, the WAF blocks the
allowed networks. Each must turn an `ok` cell into a `defect` (an intended caller stopped) or a
`violation` (a caller the layered model must stop gets in).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secure_api.gateway import matrix
from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.resources import GatewayStack
from secure_api.gateway.stack import load
from secure_api.plan.cli import main
from secure_api.plan.harness import PlanResult
from secure_api.plan.offline import plan_stack

REPO = Path(__file__).resolve().parents[2]
PROJECTS = [(REPO, "dev"), (REPO, "minimal"), (REPO, "private"), (REPO / "examples" / "python-program", "dev")]


def _matrix(stack: GatewayStack) -> matrix.Matrix:
    gateway = Gateway(stack)
    try:
        return matrix.build(gateway)
    finally:
        gateway.close()


def _cells(found: matrix.Matrix) -> dict[tuple[str, str], matrix.Cell]:
    return {(c.route.split(" ", 1)[1], c.caller): c for c in found.cells}


@pytest.fixture(scope="module")
def dev_update() -> PlanResult:
    return plan_stack("dev", preview=False, project_dir=REPO)


@pytest.fixture
def dev_stack(dev_update: PlanResult) -> GatewayStack:
    """A fresh model of the dev stack each test may change."""
    return load(dev_update.resources)


@pytest.mark.parametrize(("project", "stack"), PROJECTS, ids=[f"{p.name}:{s}" for p, s in PROJECTS])
def test_no_intended_caller_is_stopped_and_nobody_else_gets_in(project: Path, stack: str) -> None:
    found = _matrix(load(plan_stack(stack, preview=False, project_dir=project).resources))
    assert found.cells, "the matrix asks every route"
    assert [(c.route, c.caller, c.result.reason) for c in found.defects] == []
    assert [(c.route, c.caller, c.result.reason) for c in found.violations] == []
    assert {c.verdict for c in found.cells} <= {"ok", "not-evaluated"}


def test_the_dev_matrix_shows_every_standard_caller(dev_stack: GatewayStack) -> None:
    cells = _cells(_matrix(dev_stack))
    expected = {
        ("GET /orders", "outside"): (403, "resource-policy"),
        ("GET /orders", "no-credentials"): (401, "authorizer"),
        ("GET /orders", "web+scopes"): (200, "integration"),
        ("GET /orders", "fulfilment-service+scopes"): (200, "integration"),
        ("GET /orders", "web-scopes"): (401, "authorizer"),
        ("GET /orders", "id-token"): (401, "authorizer"),
        ("GET /orders", "expired"): (401, "authorizer"),
        ("GET /orders", "preflight-allowed"): (200, "integration"),
        ("POST /orders", "no-api-key"): (403, "api-key"),
        ("POST /orders", "oversized"): (403, "waf"),
        ("POST /orders", "over-rate"): (429, "throttle"),
        ("GET /health", "no-credentials"): (200, "integration"),
        ("POST /partners/webhook", "web+scopes"): (400, "validation"),
        ("ANY /admin/{proxy+}", "iam-same-account"): (200, "integration"),
        ("ANY /admin/{proxy+}", "no-credentials"): (403, "authorizer"),  # unsigned: MISSING_AUTHENTICATION_TOKEN
    }
    assert {k: (cells[k].result.status, cells[k].result.layer) for k in expected} == expected
    # A preflight from another origin is answered, but without that origin: the browser refuses it.
    other = cells[("GET /orders", "preflight-other-origin")]
    assert other.result.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert other.verdict == "ok"
    text = matrix.render_text(_matrix(dev_stack))
    assert "preflight-other-origin=200/no-cors" in text


def _drop_options_allow(stack: GatewayStack) -> None:
    policy = stack.apis[0].policy
    assert policy is not None
    for statement in policy["Statement"]:
        if statement["Effect"] == "Allow" and isinstance(statement["Resource"], list):
            statement["Resource"] = [r for r in statement["Resource"] if "/OPTIONS/" not in r]


def _swap_order_scopes(stack: GatewayStack) -> None:
    api = stack.apis[0]
    by_key = {o.key: o for o in api.operations}
    read, write = by_key["GET /orders"], by_key["POST /orders"]
    api.operations = [
        dataclasses.replace(o, scopes=write.scopes)
        if o.key == read.key
        else dataclasses.replace(o, scopes=read.scopes)
        if o.key == write.key
        else o
        for o in api.operations
    ]


def _drop_plan_stages(stack: GatewayStack) -> None:
    for plan in stack.usage_plans:
        plan.stages = []


MUTATIONS: list[tuple[str, Callable[[GatewayStack], None], tuple[str, str], str]] = [
    ("drop the OPTIONS allow", _drop_options_allow, ("POST /orders", "preflight-allowed"), "defect"),
    ("remove the plan's stage", _drop_plan_stages, ("POST /orders", "web+scopes"), "defect"),
]


@pytest.mark.parametrize(("mutation", "cell", "verdict"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_each_mutation_flips_a_cell(
    dev_update: PlanResult,
    mutation: Callable[[GatewayStack], None],
    cell: tuple[str, str],
    verdict: str,
) -> None:
    before = _cells(_matrix(load(dev_update.resources)))
    mutated = load(dev_update.resources)
    mutation(mutated)
    after = _cells(_matrix(mutated))
    assert after[cell].verdict == verdict, after[cell]
    if cell in before:
        assert before[cell].verdict == "ok"


def test_swapping_two_routes_scopes_flips_the_read_only_clients_cell(dev_update: PlanResult) -> None:
    """Swapped, GET /orders takes orders.write: the read-only fulfilment service, let in before, is stopped.

    The matrix judges the planned stack's own intent, so after the swap its `-scopes` row (a token
    without the route's scopes) is the cell of that client on that route, and it is now a 401.
    """

    def client_cell(found: matrix.Matrix) -> matrix.Cell:
        (cell,) = [c for c in found.cells if c.route.endswith(" GET /orders") and c.caller.startswith("fulfilment")]
        return cell

    before = client_cell(_matrix(load(dev_update.resources)))
    mutated = load(dev_update.resources)
    _swap_order_scopes(mutated)
    after = client_cell(_matrix(mutated))
    assert (before.caller, before.result.status) == ("fulfilment-service+scopes", 200)
    assert (after.caller, after.result.status, after.result.layer) == ("fulfilment-service-scopes", 401, "authorizer")
    assert "needs one of https://orders.example.com/orders.write" in after.result.reason


def test_blocking_the_allowed_networks_in_waf_stops_every_intended_caller_and_is_warned(
    dev_config: dict[str, Any], plan: Callable[..., PlanResult]
) -> None:
    dev_config = copy.deepcopy(dev_config)
    dev_config["waf"]["blockedIps"] = [*dev_config["waf"]["blockedIps"], *dev_config["network"]["allowedSourceCidrs"]]
    result = plan(dev_config, preview=False)
    assert any(
        "waf.blockedIps 198.51.100.0/24 is inside network.allowedSourceCidrs 198.51.100.0/24" in w and "WAF wins" in w
        for w in result.warnings
    )
    found = _matrix(load(result.resources))
    stopped = {(c.route.split(" ", 1)[1], c.caller) for c in found.defects if c.result.layer == "waf"}
    assert ("GET /orders", "web+scopes") in stopped
    assert ("GET /health", "no-credentials") in stopped


def test_plan_shows_the_matrix_and_json_carries_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--cwd", str(REPO), "--stack", "minimal"]) == 0
    out = capsys.readouterr().out
    assert "Access matrix" in out
    assert "GET /hello" in out
    assert main(["plan", "--cwd", str(REPO), "--stack", "minimal", "--format", "json"]) == 0
    cells = json.loads(capsys.readouterr().out)["accessMatrix"]
    assert {c["caller"] for c in cells} >= {"outside", "no-credentials", "expired"}
    assert {c["verdict"] for c in cells} == {"ok"}
    assert main(["plan", "--cwd", str(REPO), "--stack", "minimal", "--no-access-matrix"]) == 0
    assert "Access matrix" not in capsys.readouterr().out
