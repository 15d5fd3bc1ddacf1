"""Lambda entry point (``HANDLER`` in ``__init__``): one Authorizer per execution environment.

Inside Lambda the authorizer is built and its key sets fetched during init, which is not billed
against the first request's latency budget; elsewhere (tests, tools) it is built on first use.
"""

from __future__ import annotations

import os
from typing import Any

from .authorizer import Authorizer

_authorizer: Authorizer | None = None


def handler(event: object, context: object) -> dict[str, Any]:
    return (_authorizer or _instance())(event, context)


def _instance() -> Authorizer:
    global _authorizer
    if _authorizer is None:
        _authorizer = Authorizer.from_env(os.environ)
    return _authorizer


if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    _instance().prefetch()
