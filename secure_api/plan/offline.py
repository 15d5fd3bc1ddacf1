"""Run a Pulumi Python project against one of its stack files without the Pulumi CLI.

The offline plan's engine, doing what `pulumi preview` does before the program starts:

- find the project: the nearest folder at or above the given one holding `Pulumi.yaml`
  (`name`, `runtime: python`, optional `main:` and `stackConfigDir:`);
- read `Pulumi.<stack>.yaml` (YAML 1.2 booleans, duplicate keys refused with file and line, every
  key's line kept for reports), put bare keys in the project's namespace and hand the values to the
  program as the CLI does (structured values as JSON text);
- resolve `aws:region` (the stack file, else `AWS_REGION`/`AWS_DEFAULT_REGION`), checked against the
  regions the installed pulumi-aws provider knows;
- run the program's entry point (`main:` file or folder, default the project folder's `__main__.py`)
  with `runpy` on the mock runtime, in the working directory the Pulumi CLI would use (the `main:`
  folder, else the project folder) and with that folder on `sys.path`.

Source: https://www.pulumi.com/docs/iac/concepts/projects/project-file/ (project file),
https://www.pulumi.com/docs/iac/concepts/config/ (namespaces, structured values).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import runpy
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..component.config import NAMESPACE, ConfigError, StackConfig
from .harness import PlanResult, Seed, run_program

COMPONENT_KEYS = frozenset(info.alias or name for name, info in StackConfig.model_fields.items())
_PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


class StackFileLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when PyYAML has it
    """Scalars as the Pulumi CLI (Go's yaml.v3) reads stack files.

    YAML 1.2 booleans: `mfa: ON` is the string "ON", not True. A plain number with a leading zero and
    a digit 8 or 9 (`012345678901`, an account id left unquoted) is not valid octal, and yaml.v3 then
    reads it as a float (12345678901.0), where PyYAML would keep the text: the plan reads what a real
    `pulumi up` hands the program, so the config check can say to quote it.
    """


StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StackFileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
StackFileLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?0[0-9]*[89][0-9]*$"), list("-+0"))


class StackFileError(Exception):
    """The project file, the stack file or the program cannot be used; the message names file and line."""


@dataclass(frozen=True)
class Project:
    """A Pulumi project as its `Pulumi.yaml` describes it."""

    directory: Path
    """The folder holding `Pulumi.yaml` (absolute)."""
    name: str
    main: Path
    """The program's entry: a `.py` file or a folder with `__main__.py` (absolute)."""
    stack_config_dir: Path

    @property
    def work_dir(self) -> Path:
        """The program's working directory under the Pulumi CLI: the `main:` folder, else the file's folder."""
        return self.main if self.main.is_dir() else self.main.parent

    @property
    def program(self) -> Path:
        """The program's entry file: `main:` itself, or `__main__.py` in the `main:` (or project) folder."""
        return self.main / "__main__.py" if self.main.is_dir() else self.main

    def stack_path(self, stack: str) -> Path:
        for suffix in (".yaml", ".yml"):
            candidate = self.stack_config_dir / f"Pulumi.{stack}{suffix}"
            if candidate.is_file():
                return candidate
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(
            p.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
            for p in self.stack_config_dir.glob("Pulumi.*.y*ml")
            if p.suffix in (".yaml", ".yml")
        )


@dataclass(frozen=True)
class StackFile:
    """One stack file: its config by full key (`namespace:key`) and the line of every key path."""

    path: Path
    stack: str
    config: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    """1-based line of each key path: `secure-api:cognito`, `secure-api:cognito.mfa`, `secure-api:routes[0].path`."""
    spelling: dict[str, str] = field(default_factory=dict)
    """How the file spells each full key (a bare `routes` is `<project>:routes`)."""
    secrets: frozenset[str] = frozenset()

    def namespace(self, namespace: str) -> dict[str, Any]:
        """The keys of one namespace, prefix stripped (`secure-api:cognito` -> `cognito`)."""
        prefix = f"{namespace}:"
        return {key[len(prefix) :]: value for key, value in self.config.items() if key.startswith(prefix)}

    def line_of(self, path: str) -> int | None:
        """The line of `path` or of its nearest parent that the file spells out."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


@dataclass(frozen=True)
class Region:
    name: str
    source: str
    """Where it came from: `aws:region in Pulumi.dev.yaml` or `AWS_REGION`."""


def find_project(start: Path) -> Project:
    """The project at or above `start`, as the Pulumi CLI finds it; StackFileError when there is none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        for name in _PROJECT_FILES:
            if (folder / name).is_file():
                return _read_project(folder / name)
    raise StackFileError(
        f"no Pulumi.yaml in {start} or any folder above it: run `secure-api plan` in a Pulumi project "
        "(or pass --cwd DIR)"
    )


def _read_project(path: Path) -> Project:
    document, _ = _load_yaml(path)
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: a project file is a mapping with `name:` and `runtime:`")
    name = document.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise StackFileError(
            f"{path}: `name:` must be the project name (letters, digits, hyphens, underscores, periods), got {name!r}"
        )
    runtime = document.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise StackFileError(
            f"{path}: `runtime:` is {runtime_name!r}; the offline plan runs Python programs (runtime: python)"
        )
    directory = path.parent
    main = document.get("main")
    entry = directory if main is None else (directory / str(main)).resolve()
    if main is not None and not entry.is_relative_to(directory):
        raise StackFileError(f"{path}: `main: {main}` must be a folder or file inside the project folder")
    config_dir = document.get("stackConfigDir")
    project = Project(
        directory=directory,
        name=name,
        main=entry,
        stack_config_dir=directory / str(config_dir) if config_dir else directory,
    )
    if not project.program.is_file():
        where = f"`main: {main}`" if main is not None else "the project folder (no `main:`)"
        raise StackFileError(f"{path}: no Python program at {where}: expected {project.program}")
    return project


def _load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The document and its node tree (for line numbers); duplicate keys refused."""
    try:
        text = path.read_text()
        node = yaml.compose(text, Loader=StackFileLoader)
    except OSError as error:
        raise StackFileError(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path} is not valid YAML: {error}") from None
    if node is None:
        return None, None
    _refuse_duplicates(node, path)
    return StackFileLoader(text).construct_document(node), node


def _refuse_duplicates(node: yaml.Node, path: Path) -> None:
    """A key given twice in one mapping: YAML keeps the last one silently, so the first block would vanish."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen:
                    raise StackFileError(
                        f"{path.name} line {line}: duplicate key {key.value!r} (first at line {seen[key.value]}); "
                        "YAML would keep only the last one: merge the two blocks"
                    )
                seen[key.value] = line
            _refuse_duplicates(value, path)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicates(item, path)


def _key_lines(node: yaml.Node, prefix: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}.{key.value}" if prefix else str(key.value)
            lines[path] = key.start_mark.line + 1
            _key_lines(value, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = f"{prefix}[{index}]"
            lines[path] = item.start_mark.line + 1
            _key_lines(item, path, lines)


def read_stack_file(project: Project, stack: str) -> StackFile:
    """The stack's config with bare keys in the project's namespace, and the line of every key path."""
    path = project.stack_path(stack)
    if not path.is_file():
        known = ", ".join(project.stacks()) or "none"
        raise StackFileError(f"no stack file {path.name} in {path.parent}; stacks here: {known}")
    document, root = _load_yaml(path)
    document = document or {}
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError(f"{path.name} must be a mapping with a `config:` mapping")
    config_node = next((v for k, v in root.value if k.value == "config"), None) if root else None
    raw_lines: dict[str, int] = {}
    if config_node is not None:
        _key_lines(config_node, "", raw_lines)
    config: dict[str, Any] = {}
    lines: dict[str, int] = {}
    secrets = set()
    spelling: dict[str, str] = {}
    for key, value in (document.get("config") or {}).items():
        full = str(key) if ":" in str(key) else f"{project.name}:{key}"
        if full in config:
            raise StackFileError(
                f"{path.name} line {raw_lines.get(str(key))}: {key!r} and {full!r} are the same key "
                f"(bare keys belong to the project namespace {project.name!r})"
            )
        if isinstance(value, dict) and set(value) == {"secure"}:
            secrets.add(full)
            value = "[secret]"
        config[full] = value
        spelling[full] = str(key)
        lines.update({full + sub[len(str(key)) :]: n for sub, n in raw_lines.items() if _under(sub, str(key))})
    return StackFile(path=path, stack=stack, config=config, lines=lines, spelling=spelling, secrets=frozenset(secrets))


def _under(path: str, key: str) -> bool:
    return path == key or path.startswith((f"{key}.", f"{key}["))


def known_regions() -> frozenset[str]:
    """The regions of the installed pulumi-aws provider (its `Region` enum)."""
    from pulumi_aws import Region as AwsRegion  # heavy: loaded when needed

    return frozenset(region.value for region in AwsRegion)


def resolve_region(stack_file: StackFile, environ: Mapping[str, str] | None = None) -> Region:
    """`aws:region` of the stack file, else the environment the provider would read; checked against the provider.

    Raises StackFileError when no region is set (the provider would refuse to run, too) or when the name
    is not a region the installed pulumi-aws knows.
    """
    environ = os.environ if environ is None else environ
    where = stack_file.path.name
    if "aws:region" in stack_file.config:
        region = Region(str(stack_file.config["aws:region"]), f"aws:region in {where}")
    elif environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"):
        variable = "AWS_REGION" if environ.get("AWS_REGION") else "AWS_DEFAULT_REGION"
        region = Region(environ[variable], variable)
    else:
        raise StackFileError(
            f"no AWS region: {where} has no `aws:region` and AWS_REGION is not set; "
            f"set it with `pulumi config set aws:region eu-west-1 --stack {stack_file.stack}`"
        )
    known = known_regions()
    if region.name not in known:
        line = stack_file.line_of("aws:region")
        at = f" (line {line})" if line and region.source.startswith("aws:region") else ""
        close = sorted(known, key=lambda name: _distance(name, region.name))[:3]
        raise StackFileError(
            f"{region.source}{at}: {region.name!r} is not an AWS region known to pulumi-aws; "
            f"did you mean {' or '.join(close)}? (known: {', '.join(sorted(known))})"
        )
    return region


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, to suggest the region a typo meant."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def misplaced_component_keys(stack_file: StackFile) -> list[str]:
    """Keys named like the component's but outside the `secure-api:` namespace, with where they are."""
    found = []
    for key in stack_file.config:
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE and name in COMPONENT_KEYS and f"{NAMESPACE}:{name}" not in stack_file.config:
            spelled = stack_file.spelling.get(key, key)
            where = f"{stack_file.path.name} line {stack_file.line_of(key)}"
            bare = "" if ":" in spelled else f", a bare key: the project's namespace `{namespace}:`"
            found.append(f"`{spelled}` ({where}{bare})")
    return found


def pulumi_config(stack_file: StackFile, region: Region, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The config as the CLI hands it to a program: full keys, structured values as JSON text.

    `overrides` replaces the `secure-api:` namespace (camelCase keys, prefix stripped).
    """
    values = dict(stack_file.config)
    if overrides is not None:
        values = {k: v for k, v in values.items() if not k.startswith(f"{NAMESPACE}:")}
        values.update({f"{NAMESPACE}:{key}": value for key, value in overrides.items()})
    values["aws:region"] = region.name
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


@contextlib.contextmanager
def _program_context(project: Project) -> Iterator[None]:
    """The working directory and import path the Pulumi CLI gives the program; undone afterwards.

    Modules imported from the program's folder are forgotten afterwards, so a second run executes them again.
    """
    before = os.getcwd()
    modules = set(sys.modules)
    work_dir = project.work_dir
    sys.path.insert(0, str(work_dir))
    os.chdir(work_dir)
    try:
        yield
    finally:
        os.chdir(before)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(work_dir))
        for name in set(sys.modules) - modules:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin and Path(origin).resolve().is_relative_to(work_dir):
                del sys.modules[name]


@dataclass(frozen=True)
class Plan:
    """One offline run: what was read and what the program registered."""

    project: Project
    stack_file: StackFile
    region: Region
    result: PlanResult


def run_plan(
    project: Project,
    stack: str,
    *,
    preview: bool,
    config: Mapping[str, Any] | None = None,
    result: PlanResult | None = None,
    seed: Seed | None = None,
) -> Plan:
    """Read `stack`'s file of `project` (see `find_project`) and run the program on the mock runtime.

    `config` replaces the stack file's `secure-api:` values (camelCase, prefix stripped); `seed` gives the
    resources the stack already has their ids and outputs (`harness.run_program`). Raises
    StackFileError for an unusable stack file; a ConfigError from the program gets the
    component keys found in the wrong namespace appended.
    """
    stack_file = read_stack_file(project, stack)
    region = resolve_region(stack_file)
    values = pulumi_config(stack_file, region, config)
    program = str(project.main)

    def body() -> None:
        runpy.run_path(program, run_name="__main__")

    with _program_context(project):
        try:
            outcome = run_program(
                body,
                config=values,
                secret_keys=sorted(stack_file.secrets),
                project=project.name,
                stack=stack,
                preview=preview,
                region=region.name,
                result=result,
                seed=seed,
            )
        except ConfigError as error:
            misplaced = misplaced_component_keys(stack_file)
            if not misplaced:
                raise
            raise StackFileError(
                f"{error}\n  found {'; '.join(misplaced)}: the SecureApi component reads only the "
                f"`{NAMESPACE}:` namespace; write `{NAMESPACE}:<key>` (e.g. `{NAMESPACE}:routes`)"
            ) from None
    return Plan(project=project, stack_file=stack_file, region=region, result=outcome)


def load_stack_config(stack: str, project_dir: Path | None = None) -> dict[str, Any]:
    """The `secure-api:` namespace of a stack file as a camelCase object (prefix stripped)."""
    project = find_project(project_dir or Path.cwd())
    return read_stack_file(project, stack).namespace(NAMESPACE)


def plan_stack(
    stack: str,
    *,
    preview: bool,
    project_dir: Path | None = None,
    config: Mapping[str, Any] | None = None,
    result: PlanResult | None = None,
    seed: Seed | None = None,
) -> PlanResult:
    """Plan `stack` of the project at or above `project_dir` (default: the working directory); see `run_plan`."""
    project = find_project(project_dir or Path.cwd())
    return run_plan(project, stack, preview=preview, config=config, result=result, seed=seed).result
