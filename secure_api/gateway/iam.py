"""IAM policy evaluation for one request: explicit Deny over Allow over implicit deny.

Sources (IAM user guide): "Policy evaluation logic", "IAM JSON policy elements: Condition
operators", "Multivalued context keys", "IAM JSON policy elements: Principal / NotPrincipal /
Action / NotAction / Resource / NotResource". What the model does not know — an operator or a
condition key it cannot decide, a policy variable — makes the result NOT_EVALUATED, never a guess;
an explicit Deny that is decided still denies.

Shapes: `document` is a policy as JSON text or a dict; `context` maps condition keys (any case) to
a string or a list of strings (multivalued keys); `resource` is an ARN.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any


class Effect(StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"
    NOT_EVALUATED = "NotEvaluated"


@dataclass(frozen=True)
class Principal:
    """The caller as IAM sees it; with no field set it is anonymous (matches only `*` and `{"AWS": "*"}`)."""

    account: str | None = None
    """12 digits, for IAM (SigV4) callers."""
    arn: str | None = None
    """e.g. `arn:aws:iam::210987654321:role/caller`."""
    service: str | None = None
    """e.g. `apigateway.amazonaws.com`."""

    @property
    def anonymous(self) -> bool:
        return not (self.account or self.arn or self.service)


@dataclass(frozen=True)
class Evaluation:
    effect: Effect
    statement: str
    """The Sid of the deciding statement, else `Statement[<index>]`; empty for an implicit deny."""
    reason: str


KNOWN_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceIp",
        "aws:VpcSourceIp",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalArn",
        "aws:SecureTransport",
        "aws:CurrentTime",
    )
)
"""Keys the request model sets when they apply; absent from a request, they are absent for IAM too."""


class _UnknownError(Exception):
    """The statement cannot be decided offline; the message says why."""


@lru_cache(maxsize=4096)
def _compiled(text: str, case: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character (the rest is literal)."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(body, 0 if case else re.IGNORECASE | re.DOTALL)


def _like(pattern: str, value: str, case: bool = True) -> bool:
    return _compiled(pattern, case).fullmatch(value) is not None


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _principal_matches(spec: Any, principal: Principal | None) -> bool:
    """Whether `Principal` (or `NotPrincipal`) names the caller: `*`, account ids, `:root` or exact ARNs, services."""
    if spec == "*":
        return True
    if not isinstance(spec, Mapping):
        raise _UnknownError(f"Principal {spec!r} is not `*` or a mapping")
    who = principal or Principal()
    for kind, values in spec.items():
        for value in _strings(values):
            if kind == "AWS":
                if value == "*":
                    return True
                account = value if re.fullmatch(r"\d{12}", value) else None
                root = re.fullmatch(r"arn:[\w-]+:iam::(\d{12}):root", value)
                if (account or (root and root[1])) and who.account in (account, root[1] if root else None):
                    return True
                if who.arn and value == who.arn:
                    return True
            elif kind == "Service":
                if who.service and value == who.service:
                    return True
            elif kind in ("Federated", "CanonicalUser"):
                continue
            else:
                raise _UnknownError(f"Principal type {kind!r}")
    return False


def _actions_match(patterns: Any, action: str) -> bool:
    return any(_like(p, action, case=False) for p in _strings(patterns))


def _resources_match(patterns: Any, resource: str) -> bool:
    return any(_like(p, resource) for p in _strings(patterns))


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _in_network(value: str, cidr: str) -> bool:
    address = _ip(value)
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError as error:
        raise _UnknownError(f"{cidr!r} is not an IP address or CIDR") from error
    return address is not None and address.version == network.version and address in network


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise _UnknownError(f"{text!r} is not a number") from error


_Test = Callable[[str, str], bool]
_POSITIVE: dict[str, _Test] = {
    "StringEquals": lambda v, p: v == p,
    "StringEqualsIgnoreCase": lambda v, p: v.lower() == p.lower(),
    "StringLike": lambda v, p: _like(p, v),
    "ArnEquals": lambda v, p: _like(p, v),
    "ArnLike": lambda v, p: _like(p, v),
    "IpAddress": _in_network,
    "NumericEquals": lambda v, p: _number(v) == _number(p),
    "NumericLessThan": lambda v, p: _number(v) < _number(p),
    "NumericLessThanEquals": lambda v, p: _number(v) <= _number(p),
    "NumericGreaterThan": lambda v, p: _number(v) > _number(p),
    "NumericGreaterThanEquals": lambda v, p: _number(v) >= _number(p),
    "Bool": lambda v, p: v.lower() == p.lower(),
}
_NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
    "NumericNotEquals": "NumericEquals",
}


def _condition(operator: str, key: str, wanted: list[str], context: Mapping[str, list[str]]) -> bool:
    """One operator on one key ("Condition operators"; set operators in "Multivalued context keys")."""
    if any("${" in w for w in wanted):
        raise _UnknownError(f"{operator} {key}: policy variables are not evaluated offline")
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    lowered = key.lower()
    values = context.get(lowered)
    if base == "Null":
        present = values is not None and len(values) > 0
        return present != (wanted[0].lower() == "true" if wanted else True)
    if base not in _POSITIVE and base not in _NEGATED:
        raise _UnknownError(f"condition operator {operator}")
    if values is None:
        if lowered not in KNOWN_KEYS:
            raise _UnknownError(f"condition key {key} (not known offline)")
        # Absent key: true with IfExists; a negated operator matches nothing, so it holds; ForAllValues holds.
        return if_exists or base in _NEGATED or qualifier == "ForAllValues"
    negated = base in _NEGATED
    test = _POSITIVE[_NEGATED.get(base, base)]

    def holds(value: str) -> bool:
        matched = any(test(value, w) for w in wanted)
        return not matched if negated else matched

    if qualifier == "ForAllValues" or (not qualifier and negated):
        return all(holds(v) for v in values)
    if qualifier in ("ForAnyValue", ""):
        return any(holds(v) for v in values)
    raise _UnknownError(f"condition set operator {qualifier}")


def _conditions_hold(block: Any, context: Mapping[str, list[str]]) -> bool:
    if not block:
        return True
    if not isinstance(block, Mapping):
        raise _UnknownError("Condition is not a mapping")
    return all(
        _condition(operator, key, _strings(values), context)
        for operator, keys in block.items()
        for key, values in (keys.items() if isinstance(keys, Mapping) else [])
    )


def _element(statement: Mapping[str, Any], name: str, test: Callable[[Any], bool]) -> bool:
    """`name` (e.g. Action) must match, `Not<name>` must not; neither present: no constraint."""
    if name in statement:
        return test(statement[name])
    if f"Not{name}" in statement:
        return not test(statement[f"Not{name}"])
    return True


def _applies(
    statement: Mapping[str, Any],
    action: str,
    resource: str,
    principal: Principal | None,
    context: Mapping[str, list[str]],
    check_principal: bool,
) -> bool:
    if check_principal and "Principal" not in statement and "NotPrincipal" not in statement:
        raise _UnknownError("a resource policy statement without Principal")
    return (
        (not check_principal or _element(statement, "Principal", lambda spec: _principal_matches(spec, principal)))
        and _element(statement, "Action", lambda patterns: _actions_match(patterns, action))
        and _element(statement, "Resource", lambda patterns: _resources_match(patterns, resource))
        and _conditions_hold(statement.get("Condition"), context)
    )


def _describe(statement: Mapping[str, Any]) -> str:
    condition = statement.get("Condition")
    return f" when {json.dumps(condition, separators=(',', ':'))}" if condition else ""


def evaluate(
    document: Mapping[str, Any] | str,
    *,
    action: str,
    resource: str,
    principal: Principal | None,
    context: Mapping[str, str | Sequence[str]],
    check_principal: bool = True,
) -> Evaluation:
    """The policy's decision for `action` on `resource` by `principal` in `context`.

    `check_principal=False` is for identity policies and Lambda authorizer policies (no Principal).
    """
    policy = json.loads(document) if isinstance(document, str) else document
    statements = policy.get("Statement") if isinstance(policy, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return Evaluation(Effect.NOT_EVALUATED, "", "the policy has no Statement list")
    keys = {k.lower(): _strings(v) for k, v in context.items()}
    allowed: str | None = None
    allow_text = ""
    unknown: list[str] = []
    unknown_deny = False
    for index, statement in enumerate(statements):
        name = statement.get("Sid") or f"Statement[{index}]"
        effect = statement.get("Effect")
        try:
            if effect not in ("Allow", "Deny"):
                raise _UnknownError(f"Effect {effect!r}")
            applies = _applies(statement, action, resource, principal, keys, check_principal)
        except _UnknownError as why:
            unknown.append(f"{name}: {why}")
            unknown_deny = unknown_deny or effect != "Allow"
            continue
        if applies and effect == "Deny":
            return Evaluation(Effect.EXPLICIT_DENY, name, f"{name} denies{_describe(statement)}")
        if applies and allowed is None:
            allowed = name
            allow_text = f"{name} allows{_describe(statement)}"
    if unknown and (unknown_deny or allowed is None):
        return Evaluation(Effect.NOT_EVALUATED, "", "; ".join(unknown))
    if allowed is not None:
        return Evaluation(Effect.ALLOW, allowed, allow_text)
    return Evaluation(Effect.IMPLICIT_DENY, "", "no statement allows it")
