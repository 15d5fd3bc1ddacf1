"""`Construct`, as a TypeScript, Go or YAML program reaches the component, registers what the Python call does.

The dev stack's config is sent the way the engine sends it (camelCase names, enums as their values,
every number as a float) through the component provider's `construct` on the mock runtime. The
provider maps names back to the Python ones and builds enum members; the component must register
exactly the resources, with exactly the inputs, that `SecureApi(name, config)` registers in Python.
"""

from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.component import ComponentProvider

from secure_api import SecureApi
from secure_api.component.resource import TYPE_TOKEN
from secure_api.plan.harness import PlanResult, run_program
from secure_api.plan.offline import load_stack_config

REGION = "eu-west-1"  # the dev stack's region: its Lambda integrations live there


def on_the_wire(value: Any) -> Any:
    """Numbers travel as protobuf doubles."""
    if isinstance(value, bool) or not isinstance(value, int | float | dict | list):
        return value
    if isinstance(value, dict):
        return {key: on_the_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [on_the_wire(item) for item in value]
    return float(value)


def registered(program: Any) -> PlanResult:
    return run_program(
        program, config={"aws:region": REGION}, project="shop", stack="dev", preview=False, region=REGION
    )


def comparable(value: Any) -> Any:
    """Archives compare by identity; compare what they hold."""
    if isinstance(value, pulumi.FileArchive):
        return ("FileArchive", value.path)
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


def signature(result: PlanResult) -> list[tuple[str, str, str, dict[str, Any]]]:
    return sorted((r.type, r.name, r.parent.rsplit("::", 1)[-1], comparable(r.inputs)) for r in result.resources)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load_stack_config("dev")


def test_construct_with_camel_case_wire_inputs_registers_what_the_python_call_does(config: dict[str, Any]) -> None:
    provider = ComponentProvider([SecureApi], "secure-api")
    constructed = registered(lambda: provider.construct("orders", TYPE_TOKEN, on_the_wire(config), None))
    called = registered(lambda: SecureApi("orders", config))
    assert len(constructed.resources) > 30
    assert signature(constructed) == signature(called)


def test_construct_reports_bad_values_with_their_key_paths(config: dict[str, Any]) -> None:
    provider = ComponentProvider([SecureApi], "secure-api")
    wire = on_the_wire({**config, "network": {"allowedSourceCidrs": ["203.0.113.7/24"]}})
    with pytest.raises(Exception, match=r"secure-api:network\.allowedSourceCidrs: .*did you mean 203\.0\.113\.0/24"):
        registered(lambda: provider.construct("orders", TYPE_TOKEN, wire, None))
