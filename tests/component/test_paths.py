"""Relative paths in args and stack files are read from the running program's Pulumi project folder.

The Pulumi CLI starts a program in its project folder; the package may be installed anywhere else.
Here the project is a temporary folder holding its own CA bundle, away from this checkout.
"""

import shutil
from pathlib import Path
from typing import Any

import pytest

from secure_api import SecureApi
from secure_api.component.config import ConfigError
from secure_api.plan.harness import run_program

CHECKOUT = Path(__file__).resolve().parents[2]
CHECKOUT_CA = "examples/truststore/dev-ca.pem"


def mutual_tls_args(truststore_path: str) -> dict[str, Any]:
    return {
        "routes": [{"path": "/orders", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}],
        "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
        "domain": {
            "domainName": "api.example.com",
            "hostedZoneId": "Z0123456789EXAMPLE01",
            "mutualTls": {"truststorePath": truststore_path},
        },
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "certs").mkdir()
    shutil.copy(CHECKOUT / CHECKOUT_CA, tmp_path / "certs" / "clients-ca.pem")
    (tmp_path / "Pulumi.yaml").write_text("name: orders-service\nruntime: python\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_truststore_path_is_read_from_the_project_folder(project: Path) -> None:
    result = run_program(
        lambda: SecureApi("orders", mutual_tls_args("certs/clients-ca.pem")),
        config={"aws:region": "us-east-1"},
        project="orders-service",
        stack="dev",
        preview=False,
    )
    bundle = result.one("aws:s3/bucketObjectv2:BucketObjectv2")
    assert bundle.inputs["content"] == (project / "certs" / "clients-ca.pem").read_text()


def test_a_path_of_the_package_checkout_is_not_found_from_another_project(project: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        SecureApi("orders", mutual_tls_args(CHECKOUT_CA))
    assert raised.value.problems == [
        ("secure-api:domain.mutualTls.truststorePath", f"no file {CHECKOUT_CA!r} in {project}")
    ]
