"""The Pulumi program: read the stack config, build one SecureApi, export its outputs."""

from __future__ import annotations

import pulumi

from .config import read_config
from .resource import SecureApi


def main() -> SecureApi:
    config = read_config()  # raises ConfigError before any resource is registered
    api = SecureApi(pulumi.get_project(), config)
    for key, value in api.outputs().items():
        pulumi.export(key, value)
    return api
