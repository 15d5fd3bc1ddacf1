"""SecureApi's args as one validated config: camelCase keys, Outputs validated when they resolve.

The component takes its args in three shapes and turns each into the one camelCase form of the
stack file before the pydantic models (`config/`) validate it:

- the typed `SecureApiArgs` of a Python program (snake_case keys, `enum.Enum` members or strings),
- what `Construct` hands over for TypeScript, Go, C#, Java and YAML programs (the same plain dict:
  the provider maps the schema's camelCase names back to the Python names),
- the camelCase mapping of a stack file, or a validated `StackConfig`.

Fields that `args.py` declares `pulumi.Input[str]` may be Outputs. Each such Output is replaced by a
placeholder the field rules let through (the `pending` validation context), so every plain value is
validated before any resource is registered, in one `ConfigError` with every key path. The Output
itself is validated when it resolves: the config is validated again with the resolved value in its
place, so the same field rule produces the same key-path message, and raising inside the apply
fails the registration of every resource that takes the value (the update fails, nothing passes
silently). An Output anywhere else is refused with its key path: the component needs that value
to decide which resources exist.
"""

import copy
import enum
import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.provider.experimental.analyzer import is_input, is_not_required, unwrap_not_required
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel

from .. import args as typed_args
from .config import NAMESPACE, ConfigError, StackConfig, parse_config
from .config.base import PLACEHOLDER_PREFIX
from .config.errors import key_path

KeyPath = tuple[str | int, ...]

_DROP = object()


def _pattern(path: KeyPath) -> str:
    """The key path with list indexes as `[]`: `routes[].integration.functionArn`."""
    return re.sub(r"\[\d+\]", "[]", key_path(path))


def input_fields(root: type = typed_args.SecureApiArgs) -> frozenset[str]:
    """The key paths (`[]` for list items) whose args annotation is `pulumi.Input`: where Outputs go."""
    found: set[str] = set()

    def walk(annotation: Any, path: str) -> None:
        if is_not_required(annotation):
            walk(unwrap_not_required(annotation), path)
        elif is_input(annotation):
            found.add(path)
        elif typing.is_typeddict(annotation):
            for name, hint in inspect.get_annotations(annotation).items():
                walk(hint, f"{path}.{camel_case(name)}" if path else camel_case(name))
        elif typing.get_origin(annotation) is list:
            walk(typing.get_args(annotation)[0], f"{path}[]")

    walk(root, "")
    return frozenset(found)


INPUT_FIELDS = input_fields()


@dataclass(frozen=True)
class _Shape:
    """What a config annotation holds: models (a mapping), a list, a dict of values, or a leaf."""

    models: tuple[type[BaseModel], ...] = ()
    items: Any = None
    values: Any = None


def _shape(annotation: Any) -> _Shape:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _shape(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = tuple(m for m in members if isinstance(m, type) and issubclass(m, BaseModel))
        if models:
            return _Shape(models=models)
        return _shape(members[0]) if len(members) == 1 else _Shape()
    if origin in (tuple, list):
        return _Shape(items=typing.get_args(annotation)[0])
    if origin is dict:
        return _Shape(values=typing.get_args(annotation)[1])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Shape(models=(annotation,))
    return _Shape()


@dataclass(frozen=True)
class Deferred:
    """An arg that is an Output: where it goes, and the Output validated by that key's rule."""

    path: KeyPath
    output: pulumi.Output[Any]


class _Normalizer:
    """Snake_case or camelCase keys to camelCase, enum members to values, Outputs to placeholders."""

    def __init__(self) -> None:
        self.outputs: dict[str, tuple[KeyPath, pulumi.Output[Any]]] = {}
        self.problems: list[tuple[str, str]] = []

    def value(self, value: Any, annotation: Any, path: KeyPath) -> Any:
        if isinstance(value, pulumi.Output) or inspect.isawaitable(value):
            return self.output(value, path)
        shape = _shape(annotation)
        if shape.models and isinstance(value, Mapping):
            return self.mapping(value, shape.models, path)
        if shape.items is not None and isinstance(value, Sequence) and not isinstance(value, str | bytes):
            # A refused item keeps its place (as None), so the other items keep their key paths.
            items = (self.value(item, shape.items, (*path, index)) for index, item in enumerate(value))
            return [None if item is _DROP else item for item in items]
        if shape.values is not None and isinstance(value, Mapping):
            entries = {key: self.value(item, shape.values, (*path, key)) for key, item in value.items()}
            return {key: item for key, item in entries.items() if item is not _DROP}
        return value.value if isinstance(value, enum.Enum) else value

    def mapping(self, value: Mapping[Any, Any], models: tuple[type[BaseModel], ...], path: KeyPath) -> dict[str, Any]:
        aliases: dict[str, str] = {}
        annotations: dict[str, Any] = {}
        for model in models:
            for name, info in model.model_fields.items():
                alias = info.alias or name
                aliases[name] = aliases[alias] = alias
                annotations[alias] = info.annotation
        result: dict[str, Any] = {}
        for key, item in value.items():
            camel = aliases.get(key, key) if isinstance(key, str) else key
            if camel in result:
                self.problems.append((key_path((*path, camel)), f"given twice (as {camel} and {key})"))
                continue
            normalized = self.value(item, annotations.get(camel), (*path, camel))
            if normalized is not _DROP:
                result[camel] = normalized
        return result

    def output(self, value: Any, path: KeyPath) -> Any:
        where = key_path(path)
        if _pattern(path) not in INPUT_FIELDS:
            self.problems.append(
                (
                    where,
                    "cannot be an Output: the component needs this value to decide what to create; Outputs are "
                    f"accepted at {', '.join(sorted(INPUT_FIELDS))}",
                )
            )
            return _DROP
        placeholder = f"{PLACEHOLDER_PREFIX}{where}>"
        self.outputs[placeholder] = (path, pulumi.Output.from_input(value))
        return placeholder


@dataclass(frozen=True)
class ComponentInputs:
    """The validated config, with a placeholder wherever an arg is an Output, and those Outputs."""

    config: StackConfig
    values: Mapping[str, Any]
    """The camelCase mapping `config` was validated from (placeholders included)."""
    deferred: Mapping[str, Deferred]
    """Placeholder -> the Output it stands for, validated when it resolves."""
    taken: set[str] = field(default_factory=set)
    """The placeholders whose Outputs a resource input took (through `input` or `resolved`)."""

    def input(self, value: str | None) -> pulumi.Input[str] | None:
        """A config value as a resource input: the validated Output for a placeholder, else the value."""
        deferred = self.deferred.get(value) if value is not None else None
        if deferred is None:
            return value
        self.taken.add(str(value))
        return deferred.output

    def not_taken(self) -> list[pulumi.Output[Any]]:
        """The validated Outputs no resource took: args of settings this config does not use."""
        return [d.output for placeholder, d in self.deferred.items() if placeholder not in self.taken]

    def is_deferred(self, value: str | None) -> bool:
        return value is not None and value in self.deferred

    def resolved(self, *prefixes: str) -> pulumi.Output[StackConfig]:
        """The config with the Outputs below these key paths resolved.

        For values that end up inside one document (the OpenAPI body, the authorizer's environment):
        it depends only on the Outputs it embeds, so an unrelated unknown keeps the document known.
        """
        chosen = {
            placeholder: deferred
            for placeholder, deferred in self.deferred.items()
            if any(key_path(deferred.path).startswith(prefix) for prefix in prefixes)
        }
        if not chosen:
            return pulumi.Output.from_input(self.config)
        self.taken.update(chosen)
        others = set(self.deferred) - set(chosen)

        def build(values: list[Any]) -> StackConfig:
            replaced = _replace(self.values, {d.path: v for d, v in zip(chosen.values(), values, strict=True)})
            return parse_config(replaced, pending=others)

        return pulumi.Output.all(*(d.output for d in chosen.values())).apply(build)


def _replace(values: Mapping[str, Any], replacements: Mapping[KeyPath, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(values))
    for path, value in replacements.items():
        container: Any = result
        for part in path[:-1]:
            container = container[part]
        container[path[-1]] = value
    return result


def component_inputs(args: "StackConfig | Mapping[str, Any]") -> ComponentInputs:
    """Validate SecureApi's args; raise ConfigError listing every problem with its key path.

    Raised before any resource is registered for plain values; for an Output, its validated
    Output raises the same ConfigError (for its key path) when it resolves.
    """
    if isinstance(args, StackConfig):
        return ComponentInputs(config=args, values={}, deferred={})
    if not isinstance(args, Mapping):
        raise ConfigError(NAMESPACE, [("", f"args must be SecureApiArgs (a mapping), got {type(args).__name__}")])
    normalizer = _Normalizer()
    values = normalizer.mapping(args, (StackConfig,), ())
    problems = list(normalizer.problems)
    try:
        config = parse_config(values, pending=normalizer.outputs.keys())
    except ConfigError as error:
        seen = {path for path, _ in problems}
        for path, message in error.problems:
            bare = path.removeprefix(NAMESPACE).removeprefix(":")
            if bare not in seen:
                problems.append((bare, message))
        raise ConfigError(NAMESPACE, problems) from None
    if problems:
        raise ConfigError(NAMESPACE, problems)
    deferred = {
        placeholder: Deferred(path, _validate_when_resolved(values, placeholder, path, output, normalizer.outputs))
        for placeholder, (path, output) in normalizer.outputs.items()
    }
    return ComponentInputs(config=config, values=values, deferred=deferred)


def _validate_when_resolved(
    values: Mapping[str, Any],
    placeholder: str,
    path: KeyPath,
    output: pulumi.Output[Any],
    placeholders: Mapping[str, Any],
) -> pulumi.Output[Any]:
    others = set(placeholders) - {placeholder}

    def check(value: Any) -> Any:
        # The whole config again, with this value in place: the same field and cross-key rules, the
        # same key path. Raising here fails every registration that takes the value.
        parse_config(_replace(values, {path: value}), pending=others)
        return value

    return output.apply(check)
