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
from secure_api.plan.state import StateFileError, load_state, mfa_upgrade_warnings, protected_changes
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
    expected = "would be replaced: its name changes from /aws/apigateway/orders-api-dev/v1/access to"
    assert expected in changes["access-logs"]
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


def _pool_state(result: PlanResult, mfa: str | None) -> list[dict[str, Any]]:
    """The exported state of `result` with its user pool's MFA as `mfa` (None: not in the state)."""
    state = export(result)["deployment"]["resources"]
    for resource in state:
        if resource["type"] == "aws:cognito/userPool:UserPool":
            resource["inputs"] = {k: v for k, v in resource["inputs"].items() if k != "mfaConfiguration"}
            if mfa is not None:
                resource["inputs"]["mfaConfiguration"] = mfa
    return state


@pytest.mark.parametrize("before", ["OPTIONAL", "OFF", None])
def test_turning_mfa_on_for_an_existing_pool_is_warned_with_how_to_keep_it_optional(
    dev_plans: dict[str, PlanResult], before: str | None
) -> None:
    result = dev_plans["preview"]
    assert result.one("aws:cognito/userPool:UserPool").inputs["mfaConfiguration"] == "ON"
    (warning,) = mfa_upgrade_warnings(_pool_state(result, before), result)
    assert f"goes from MFA {before or 'OFF'} to ON: only users who have set up an MFA factor can sign in" in warning
    assert "cognito.mfa: OPTIONAL (an accepted exception of cognito-mfa" in warning


def test_a_pool_already_on_mfa_or_a_new_one_is_not_warned(dev_plans: dict[str, PlanResult]) -> None:
    result = dev_plans["preview"]
    assert mfa_upgrade_warnings(_pool_state(result, "ON"), result) == []
    assert mfa_upgrade_warnings([], result) == []


def test_plan_with_state_prints_the_mfa_warning(
    tmp_path: Path, dev_plans: dict[str, PlanResult], capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    document = {"version": 3, "deployment": {"resources": _pool_state(dev_plans["update"], "OPTIONAL")}}
    state.write_text(json.dumps(document, default=str))
    main(["plan", "--cwd", str(REPO), "--stack", "dev", "--no-policy", "--no-access-matrix", "--state", str(state)])
    assert "goes from MFA OPTIONAL to ON" in capsys.readouterr().out
