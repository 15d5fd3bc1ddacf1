"""Resource-policy documents: who an `Allow` opens the API to, and whether a source condition holds.

A source condition is a positive condition (not `...IfExists`, not negated) on a key that pins
the caller's network or organisation, with values that exclude someone: an address condition whose
ranges cover every IPv4 or every IPv6 address, or a `...Like` condition on `*`, is no condition.
The documented private-API pattern — `Allow *` plus a `Deny *` unless `aws:SourceVpce` matches —
counts as conditioned when the Deny's `Resource` covers every resource the Allow grants: a Deny on
one route fences that route, not the API.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
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
ADDRESS_KEYS = frozenset({"aws:sourceip", "aws:vpcsourceip"})
_INVOKE_ACTIONS = frozenset({"*", "execute-api:*", "execute-api:invoke"})
_EVERY_ADDRESS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def covers_every_address(cidrs: Iterable[str]) -> bool:
    """True when the ranges together cover every IPv4 or every IPv6 address (unparsable ones ignored)."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    for everything in _EVERY_ADDRESS:
        family = [n for n in networks if n.version == everything.version]
        if everything in ipaddress.collapse_addresses(family):  # type: ignore[arg-type]
            return True
    return False


def _restricts(operator: str, key: str, values: Any) -> bool:
    """Whether a condition clause excludes some caller (an all-covering one does not)."""
    items = [str(value) for value in as_list(values)]
    if key in ADDRESS_KEYS and "ipaddress" in operator:
        return not covers_every_address(items)
    if "like" in operator:
        return "*" not in items
    return bool(items)


def _condition_keys(statement: Mapping[str, Any], *, negated: bool) -> set[str]:
    """Condition keys under operators that restrict (or, with `negated`, exclude) callers."""
    condition = statement.get("Condition")
    keys: set[str] = set()
    for operator, clauses in (condition if isinstance(condition, Mapping) else {}).items():
        op = str(operator).lower()
        if op.endswith("ifexists") or ("not" in op) != negated or not isinstance(clauses, Mapping):
            continue
        keys.update(str(key).lower() for key, values in clauses.items() if _restricts(op, str(key).lower(), values))
    return keys


def _is_open(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))


def _actions(statement: Mapping[str, Any]) -> set[str]:
    return {str(lower(action)) for action in as_list(statement.get("Action"))}


def execute_api_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, `<api-id>/<stage>/<METHOD>/<path>`) of an
    `arn:<partition>:execute-api:<region>:<account>:<api-id>/…` ARN (parts may be `*`); None if not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "execute-api":
        return None
    return parts[3], parts[4], parts[5]


def route_pattern(resource: str) -> str:
    """The `stage/METHOD/path` part of an execute-api resource (`*` for any).

    A resource policy governs one API, so `arn:…:execute-api:<region>:<account>:<api>/…` and the
    short form `execute-api:/…` name the same routes.
    """
    if resource.startswith("execute-api:/"):
        return resource[len("execute-api:/") :] or "*"
    arn = execute_api_arn(resource)
    if arn is not None:
        routes = arn[2]
        _, _, path = routes.partition("/")
        return path if "/" in routes else ("*" if routes == "*" else "")
    return "*" if resource in ("*", "execute-api:*") else resource


def _glob(pattern: str) -> re.Pattern[str]:
    """An IAM wildcard pattern that may match another pattern's text: its `?` never stands for a `*`."""
    return re.compile("".join(".*" if c == "*" else "[^*]" if c == "?" else re.escape(c) for c in pattern))


def _routes(statement: Mapping[str, Any]) -> list[str]:
    """The route patterns a statement's `Resource` names (`*` for `NotResource` or none)."""
    if "NotResource" in statement or "Resource" not in statement:
        return ["*"]
    return [route_pattern(str(resource)) for resource in as_list(statement.get("Resource"))]


def _covers(denied: list[str], granted: list[str]) -> bool:
    """Every route pattern granted is matched (as text) by some denied pattern."""
    patterns = [_glob(pattern) for pattern in denied]
    return all(any(p.fullmatch(route) for p in patterns) for route in granted)


def _fences(document: Any, keys: frozenset[str]) -> list[list[str]]:
    """Route patterns of each `Deny *` on invoke unless one of `keys` matches."""
    return [
        _routes(statement)
        for statement in statements(document)
        if statement.get("Effect") == "Deny"
        and "NotResource" not in statement
        and _is_open(statement)
        and _actions(statement) & _INVOKE_ACTIONS
        and _condition_keys(statement, negated=True) & keys
    ]


def _fenced(statement: Mapping[str, Any], fences: list[list[str]]) -> bool:
    granted = _routes(statement)
    return any(_covers(denied, granted) for denied in fences)


def open_allows(document: Any) -> Iterator[Mapping[str, Any]]:
    """`Allow` statements to everyone without a source condition, on routes no source Deny covers."""
    fences = _fences(document, SOURCE_KEYS)
    for statement in statements(document):
        if (
            statement.get("Effect") == "Allow"
            and _is_open(statement)
            and not _condition_keys(statement, negated=False) & SOURCE_KEYS
            and not _fenced(statement, fences)
        ):
            yield statement


def restricted_to_vpc(document: Any) -> bool:
    """Every Allow is conditioned on a VPC endpoint (or VPC), or covered by a Deny unless one matches."""
    fences = _fences(document, VPC_KEYS)
    allows = [s for s in statements(document) if s.get("Effect") == "Allow"]
    return bool(allows) and all(_condition_keys(s, negated=False) & VPC_KEYS or _fenced(s, fences) for s in allows)


def full_access_allows(document: Any) -> Iterator[Mapping[str, Any]]:
    """`Allow` statements of an endpoint policy that let anyone invoke any API: Principal `*`, an action
    covering `execute-api:Invoke` (`*`, `execute-api:*`), any API (`*` or an execute-api ARN whose API id is
    `*`, or `NotResource`), and no condition. AWS's default endpoint policy is one of these."""
    for statement in statements(document):
        if statement.get("Effect") != "Allow" or not _is_open(statement) or statement.get("Condition"):
            continue
        actions = _actions(statement)
        if "NotAction" in statement or not actions & {"*", "execute-api:*", "execute-api:invoke"}:
            continue
        resources = ["*"] if "NotResource" in statement else [str(r) for r in as_list(statement.get("Resource"))]
        if any(_any_api(resource) for resource in resources):
            yield statement


def _any_api(resource: str) -> bool:
    if resource in ("*", "execute-api:*", "execute-api:/*"):
        return True
    arn = execute_api_arn(resource)
    return arn is not None and arn[2].split("/", 1)[0] == "*"
