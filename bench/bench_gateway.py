"""Request-model throughput on the dev stack, and what the access matrix adds to `secure-api plan`.

Prints: requests evaluated per second in-process (the cases of examples/requests/dev.yaml, round
robin, each at its own second on the model's clock, every layer evaluated: WAF, resource policy,
Cognito and the component's real Lambda authorizer code, API keys, throttles, validation; the
access-log line is rendered when read, and is not read here), twice: with the cyclic garbage
collector off, as the `secure-api` CLI runs, and on, as a library user's process may; then the time
to build the dev stack's access matrix (issuer, JWKS server and every cell), and the median of RUNS
whole `secure-api plan --stack dev` processes with and without the matrix.
Targets: >= 10,000 requests/s; the matrix adds <= 0.3 s to `secure-api plan --stack dev`.
Run: venv/bin/python bench/bench_gateway.py
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from secure_api.gateway import matrix
from secure_api.gateway.cases import load_cases
from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.stack import load
from secure_api.plan.offline import plan_stack

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 50_000
RUNS = 5


def _plan_seconds(*extra: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "secure_api", "plan", "--stack", "dev", *extra],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    stack = load(plan_stack("dev", preview=False, project_dir=ROOT).resources)
    cases = [c for c in load_cases(ROOT / "examples" / "requests" / "dev.yaml") if c.repeat == 1]
    for collector in ("off", "on"):
        gateway = Gateway(stack)
        (gc.disable if collector == "off" else gc.enable)()
        try:
            for case in cases:  # warm: the authorizer's JWKS, compiled patterns
                gateway.evaluate(case.request)
            start = time.perf_counter()
            for index in range(REQUESTS):
                gateway.evaluate(cases[index % len(cases)].request, now=float(index))
            elapsed = time.perf_counter() - start
        finally:
            gateway.close()
            gc.enable()
        print(
            f"requests through every layer, garbage collector {collector}: {REQUESTS / elapsed:,.0f} req/s "
            f"({len(cases)} distinct cases)"
        )
    start = time.perf_counter()
    gateway = Gateway(stack)
    cells = len(matrix.build(gateway).cells)
    gateway.close()
    print(f"access matrix of the dev stack: {time.perf_counter() - start:.3f} s ({cells} cells)")
    with_matrix, without = _plan_seconds(), _plan_seconds("--no-access-matrix")
    print(
        f"secure-api plan --stack dev: {with_matrix:.2f} s with the matrix, {without:.2f} s without "
        f"(+{with_matrix - without:.2f} s; median of {RUNS})"
    )


if __name__ == "__main__":
    main()
