"""IAM policy evaluation for the offline request model: one policy document, one request.

Implements, for resource policies (`check_principal=True`) and identity policies (`False`):

- IAM User Guide, "Policy evaluation logic" (reference_policies_evaluation-logic): an explicit Deny
  overrides any Allow, an Allow is needed, and a request nothing allows is implicitly denied.
- "IAM JSON policy elements" (reference_policies_elements_*): Statement, Sid, Effect, Action/NotAction,
  Resource/NotResource, Principal/NotPrincipal, Condition.
- "IAM JSON policy elements: Condition operators" (reference_policies_elements_condition_operators):
  the String, Numeric, Bool, IpAddress, Arn and Null operators, `...IfExists`, and absent keys (false
  for a positive operator, true for a negated one).
- "Single-valued vs. multivalued context keys" (reference_policies_condition-single-vs-multi-valued-
  context-keys): `ForAnyValue:` / `ForAllValues:`; a multivalued key needs one of them.

Anything the evaluator cannot decide (an unknown operator, a policy variable, a malformed element, a
service-specific key missing from the context) makes the answer `NOT_EVALUATED` when it could change
it, never a guess. A decided explicit Deny stays an explicit deny whatever else the document holds.
"""

from __future__ import annotations

import ipaddress
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

# (decided, text): True / False, or None when it cannot be decided; text says what was checked.
_Verdict = tuple[bool | None, str]
_Matcher = Callable[[str, str], bool]

KNOWN_KEYS = frozenset(
    {"aws:sourceip", "aws:vpcsourceip", "aws:sourcevpce", "aws:sourcevpc"}
    | {"aws:principalaccount", "aws:principalorgid", "aws:principalarn", "aws:securetransport"}
)
"""Condition keys the request model sets (lower case); when one is missing, the request lacks it."""

# Global keys AWS adds to every request: assuming them absent would be a guess.
_ALWAYS_PRESENT = frozenset({"aws:currenttime", "aws:epochtime"})
_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})


class Effect(StrEnum):
    """The outcome of one evaluation."""

    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"
    NOT_EVALUATED = "NotEvaluated"


@dataclass(frozen=True)
class Principal:
    """The caller as IAM sees it. anonymous: no credentials (matches only "*" / {"AWS": "*"})."""

    account: str | None = None  # 12 digits, for IAM (SigV4) callers
    arn: str | None = None  # e.g. arn:aws:iam::210987654321:role/caller or ...:root
    service: str | None = None  # e.g. "apigateway.amazonaws.com"

    @property
    def anonymous(self) -> bool:
        """True when the caller signed nothing (no account, ARN or service)."""
        return not (self.account or self.arn or self.service)

    @property
    def account_id(self) -> str | None:
        """`account`, else the account field of `arn`."""
        parts = (self.arn or "").split(":")
        return self.account or (parts[4] if len(parts) >= 6 and parts[4] else None)


@dataclass(frozen=True)
class Evaluation:
    """The decision, the statement that made it and why.

    `statement` is the deciding statement's Sid, else "Statement[<index>]" (0-based), "" for an
    implicit deny; `reason` names that statement and the checks that decided it.
    """

    effect: Effect
    statement: str
    reason: str


def _decide(verdicts: Iterable[_Verdict], decisive: bool) -> _Verdict:
    """The first verdict in state `decisive`, else the first undecided one, else the other state with every text."""
    results = list(verdicts)
    for wanted in (decisive, None):
        for state, text in results:
            if state is wanted:
                return state, text
    return not decisive, "; ".join(text for _, text in results if text)


def _all(verdicts: Iterable[_Verdict]) -> _Verdict:
    """AND: any False decides, then any undecided."""
    return _decide(verdicts, False)


def _any(verdicts: Iterable[_Verdict]) -> _Verdict:
    """OR: any True decides, then any undecided."""
    return _decide(verdicts, True)


@lru_cache(maxsize=2048)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character, everything else literal."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(value: str, pattern: str, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _arn_like(value: str, pattern: str) -> bool:
    """Each of the six colon-separated ARN fields matched on its own, case-sensitively (ArnLike)."""
    fields = pattern.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn":
        raise ValueError(f"{pattern} is not an ARN")
    actual = value.split(":", 5)
    return len(actual) == 6 and all(_like(a, p) for a, p in zip(actual, fields, strict=True))


def _ip(value: str, cidr: str) -> bool:
    return ipaddress.ip_address(value) in ipaddress.ip_network(cidr, strict=False)


def _boolean(value: str, expected: str) -> bool:
    if expected.lower() not in ("true", "false") or value.lower() not in ("true", "false"):
        raise ValueError(f"{expected!r} / {value!r} is not true or false")
    return value.lower() == expected.lower()


def _number(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is not a number")
    return number


def _numeric(compare: Callable[[float, float], bool]) -> _Matcher:
    return lambda value, limit: compare(_number(value), _number(limit))


# base operator (lower case) -> (matcher(request value, policy value), negated)
_OPERATORS: dict[str, tuple[_Matcher, bool]] = {
    "stringequals": (operator.eq, False),
    "stringnotequals": (operator.eq, True),
    "stringequalsignorecase": (lambda v, p: v.lower() == p.lower(), False),
    "stringnotequalsignorecase": (lambda v, p: v.lower() == p.lower(), True),
    "stringlike": (_like, False),
    "stringnotlike": (_like, True),
    "arnequals": (_arn_like, False),
    "arnlike": (_arn_like, False),
    "arnnotequals": (_arn_like, True),
    "arnnotlike": (_arn_like, True),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    "bool": (_boolean, False),
    "numericequals": (_numeric(operator.eq), False),
    "numericnotequals": (_numeric(operator.eq), True),
    "numericlessthan": (_numeric(operator.lt), False),
    "numericlessthanequals": (_numeric(operator.le), False),
    "numericgreaterthan": (_numeric(operator.gt), False),
    "numericgreaterthanequals": (_numeric(operator.ge), False),
}


def _strings(value: Any) -> list[str]:
    """A policy value or list of them as IAM compares them; ValueError for objects."""
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, Mapping | list) or item is None for item in items):
        raise ValueError(f"{json.dumps(value)} is not a string or a list of strings")
    return [str(item).lower() if isinstance(item, bool) else str(item) for item in items]


def _value_match(matcher: _Matcher, request: str, policy: list[str], variables: bool) -> _Verdict:
    """Whether the request value matches any policy value (the values of one key OR together)."""
    verdicts: list[_Verdict] = []
    for value in policy:
        if variables and "${" in value:
            verdicts.append((None, f"policy variable in {value} is not evaluated"))
            continue
        try:
            verdicts.append((matcher(request, value), ""))
        except ValueError as error:
            verdicts.append((None, f"cannot compare {request} with {value}: {error}"))
    return _any(verdicts)


def _key_absent_is_known(key: str) -> bool:
    """A known key, or a global `aws:` key (no tag key, not one AWS always sets), may be absent."""
    return key in KNOWN_KEYS or (key.startswith("aws:") and "/" not in key and key not in _ALWAYS_PRESENT)


def _clause(op: str, key: str, values: Any, context: Mapping[str, list[str]], variables: bool) -> _Verdict:
    """One `"Operator": {"key": values}` pair; op and key as written in the policy."""
    lowered = op.lower()
    set_op, _, base = lowered.rpartition(":")
    if_exists = base.endswith("ifexists") and base != "ifexists"
    base = base.removesuffix("ifexists") if if_exists else base
    null = base == "null" and not set_op and not if_exists
    if set_op not in ("", "foranyvalue", "forallvalues") or (base not in _OPERATORS and not null):
        return None, f"unknown condition operator {op}"
    try:
        policy = _strings(values)
    except ValueError as error:
        return None, f"{op} {key}: {error}"
    request = context.get(key.lower())
    shown = f"[{', '.join(policy)}]"
    if request is None and not _key_absent_is_known(key.lower()):
        return None, f"{op} {key}: the key is not in the request context and its presence is unknown"
    if null:
        if any(p.lower() not in ("true", "false") for p in policy):
            return None, f"{op} {key}: {shown} is not true or false"
        absent = not request
        return any((p.lower() == "true") == absent for p in policy), f"{op} {key} {'absent' if absent else 'present'}"
    matcher, negated = _OPERATORS[base]
    if not request:
        if if_exists or set_op == "forallvalues":
            return True, f"{op} {key} absent"
        return (negated and not set_op), f"{op} {key} absent"
    if not set_op and len(request) > 1:
        return None, f"{op} {key}: multivalued key [{', '.join(request)}] without ForAnyValue/ForAllValues"
    verdicts: list[_Verdict] = []
    for value in request:
        hit, problem = _value_match(matcher, value, policy, variables)
        text = problem or f"{op} {key} {value} {'in' if hit else 'not in'} {shown}"
        verdicts.append((hit if hit is None else hit != negated, text))
    return _all(verdicts) if set_op == "forallvalues" else _any(verdicts)


def _conditions(block: Any, context: Mapping[str, list[str]], variables: bool) -> _Verdict:
    """A Condition element: every operator and every key in it must hold."""
    if block is None:
        return True, ""
    if not isinstance(block, Mapping) or not all(isinstance(keys, Mapping) for keys in block.values()):
        return None, "Condition is not an object of operator: {key: values}"
    return _all(
        _clause(str(op), str(key), values, context, variables)
        for op, keys in block.items()
        for key, values in keys.items()
    )


def _pair(statement: Mapping[str, Any], name: str) -> tuple[Any, bool] | None:
    """The value of `name` or `Not<name>` and whether it was the Not form; None when not exactly one."""
    present = [(statement[key], key.startswith("Not")) for key in (name, f"Not{name}") if key in statement]
    return present[0] if len(present) == 1 else None


def _element(statement: Mapping[str, Any], name: str, test: Callable[[str], _Verdict], wanted: str) -> _Verdict:
    """Action/Resource (or Not...): any listed pattern matching `wanted`; the Not form inverts it."""
    found = _pair(statement, name)
    if found is None:
        return None, f"needs exactly one of {name} and Not{name}"
    value, inverted = found
    try:
        patterns = _strings(value)
    except ValueError as error:
        return None, f"{name}: {error}"
    return _listed([test(pattern) for pattern in patterns], patterns, f"Not{name}" if inverted else name, wanted)


def _listed(verdicts: list[_Verdict], entries: list[str], label: str, wanted: str) -> _Verdict:
    """Whether any entry of an element matches (verdicts[i] for entries[i]); a Not... element inverts it."""
    state, problem = _any(verdicts)
    if state is None:
        return None, problem
    hits = [entry for entry, (hit, _) in zip(entries, verdicts, strict=True) if hit]
    return state != label.startswith(
        "Not"
    ), f"{wanted} matches {label} {hits[0]}" if hits else f"{wanted} matches no {label}"


def _action(pattern: str, action: str) -> _Verdict:
    if pattern != "*" and ":" not in pattern:
        return None, f"Action {pattern} is not service:action"
    return _like(action, pattern, ignore_case=True), ""


def _resource(pattern: str, resource: str, variables: bool) -> _Verdict:
    if variables and "${" in pattern:
        return None, f"policy variable in Resource {pattern} is not evaluated"
    try:
        return pattern == "*" or _arn_like(resource, pattern), ""
    except ValueError as error:
        return None, f"Resource: {error}"


def _aws_principal(value: str, who: Principal) -> _Verdict:
    """One `{"AWS": value}` entry: "*", an account (id or :root ARN, any principal in it) or an ARN."""
    if value == "*":
        return True, ""
    account = value if re.fullmatch(r"\d{12}", value) else None
    root = re.fullmatch(r"arn:[\w-]+:iam::(\d{12}):root", value)
    if root or account:
        return who.account_id == (account or (root and root.group(1))), ""
    if "*" in value or "?" in value or not value.startswith("arn:"):
        return None, f"Principal AWS {value} is neither an account nor an ARN"
    # A role in Principal matches its sessions (role names are unique in an account, whatever the path).
    session = re.fullmatch(r"arn:([\w-]+):sts::(\d{12}):assumed-role/([^/]+)/.+", who.arn or "")
    role = re.fullmatch(r"arn:([\w-]+):iam::(\d{12}):role/(?:.*/)?([^/]+)", value)
    if session and role:
        return session.groups() == role.groups(), ""
    return who.arn == value, ""


def _principal(statement: Mapping[str, Any], who: Principal) -> _Verdict:
    """Principal/NotPrincipal of a resource policy: "*", {"AWS": ...}, {"Service": ...}."""
    found = _pair(statement, "Principal")
    if found is None:
        return None, "a resource policy statement needs exactly one of Principal and NotPrincipal"
    element, inverted = found
    entries: list[tuple[str, _Verdict]] = []
    if element == "*":
        entries.append(("*", (True, "")))
    elif not isinstance(element, Mapping):
        entries.append(("?", (None, f'Principal {json.dumps(element)} is not "*" or an object')))
    for kind, values in element.items() if isinstance(element, Mapping) else ():
        try:
            names = _strings(values)
        except ValueError as error:
            entries.append((kind, (None, f"Principal {kind}: {error}")))
            continue
        for value in names:
            if kind == "AWS":
                entries.append((f"AWS {value}", _aws_principal(value, who)))
            elif kind == "Service":
                entries.append((f"Service {value}", ((who.service or "").lower() == value.lower(), "")))
            else:
                entries.append((kind, (None, f"Principal type {kind} is not evaluated")))
    label = "NotPrincipal" if inverted else "Principal"
    return _listed([verdict for _, verdict in entries], [entry for entry, _ in entries], label, "the caller")


def _applies(statement: Mapping[str, Any], request: _Request) -> _Verdict:
    """Whether every element of the statement matches the request."""
    checks = [  # the condition first: its text is the most telling part of a reason
        _conditions(statement.get("Condition"), request.context, request.variables),
        _element(statement, "Resource", lambda p: _resource(p, request.resource, request.variables), request.resource),
        _element(statement, "Action", lambda p: _action(p, request.action), request.action),
    ]
    if request.check_principal:
        checks.append(_principal(statement, request.who))
    elif "Principal" in statement or "NotPrincipal" in statement:
        checks.append((None, "an identity policy statement cannot name a Principal"))
    return _all(checks)


@dataclass(frozen=True)
class _Request:
    action: str
    resource: str
    who: Principal
    context: Mapping[str, list[str]]
    check_principal: bool
    variables: bool


def evaluate(
    document: Mapping[str, Any] | str,
    *,
    action: str,
    resource: str,
    principal: Principal | None,
    context: Mapping[str, str | Sequence[str]],
    check_principal: bool = True,
) -> Evaluation:
    """Evaluate one policy document (a dict or its JSON text) for one request.

    action: "service:Action" (e.g. "execute-api:Invoke"); resource: the ARN requested; principal:
    the caller, None for anonymous; context: condition keys (names case-insensitive) to a value or,
    for a multivalued key, a list; check_principal: False for identity policies (no Principal).
    Returns EXPLICIT_DENY (a matching Deny), else NOT_EVALUATED (a statement that could change the
    answer cannot be decided), else ALLOW (a matching Allow), else IMPLICIT_DENY. Never raises.
    """
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError as error:
        return Evaluation(Effect.NOT_EVALUATED, "", f"the policy is not JSON: {error}")
    version = policy.get("Version", "2008-10-17") if isinstance(policy, Mapping) else None
    body = policy.get("Statement") if isinstance(policy, Mapping) else None
    if version not in _VERSIONS or not isinstance(body, Mapping | list):
        return Evaluation(Effect.NOT_EVALUATED, "", "the policy needs a Statement and Version 2012-10-17 or 2008-10-17")
    request = _Request(
        action=action,
        resource=resource,
        who=principal or Principal(),
        context={str(k).lower(): [v] if isinstance(v, str) else [str(i) for i in v] for k, v in context.items()},
        check_principal=check_principal,
        variables=version == "2012-10-17",  # the 2008 grammar reads ${...} literally
    )
    allow: Evaluation | None = None
    unknown: dict[str, Evaluation] = {}  # "Deny" (or a bad Effect) / "Allow" -> first undecided statement
    for index, statement in enumerate(body if isinstance(body, list) else [body]):
        if not isinstance(statement, Mapping):
            unknown.setdefault("Deny", Evaluation(Effect.NOT_EVALUATED, f"Statement[{index}]", "not an object"))
            continue
        name = str(statement.get("Sid") or f"Statement[{index}]")
        effect = statement.get("Effect")
        state, text = _applies(statement, request)
        if state is False:
            continue
        if effect not in ("Allow", "Deny"):
            state, text = None, f"Effect {json.dumps(effect)} is not Allow or Deny"
        if state is None:
            kind = "Allow" if effect == "Allow" else "Deny"
            unknown.setdefault(kind, Evaluation(Effect.NOT_EVALUATED, name, f"{name}: {text}"))
        elif effect == "Deny":
            return Evaluation(Effect.EXPLICIT_DENY, name, f"{name}: {text}")
        elif allow is None:
            allow = Evaluation(Effect.ALLOW, name, f"{name}: {text}")
    decided = unknown.get("Deny") or allow or unknown.get("Allow")
    return decided or Evaluation(Effect.IMPLICIT_DENY, "", f"no statement allows {action} on {resource}")
