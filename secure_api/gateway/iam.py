"""IAM policy evaluation for the offline request model: one policy document, one request.

Implements, for resource policies (`check_principal=True`) and identity policies (`False`):

- IAM User Guide, "Policy evaluation logic" (reference_policies_evaluation-logic): an explicit Deny
  overrides any Allow, an Allow is needed, and a request nothing allows is implicitly denied.
- "IAM JSON policy elements" (reference_policies_elements_*): Statement, Sid, Effect, Action/NotAction,
  Resource/NotResource, Principal/NotPrincipal, Condition.
- Condition blocks: `secure_api.gateway.conditions` (the Condition operators and multivalued keys pages).

Anything the evaluator cannot decide (an unknown operator, a policy variable, a malformed element, a
service-specific key missing from the context) makes the answer `NOT_EVALUATED` when it could change
it, never a guess. A decided explicit Deny stays an explicit deny whatever else the document holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .conditions import Verdict, all_of, any_of, arn_like, evaluate_condition, like, strings

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


def _pair(statement: Mapping[str, Any], name: str) -> tuple[Any, bool] | None:
    """The value of `name` or `Not<name>` and whether it was the Not form; None when not exactly one."""
    present = [(statement[key], key.startswith("Not")) for key in (name, f"Not{name}") if key in statement]
    return present[0] if len(present) == 1 else None


def _element(statement: Mapping[str, Any], name: str, test: Callable[[str], Verdict], wanted: str) -> Verdict:
    """Action/Resource (or Not...): any listed pattern matching `wanted`; the Not form inverts it."""
    found = _pair(statement, name)
    if found is None:
        return None, f"needs exactly one of {name} and Not{name}"
    value, inverted = found
    try:
        patterns = strings(value)
    except ValueError as error:
        return None, f"{name}: {error}"
    return _listed([test(pattern) for pattern in patterns], patterns, f"Not{name}" if inverted else name, wanted)


def _listed(verdicts: list[Verdict], entries: list[str], label: str, wanted: str) -> Verdict:
    """Whether any entry of an element matches (verdicts[i] for entries[i]); a Not... element inverts it."""
    state, problem = any_of(verdicts)
    if state is None:
        return None, problem
    hits = [entry for entry, (hit, _) in zip(entries, verdicts, strict=True) if hit]
    return state != label.startswith(
        "Not"
    ), f"{wanted} matches {label} {hits[0]}" if hits else f"{wanted} matches no {label}"


def _action(pattern: str, action: str) -> Verdict:
    if pattern != "*" and ":" not in pattern:
        return None, f"Action {pattern} is not service:action"
    return like(action, pattern, ignore_case=True), ""


def _resource(pattern: str, resource: str, variables: bool) -> Verdict:
    if variables and "${" in pattern:
        return None, f"policy variable in Resource {pattern} is not evaluated"
    try:
        return pattern == "*" or arn_like(resource, pattern), ""
    except ValueError as error:
        return None, f"Resource: {error}"


def _aws_principal(value: str, who: Principal) -> Verdict:
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


def _principal(statement: Mapping[str, Any], who: Principal) -> Verdict:
    """Principal/NotPrincipal of a resource policy: "*", {"AWS": ...}, {"Service": ...}."""
    found = _pair(statement, "Principal")
    if found is None:
        return None, "a resource policy statement needs exactly one of Principal and NotPrincipal"
    element, inverted = found
    entries: list[tuple[str, Verdict]] = []
    if element == "*":
        entries.append(("*", (True, "")))
    elif not isinstance(element, Mapping):
        entries.append(("?", (None, f'Principal {json.dumps(element)} is not "*" or an object')))
    for kind, values in element.items() if isinstance(element, Mapping) else ():
        try:
            names = strings(values)
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


def _applies(statement: Mapping[str, Any], request: _Request) -> Verdict:
    """Whether every element of the statement matches the request."""
    checks = [  # the condition first: its text is the most telling part of a reason
        evaluate_condition(statement.get("Condition"), request.context, request.variables),
        _element(statement, "Resource", lambda p: _resource(p, request.resource, request.variables), request.resource),
        _element(statement, "Action", lambda p: _action(p, request.action), request.action),
    ]
    if request.check_principal:
        checks.append(_principal(statement, request.who))
    elif "Principal" in statement or "NotPrincipal" in statement:
        checks.append((None, "an identity policy statement cannot name a Principal"))
    return all_of(checks)


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
