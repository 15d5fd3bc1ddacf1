"""Turning a layer off: the plan names the protected resources a config drops.

The state is what `pulumi stack export` writes; here it is exported from a plan of the dev stack
in update mode (outputs known), as the stack would stand after a `pulumi up`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from secure_api.plan.cli import main
from secure_api.plan.harness import PlanResult
from secure_api.plan.offline import StackFileLoader
from secure_api.plan.state import StateFileError, load_state, protected_changes
from tests.conftest import REPO, Plan


def export(result: PlanResult) -> dict[str, Any]:
    """The parts of a `pulumi stack export` document the comparison reads."""
    return {
        "version": 3,
        "deployment": {
            "resources": [
                {"urn": r.urn, "type": r.type, "custom": r.custom, "protect": r.protect, "inputs": r.inputs}
                for r in result.resources
            ]
        },
    }


@pytest.fixture(scope="module")
def dev_state(tmp_path_factory: pytest.TempPathFactory, dev_plans: dict[str, PlanResult]) -> Path:
    path = tmp_path_factory.mktemp("state") / "dev.json"
    path.write_text(json.dumps(export(dev_plans["update"]), default=str))
    return path


def changes_of(state: Path, result: PlanResult) -> dict[str, str]:
    return {c.name.removeprefix("secure-api-"): c.message for c in protected_changes(load_state(state), result)}


def no_kms_key(config: dict[str, Any]) -> None:
    config["observability"]["kmsEncryption"] = False


def no_waf(config: dict[str, Any]) -> None:
    config["waf"] = {"enabled": False, "acceptNoWaf": True}


def no_mutual_tls(config: dict[str, Any]) -> None:
    del config["domain"]["mutualTls"]


def no_custom_route(config: dict[str, Any]) -> None:
    config["routes"] = [r for r in config["routes"] if r["auth"] != "custom"]
    del config["lambdaAuthorizer"]


TOGGLES = [
    # (the change, the protected resource it drops, the config key the message names)
    (no_kms_key, "logs-key", "observability.kmsEncryption"),
    (no_waf, "waf-logs", "waf.enabled"),
    (no_mutual_tls, "truststore", "domain.mutualTls"),
    (no_custom_route, "authorizer-logs", "a route with auth: custom"),
]


@pytest.mark.parametrize(("change", "role", "key"), TOGGLES, ids=[t[1] for t in TOGGLES])
@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_turning_a_layer_off_names_the_protected_resource_it_drops(
    change: Any, role: str, key: str, preview: bool, dev_config: dict[str, Any], dev_state: Path, plan: Plan
) -> None:
    change(dev_config)
    changes = changes_of(dev_state, plan(dev_config, preview=preview))
    assert list(changes) == [role]
    assert key in changes[role]
    assert "pulumi state unprotect 'urn:pulumi:dev::secure-api::" in changes[role]


def test_the_unchanged_config_drops_nothing(dev_state: Path, dev_plan: PlanResult) -> None:
    assert changes_of(dev_state, dev_plan) == {}


def test_a_renamed_stage_replaces_protected_log_groups(dev_config: dict[str, Any], dev_state: Path, plan: Plan) -> None:
    dev_config["api"]["stageName"] = "v2"
    changes = changes_of(dev_state, plan(dev_config, preview=False))
    assert "would be replaced: its name changes from /aws/apigateway/orders-api/v1/access to" in changes["access-logs"]
    assert "waf-logs" in changes


def test_a_file_that_is_not_a_state_export_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"resources": []}')
    with pytest.raises(StateFileError, match="not the output of `pulumi stack export`"):
        load_state(path)


def test_the_cli_prints_them_as_plan_warnings(
    tmp_path: Path, dev_state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)
    stack["config"]["secure-api:waf"] = {"enabled": False, "acceptNoWaf": True}
    shutil.copy(REPO / "Pulumi.yaml", tmp_path)
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    shutil.copytree(REPO / "examples", tmp_path / "examples")  # the truststore, relative to the project
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    argv = ["plan", "--stack", "dev", "--cwd", str(tmp_path), "--no-policy", "--state", str(dev_state)]
    assert main(argv) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "is protected" in line]
    assert line.startswith("  ! aws:cloudwatch/logGroup:LogGroup secure-api-waf-logs is protected and is no longer")


def test_a_missing_state_file_is_named_with_how_to_write_it(capsys: pytest.CaptureFixture[str]) -> None:
    missing = REPO / "no-such-state.json"
    assert main(["plan", "--stack", "dev", "--cwd", str(REPO), "--no-policy", "--state", str(missing)]) == 2
    error = capsys.readouterr().err
    assert f"cannot read the state file {missing}: No such file or directory" in error
    assert "pulumi stack export --file" in error
    assert "Traceback" not in error
