"""IAM condition blocks: operators, absent keys, set operators, for the offline IAM evaluator.

IAM User Guide, "IAM JSON policy elements: Condition operators"
(reference_policies_elements_condition_operators): the String, Numeric, Bool, IpAddress, Arn and Null
operators, `...IfExists`, and absent keys (false for a positive operator, true for a negated one);
"Single-valued vs. multivalued context keys" (reference_policies_condition-single-vs-multi-valued-context-keys):
`ForAnyValue:` / `ForAllValues:`, and a multivalued key needs one of them. Every check answers a
`Verdict`: (True | False | None when it cannot be decided, the text saying what was checked).
"""

from __future__ import annotations

import ipaddress
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

Verdict = tuple[bool | None, str]
"""(True / False, or None when it cannot be decided; the text saying what was checked)."""
_Matcher = Callable[[str, str], bool]

KNOWN_KEYS = frozenset(
    {"aws:sourceip", "aws:vpcsourceip", "aws:sourcevpce", "aws:sourcevpc"}
    | {"aws:principalaccount", "aws:principalorgid", "aws:principalarn", "aws:securetransport"}
)
"""Condition keys the request model sets (lower case); when one is missing, the request lacks it."""

# Global keys AWS adds to every request: assuming them absent would be a guess.
_ALWAYS_PRESENT = frozenset({"aws:currenttime", "aws:epochtime"})


def _decide(verdicts: Iterable[Verdict], decisive: bool) -> Verdict:
    """The first verdict in state `decisive`, else the first undecided one, else the other state with every text."""
    results = list(verdicts)
    for wanted in (decisive, None):
        for state, text in results:
            if state is wanted:
                return state, text
    return not decisive, "; ".join(text for _, text in results if text)


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    """AND: any False decides, then any undecided."""
    return _decide(verdicts, False)


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    """OR: any True decides, then any undecided."""
    return _decide(verdicts, True)


@lru_cache(maxsize=2048)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character, everything else literal."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(value: str, pattern: str, ignore_case: bool = False) -> bool:
    """Whether all of `value` matches `pattern` (`*` any run, `?` one character), as StringLike does."""
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def arn_like(value: str, pattern: str) -> bool:
    """ArnLike: each of the six colon-separated fields matched on its own with `like`, case-sensitively.

    Raises ValueError when `pattern` is not an ARN; a `value` that is not one matches nothing.
    """
    fields = pattern.split(":", 5)
    if len(fields) != 6 or fields[0] != "arn":
        raise ValueError(f"{pattern} is not an ARN")
    actual = value.split(":", 5)
    return len(actual) == 6 and all(like(a, p) for a, p in zip(actual, fields, strict=True))


@lru_cache(maxsize=4096)
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
    "stringlike": (like, False),
    "stringnotlike": (like, True),
    "arnequals": (arn_like, False),
    "arnlike": (arn_like, False),
    "arnnotequals": (arn_like, True),
    "arnnotlike": (arn_like, True),
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


def strings(value: Any) -> list[str]:
    """A policy value or list of them as IAM compares them; ValueError for objects."""
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, Mapping | list) or item is None for item in items):
        raise ValueError(f"{json.dumps(value)} is not a string or a list of strings")
    return [str(item).lower() if isinstance(item, bool) else str(item) for item in items]


def _value_match(matcher: _Matcher, request: str, policy: list[str], variables: bool) -> Verdict:
    """Whether the request value matches any policy value (the values of one key OR together)."""
    verdicts: list[Verdict] = []
    for value in policy:
        if variables and "${" in value:
            verdicts.append((None, f"policy variable in {value} is not evaluated"))
            continue
        try:
            verdicts.append((matcher(request, value), ""))
        except ValueError as error:
            verdicts.append((None, f"cannot compare {request} with {value}: {error}"))
    return any_of(verdicts)


def _key_absent_is_known(key: str) -> bool:
    """A known key, or a global `aws:` key (no tag key, not one AWS always sets), may be absent."""
    return key in KNOWN_KEYS or (key.startswith("aws:") and "/" not in key and key not in _ALWAYS_PRESENT)


def _clause(op: str, key: str, values: Any, context: Mapping[str, list[str]], variables: bool) -> Verdict:
    """One `"Operator": {"key": values}` pair; op and key as written in the policy."""
    lowered = op.lower()
    set_op, _, base = lowered.rpartition(":")
    if_exists = base.endswith("ifexists") and base != "ifexists"
    base = base.removesuffix("ifexists") if if_exists else base
    null = base == "null" and not set_op and not if_exists
    if set_op not in ("", "foranyvalue", "forallvalues") or (base not in _OPERATORS and not null):
        return None, f"unknown condition operator {op}"
    try:
        policy = strings(values)
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
    verdicts: list[Verdict] = []
    for value in request:
        hit, problem = _value_match(matcher, value, policy, variables)
        text = problem or f"{op} {key} {value} {'in' if hit else 'not in'} {shown}"
        verdicts.append((hit if hit is None else hit != negated, text))
    return all_of(verdicts) if set_op == "forallvalues" else any_of(verdicts)


def evaluate_condition(block: Any, context: Mapping[str, list[str]], variables: bool) -> Verdict:
    """Whether a Condition element holds: every operator and every key in it must (AND).

    block: {"Operator": {"key": value | [values]}} as written in the policy (None holds);
    context: lower-case key -> request values (a list, several for a multivalued key);
    variables: whether `${...}` is a policy variable (Version 2012-10-17), which is never evaluated.
    """
    if block is None:
        return True, ""
    if not isinstance(block, Mapping) or not all(isinstance(keys, Mapping) for keys in block.values()):
        return None, "Condition is not an object of operator: {key: values}"
    return all_of(
        _clause(str(op), str(key), values, context, variables)
        for op, keys in block.items()
        for key, values in keys.items()
    )
