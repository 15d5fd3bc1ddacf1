"""`secure-api plan --state`: the whole diff against a `pulumi stack export`, in text and JSON, and the CI exit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from secure_api.plan.changes import STATEFUL_TYPES
from secure_api.plan.cli import EXIT_REPLACEMENTS, main
from secure_api.plan.offline import StackFileLoader, plan_stack
from tests.conftest import REPO
from tests.plan.test_change_table import export


@pytest.fixture(scope="module")
def state_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "dev.json"
    resources = export(plan_stack("dev", preview=False, project_dir=REPO))
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": resources}}))
    return path


def _project(tmp_path: Path, change: dict[str, Any]) -> Path:
    """A copy of the repository's project whose dev stack file sets `change` (secure-api keys)."""
    stack = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)
    for key, value in change.items():
        stack["config"][f"secure-api:{key}"] = value
    shutil.copy(REPO / "Pulumi.yaml", tmp_path)
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    return tmp_path


def _plan(cwd: Path, state: Path, *extra: str) -> list[str]:
    return ["plan", "--stack", "dev", "--cwd", str(cwd), "--no-access-matrix", "--state", str(state), *extra]


def test_an_unchanged_stack_shows_no_change(state_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*_plan(REPO, state_file), "--no-policy"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("Changes against the state") :].splitlines()
    assert section[1] == "  0 to create, 0 to update, 0 to replace, 0 to delete, 58 unchanged"


def test_renaming_an_api_key_shows_the_lost_key_first_with_how_to_keep_it(
    tmp_path: Path, state_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)["config"]
    keys = config["secure-api:apiKeys"]
    keys[0]["name"] = "partner-acme-corp"
    cwd = _project(tmp_path, {"apiKeys": keys})
    assert main([*_plan(cwd, state_file), "--no-policy"]) == 0
    section = capsys.readouterr().out.split("Changes against the state")[1].splitlines()
    assert section[1] == "  2 to create, 0 to update, 0 to replace, 2 to delete, 56 unchanged"
    first = section[2:4]
    assert first[0].startswith("  ! delete  aws:apigateway/apiKey:ApiKey secure-api-key-partner-acme")
    assert "[stateful]" in first[0]
    assert "loses its key value that a partner sends" in first[1]
    assert "a renamed list item? set its `id` to its old name" in first[1]


def test_json_lists_every_change_and_fail_on_replace_exits_4(
    tmp_path: Path, state_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)["config"]
    api = {**config["secure-api:api"], "stageName": "v2"}
    cwd = _project(tmp_path, {"api": api})
    assert main([*_plan(cwd, state_file), "--format", "json"]) in (0, 1)
    document = json.loads(capsys.readouterr().out)
    changes = {c["urn"].rsplit("::", 1)[-1]: c for c in document["changes"]}
    stage = changes["secure-api-stage"]
    assert (stage["op"], stage["forcedBy"], stage["protected"]) == ("replace", ["stageName"], False)
    access_logs = changes["secure-api-access-logs"]
    assert (access_logs["op"], access_logs["forcedBy"], access_logs["protected"]) == ("replace", ["name"], True)
    assert changes["secure-api-users"]["op"] == "same"
    assert {c["op"] for c in document["changes"]} <= {"create", "update", "replace", "delete", "same"}
    # Protected and stateful replacements and deletions first.
    matters = [
        (c["protected"] or c["type"] in STATEFUL_TYPES) and c["op"] in ("replace", "delete")
        for c in document["changes"]
    ]
    assert matters[0]
    assert matters == sorted(matters, reverse=True)
    code = main([*_plan(cwd, state_file), "--no-policy", "--fail-on-replace"])
    assert code == EXIT_REPLACEMENTS
    capsys.readouterr()
    assert main([*_plan(REPO, state_file), "--no-policy", "--fail-on-replace"]) == 0


def test_fail_on_replace_needs_a_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev", "--cwd", str(REPO), "--no-policy", "--fail-on-replace"]) == 2
    assert "--fail-on-replace needs --state" in capsys.readouterr().err


def test_renaming_the_api_keeps_the_pool_and_bucket_and_says_why(
    tmp_path: Path, state_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)["config"]
    cwd = _project(tmp_path, {"api": {**config["secure-api:api"], "name": "orders-service"}})
    assert main([*_plan(cwd, state_file), "--no-policy"]) == 0
    section = capsys.readouterr().out.split("Changes against the state")[1]
    assert "0 to delete" in section
    pool = [line for line in section.splitlines() if "secure-api-users" in line]
    assert pool[0].startswith("    same    aws:cognito/userPool:UserPool secure-api-users")
    assert "keeps name 'orders-api-users': AWS cannot change it in place" in section
    assert "(api.name) only labels it" in section
    assert "keeps bucketPrefix 'orders-api-truststore-'" in section
    assert "! replace" not in section  # nothing stateful or protected is replaced


def _real_export(tmp_path: Path, change: Any = None) -> Path:
    """The dev export as the Pulumi CLI writes it: encrypted secrets, `__defaults`, a provider resource."""
    resources = export(plan_stack("dev", preview=False, project_dir=REPO))
    cipher = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
    for resource in resources:
        resource.setdefault("inputs", {})["__defaults"] = []
        if resource["type"] == "aws:apigateway/apiKey:ApiKey":
            resource["outputs"]["value"] = cipher
        if resource["type"] == "aws:cognito/userPoolClient:UserPoolClient":
            resource["outputs"]["clientSecret"] = cipher
        if change is not None:
            change(resource)
    provider = {
        "urn": "urn:pulumi:dev::secure-api::pulumi:providers:aws::default_7_51_1",
        "custom": True,
        "type": "pulumi:providers:aws",
        "id": "f0e1",
        "inputs": {},
        "outputs": {},
    }
    path = tmp_path / "real.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": [provider, *resources]}}))
    return path


def _section(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.split("Changes against the state")[1].splitlines()


def test_a_real_export_with_encrypted_secrets_plans_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_plan(REPO, _real_export(tmp_path)), "--no-policy"]) == 0
    assert _section(capsys)[1] == "  0 to create, 0 to update, 0 to replace, 0 to delete, 58 unchanged"


def test_new_authorizer_code_is_an_update_by_the_content_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def older_code(resource: dict[str, Any]) -> None:
        if resource["type"] == "aws:lambda/function:Function":
            resource["inputs"]["code"] = {
                "4dabf18193072939515e22adb298388d": "0def7320c3a5731c473e5ecbe6d01bc7",
                "hash": "0" * 64,
                "path": "/build/elsewhere/authorizer.zip",
            }

    assert main([*_plan(REPO, _real_export(tmp_path, older_code)), "--no-policy"]) == 0
    assert "    update  aws:lambda/function:Function secure-api-authorizer (code)" in _section(capsys)


def test_a_urn_that_moved_without_an_alias_is_a_delete_and_a_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def moved(resource: dict[str, Any]) -> None:
        resource["urn"] = resource["urn"].replace("secure-api:index:SecureApi$", "acme:index:Wrapper$")

    assert main([*_plan(REPO, _real_export(tmp_path, moved)), "--no-policy"]) == 0
    summary = _section(capsys)[1]
    assert summary.startswith("  58 to create, 0 to update, 0 to replace, 58 to delete")


def test_a_stage_rename_against_the_state_plans_no_false_violation(
    tmp_path: Path, state_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Replaced resources get new outputs (the renamed stage's ARN): the WAF association and logging rules
    judge those, as a preview of the update would, not the old stage's."""
    config = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)["config"]
    cwd = _project(tmp_path, {"api": {**config["secure-api:api"], "stageName": "v2"}})
    assert main(["plan", "--stack", "dev", "--cwd", str(cwd), "--no-access-matrix", "--state", str(state_file)]) == 0
    out = capsys.readouterr().out
    assert "[mandatory]" not in out.split("Undecided")[0]
    assert "! replace aws:cloudwatch/logGroup:LogGroup secure-api-access-logs (forced by name)" in out
