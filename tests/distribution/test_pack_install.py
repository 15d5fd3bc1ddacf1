"""The pack folder alone, installed as the Pulumi CLI installs it, runs and judges.

`pulumi policy publish` uploads only `policy/`, and `pulumi preview --policy-pack policy` creates the
pack's own virtualenv from `policy/requirements.txt` (the `virtualenv: venv` runtime option of
`PulumiPolicy.yaml`), then starts `python -m pulumi.policy <engine> <pack folder>` in it. This test
does the same from an empty folder: a fresh virtualenv, the pack's requirements from the package
registry, no `secure-api`, no pulumi-aws; then it asks the pack over gRPC on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc
from secure_api_policies import pack_version
from secure_api_policies.verdict import analyze_request

from secure_api.plan.harness import run_program

REPO = Path(__file__).resolve().parents[2]


def _pip_index_reachable() -> str | None:
    """None when the package registry answers; else pip's reason (the test is then skipped, saying so)."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q",
         "-d", "/tmp/secure-api-pip-probe", "pulumi-policy>=1.21,<2"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return None if probe.returncode == 0 else probe.stderr.strip()[-500:] or "pip download failed"


@pytest.fixture(scope="module")
def pack_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if reason := _pip_index_reachable():
        pytest.skip(f"the package registry is not reachable, so the pack cannot be installed: {reason}")
    root = tmp_path_factory.mktemp("published")
    pack = root / "pack"
    shutil.copytree(REPO / "policy", pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    venv = pack / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--only-binary", ":all:",
         "-r", str(pack / "requirements.txt")],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    return pack, python


def test_the_pack_venv_holds_neither_the_component_nor_pulumi_aws(pack_venv: tuple[Path, Path]) -> None:
    _, python = pack_venv
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True)
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.splitlines()}
    assert "pulumi-policy" in names
    assert not names & {"secure-api", "pulumi-aws", "pydantic"}


def test_the_published_pack_runs_from_its_own_venv_and_reports_violations(pack_venv: tuple[Path, Path]) -> None:
    pack, python = pack_venv
    server = subprocess.Popen(
        [str(python), "-m", "pulumi.policy", "127.0.0.1:0", str(pack)],
        cwd=pack,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        port = int(server.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            analyzer = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
            pool = run_program(
                lambda: __import__("pulumi_aws").cognito.UserPool("users"),
                config={},
                project="raw",
                stack="dev",
                preview=True,
            ).resources[0]
            response = analyzer.Analyze(analyze_request(pool), timeout=60)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert info.name == "secure-api-gateway", stderr[-2000:]
    # pulumi_policy always answers version 0.0.1; the CLI takes the pack's version from the manifest.
    assert yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["version"] == pack_version()
    assert {"cognito-mfa", "cognito-password-policy"} <= {d.policyName for d in response.diagnostics}
