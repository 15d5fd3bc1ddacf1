"""The custom authorizer's Lambda deployment package, built reproducibly.

Same inputs (function source, pinned requirements, architecture, Python version) give the same
bytes, hence the same ``source_code_hash``, so ``pulumi up`` never redeploys the function for
nothing. Third-party wheels for the Lambda platform are installed once per requirements hash
into a cache (``$XDG_CACHE_HOME/secure-api`` or ``~/.cache/secure-api``) and reused offline.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import HANDLER, ZIP_PACKAGE

Architecture = Literal["arm64", "x86_64"]

SOURCE_DIR = Path(__file__).resolve().parent
REQUIREMENTS = SOURCE_DIR / "requirements.txt"
# Bump when the layout or the zip format changes, so old cache entries are not reused.
FORMAT_VERSION = "1"
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34).
_MANYLINUX = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
_PYTHON_VERSION = re.compile(r"3\.(1[2-9]|[2-9]\d)")
# Installer bookkeeping that varies between pip runs and means nothing at run time.
_VOLATILE_DIST_INFO = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_LOG = logging.getLogger(__name__)


class PackagingError(RuntimeError):
    """The package could not be built; the message says which step failed and why."""


@dataclass(frozen=True)
class LambdaPackage:
    path: Path
    """The zip archive, inside the cache directory."""
    sha256_base64: str
    """Base64 of the archive's SHA-256, as Lambda's ``source_code_hash`` expects."""
    handler: str
    """The Lambda handler string for this layout."""
    size_bytes: int


def build_authorizer_package(
    *,
    architecture: Architecture = "arm64",
    python_version: str = "3.12",
    cache_dir: Path | None = None,
) -> LambdaPackage:
    """Build (or reuse) the authorizer's zip for one Lambda architecture and Python runtime."""
    if architecture not in _MACHINE:
        raise PackagingError(f"architecture must be 'arm64' or 'x86_64', got {architecture!r}")
    if not _PYTHON_VERSION.fullmatch(python_version):
        raise PackagingError(f"python_version must be '3.12' or later (e.g. '3.13'), got {python_version!r}")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    requirements = REQUIREMENTS.read_bytes()
    sources = _function_sources()
    deps_key = _digest(FORMAT_VERSION, architecture, python_version, requirements)
    package_key = _digest(deps_key, *(part for name, data in sources for part in (name, data)))
    archive = cache / "packages" / f"authorizer-{architecture}-py{python_version}-{package_key[:24]}.zip"
    if not archive.is_file():
        _LOG.info(
            "building the authorizer's Lambda package (%s, Python %s) into %s; later runs reuse it",
            architecture,
            python_version,
            cache,
        )
        site = _dependencies(cache / "deps" / deps_key[:24], architecture, python_version)
        _write_zip(archive, _entries(site, sources))
    data = archive.read_bytes()
    return LambdaPackage(
        path=archive,
        sha256_base64=base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"),
        handler=HANDLER,
        size_bytes=len(data),
    )


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secure-api"


def _function_sources() -> list[tuple[str, bytes]]:
    """The function's modules, placed under ``ZIP_PACKAGE`` at the archive root (this builder stays out)."""
    return sorted(
        (f"{ZIP_PACKAGE}/{path.relative_to(SOURCE_DIR).as_posix()}", path.read_bytes())
        for path in SOURCE_DIR.rglob("*.py")
        if "__pycache__" not in path.parts and path != Path(__file__).resolve()
    )


def _dependencies(target: Path, architecture: Architecture, python_version: str) -> Path:
    """Wheels for the Lambda platform, installed once per key; later builds need no network."""
    site = target / "site"
    if site.is_dir():
        return site
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        _pip_install(staging / "site", architecture, python_version)
        try:
            staging.rename(target)
        except OSError:
            if not site.is_dir():  # another build did not win the race either
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return site


def _pip_install(site: Path, architecture: Architecture, python_version: str) -> None:
    machine = _MACHINE[architecture]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "--no-deps",
        "--only-binary=:all:",
        "--implementation=cp",
        f"--python-version={python_version}",
        *(f"--platform={tag}_{machine}" for tag in _MANYLINUX),
        "--no-compile",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        f"--target={site}",
        f"--requirement={REQUIREMENTS}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackagingError(f"could not run pip for the authorizer's dependencies: {exc}") from exc
    if result.returncode != 0:
        detail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise PackagingError(
            f"pip could not install the authorizer's dependencies for {architecture}/Python {python_version} "
            f"from {REQUIREMENTS.name} (is PyPI reachable, and are the pinned hashes current?):\n{detail}"
        )


def _entries(site: Path, sources: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    entries = list(sources)
    for path in site.rglob("*"):
        relative = path.relative_to(site)
        if path.is_file() and not _excluded(relative):
            entries.append((relative.as_posix(), path.read_bytes()))
    names = [name for name, _ in entries]
    if len(set(names)) != len(names):
        raise PackagingError(f"a dependency ships files that clash with the function's package {ZIP_PACKAGE!r}")
    return sorted(entries)


def _excluded(relative: Path) -> bool:
    parts = relative.parts
    return (
        "__pycache__" in parts
        or parts[0] == "bin"
        or relative.suffix in (".pyc", ".pyi")
        or (parts[0].endswith(".dist-info") and relative.name in _VOLATILE_DIST_INFO)
    )


def _write_zip(archive: Path, entries: list[tuple[str, bytes]]) -> None:
    """Sorted entries, fixed timestamps and modes, fixed compression: same entries, same bytes."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".building-", suffix=".zip", dir=archive.parent)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as bundle:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so external_attr holds the mode below
                info.external_attr = 0o100644 << 16
                bundle.writestr(info, data, compresslevel=9)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would surprise other readers of the cache
        os.replace(temporary, archive)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _digest(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()
