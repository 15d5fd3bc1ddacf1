"""Run the program against a stack file without the Pulumi CLI: the offline plan's engine.

Reads `Pulumi.<stack>.yaml` the way the CLI would hand it to the program (structured values as
JSON text), then runs `program.main` on the mock runtime in preview or update mode.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..component.config import NAMESPACE
from ..component.program import main
from .harness import PlanResult, run_program

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_REGION = "us-east-1"


class StackFileLoader(yaml.SafeLoader):
    """YAML 1.2 booleans, as the Pulumi CLI reads stack files: `mfa: ON` is the string "ON", not True."""


StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class StackFileError(Exception):
    """The stack file is missing or not a Pulumi stack file."""


def _read_stack_file(stack: str, project_dir: Path) -> dict[str, Any]:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path.name} in {project_dir}; stacks here: {', '.join(known) or 'none'}")
    try:
        document = yaml.load(path.read_text(), Loader=StackFileLoader) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError(f"{path.name} must be a mapping with a `config:` mapping")
    return document.get("config") or {}


def load_stack_config(stack: str, project_dir: Path | None = None) -> dict[str, Any]:
    """The `secure-api:` namespace of a stack file as a camelCase object (prefix stripped)."""
    raw = _read_stack_file(stack, project_dir or PROJECT_DIR)
    prefix = f"{NAMESPACE}:"
    return {key[len(prefix) :]: value for key, value in raw.items() if key.startswith(prefix)}


def stack_region(stack: str, project_dir: Path | None = None) -> str:
    return str(_read_stack_file(stack, project_dir or PROJECT_DIR).get("aws:region", DEFAULT_REGION))


def plan_stack(
    stack: str,
    *,
    preview: bool,
    project_dir: Path | None = None,
    config: dict[str, Any] | None = None,
    result: PlanResult | None = None,
) -> PlanResult:
    """Run the program for `stack`; `config` replaces the stack file's `secure-api:` values."""
    project_dir = project_dir or PROJECT_DIR
    values = load_stack_config(stack, project_dir) if config is None else config
    region = stack_region(stack, project_dir)
    pulumi_config = {f"{NAMESPACE}:{key}": json.dumps(value) for key, value in values.items()}
    pulumi_config["aws:region"] = region
    return run_program(
        main, config=pulumi_config, project=NAMESPACE, stack=stack, preview=preview, region=region, result=result
    )
