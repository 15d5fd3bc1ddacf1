"""Turn validation failures into one readable message that names every bad config key.

Each message says in the stack file's words what the key allows, with an example in YAML flow
style, and what was found; none repeats the validation library's own wording (`valid tuple`,
`instance of ApiSettings`) or a bare regular expression. What a key allows is read from its model:
`Literal` values, numeric bounds, nested models' keys, and, for text with a format, the field's
`description` and `examples` (every patterned field has both; a test checks it).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Sequence
from typing import Any

import pulumi
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


class ConfigError(pulumi.RunError):
    """Invalid stack config; a RunError so `pulumi up` prints the message without a traceback."""

    def __init__(self, namespace: str, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = [(f"{namespace}:{path}" if path else namespace, message) for path, message in problems]
        lines = [f"  - {path}: {message}" for path, message in self.problems]
        super().__init__(f"invalid stack config ({len(lines)} problem(s)):\n" + "\n".join(lines))


def _model_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation can hold (unwrapping Optional, tuples, unions, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list, dict):
        return [m for arg in typing.get_args(annotation) for m in _model_in(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _allowed_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The camelCase keys allowed where an unknown key was found."""
    candidates: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        nested: list[type[BaseModel]] = []
        for model in candidates:
            for name, field in model.model_fields.items():
                if part in (field.alias, name):
                    nested.extend(_model_in(field.annotation))
        # No field of that name: it is a discriminator tag (`http`, `lambda`...); keep the member it names.
        candidates = nested or [m for m in candidates if _tag_of(m) == part] or candidates
    return sorted({field.alias or name for m in candidates for name, field in m.model_fields.items()})


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    args = typing.get_args(field.annotation) if field else ()
    return args[0] if len(args) == 1 else None


def key_path(path: Sequence[str | int]) -> str:
    """`routes[0].integration.functionArn`, as ConfigError reports key paths."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _path(loc: Sequence[str | int]) -> str:
    # Without the discriminator tag pydantic inserts after `integration`; the user never wrote it.
    tag = [isinstance(part, str) and index > 0 and loc[index - 1] == "integration" for index, part in enumerate(loc)]
    return key_path([part for part, is_tag in zip(loc, tag, strict=True) if not is_tag])


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[tuple[str, str]]:
    """(key path, message) for every problem pydantic found, in the stack file's words."""
    problems = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        if item["type"] == "extra_forbidden":
            problems.append((_path(loc), _unknown_key(root, loc)))
        elif item["type"] in ("value_error", "assertion_error"):
            problems.append((_path(loc), str(item["ctx"]["error"])))  # the model's own words
        else:
            annotation, field = _target(root, loc)
            problems.append((_path(loc), _message(item, annotation, field)))
    return problems


def _unknown_key(root: type[BaseModel], loc: Sequence[str | int]) -> str:
    key = loc[-1]
    allowed = _allowed_keys(root, loc[:-1])
    if isinstance(key, str) and "_" in key and to_camel(key) in allowed:
        return f"stack files take camelCase keys only: write {to_camel(key)} instead of {key}"
    return f"unknown key; allowed here: {', '.join(allowed)}"


def _target(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[Any, FieldInfo | None]:
    """The annotation (and the field declaring it) that `loc` points into, or (None, None)."""
    annotation: Any = root
    field: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap_optional(annotation)
        origin = typing.get_origin(annotation)
        models = _members(annotation)
        if isinstance(part, str) and models:
            found = [f for m in models for name, f in m.model_fields.items() if part in (f.alias, to_camel(name))]
            if found:
                field = found[0]
                annotation = field.annotation
                continue
            tagged = [m for m in models if _tag_of(m) == part]
            if tagged:
                annotation = tagged[0]
                continue
            return None, None
        if origin in (tuple, list) and isinstance(part, int):
            container = _example(annotation, field)
            annotation = typing.get_args(annotation)[0]
            field = _item_field(annotation, container[0] if isinstance(container, list) and container else None)
        elif origin is dict:
            container = _example(annotation, field)
            annotation = typing.get_args(annotation)[1]
            values = list(container.values()) if isinstance(container, dict) else []
            field = _item_field(annotation, values[0] if values else None)
        else:
            return None, None
    return annotation, field


def _item_field(annotation: Any, example: Any) -> FieldInfo:
    """A list entry or mapping value has no field of its own: one carrying the container's example."""
    return FieldInfo(annotation=annotation, examples=[example] if example is not None else None)


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _members(annotation: Any) -> list[type[BaseModel]]:
    """The models a (possibly union) annotation is, directly."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return []


def _message(item: Any, annotation: Any, field: FieldInfo | None) -> str:
    kind = item["type"]
    annotation = _unwrap_optional(annotation)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = [t for t in (_tag_of(m) for m in _members(annotation)) if t]
        example = _example(_members(annotation)[0], None) if _members(annotation) else None
        found = f"; got type {_show(item['ctx']['tag'])}" if kind == "union_tag_invalid" else ""
        return f"needs type: one of {', '.join(tags)}, e.g. {_show(example)}{found}"
    allowed = _allowed(annotation, field) if annotation is not None else "a value of the documented kind"
    example = _example(annotation, field) if annotation is not None else None
    for_example = f", e.g. {_show(example)}" if example is not None else ""
    if kind == "missing":
        return f"required: {allowed}{for_example}"
    found = item["input"]
    if isinstance(found, str):
        return f"must be {allowed}{for_example}; got {_QuotingDumper.quoted(found)}"
    hint = ""
    if isinstance(found, int | float) and not isinstance(found, bool) and _is_text(annotation):
        hint = " (YAML read the unquoted value as a number: put it in quotes)"
    return f"must be {allowed}{for_example}; got {_show(found)}{hint}"


def _is_text(annotation: Any) -> bool:
    return annotation is str or (
        typing.get_origin(annotation) is typing.Literal and all(isinstance(a, str) for a in typing.get_args(annotation))
    )


def _bounds(field: FieldInfo | None) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for constraint in field.metadata if field else ():
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(constraint, name, None)
            if value is not None:
                bounds[name] = value
    return bounds


def _range(field: FieldInfo | None) -> str:
    bounds = {k: _number(v) for k, v in _bounds(field).items()}
    low = f"from {bounds['ge']}" if "ge" in bounds else f"above {bounds['gt']}" if "gt" in bounds else ""
    high = f"{bounds['le']}" if "le" in bounds else f"below {bounds['lt']}" if "lt" in bounds else ""
    if low and high:
        return f" {low} to {high}" if "ge" in bounds else f" {low} and at most {high}"
    if low:
        return f" {low} up" if "ge" in bounds else f" {low}"
    return f" up to {high}" if high else ""


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _allowed(annotation: Any, field: FieldInfo | None) -> str:
    """What a value of `annotation` may be, in words."""
    origin = typing.get_origin(annotation)
    if field is not None and field.description and annotation is str:
        return field.description
    if origin is typing.Literal:
        values = [str(v) for v in typing.get_args(annotation)]
        return values[0] if len(values) == 1 else f"one of {', '.join(values)}"
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return f"a whole number{_range(field)}"
    if annotation is float:
        return f"a number{_range(field)}"
    if annotation is str:
        return "text"
    if origin in (tuple, list):
        (item, *_) = typing.get_args(annotation)
        size = _bounds(field).get("min_length")
        at_least = f" of at least {size} entr{'y' if size == 1 else 'ies'}" if size else ""
        return f"a list{at_least} of {_plural(_allowed(item, None))}"
    if origin is dict:
        return f"a mapping of names to {_plural(_allowed(typing.get_args(annotation)[1], None))}"
    models = _members(annotation)
    if len(models) == 1:
        keys = [f.alias or n for n, f in models[0].model_fields.items()]
        return f"a mapping with the keys {', '.join(keys)}"
    if models:
        return f"a mapping whose type is one of {', '.join(t for t in (_tag_of(m) for m in models) if t)}"
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and args:
        return " or ".join(_allowed(a, field) for a in args)
    return "a value of the documented kind"


def _plural(words: str) -> str:
    """`one of A, B` reads fine after "a list of"; `a mapping`/`text` become plurals."""
    for singular, plural in (("a mapping", "mappings"), ("a whole number", "whole numbers"), ("a number", "numbers")):
        if words.startswith(singular):
            return plural + words[len(singular) :]
    return "text values" if words == "text" else words


def _example(annotation: Any, field: FieldInfo | None) -> Any:
    """A value the stack file could hold here: the field's example, its default, or one built from the type."""
    if field is not None and field.examples:
        return field.examples[0]
    default = field.get_default(call_default_factory=True, validated_data={}) if field is not None else None
    if field is not None and default not in (PydanticUndefined, None, (), {}, ""):
        return TypeAdapter(field.annotation).dump_python(default, mode="json", by_alias=True)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if annotation is bool:
        return True
    if annotation in (int, float):
        bounds = _bounds(field)
        return bounds.get("ge", bounds.get("gt", 0) + 1)
    if origin in (tuple, list):
        item = _example(typing.get_args(annotation)[0], None)
        return [item] if item is not None else None
    models = _members(_unwrap_optional(annotation))
    if models:
        model = models[0]
        required = {f.alias or n: f for n, f in model.model_fields.items() if f.is_required()}
        chosen = required or dict(list({f.alias or n: f for n, f in model.model_fields.items()}.items())[:1])
        return {key: _example(f.annotation, f) for key, f in chosen.items()}
    return None


class _QuotingDumper(yaml.SafeDumper):
    """Quotes text that a YAML reader could take for something else (`012345678901`, `on`, `1e3`)."""

    _LOOKS_LIKE_SCALAR = re.compile(r"^(?:[-+]?[0-9][0-9_.:eE+-]*|y|n|yes|no|on|off|true|false|null|~)$", re.I)

    def represent_str(self, data: str) -> yaml.Node:
        style = "'" if self._LOOKS_LIKE_SCALAR.match(data) else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    @staticmethod
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"


_QuotingDumper.add_representer(str, _QuotingDumper.represent_str)


def _show(value: Any) -> str:
    """A value as it would be written in a stack file (YAML flow style, quoted where YAML needs it)."""
    text = yaml.dump(value, Dumper=_QuotingDumper, default_flow_style=True, sort_keys=False, width=10_000).strip()
    return text.removesuffix("...").strip()
