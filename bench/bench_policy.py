"""Run the policy pack on synthetic stacks of 500, 2,000 and 5,000 resources; print the time for each.

A synthetic stack is the dev stack's preview plan (what a pull request sees: unknown ids and
ARNs) copied under new URNs until it has the wanted size, so every copy has the real mix of
types and its dependency graph. The whole verdict is timed: Configure, Analyze per resource and
AnalyzeStack, through pulumi_policy's analyzer servicer; the best of three runs is printed (the
machine is shared, so the slower runs measure the neighbours). Target: at most 2 s for 5,000, linear.

Then a hand-written REST API (no SecureApi) with 250, 500 and 1,000 CORS preflights: per path a Resource,
an OPTIONS Method without an authorizer and its MOCK Integration, in preview and update. Each preflight
looks up its own integration; this grew quadratically (issue 20: 10.6 s for 1,000 in update) while every
preflight compared itself with every integration.
Run: venv/bin/python bench/bench_policy.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from secure_api_policies.verdict import evaluate

from secure_api.plan.harness import PlannedResource, run_program
from secure_api.plan.offline import plan_stack

REPO = Path(__file__).resolve().parent.parent

SIZES = (500, 2000, 5000)
PREFLIGHTS = (250, 500, 1000)
RUNS = 3


def preflights(count: int, *, preview: bool) -> list[PlannedResource]:
    """A REST API with `count` CORS preflight paths, written by hand as a raw program would."""
    import pulumi_aws as aws

    def program() -> None:
        api = aws.apigateway.RestApi("api", endpoint_configuration={"types": "REGIONAL"})
        for index in range(count):
            resource = aws.apigateway.Resource(
                f"path-{index}", rest_api=api.id, parent_id=api.root_resource_id, path_part=f"p{index}"
            )
            method = aws.apigateway.Method(
                f"options-{index}",
                rest_api=api.id,
                resource_id=resource.id,
                http_method="OPTIONS",
                authorization="NONE",
            )
            aws.apigateway.Integration(
                f"mock-{index}",
                rest_api=api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                type="MOCK",
                request_templates={"application/json": '{"statusCode": 200}'},
            )

    config = {"aws:region": "eu-west-1"}
    return run_program(program, config=config, project="bench", stack="dev", preview=preview).resources


def synthetic(base: list[PlannedResource], size: int) -> list[PlannedResource]:
    """`size` resources: copies of `base` whose URNs (and references to them) end in `-<copy>`."""
    own = {resource.urn for resource in base}
    result: list[PlannedResource] = []
    copy = 0
    while len(result) < size:

        def rename(urn: str, copy: int = copy) -> str:
            return f"{urn}-{copy}" if urn in own else urn

        result += [
            replace(
                resource,
                urn=rename(resource.urn),
                name=f"{resource.name}-{copy}",
                parent=rename(resource.parent),
                dependencies=tuple(rename(urn) for urn in resource.dependencies),
                property_dependencies={
                    key: tuple(rename(urn) for urn in urns) for key, urns in resource.property_dependencies.items()
                },
            )
            for resource in base
        ]
        copy += 1
    return result[:size]


def main() -> None:
    base = plan_stack("dev", preview=True, project_dir=REPO).resources
    evaluate(synthetic(base, len(base)))  # warm-up: imports, first servicers
    print(f"{'resources':>9} {'findings':>8} {'seconds':>8} {'us/resource':>11}")
    for size in SIZES:
        stack = synthetic(base, size)
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            findings = evaluate(stack)
            timings.append(time.perf_counter() - started)
        elapsed = min(timings)
        print(f"{size:>9} {len(findings):>8} {elapsed:>8.2f} {elapsed / size * 1e6:>11.0f}")
    print(f"\n{'preflights':>10} {'mode':>7} {'resources':>9} {'seconds':>8} {'us/resource':>11}")
    for count in PREFLIGHTS:
        for preview in (True, False):
            stack = preflights(count, preview=preview)
            timings = []
            for _ in range(RUNS):
                started = time.perf_counter()
                evaluate(stack)
                timings.append(time.perf_counter() - started)
            elapsed = min(timings)
            mode = "preview" if preview else "update"
            print(f"{count:>10} {mode:>7} {len(stack):>9} {elapsed:>8.2f} {elapsed / len(stack) * 1e6:>11.0f}")


if __name__ == "__main__":
    main()
