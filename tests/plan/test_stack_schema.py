"""The stack file's JSON Schema: generated from the config models, shipped, and right about real stack files."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from secure_api.plan.cli import main
from secure_api.plan.offline import StackFileLoader
from secure_api.plan.schema import render_schema, shipped_schema, stack_file_schema

REPO = Path(__file__).resolve().parents[2]
STACK_FILES = sorted([*REPO.glob("Pulumi.*.yaml"), *REPO.glob("examples/*/Pulumi.*.yaml")])
SCHEMA = REPO / "secure_api" / "plan" / "stack-config.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = stack_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _stack(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=StackFileLoader)


def test_the_shipped_schema_is_the_generated_one() -> None:
    assert shipped_schema() == render_schema(), "run `secure-api schema --regenerate`"


def test_schema_command_writes_it(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert main(["schema", "--output", str(target)]) == 0
    assert json.loads(target.read_text()) == stack_file_schema()


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_stack_file_is_valid_and_carries_the_modeline(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    # The modeline's path is relative to the stack file and must name the shipped schema.
    relative = Path(os.path.relpath(SCHEMA, path.parent)).as_posix()
    modeline = f"# yaml-language-server: $schema={relative if relative.startswith('.') else './' + relative}"
    assert path.read_text().splitlines()[0] == modeline
    assert list(validator.iter_errors(_stack(path))) == []


def _broken(change: str) -> dict[str, Any]:
    stack = copy.deepcopy(_stack(REPO / "Pulumi.dev.yaml"))
    config = stack["config"]
    if change == "unknown key":
        config["secure-api:cognito"]["mfaa"] = "ON"
    elif change == "unknown top-level key":
        config["secure-api:rotues"] = []
    elif change == "wrong enum":
        config["secure-api:cognito"]["mfa"] = "SOMETIMES"
    elif change == "http backend":
        config["secure-api:routes"][1]["integration"]["url"] = "http://orders.internal.example.com/orders"
    elif change == "region typo":
        config["aws:region"] = "eu-west-01"
    elif change == "wrong type":
        config["secure-api:lambdaAuthorizer"]["resultTtlSeconds"] = "300"
    return stack


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("unknown key", ["config", "secure-api:cognito"]),
        ("unknown top-level key", ["config"]),
        ("wrong enum", ["config", "secure-api:cognito", "mfa"]),
        ("http backend", ["config", "secure-api:routes", 1, "integration", "url"]),
        ("region typo", ["config", "aws:region"]),
        ("wrong type", ["config", "secure-api:lambdaAuthorizer", "resultTtlSeconds"]),
    ],
)
def test_typical_mistakes_are_rejected_where_they_are(
    change: str, where: list[Any], validator: jsonschema.Draft202012Validator
) -> None:
    errors = list(validator.iter_errors(_broken(change)))
    assert errors
    paths = [list(error.absolute_path) for error in errors]
    # a route is a union of integrations: the failure is reported under one of its branches
    assert any(path[: len(where)] == where for path in paths) or any(
        list(c.absolute_path)[: len(where)] == where for e in errors for c in (e.context or [])
    ), paths


def test_other_namespaces_are_free(validator: jsonschema.Draft202012Validator) -> None:
    stack = _stack(REPO / "Pulumi.dev.yaml")
    stack["config"]["payments:owner"] = "team-a"
    assert list(validator.iter_errors(stack)) == []
