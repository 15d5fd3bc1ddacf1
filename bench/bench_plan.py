"""Whole-process `secure-api plan` timings: the dev stack and a raw 1,000-resource pulumi_aws program.

For each scenario, best and median of RUNS whole processes (`python -m secure_api plan`, warm authorizer
package cache, so what a PR job pays after its first run), the same process without the pack
(`--no-policy`: program on the mock runtime only), and in-process verdict times: the pack as
`evaluate` runs it (one analyzer per resource type) next to the naive per-resource way (one analyzer
holding every rule, each resource sent through all of them), with the ratio.
Targets: dev stack <= 2 s, 1,000-resource program <= 3 s (whole process, 2-core machine).
Run: venv/bin/python bench/bench_plan.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from secure_api_policies.pack import bindings
from secure_api_policies.verdict import analyze_request, configure_request, evaluate, servicer

from secure_api.plan.offline import plan_stack

REPO = Path(__file__).resolve().parent.parent

RUNS = 5
ROUTES = 332  # one REST API + 3 resources per route + deployment + stage = 1,000 resources
RAW_PROGRAM = f"""\
import pulumi
import pulumi_aws as aws

api = aws.apigateway.RestApi("bench", name="bench")
methods = []
for i in range({ROUTES}):
    resource = aws.apigateway.Resource(
        f"items-{{i}}", rest_api=api.id, parent_id=api.root_resource_id, path_part=f"items{{i}}"
    )
    method = aws.apigateway.Method(
        f"get-{{i}}", rest_api=api.id, resource_id=resource.id, http_method="GET", authorization="AWS_IAM"
    )
    methods.append(
        aws.apigateway.Integration(
            f"get-{{i}}", rest_api=api.id, resource_id=resource.id, http_method=method.http_method,
            type="HTTP_PROXY", integration_http_method="GET", uri=f"https://items.example.com/{{i}}",
        )
    )
deployment = aws.apigateway.Deployment("bench", rest_api=api.id, opts=pulumi.ResourceOptions(depends_on=methods))
aws.apigateway.Stage("v1", rest_api=api.id, deployment=deployment.id, stage_name="v1")
"""


def whole_process(cwd: Path, *extra: str) -> tuple[float, float]:
    """Best and median wall time of `python -m secure_api plan` in `cwd`."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "secure_api", "plan", "--stack", "dev", *extra],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def verdicts(cwd: Path) -> tuple[int, float, float]:
    """Resources, best `evaluate` time and best naive per-resource time, in-process."""
    resources = plan_stack("dev", preview=True, project_dir=cwd).resources
    configure = configure_request(None)
    naive_analyzer = servicer([binding.policy for binding in bindings()], configure)
    best, naive = float("inf"), float("inf")
    for _ in range(3):
        started = time.perf_counter()
        evaluate(resources)
        best = min(best, time.perf_counter() - started)
        started = time.perf_counter()
        for resource in resources:
            naive_analyzer.Analyze(analyze_request(resource), None)
        naive = min(naive, time.perf_counter() - started)
    return len([r for r in resources if r.custom]), best, naive


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder)
        (raw / "Pulumi.yaml").write_text("name: bench\nruntime: python\n")
        (raw / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
        (raw / "__main__.py").write_text(textwrap.dedent(RAW_PROGRAM))
        subprocess.run([sys.executable, "-m", "secure_api", "plan", "--stack", "dev"], cwd=REPO, capture_output=True)
        print(
            f"{'scenario':<22} {'resources':>9} {'best s':>7} {'median s':>8} {'no-policy s':>11} "
            f"{'verdict s':>9} {'naive s':>8} {'ratio':>6} {'target':>7}"
        )
        for name, cwd, target in (("dev stack (SecureApi)", REPO, 2.0), ("raw pulumi_aws", raw, 3.0)):
            best, median = whole_process(cwd)
            bare, _ = whole_process(cwd, "--no-policy")
            count, verdict, naive = verdicts(cwd)
            met = "met" if best <= target else "MISSED"
            print(
                f"{name:<22} {count:>9} {best:>7.2f} {median:>8.2f} {bare:>11.2f} "
                f"{verdict:>9.3f} {naive:>8.3f} {naive / verdict:>5.1f}x {met:>4} {target:.0f}s"
            )


if __name__ == "__main__":
    main()
