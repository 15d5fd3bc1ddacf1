"""IAM policy documents as plain JSON-ready dicts.

pulumi-aws offers typed `PolicyDocumentArgs`, but the Python SDK (3.272) cannot serialize their
`Union[str, Sequence[...]]` fields, so documents are built here and sent as JSON text.
"""

from __future__ import annotations

from typing import Any

import pulumi

VERSION = "2012-10-17"


def statement(
    effect: str,
    actions: list[str],
    resources: list[pulumi.Input[str]] | None,
    *,
    principal: dict[str, Any] | str | None = None,
    condition: dict[str, Any] | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    """One statement; `resources` is None only in trust policies, where IAM forbids a Resource element."""
    body: dict[str, Any] = {"Effect": effect, "Action": actions}
    if resources is not None:
        body["Resource"] = resources
    if sid:
        body["Sid"] = sid
    if principal is not None:
        body["Principal"] = principal
    if condition:
        body["Condition"] = condition
    return body


def document_json(*statements: dict[str, Any]) -> pulumi.Output[str]:
    """A policy document as JSON text; statements may hold Outputs (ARNs not known yet)."""
    return pulumi.Output.json_dumps({"Version": VERSION, "Statement": list(statements)})
