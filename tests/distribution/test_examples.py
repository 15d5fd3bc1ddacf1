"""The examples plan offline, in preview and update mode, with no mandatory policy finding.

- `examples/python-program`: its `__main__.py` runs on the mock runtime, from its own folder (the
  working directory the Pulumi CLI gives a program), creating its Lambda function and VPC endpoint
  and handing their Outputs to SecureApi.
- `examples/yaml-program`: Pulumi YAML. Its AWS resources are registered by type token with their
  properties, and its `secure-api:index:SecureApi` resource is constructed through the component
  provider (what the plugin does for the YAML runtime), with `${resource.property}` references as
  Outputs of the resources registered before it.
"""

import re
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider
from secure_api_policies.verdict import evaluate, is_mandatory_violation

from secure_api import SecureApi
from secure_api.plan.harness import PlanResult, run_program

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REGION = "us-east-1"
MODES = ["preview", "update"]
_REFERENCE = re.compile(r"^\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)\}$")


def plan(program: Any, project: str, preview: bool) -> PlanResult:
    return run_program(program, config={"aws:region": REGION}, project=project, stack="dev", preview=preview)


def mandatory(result: PlanResult) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in evaluate(result.resources) if is_mandatory_violation(f)]


@pytest.mark.parametrize("mode", MODES)
def test_python_example_plans_without_mandatory_findings(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = EXAMPLES / "python-program"
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())["name"]
    assert project != "secure-api"
    monkeypatch.chdir(folder)
    result = plan(lambda: runpy.run_path(str(folder / "__main__.py"), run_name="__main__"), project, mode == "preview")
    assert mandatory(result) == []
    function = result.one("aws:lambda/function:Function")
    endpoint = result.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    api = result.one("aws:apigateway/restApi:RestApi")
    assert function.urn in api.property_dependencies["body"]
    assert endpoint.urn in api.property_dependencies["endpointConfiguration"]
    # Private DNS on would send the whole VPC's *.execute-api names to this endpoint (public APIs break).
    assert endpoint.inputs["privateDnsEnabled"] is False
    route_permissions = [p for p in result.of_type("aws:lambda/permission:Permission") if "-route-" in p.name]
    assert len(route_permissions) == 2
    assert all(function.urn in p.property_dependencies["function"] for p in route_permissions)


def _token(type_: str) -> str:
    """`aws:lambda:Function` (YAML's short form) -> `aws:lambda/function:Function`."""
    package, module, name = type_.split(":")
    return (
        type_ if "/" in module or package == "secure-api" else f"{package}:{module}/{name[0].lower()}{name[1:]}:{name}"
    )


class _YamlProgram:
    """Just enough of Pulumi YAML for this example: resources in order, references, toJSON and assets."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.resources: dict[str, pulumi.Resource] = {}
        self.provider = ComponentProvider([SecureApi], "secure-api")

    def value(self, node: Any) -> Any:
        if isinstance(node, str) and (match := _REFERENCE.match(node)):
            return getattr(self.resources[match.group(1)], match.group(2))
        if isinstance(node, dict) and len(node) == 1:
            ((key, inner),) = node.items()
            if key == "fn::toJSON":
                return pulumi.Output.json_dumps(self.value(inner))
            if key == "fn::assetArchive":
                return pulumi.AssetArchive({name: self.value(asset) for name, asset in inner.items()})
            if key == "fn::stringAsset":
                return pulumi.StringAsset(inner)
        if isinstance(node, dict):
            return {key: self.value(item) for key, item in node.items()}
        if isinstance(node, list):
            return [self.value(item) for item in node]
        return node

    def referenced(self, name: str) -> set[str]:
        text = yaml.safe_dump(self.document["resources"])
        return set(re.findall(rf"\$\{{{re.escape(name)}\.([A-Za-z0-9_]+)\}}", text))

    def run(self) -> None:
        for name, spec in self.document["resources"].items():
            properties = self.value(spec.get("properties", {}))
            token = _token(spec["type"])
            if token.startswith("secure-api:"):
                result = self.provider.construct(name, token, properties, pulumi.ResourceOptions())
                assert result.urn is not None
                continue
            outputs = dict.fromkeys(self.referenced(name) - set(properties))
            self.resources[name] = pulumi.CustomResource(token, name, {**properties, **outputs})


@pytest.mark.parametrize("mode", MODES)
def test_yaml_example_plans_without_mandatory_findings(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = EXAMPLES / "yaml-program"
    document = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    assert document["name"] != "secure-api"
    assert document["packages"] == {"secure-api": "../.."}
    components = [r for r in document["resources"].values() if r["type"] == "secure-api:index:SecureApi"]
    assert len(components) == 1
    monkeypatch.chdir(folder)
    result = plan(_YamlProgram(document).run, document["name"], mode == "preview")
    assert mandatory(result) == []
    function = result.one("aws:lambda/function:Function")
    api = result.one("aws:apigateway/restApi:RestApi")
    assert function.urn in api.property_dependencies["body"]
    if mode == "update":
        body = api.inputs["body"]
        name = function.outputs["name"]  # Pulumi's auto-name: backend-<7 hex>
        assert name.startswith("backend-")
        assert f"functions/arn:aws:lambda:{REGION}:123456789012:function:{name}/invocations" in body


def test_readme_python_example_plans_without_mandatory_findings(tmp_path: Path) -> None:
    readme = (EXAMPLES.parent / "README.md").read_text()
    section = readme[readme.index("## Using the component from Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code
    script = tmp_path / "__main__.py"
    script.write_text(code.group(1))
    result = plan(lambda: runpy.run_path(str(script), run_name="__main__"), "readme", preview=False)
    assert mandatory(result) == []
    permission = next(p for p in result.of_type("aws:lambda/permission:Permission") if "-route-" in p.name)
    name = result.one("aws:lambda/function:Function").outputs["name"]  # Pulumi's auto-name
    assert name.startswith("orders-backend-")
    assert permission.inputs["function"] == f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
