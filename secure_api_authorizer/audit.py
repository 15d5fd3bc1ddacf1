"""Structured audit lines: one JSON object per decision or key-set refresh, never a credential.

Decision lines are on the hot path, so they are rendered from a template: only the variable
fields go through the JSON string encoder, the constant ones are known-safe literals.
"""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

_ENCODER = json.JSONEncoder(separators=(",", ":"))


def json_string(value: object) -> str:
    """A JSON string literal (``null`` for None); cheaper than ``json.dumps`` for one value."""
    if type(value) is str:
        return encode_basestring_ascii(value)
    return "null" if value is None else encode_basestring_ascii(str(value))


class AuditLog:
    """Writes to stdout, which Lambda ships to CloudWatch Logs line by line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def emit(self, record: dict[str, Any]) -> None:
        (self._stream or sys.stdout).write(_ENCODER.encode(record) + "\n")

    def decision(
        self,
        level: str,
        decision: str,
        reason: str,
        *,
        mode: str,
        request_id: object,
        principal_id: str | None = None,
        route: str | None = None,
        method_arn: str | None = None,
    ) -> None:
        """``level``, ``decision``, ``reason`` and ``mode`` are the module's own constants."""
        (self._stream or sys.stdout).write(
            f'{{"level":"{level}","event":"authorizer_decision","decision":"{decision}","reason":"{reason}",'
            f'"mode":"{mode}","requestId":{json_string(request_id)},"principalId":{json_string(principal_id)},'
            f'"route":{json_string(route)},"methodArn":{json_string(method_arn)}}}\n'
        )
