"""Golden URNs: every repository stack's resources keep their URNs, or name the old one as an alias.

A URN is a resource's identity in the state: a URN that changes without an alias makes `pulumi up` delete
the resource and create another. `tests/data/urns/<stack>.txt` lists each stack's URNs as the plan registers
them (the mock runtime's URNs, the root stack's type included). To accept a deliberate change, run this
module with `SECURE_API_UPDATE_URNS=1` and review the diff of the files.
"""

from __future__ import annotations

import os

import pytest

from secure_api.plan.offline import plan_stack
from tests.conftest import REPO

SNAPSHOTS = REPO / "tests" / "data" / "urns"


@pytest.mark.parametrize("stack", ["dev", "minimal", "private"])
def test_urns_never_change_without_an_alias(stack: str) -> None:
    result = plan_stack(stack, preview=True, project_dir=REPO)
    urns = sorted(r.urn for r in result.resources)
    path = SNAPSHOTS / f"{stack}.txt"
    if os.environ.get("SECURE_API_UPDATE_URNS"):
        path.write_text("\n".join(urns) + "\n")
    golden = path.read_text().split()
    aliased = {alias for r in result.resources for alias in r.aliases}
    lost = [urn for urn in golden if urn not in urns and urn not in aliased]
    added = [urn for urn in urns if urn not in golden]
    assert not lost, f"URNs gone without an alias (pulumi up would delete these resources): {lost}"
    assert not added, f"new URNs: add them to {path.relative_to(REPO)} (SECURE_API_UPDATE_URNS=1): {added}"
