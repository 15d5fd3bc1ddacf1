"""Resource-policy documents: who an `Allow` opens the API to, and whether a source condition holds.

A source condition is a positive condition (not `...IfExists`, not negated) on a key that pins
the caller's network or organisation. The documented private-API pattern — `Allow *` plus a
`Deny *` unless `aws:SourceVpce` matches — counts as conditioned: the Deny carries the condition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .values import as_list, lower, statements

SOURCE_KEYS = frozenset(
    {
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:sourceip",
        "aws:vpcsourceip",
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
    }
)
VPC_KEYS = frozenset({"aws:sourcevpce", "aws:sourcevpc"})
_INVOKE_ACTIONS = frozenset({"*", "execute-api:*", "execute-api:invoke"})


def _condition_keys(statement: Mapping[str, Any], *, negated: bool) -> set[str]:
    """Condition keys under operators that restrict (or, with `negated`, exclude) callers."""
    condition = statement.get("Condition")
    keys: set[str] = set()
    for operator, clauses in (condition if isinstance(condition, Mapping) else {}).items():
        op = str(operator).lower()
        if op.endswith("ifexists") or ("not" in op) != negated or not isinstance(clauses, Mapping):
            continue
        keys.update(str(key).lower() for key in clauses)
    return keys


def _is_open(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))


def _actions(statement: Mapping[str, Any]) -> set[str]:
    return {str(lower(action)) for action in as_list(statement.get("Action"))}


def _fenced(document: Any, keys: frozenset[str]) -> bool:
    """A `Deny *` on invoke unless one of `keys` matches fences every Allow of the document."""
    return any(
        statement.get("Effect") == "Deny"
        and _is_open(statement)
        and _actions(statement) & _INVOKE_ACTIONS
        and _condition_keys(statement, negated=True) & keys
        for statement in statements(document)
    )


def open_allows(document: Any) -> Iterator[Mapping[str, Any]]:
    """`Allow` statements to everyone without a source condition."""
    if _fenced(document, SOURCE_KEYS):
        return
    for statement in statements(document):
        if (
            statement.get("Effect") == "Allow"
            and _is_open(statement)
            and not _condition_keys(statement, negated=False) & SOURCE_KEYS
        ):
            yield statement


def restricted_to_vpc(document: Any) -> bool:
    """Every caller must come through a VPC endpoint (or VPC): conditioned Allows or a fencing Deny."""
    if _fenced(document, VPC_KEYS):
        return True
    allows = [s for s in statements(document) if s.get("Effect") == "Allow"]
    return bool(allows) and all(_condition_keys(s, negated=False) & VPC_KEYS for s in allows)
