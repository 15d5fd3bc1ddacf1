"""Request validation per route: a JSON Schema for the body, required query parameters and headers.

API Gateway validates a body against a model (JSON Schema draft 4) and checks that required
parameters are present and not blank; it does not support every draft-4 keyword in models.
Sources: "Request validation for REST APIs" and "Amazon API Gateway important notes for REST APIs"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, SchemaError
from pydantic import Field, PrivateAttr, field_validator, model_validator

from .base import ConfigModel

# Documented as unsupported in API Gateway models (important notes for REST APIs).
UNSUPPORTED_KEYWORDS = {
    "additionalProperties": "not supported in API Gateway models",
    "anyOf": "not supported in API Gateway models",
    "oneOf": "not supported by API Gateway",
    "discriminator": "not supported in any API Gateway schema object",
    "example": "not supported by API Gateway",
    "exclusiveMinimum": "not supported by API Gateway",
    "readOnly": "not supported by API Gateway",
}
# The models travel inside the OpenAPI 3.0 document, whose Schema Object knows only these keywords.
OPENAPI_SCHEMA_KEYWORDS = frozenset(
    {
        "title", "description", "type", "format", "default", "enum", "nullable",
        "multipleOf", "maximum", "exclusiveMaximum", "minimum",
        "maxLength", "minLength", "pattern",
        "items", "maxItems", "minItems", "uniqueItems",
        "properties", "required", "maxProperties", "minProperties",
        "allOf", "not", "writeOnly", "deprecated",
    }
)  # fmt: skip
_SUBSCHEMA_MAPS = ("properties",)
_SUBSCHEMA_LISTS = ("allOf",)
_SUBSCHEMAS = ("items", "not")
_JSON_MEDIA_TYPE = re.compile(r"^application/([a-z0-9.-]+\+)?json$")
_PARAMETER = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` cannot be an API Gateway model: invalid draft 4, or keywords models do not support."""
    if not isinstance(schema, Mapping):
        return [f"must be a JSON Schema object, got {type(schema).__name__}"]
    try:
        Draft4Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return [f"not a valid JSON Schema (draft 4) at {where}: {error.message}"]
    body = {k: v for k, v in schema.items() if k != "$schema"}
    return [f"at {where}: {message}" for where, message in _unsupported(body, "(root)")]


def _unsupported(schema: Mapping[str, Any], where: str) -> Iterator[tuple[str, str]]:
    for keyword in schema:
        if keyword in UNSUPPORTED_KEYWORDS:
            yield where, f"{keyword} is {UNSUPPORTED_KEYWORDS[keyword]}"
        elif keyword == "$ref":
            yield where, "$ref is not supported here: inline the referenced schema"
        elif keyword not in OPENAPI_SCHEMA_KEYWORDS:
            yield where, f"{keyword} cannot be expressed in the OpenAPI 3.0 document API Gateway imports"
    kind = schema.get("type")
    if isinstance(kind, list):
        yield where, "type must be one type name (OpenAPI 3.0 has no type lists; use nullable)"
    if kind == "number" and schema.get("format") in ("int32", "int64"):
        yield where, f"format {schema['format']} on type number is not supported by API Gateway"
    if schema.get("format") == "decimal":
        yield where, "format decimal is not supported by API Gateway"
    if isinstance(schema.get("items"), list):
        yield where, "items must be one schema (tuple validation cannot be expressed in OpenAPI 3.0)"
    for key in _SUBSCHEMAS:
        if isinstance(schema.get(key), Mapping):
            yield from _unsupported(schema[key], f"{where}.{key}")
    for key in _SUBSCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            if isinstance(sub, Mapping):
                yield from _unsupported(sub, f"{where}.{key}.{name}")
    for key in _SUBSCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key) or ()):
            if isinstance(sub, Mapping):
                yield from _unsupported(sub, f"{where}.{key}[{index}]")


def load_schema_file(path: str, project_dir: Path) -> dict[str, Any]:
    """Read a schema file inside the project; raise ValueError naming the file and what is wrong."""
    root = project_dir.resolve()
    file = (root / path).resolve()
    if not file.is_relative_to(root):
        raise ValueError(f"{path!r} is outside the project folder {root}")
    if not file.is_file():
        raise ValueError(f"no file {path!r} in the project folder {root}")
    try:
        return json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path!r} is not JSON: {error}") from None


class RequestBody(ConfigModel):
    """`requestBody` of a route: the JSON Schema its body must match (inline `schema` or `schemaFile`).

    `schemaFile` is resolved against the Pulumi project folder (the program's working directory).
    The model is applied to `contentType` and to any other content type (API Gateway's `$default`),
    so a client cannot skip validation by declaring another type. `required: false` lets an empty
    body through.
    """

    content_type: str = "application/json"
    json_schema: dict[str, Any] | None = Field(
        default=None, alias="schema", examples=[{"type": "object", "required": ["id"]}]
    )
    schema_file: str | None = Field(
        default=None,
        description="the path of a JSON file in the project folder",
        examples=["schemas/create-order.json"],
    )
    required: bool = True
    _resolved: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("content_type")
    @classmethod
    def _json_media_type(cls, content_type: str) -> str:
        if not _JSON_MEDIA_TYPE.match(content_type):
            raise ValueError(
                f"models validate JSON bodies: use application/json or application/*+json, got {content_type!r}"
            )
        return content_type

    @field_validator("json_schema", mode="before")
    @classmethod
    def _integral_numbers(cls, schema: Any) -> Any:
        """Numbers reach a component from other languages as doubles (64.0): JSON has one number type."""
        return _integral(schema)

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        problems = schema_problems(schema) if schema is not None else []
        if problems:
            raise ValueError("; ".join(problems))
        return schema

    @field_validator("schema_file")
    @classmethod
    def _valid_file(cls, path: str | None) -> str | None:
        if path is None:
            return None
        problems = schema_problems(load_schema_file(path, Path.cwd()))
        if problems:
            raise ValueError(f"{path}: " + "; ".join(problems))
        return path

    @model_validator(mode="after")
    def _one_source(self) -> RequestBody:
        if (self.json_schema is None) == (self.schema_file is None):
            raise ValueError("give exactly one of schema (inline) or schemaFile")
        schema = self.json_schema
        if schema is None:
            schema = load_schema_file(self.schema_file or "", Path.cwd())
        self._resolved = {k: v for k, v in schema.items() if k != "$schema"}
        return self

    @property
    def model_schema(self) -> dict[str, Any]:
        """The schema as the OpenAPI document carries it (`$schema` dropped: draft 4 is implied)."""
        return self._resolved


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


def check_parameter_names(names: tuple[str, ...]) -> tuple[str, ...]:
    bad = [n for n in names if not _PARAMETER.match(n)]
    if bad:
        raise ValueError(f"not parameter names (letters, digits, '.', '_', '~', '-'): {bad}; e.g. page")
    if len({n.lower() for n in names}) != len(names):
        raise ValueError(f"duplicate names in {list(names)}")
    return names
