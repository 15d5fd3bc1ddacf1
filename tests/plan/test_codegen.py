"""The checkout's generated files are current; the one command that regenerates them finds and fixes stale ones."""

import shutil
from pathlib import Path

import pytest

from secure_api.plan import codegen
from secure_api.plan.cli import main


def test_no_generated_file_of_the_checkout_is_stale() -> None:
    assert codegen.stale() == [], "run `python -m secure_api.plan.codegen` (or `secure-api schema --regenerate`)"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the checkout's generated files, one of them edited by hand and one missing."""
    for path in codegen.GENERATED:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(codegen.ROOT / path, tmp_path / path)
    (tmp_path / codegen.STACK_SCHEMA).write_text("{}\n")
    (tmp_path / codegen.PACKAGE_SCHEMA).unlink()
    return tmp_path


def test_check_names_every_stale_file_and_writes_nothing(checkout: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert codegen.main(["--check", "--root", str(checkout)]) == 1
    errors = capsys.readouterr().err
    assert str(codegen.STACK_SCHEMA) in errors
    assert str(codegen.PACKAGE_SCHEMA) in errors
    assert (checkout / codegen.STACK_SCHEMA).read_text() == "{}\n"
    assert not (checkout / codegen.PACKAGE_SCHEMA).exists()


def test_regenerate_rewrites_them_from_the_sources(checkout: Path) -> None:
    assert codegen.regenerate(checkout) == [codegen.STACK_SCHEMA, codegen.PACKAGE_SCHEMA]
    assert codegen.stale(checkout) == []
    for path in codegen.GENERATED:
        assert (checkout / path).read_text() == (codegen.ROOT / path).read_text()
    assert codegen.regenerate(checkout) == []


def test_the_schema_command_regenerates(monkeypatch: pytest.MonkeyPatch, checkout: Path) -> None:
    monkeypatch.setattr(codegen, "ROOT", checkout)
    assert main(["schema", "--regenerate"]) == 0
    assert codegen.stale(checkout) == []
