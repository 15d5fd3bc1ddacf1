"""The offline plan as a new user runs it: `python -m secure_api plan --stack <name>`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from secure_api.plan.cli import main
from secure_api.plan.offline import PROJECT_DIR, StackFileLoader


def test_dev_plan_prints_layers_and_routes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "Offline plan for stack 'dev' (preview mode" in out
    for layer in ("[auth]", "[api]", "[usage plans]"):
        assert layer in out
    assert "+ aws:cognito/userPool:UserPool" in out
    route_lines = [line.split() for line in out.splitlines() if line.startswith("  /")]
    assert route_lines[2][:7] == ["/orders", "POST", "cognito", "orders.write", "yes", "https", "proxy"]
    assert route_lines[0] == ["/health", "GET", "none", "-", "no", "mock", "200"]


def test_update_mode_is_offered(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev", "--update"]) == 0
    assert "(update mode" in capsys.readouterr().out


def test_invalid_config_exits_nonzero_with_the_key_and_no_traceback(tmp_path: Path) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path)
    text = (PROJECT_DIR / "Pulumi.dev.yaml").read_text().replace("resultTtlSeconds: 300", "resultTtlSeconds: 7200")
    (tmp_path / "Pulumi.broken.yaml").write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "secure_api", "plan", "--stack", "broken", "--project-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        check=False,
    )
    assert done.returncode == 2
    assert "secure-api:lambdaAuthorizer.resultTtlSeconds" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_unknown_stack_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no stack file Pulumi.nope.yaml" in err
    assert "dev" in err


def test_dev_stack_has_no_mandatory_violation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev", "--update", "--format", "json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["summary"]["mandatory"] == 0
    assert all(f["level"] != "mandatory" for f in verdict["findings"])


def test_turning_a_control_off_is_an_accepted_exception_unless_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = yaml.load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)
    stack["config"]["secure-api:waf"] = {"enabled": False, "acceptNoWaf": True}
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path)
    (tmp_path / "Pulumi.nowaf.yaml").write_text(yaml.safe_dump(stack))
    shutil.copytree(PROJECT_DIR / "examples", tmp_path / "examples")
    refuse = tmp_path / "refuse.json"
    refuse.write_text(json.dumps({"waf-stage-association": {"allowExceptions": False}}))
    plan = ["plan", "--stack", "nowaf", "--update", "--project-dir", str(tmp_path)]

    accepted, accepted_out = main(plan), capsys.readouterr().out
    refused, refused_out = main([*plan, "--policy-config", str(refuse)]), capsys.readouterr().out

    assert accepted == 0
    assert "! WAF is off (waf.enabled: false): the REGIONAL API has no web ACL" in accepted_out
    assert "[accepted] waf-stage-association  secure-api-stage" in accepted_out
    assert "reason: waf.acceptNoWaf: no web ACL" in accepted_out
    assert refused == 1
    assert "[mandatory] waf-stage-association  secure-api-stage" in refused_out


def test_sarif_output_is_for_code_scanning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "private", "--format", "sarif"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["tool"]["driver"]["name"] == "secure-api-gateway"
    for result in sarif["runs"][0]["results"]:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.private.yaml"
