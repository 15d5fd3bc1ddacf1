"""Turn validation failures into one readable message that names every bad config key."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence

import pulumi
from pydantic import BaseModel, ValidationError


class ConfigError(pulumi.RunError):
    """Invalid stack config; a RunError so `pulumi up` prints the message without a traceback."""

    def __init__(self, namespace: str, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = [(f"{namespace}:{path}" if path else namespace, message) for path, message in problems]
        lines = [f"  - {path}: {message}" for path, message in self.problems]
        super().__init__(f"invalid stack config ({len(lines)} problem(s)):\n" + "\n".join(lines))


def _model_in(annotation: typing.Any) -> list[type[BaseModel]]:
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


def _path(loc: Sequence[str | int]) -> str:
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif index and loc[index - 1] == "integration":
            continue  # the discriminator tag pydantic inserts; the user never wrote it
        else:
            text += f".{part}" if text else part
    return text


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(root, loc[:-1]))
            problems.append((_path(loc), f"unknown key; allowed here: {allowed}"))
        else:
            message = item["msg"].removeprefix("Value error, ")
            problems.append((_path(loc), message))
    return problems
