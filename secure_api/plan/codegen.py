"""The files generated from the component's typed sources, and the one command that regenerates them.

Two files in a checkout are derived, never edited by hand:

- `secure_api/plan/stack-config.schema.json`: the JSON Schema of a stack file, from the pydantic
  config models (`schema.render_schema`);
- `tests/data/secure-api.schema.json`: the Pulumi package schema the component plugin serves for
  `secure-api:index:SecureApi`, inferred from `secure_api/args.py` and the outputs of `SecureApi`.

`python -m secure_api.plan.codegen` (or `secure-api schema --regenerate`) rewrites both from the
checkout it runs in; `--check` writes nothing and exits 1 naming every stale file. A test runs the check,
so a model or args change without the regenerated files fails the suite.
"""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.host import components_from_module

import secure_api

from .schema import SCHEMA_FILE, render_schema

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_NAME = "secure-api"
PACKAGE_SCHEMA = Path("tests/data/secure-api.schema.json")
STACK_SCHEMA = Path("secure_api/plan") / SCHEMA_FILE


def package_schema() -> dict[str, Any]:
    """The package schema the plugin host serves: every component `secure_api` exports, named `secure-api`."""
    return json.loads(ComponentProvider(components_from_module(secure_api), PACKAGE_NAME).schema)


def render_package_schema() -> str:
    return json.dumps(package_schema(), indent=2, sort_keys=True) + "\n"


GENERATED: dict[Path, Callable[[], str]] = {STACK_SCHEMA: render_schema, PACKAGE_SCHEMA: render_package_schema}


def stale(root: Path = ROOT) -> list[Path]:
    """The generated files under `root` whose content differs from what their source generates now."""
    return [path for path, render in GENERATED.items() if _read(root / path) != render()]


def regenerate(root: Path = ROOT) -> list[Path]:
    """Rewrite every stale generated file under `root`; returns the files written."""
    written = []
    for path, render in GENERATED.items():
        text = render()
        if _read(root / path) != text:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
            written.append(path)
    return written


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secure_api.plan.codegen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: the one this module is in)")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.root)
        for path in outdated:
            print(f"stale: {path} (run `python -m secure_api.plan.codegen`)", file=sys.stderr)
        return 1 if outdated else 0
    for path in regenerate(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
