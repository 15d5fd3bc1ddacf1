"""The schema `pulumi package add` serves for `secure-api:index:SecureApi`, inferred from the type annotations.

- Compared with the checked-in snapshot `tests/data/secure-api.schema.json`, so every change to the
  published inputs and outputs shows up in review. After an intended change regenerate it with
  `venv/bin/python -m secure_api.plan.codegen` (or `secure-api schema --regenerate`) and commit the diff.
- Validated against Pulumi's package metaschema (`tests/data/pulumi-package-metaschema.json`, from
  pulumi/pulumi `pkg/codegen/schema/pulumi.json`, Apache-2.0; see tests/data/README.md).
- Served over gRPC by the plugin booted the way the Pulumi CLI boots it (`python -m pulumi.run.plugin
  secure-api <engine>`), on 127.0.0.1.
"""

import json
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from secure_api.component.resource import TYPE_TOKEN
from secure_api.plan.codegen import package_schema as served_schema
from secure_api.plan.codegen import render_package_schema

DATA = Path(__file__).resolve().parents[1] / "data"
SNAPSHOT = DATA / "secure-api.schema.json"
METASCHEMA = DATA / "pulumi-package-metaschema.json"


def test_schema_matches_the_snapshot() -> None:
    assert render_package_schema() == SNAPSHOT.read_text(), (
        "the component schema changed: regenerate with `venv/bin/python -m secure_api.plan.codegen` and review"
    )


def test_schema_is_a_valid_pulumi_package() -> None:
    # The metaschema's patterns use ECMA-262 named groups `(?<name>...)`; Python's `re` spells them `(?P<name>...)`.
    metaschema = json.loads(METASCHEMA.read_text().replace("(?<", "(?P<"))
    jsonschema.Draft202012Validator.check_schema(metaschema)
    errors = sorted(jsonschema.Draft202012Validator(metaschema).iter_errors(served_schema()), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    resource = schema["resources"][TYPE_TOKEN]
    found = [(f"inputs.{k}", v) for k, v in resource["inputProperties"].items()]
    found += [(f"outputs.{k}", v) for k, v in resource["properties"].items()]
    for token, type_ in schema["types"].items():
        found += [(f"{token}.{k}", v) for k, v in type_.get("properties", {}).items()]
    return found


def test_every_input_and_output_has_a_type_and_a_description() -> None:
    schema = served_schema()
    assert schema["resources"][TYPE_TOKEN]["description"]
    for where, prop in _properties(schema):
        assert prop.get("description"), f"{where} has no description"
        assert "type" in prop or "$ref" in prop, f"{where} has no type"
    for token, type_ in schema["types"].items():
        assert type_.get("description"), token
        for member in type_.get("enum", []):
            assert member.get("description"), f"{token}.{member['name']}"


def test_optional_where_a_default_exists_and_enums_for_closed_sets() -> None:
    schema = served_schema()
    resource = schema["resources"][TYPE_TOKEN]
    assert resource["requiredInputs"] == ["routes"]
    types = schema["types"]
    assert types["secure-api:index:Route"]["required"] == ["integration", "method", "path"]
    assert types["secure-api:index:Integration"]["required"] == ["type"]
    assert "required" not in types["secure-api:index:CognitoSettings"]
    assert types["secure-api:index:Route"]["properties"]["method"]["$ref"] == "#/types/secure-api:index:HttpMethod"
    assert [m["value"] for m in types["secure-api:index:EndpointType"]["enum"]] == ["REGIONAL", "PRIVATE"]
    assert [m["value"] for m in types["secure-api:index:EvaluationWindow"]["enum"]] == [60, 120, 300, 600]
    assert types["secure-api:index:EvaluationWindow"]["type"] == "integer"
    # Resource references take Outputs (not plain); everything else is plain, known when the program runs.
    integration = types["secure-api:index:Integration"]["properties"]
    assert "plain" not in integration["functionArn"]
    assert integration["timeoutMs"]["plain"] is True


def test_plugin_serves_the_schema_over_grpc(plugin: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{plugin}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
    assert json.loads(response.schema) == served_schema()
