"""The request model and the access matrix over raw `pulumi_aws` programs: one per authentication type.

The model reads planned resources, not SecureApi's config, so a hand-written stack is judged like the
component's. Each program is planned in update mode (see `raw_programs`).
"""

from __future__ import annotations

import pytest
from raw_programs import SCOPE, RawApi, gateway, policy

from secure_api.gateway import matrix
from secure_api.gateway.request import Request

PROGRAMS = {
    "NONE": RawApi("NONE", policy("Allow")),
    "COGNITO_USER_POOLS": RawApi("COGNITO_USER_POOLS", policy("Allow"), scopes=(SCOPE,)),
    "CUSTOM": RawApi("CUSTOM", policy("Allow")),
    "AWS_IAM": RawApi("AWS_IAM", policy("Allow")),
    "API_KEY": RawApi("NONE", policy("Allow"), api_key_required=True),
}
# The callers each program's matrix must hold, with (status, layer); every one of them is judged "ok".
EXPECTED = {
    "NONE": {"no-credentials": (200, "integration")},
    "COGNITO_USER_POOLS": {
        "no-credentials": (401, "authorizer"),
        "web+scopes": (200, "integration"),
        "id-token": (401, "authorizer"),
        "expired": (401, "authorizer"),
    },
    "CUSTOM": {
        "no-credentials": (401, "authorizer"),
        "authorizer-allows": (200, "integration"),
        "authorizer-denies": (403, "authorizer"),
    },
    "AWS_IAM": {"no-credentials": (403, "authorizer"), "iam-same-account": (200, "integration")},
    "API_KEY": {
        "api-key": (200, "integration"),
        "no-api-key": (403, "api-key"),
        "over-rate": (429, "throttle"),
    },
}


def _matrix(spec: RawApi) -> matrix.Matrix:
    api = gateway(spec)
    try:
        return matrix.build(api)
    finally:
        api.close()


@pytest.mark.parametrize("kind", list(PROGRAMS))
def test_each_authentication_type_of_a_raw_program(kind: str) -> None:
    found = _matrix(PROGRAMS[kind])
    cells = {c.caller: c for c in found.cells}
    assert {k: (cells[k].result.status, cells[k].result.layer) for k in EXPECTED[kind] if k in cells} == EXPECTED[kind]
    assert {c.verdict for c in found.cells} == {"ok"}, [(c.caller, c.verdict, c.result.reason) for c in found.cells]


def test_a_usage_plan_naming_a_stage_the_api_lacks_stops_every_keyed_call() -> None:
    """The raw-program case of the request-model issue: the plan lists `prod`, the API has `v1` only."""
    spec = RawApi("NONE", policy("Allow"), api_key_required=True, plan_stage="prod")
    api = gateway(spec)
    try:
        result = api.evaluate(Request("GET", "/v1/items", api_key="partner"))
    finally:
        api.close()
    assert (result.status, result.layer) == (403, "api-key")
    assert "partners, which does not list API items stage v1" in result.reason
    (defect,) = _matrix(spec).defects
    assert (defect.caller, defect.result.status, defect.result.layer) == ("api-key", 403, "api-key")


def test_a_second_allow_that_drops_the_network_condition_is_a_violation() -> None:
    """A raw program's policy admits one range, and a later statement allows everyone: the caller from
    outside the range gets in, which the layered model must stop (a mandatory finding)."""
    document = policy("Allow")
    assert document is not None
    ranged = {
        **document["Statement"][0],
        "Sid": "OfficeOnly",
        "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}},
    }
    document["Statement"] = [ranged, document["Statement"][0]]
    found = _matrix(RawApi("NONE", document))
    (violation,) = found.violations
    assert (violation.caller, violation.result.status) == ("outside", 200)
    assert "AllowEverything" in violation.result.reason
    # With the range alone, the outsider is stopped and the matrix is clean.
    document["Statement"] = [ranged]
    assert [c for c in _matrix(RawApi("NONE", document)).cells if c.verdict != "ok"] == []


def test_a_policy_the_model_cannot_judge_answers_no_status_and_says_so() -> None:
    """An unknown condition key: the cell is `not-evaluated` with status 0, never a made-up 403 or 500."""
    document = policy("Allow")
    assert document is not None
    document["Statement"][0]["Condition"] = {"StringEquals": {"aws:RequestTag/team": "orders"}}
    (cell,) = _matrix(RawApi("NONE", document)).cells
    assert (cell.result.status, cell.verdict) == (0, "not-evaluated")
    assert cell.result.reason.startswith("not evaluated offline: the resource policy of items")
    assert cell.result.reason in cell.result.not_evaluated
    assert "GET /items  no-credentials=n/e" in matrix.render_text(matrix.Matrix([cell]))
