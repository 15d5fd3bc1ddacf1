"""The `secure-api` distribution: build the wheel, install it into a fresh venv, use it from another folder.

Offline and quick: the wheel is built without build isolation (setuptools from requirements-dev.txt),
installed with `--no-deps --no-index`, and the fresh venv borrows this venv's site-packages for the
runtime dependencies through a `.pth` path line (a path line adds the folder only; it does not run
the editable-install hook there, so `secure_api` comes from the wheel).
"""

import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from secure_api_policies import pack_version

import secure_api

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    # Build from a copy of the tracked files, as a fresh clone would (no venv/, build/ or caches).
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            out,
            source,
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("secure_api-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fresh-venv")
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
        check=True,
        capture_output=True,
    )
    fresh_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(fresh_site) / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_wheel_holds_the_packages_and_package_data_only(wheel: Path) -> None:
    assert wheel.name.startswith(f"secure_api-{VERSION}-")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    packages = {"secure_api", "secure_api_authorizer", "secure_api_policies"}
    assert top_level == {*packages, f"secure_api-{VERSION}.dist-info"}
    assert "secure_api_authorizer/requirements.txt" in names
    assert "secure_api_policies/pack.py" in names
    assert "secure_api/args.py" in names
    assert not [n for n in names if "/tests/" in n or n.endswith("conftest.py") or "bench" in n.split("/")[0]]


def test_installed_component_is_imported_from_outside_the_checkout(fresh_python: Path, tmp_path: Path) -> None:
    probe = (
        "import secure_api, secure_api_policies\n"
        "from secure_api import SecureApi, SecureApiArgs, ConfigError, read_config\n"
        "from secure_api_authorizer.build import build_authorizer_package\n"
        "import importlib.resources as r\n"
        "assert r.files('secure_api_authorizer').joinpath('requirements.txt').is_file()\n"
        "print(secure_api.__file__)\n"
        "print(secure_api.__version__)\n"
    )
    run = subprocess.run([fresh_python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    location, version = run.stdout.split()
    assert Path(location).is_relative_to(fresh_python.parents[1])
    assert not Path(location).is_relative_to(ROOT)
    assert version == VERSION
    cli = subprocess.run(
        [fresh_python.parent / "secure-api", "--version"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert VERSION in cli.stdout


def test_program_in_another_folder_uses_the_installed_component_with_output_args(
    fresh_python: Path, tmp_path: Path
) -> None:
    """The Python example, copied out of the checkout, planned with the installed package."""
    program = tmp_path / "orders-service"
    shutil.copytree(ROOT / "examples" / "python-program", program)
    script = (
        "import runpy\n"
        "from secure_api.plan.harness import run_program\n"
        "result = run_program(lambda: runpy.run_path('__main__.py', run_name='__main__'),\n"
        "    config={'aws:region': 'us-east-1'}, project='orders-service', stack='dev', preview=False)\n"
        "api = result.one('aws:apigateway/restApi:RestApi')\n"
        "name = result.one('aws:lambda/function:Function').outputs['name']\n"
        "assert name.startswith('orders-backend-'), name\n"  # Pulumi's auto-name, as the mock runtime gives it
        "assert f'function:{name}/invocations' in api.inputs['body'], api.inputs['body']\n"
        "print(len(result.resources))\n"
    )
    run = subprocess.run([fresh_python, "-c", script], cwd=program, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout.split()[-1]) > 30


def test_one_version_for_the_distribution_and_the_pack_whose_requirements_are_public() -> None:
    """`pulumi policy publish` reads PulumiPolicy.yaml and uploads only `policy/`, rules included."""
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert pack["version"] == VERSION == secure_api.__version__ == pack_version()
    lines = (ROOT / "policy" / "requirements.txt").read_text().splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(r.name for r in requirements) == ["PyYAML", "pulumi-policy"]
    assert (ROOT / "policy" / "secure_api_policies" / "__init__.py").is_file()
