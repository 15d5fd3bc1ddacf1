"""Run a Pulumi program in-process on Pulumi's mock runtime and record what it registers.

This is how the project sees its own plan without a Pulumi CLI, provider plugin or AWS account:
the offline plan, the policy verdict, the tests and the benchmarks all go through `run_program`.
The recorder keeps each `RegisterResource` request as the engine would receive it (the raw
protobuf properties, with unknowns during preview, plus parent, dependencies and options), so
the policy pack can be fed exactly what the CLI would forward to an analyzer.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import massage, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ..component.config import StackConfig
from ..component.resource import CONSTRUCTED, TYPE_TOKEN
from .mock_state import created_state, data_source

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class PlannedResource:
    """One resource registration, as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    properties: struct_pb2.Struct
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    ignore_changes: tuple[str, ...]
    provider: str
    source_file: str = ""
    """The program file that constructed the resource (the SDK's source position), absolute; empty if unknown."""
    source_line: int = 0
    outputs: dict[str, Any] = field(default_factory=dict)
    """The state the (mock) provider returned: inputs plus computed outputs in update mode, `id` included."""
    aliases: tuple[str, ...] = ()
    """URNs the resource had before (`ResourceOptions.aliases`): the engine moves their state to this URN."""


@dataclass
class PlanResult:
    """Everything one in-process run produced."""

    preview: bool
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    components: dict[str, StackConfig] = field(default_factory=dict)
    """SecureApi component URN -> the validated config it was built from (stack file or args in code)."""

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> PlannedResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise AssertionError(f"expected exactly one {type_}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> PlannedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def custom_resources(self) -> list[PlannedResource]:
        return [r for r in self.resources if r.custom]


Seed = Mapping[tuple[str, str], tuple[str, Mapping[str, Any]]]
"""(type, logical name) -> (id, outputs) of resources the stack already has (`changes.seed_from_state`)."""


class _Mocks(pulumi.runtime.Mocks):
    """Echo inputs back; in update mode add the id and computed outputs AWS would return (`mock_state`)."""

    def __init__(self, preview: bool, region: str, seed: Seed | None = None) -> None:
        self.preview = preview
        self.region = region
        self.seed = seed or {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        existing = self.seed.get((args.typ, args.name))
        if existing is not None:
            # A resource the stack already has: its id and outputs are known, in a preview too.
            resource_id, outputs = existing
            return resource_id, {**outputs, **args.inputs}
        if self.preview:
            return None, dict(args.inputs)
        computed = created_state(args.typ, args.name, args.inputs, self.region)
        return computed.pop("id"), {**computed, **args.inputs}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        answer = data_source(args.token, args.args, self.region)
        if answer is None:
            raise UnsupportedDataSourceError(args.token)
        return answer


class UnsupportedDataSourceError(Exception):
    """The program reads a data source the offline plan cannot answer without AWS."""

    def __init__(self, token: str) -> None:
        super().__init__(
            f"the program reads the data source {token}, which the offline plan cannot answer without AWS "
            "(supported: getRegion, getCallerIdentity, getPartition, getAvailabilityZones, iam.getPolicyDocument)"
        )
        self.token = token


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that keeps every registration request and registered outputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks, result: PlanResult) -> None:
        super().__init__(mocks)
        self.result = result

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != STACK_TYPE:
            properties = struct_pb2.Struct()
            properties.CopyFrom(request.object)
            self.result.resources.append(
                PlannedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                    properties=properties,
                    dependencies=tuple(request.dependencies),
                    property_dependencies={
                        key: tuple(value.urns) for key, value in request.propertyDependencies.items()
                    },
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    ignore_changes=tuple(request.ignoreChanges),
                    provider=request.provider,
                    source_file=request.sourcePosition.uri.removeprefix("file://"),
                    source_line=request.sourcePosition.line,
                    outputs={
                        **rpc.deserialize_properties(response.object, keep_unknowns=True),
                        **({"id": response.id} if response.id else {}),
                    },
                    aliases=_alias_urns(request, response.urn),
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.result.outputs[request.urn] = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)


def _alias_urns(request: Any, urn: str) -> tuple[str, ...]:
    """The old URNs of a registration, given as URNs or as specs; a spec's unset fields keep this URN's
    (stack, project, parent's type chain, type, name), as the engine fills them in."""
    urns = list(request.aliasURNs)
    head, project, qualified, name = urn.split("::", 3)
    chain, _, own_type = qualified.rpartition("$")
    for alias in request.aliases:
        if alias.urn:
            urns.append(alias.urn)
            continue
        spec = alias.spec
        parents = chain
        if spec.parentUrn:
            parents = spec.parentUrn.split("::")[2]
        elif spec.noParent:
            parents = ""
        kind = spec.type or own_type
        stack = spec.stack or head.removeprefix("urn:pulumi:")
        typed = f"{parents}${kind}" if parents else kind
        urns.append(f"urn:pulumi:{stack}::{spec.project or project}::{typed}::{spec.name or name}")
    return tuple(urns)


class _WarningCollector(logging.Handler):
    def __init__(self, result: PlanResult) -> None:
        super().__init__(level=logging.WARNING)
        self.result = result

    def emit(self, record: logging.LogRecord) -> None:
        self.result.warnings.append(record.getMessage())


def run_program(
    program: Callable[[], Any],
    *,
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
    project: str,
    stack: str,
    preview: bool,
    region: str = "us-east-1",
    result: PlanResult | None = None,
    seed: Seed | None = None,
) -> PlanResult:
    """Run `program` on the mock runtime with `config` as the stack config; return what it registered.

    `seed`: the ids and outputs of resources the stack already has, returned for them in both modes.

    An exception raised by the program (a config error, say) propagates unchanged; pass your own
    `result` to see what had been registered by then.
    """
    result = result if result is not None else PlanResult(preview=preview)
    logger = logging.getLogger("secure_api.harness.warnings")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    # One logger for every run, collecting into this run's result only: a logger per run would stay in
    # logging's registry for good, and every earlier PlanResult with it.
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.addHandler(_WarningCollector(result))
    mocks = _Mocks(preview=preview, region=region, seed=seed)
    # A new root stack per run, as `pulumi preview` starts one: its URN names this project and stack, and
    # it holds only this run's exports (`set_mocks` keeps an existing root).
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=_RecordingMonitor(mocks, result),
    )
    pulumi.runtime.set_all_config(dict(config), secret_keys or [])
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()
    CONSTRUCTED.clear()
    try:
        _sync_await(run_pulumi_func(lambda: _with_stack_outputs(program)))
    except Exception as error:
        _consume_abandoned_errors(error)
        raise
    finally:
        constructed = list(CONSTRUCTED)
        CONSTRUCTED.clear()
    result.components.update(_component_configs(constructed, result.of_type(TYPE_TOKEN)))
    return result


def _component_configs(
    constructed: list[tuple[str, StackConfig]], registered: list[PlannedResource]
) -> dict[str, StackConfig]:
    """Pair each constructed SecureApi with its registration: the n-th one named N with the n-th registered N
    (registrations may arrive out of construction order; names repeat only under different parents)."""
    pending: dict[str, list[StackConfig]] = {}
    for name, config in constructed:
        pending.setdefault(name, []).append(config)
    return {resource.urn: pending[resource.name].pop(0) for resource in registered if pending.get(resource.name)}


def _with_stack_outputs(program: Callable[[], Any]) -> None:
    """Run `program`, then register the stack's exports, as `pulumi.runtime.run_in_stack` does at the end."""
    program()
    root = pulumi.runtime.settings.get_root_resource()
    if root is not None and root.outputs:
        root.register_outputs(massage(root.outputs, []))


def _consume_abandoned_errors(error: BaseException) -> None:
    """Mark the runtime's futures that hold `error` (or an exception it chains) as retrieved.

    When a program fails, Pulumi's runtime resolves every output of every affected resource with the
    error and `run_pulumi_func` raises it once; nothing awaits those futures. The CLI's language host
    exits there, but in a process that goes on (the tests, several plans) they sit in reference cycles
    until the cyclic garbage collector finalizes them at an arbitrary later moment, where asyncio
    reports "Future exception was never retrieved" and formats the traceback. On CPython 3.11
    formatting a traceback runs `ast.parse`, and a parse started by a finalizer inside another
    `ast.parse` makes the outer one fail with "SystemError: AST constructor recursion depth mismatch"
    (python/cpython#106905, fixed by #113035): e.g. the `inspect.getsource` of Pulumi's schema
    analyzer, which swallows the error and publishes that property without its description. The
    error reaches our caller through the raise; its copies are consumed here, at a known point.
    """
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and all(link is not seen for seen in chain):
        chain.append(link)
        link = link.__cause__ or link.__context__
    for holder in gc.get_referrers(*chain):
        if isinstance(holder, asyncio.Future) and holder.done() and not holder.cancelled():
            holder.exception()
