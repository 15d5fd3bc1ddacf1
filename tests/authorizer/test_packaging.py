"""The Lambda package: reproducible bytes, the right platform binaries, nothing it does not need.

The builds need PyPI once (CI has it); they run once per session and are shared by the tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from secure_api_authorizer import HANDLER, ZIP_PACKAGE
from secure_api_authorizer import build as packaging
from secure_api_authorizer.build import LambdaPackage, PackagingError, build_authorizer_package

ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64


@dataclass(frozen=True)
class Builds:
    arm64: LambdaPackage
    arm64_again: LambdaPackage
    x86_64: LambdaPackage
    cache: Path


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    cache, other_cache = tmp_path_factory.mktemp("cache-a"), tmp_path_factory.mktemp("cache-b")
    return Builds(
        arm64=build_authorizer_package(architecture="arm64", python_version="3.13", cache_dir=cache),
        arm64_again=build_authorizer_package(architecture="arm64", python_version="3.13", cache_dir=other_cache),
        x86_64=build_authorizer_package(architecture="x86_64", python_version="3.12", cache_dir=cache),
        cache=cache,
    )


def names(package: LambdaPackage) -> list[str]:
    with zipfile.ZipFile(package.path) as bundle:
        return bundle.namelist()


def elf_machine(package: LambdaPackage, name: str) -> int:
    with zipfile.ZipFile(package.path) as bundle:
        header = bundle.read(name)[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


@pytest.mark.network
def test_two_builds_in_separate_caches_are_byte_identical(builds: Builds) -> None:
    assert builds.arm64.sha256_base64 == builds.arm64_again.sha256_base64
    assert builds.arm64.path.read_bytes() == builds.arm64_again.path.read_bytes()
    assert builds.arm64.sha256_base64 != builds.x86_64.sha256_base64


@pytest.mark.network
def test_package_fields_describe_the_archive(builds: Builds) -> None:
    package = builds.arm64
    digest = hashlib.sha256(package.path.read_bytes()).digest()

    assert package.handler == HANDLER
    assert package.size_bytes == package.path.stat().st_size < 10 * 2**20
    assert package.sha256_base64 == base64.b64encode(digest).decode()


@pytest.mark.network
@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_native_code_is_built_for_the_lambda_architecture(builds: Builds, architecture: str) -> None:
    package = getattr(builds, architecture)
    binaries = [name for name in names(package) if name.endswith(".so")]

    assert "cryptography/hazmat/bindings/_rust.abi3.so" in binaries
    assert any(name.startswith("_cffi_backend.") for name in binaries)
    assert {elf_machine(package, name) for name in binaries} == {ELF_MACHINE[architecture]}


@pytest.mark.network
def test_archive_holds_the_function_and_its_runtime_dependencies_only(builds: Builds) -> None:
    listed = names(builds.arm64)
    top_level = {name.split("/")[0] for name in listed}

    assert f"{ZIP_PACKAGE}/handler.py" in listed
    assert f"{ZIP_PACKAGE}/requirements.txt" not in listed
    assert not top_level & {"boto3", "botocore", "pydantic", "pydantic_core", "jwt", "pulumi", "bin"}
    assert not [n for n in listed if "__pycache__" in n or n.endswith((".pyc", ".pyi"))]
    assert not [n for n in listed if n.endswith(("/RECORD", "/INSTALLER", "/direct_url.json"))]
    assert listed == sorted(listed)


@pytest.mark.network
def test_entries_have_fixed_timestamps_and_modes(builds: Builds) -> None:
    with zipfile.ZipFile(builds.arm64.path) as bundle:
        infos = bundle.infolist()

    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


@pytest.mark.network
def test_a_warm_cache_builds_offline(builds: Builds, monkeypatch: pytest.MonkeyPatch) -> None:
    builds.arm64.path.unlink()  # force a new archive from the cached dependencies

    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pip must not run when the dependencies are cached")

    monkeypatch.setattr(packaging.subprocess, "run", no_network)
    rebuilt = build_authorizer_package(architecture="arm64", python_version="3.13", cache_dir=builds.cache)

    assert rebuilt == builds.arm64


@pytest.mark.network
def test_the_zipped_function_runs_from_the_archive_root(builds: Builds, tmp_path: Path) -> None:
    """Only the function's own package is extracted: the host's cryptography stands in for the wheels."""
    with zipfile.ZipFile(builds.x86_64.path) as bundle:
        for name in bundle.namelist():
            if name.startswith(f"{ZIP_PACKAGE}/"):
                bundle.extract(name, tmp_path)
    module, _, function = HANDLER.rpartition(".")
    code = (
        f"import json, {module} as m\n"
        "from importlib import import_module\n"
        f"import_module('{ZIP_PACKAGE}.jwt_auth')\n"
        "event = {'type': 'TOKEN', 'authorizationToken': 'k', 'methodArn': 'arn:aws:execute-api:r:1:a/s/GET/x'}\n"
        f"print(json.dumps(m.{function}(event, None)['policyDocument']['Statement'][0]['Effect']))\n"
    )
    env = {
        "PYTHONPATH": str(tmp_path),
        "AUTH_MODE": "api_key",
        "API_KEY_SHA256": json.dumps({hashlib.sha256(b"k").hexdigest(): None}),
    }

    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)

    assert result.stdout.splitlines()[-1] == '"Allow"'


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"architecture": "mips"}, "architecture"),
        ({"python_version": "3.11"}, "3.12"),
        ({"python_version": "3"}, "3.12"),
    ],
)
def test_invalid_targets_are_refused_before_any_work(arguments: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match=message):
        build_authorizer_package(cache_dir=tmp_path, **arguments)  # type: ignore[arg-type]


def test_a_pip_failure_is_a_packaging_error_with_pips_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "requirements.txt"
    broken.write_text("this is not a requirement !!\n")
    monkeypatch.setattr(packaging, "REQUIREMENTS", broken)

    with pytest.raises(PackagingError, match="pip could not install") as raised:
        build_authorizer_package(cache_dir=tmp_path / "cache")

    assert "requirement" in str(raised.value).lower()
    assert not list((tmp_path / "cache" / "deps").iterdir())  # no half-built cache entry is left
