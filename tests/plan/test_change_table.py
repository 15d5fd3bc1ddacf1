"""The change table: what `pulumi up` replaces, deletes and creates for each routine change to the dev stack.

`tests/data/change-table.yaml` states each change as a JSON Patch (RFC 6902) of the dev stack's `secure-api:`
config and pins its outcome. Each change is planned against the dev stack as `pulumi up` leaves it (its
export, seeded into the mock runtime) and compared by `secure_api.plan.changes`. A change to the component
that alters a row fails with the difference.
"""

from __future__ import annotations

import json
from typing import Any

import jsonpatch
import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from secure_api.plan.changes import Change, against_state
from secure_api.plan.harness import PlanResult
from secure_api.plan.offline import load_stack_config, plan_stack
from tests.conftest import REPO

TABLE = yaml.safe_load((REPO / "tests" / "data" / "change-table.yaml").read_text())
PREFIX = "secure-api-"
OPS = ("update", "replace", "delete", "create")


def export(result: PlanResult) -> list[dict[str, Any]]:
    """`deployment.resources` of a `pulumi stack export` after an update: ids, inputs, outputs, protect."""
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "custom": r.custom,
            "protect": r.protect,
            **({"id": r.outputs["id"]} if r.custom and "id" in r.outputs else {}),
            "inputs": r.inputs,
            "outputs": {k: v for k, v in r.outputs.items() if k != "id"},
        }
        for r in result.resources
    ]
    return json.loads(json.dumps(resources, default=_engine_value))


def _engine_value(value: Any) -> Any:
    """Assets and archives as the engine records them (their signature and path); anything else as text."""
    if isinstance(value, pulumi.Archive | pulumi.Asset) and getattr(value, "path", None):
        signature = rpc._special_archive_sig if isinstance(value, pulumi.Archive) else rpc._special_asset_sig
        return {rpc._special_sig_key: signature, "path": value.path}
    return str(value)


@pytest.fixture(scope="module")
def dev_state() -> list[dict[str, Any]]:
    return export(plan_stack("dev", preview=False, project_dir=REPO))


def changes_for(state: list[dict[str, Any]], patch: list[dict[str, Any]], *, preview: bool) -> list[Change]:
    config = jsonpatch.apply_patch(load_stack_config("dev", REPO), patch)
    _result, changes = against_state(
        state, lambda seed: plan_stack("dev", preview=preview, project_dir=REPO, config=config, seed=seed), lambda r: r
    )
    return changes


def outcome(changes: list[Change]) -> dict[str, list[str]]:
    """Updated, replaced, deleted and created resources by logical name (without `secure-api-`), and the
    protected ones among the replaced and deleted."""
    named = {op: sorted(c.name.removeprefix(PREFIX) for c in changes if c.op == op) for op in OPS}
    named["protected"] = sorted(
        c.name.removeprefix(PREFIX) for c in changes if c.protected and c.op in ("replace", "delete")
    )
    return named


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_an_unchanged_config_changes_nothing(dev_state: list[dict[str, Any]], preview: bool) -> None:
    changes = changes_for(dev_state, [], preview=preview)
    assert [(c.op, c.name, c.changed) for c in changes if c.op != "same"] == []
    assert len(changes) == sum(1 for r in dev_state if r["custom"])


@pytest.mark.parametrize("row", TABLE, ids=[row["change"] for row in TABLE])
def test_each_routine_change_replaces_and_deletes_what_the_table_says(
    dev_state: list[dict[str, Any]], row: dict[str, Any]
) -> None:
    got = outcome(changes_for(dev_state, row["patch"], preview=False))
    expected = {op: sorted(row.get(op) or []) for op in (*OPS, "protected")}
    assert got == expected, f"{row['change']}: pinned {expected}, planned {got}"


def test_the_table_covers_the_routine_changes() -> None:
    assert len(TABLE) >= 20
    assert len({row["change"] for row in TABLE}) == len(TABLE)
