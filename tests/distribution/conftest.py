"""Fixtures of the distribution tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The component plugin as the Pulumi CLI starts it: `python -m pulumi.run.plugin <name> <engine>`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.run.plugin", "secure-api", "127.0.0.1:1"],
        cwd=tmp_path_factory.mktemp("plugin"),  # not the checkout: the installed package is what runs
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip() or "0")
        assert port, process.stderr.read() if process.stderr else "no port"
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
