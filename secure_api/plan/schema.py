"""JSON Schema of a stack file carrying the component's config, generated from the config models.

The shape is the stack file's: `config:` with one `secure-api:<key>` entry per top-level key of
`StackConfig` (camelCase, as the models' aliases), `aws:region` limited to the regions of the
installed pulumi-aws provider, other namespaces free. Editors use it through the
`# yaml-language-server: $schema=...` modeline; `secure-api schema` writes it; the distribution
ships it as `secure_api/plan/stack-config.schema.json` (a test keeps that file equal to this output).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ..component.config import NAMESPACE, StackConfig
from .offline import known_regions

SCHEMA_FILE = "stack-config.schema.json"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def stack_file_schema() -> dict[str, Any]:
    """The schema of a `Pulumi.<stack>.yaml` whose `secure-api:` keys follow `StackConfig`."""
    model = StackConfig.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    definitions = model.pop("$defs", {})
    properties: dict[str, Any] = {f"{NAMESPACE}:{key}": value for key, value in model["properties"].items()}
    properties["aws:region"] = {
        "description": "The AWS region to deploy to (a region the installed pulumi-aws provider knows).",
        "enum": sorted(known_regions()),
    }
    return {
        "$schema": _DIALECT,
        "title": f"Pulumi stack file with {NAMESPACE} config",
        "description": "A Pulumi.<stack>.yaml: `config:` holds `secure-api:<key>` entries (camelCase) next to other "
        "namespaces such as `aws:`. Generated from the secure-api config models by `secure-api schema`.",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": properties,
                "patternProperties": {f"^(?!{NAMESPACE}:)": True},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "$defs": definitions,
    }


def render_schema() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"


def shipped_schema() -> str:
    """The schema file inside the installed distribution."""
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text()
