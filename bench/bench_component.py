"""Build the component with 10, 100 and 1,000 routes on the mock runtime; print resources and wall time.

The resource count must not grow with the number of routes (routes live in one OpenAPI body).
Run: venv/bin/python bench/bench_component.py
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from secure_api.plan.offline import load_stack_config, plan_stack

REPO = Path(__file__).resolve().parent.parent


def routes(count: int) -> list[dict[str, object]]:
    return [
        {
            "path": f"/items{i}/{{id}}",
            "method": "GET",
            "scopes": ["orders.read"],
            "integration": {"type": "http", "url": f"https://items.example.com/{i}/{{id}}"},
        }
        for i in range(count)
    ]


def main() -> None:
    base = load_stack_config("dev", REPO)
    plan_stack("dev", preview=True, project_dir=REPO, config=base)  # warm-up: imports, authorizer package cache
    print(f"{'routes':>7} {'mode':>8} {'resources':>10} {'seconds':>8}")
    for count in (10, 100, 1000):
        config = copy.deepcopy(base)
        config["routes"] = config["routes"] + routes(count - len(config["routes"]))
        for preview in (True, False):
            started = time.perf_counter()
            result = plan_stack("dev", preview=preview, project_dir=REPO, config=config)
            elapsed = time.perf_counter() - started
            mode = "preview" if preview else "update"
            print(f"{len(config['routes']):>7} {mode:>8} {len(result.custom_resources()):>10} {elapsed:>8.2f}")


if __name__ == "__main__":
    main()
