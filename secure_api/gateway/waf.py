"""Offline evaluation of an AWS WAFv2 web ACL (pulumi-aws v7 ``aws.wafv2.WebAcl`` inputs, camelCase) over one request.

Semantics follow the AWS WAF Developer Guide pages "Processing order of rules and rule groups in a web ACL",
"Rule action", "Rate-based rule statement", "IP set match", "Geographic match", "String match", "Regex match",
"Size constraint", "SQL injection attack", "Cross-site scripting attack", "Managed rule group statement" and
"Text transformations". Managed rule groups are opaque: only documented signatures are judged (see
``_MANAGED_SIGNATURES``); everything else passes and is listed in ``WafOutcome.not_evaluated``.
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

BODY_INSPECTION_LIMIT = 16 * 1024
"""Bytes of body an API Gateway REST API forwards to WAF by default: 16 KB (WAFv2 API reference,
`AssociationConfig`: "The default setting is 16 KB (16,384 bytes)"; only Application Load Balancer and
AppSync are fixed at 8 KB). A web ACL's `associationConfig` raises it to KB_32, KB_48 or KB_64."""

SIZE_RESTRICTIONS_BODY_BYTES = 8 * 1024
"""AWSManagedRulesCommonRuleSet's SizeRestrictions_BODY blocks bodies over 8 KB ("Core rule set (CRS) managed
rule group", AWS WAF developer guide), whatever the inspection limit."""


@dataclass(frozen=True)
class WafRequest:
    """One request as WAF sees it; ``uri_path`` includes the stage, ``query_string`` has no ``?``."""

    method: str
    uri_path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    source_ip: str
    country: str | None


@dataclass(frozen=True)
class WafOutcome:
    """The web ACL's verdict: action ALLOW/BLOCK/CAPTCHA/CHALLENGE, terminating rule ("" = default action)."""

    action: str
    rule: str
    status: int
    reason: str
    labels: tuple[str, ...]
    counted: tuple[str, ...]
    not_evaluated: tuple[str, ...]
    approximations: tuple[str, ...]


class RateCounter:
    """Requests seen per (rule name, aggregation key) with timestamps, for rate-based rules."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def add_and_count(self, rule: str, key: str, now: float, window: float, copies: int = 1) -> int:
        """Record ``copies`` requests at ``now`` (seconds) and return the count within the last ``window`` seconds."""
        seen = self._seen[(rule, key)]
        seen.extend([now] * copies)
        while seen and seen[0] <= now - window:
            seen.popleft()
        return len(seen)


@dataclass
class _Ctx:
    request: WafRequest
    ip_sets: Mapping[str, Sequence[str]]
    rates: RateCounter
    now: float
    body_limit: int = BODY_INSPECTION_LIMIT
    copies: int = 1
    rule: str = ""
    labels: list[str] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    approximations: list[str] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    detail: str = ""
    answers: dict[Any, Any] | None = None
    """What stateless statements answered this request before (see `evaluate`'s `memo`); its `quiet`
    entry holds the keys of those that did not match and left no label, note or count."""
    scope_stateless: bool = False
    """Whether the current rule's rate-based scope-down statement is stateless."""

    def remembered(self, key: Any, stateless: bool, compute: Callable[[], Any]) -> Any:
        """`compute()`, or for a stateless statement its recorded answer and side effects for this request."""
        if self.answers is None or not stateless:
            return compute()
        lists = (self.labels, self.not_evaluated, self.approximations, self.counted)
        hit = self.answers.get(key)
        if hit is None:
            marks = [len(found) for found in lists]
            answer = compute()
            added = tuple(tuple(found[mark:]) for found, mark in zip(lists, marks, strict=True))
            self.answers[key] = (answer, self.detail, added if any(added) else None)
            if not answer and not any(added):
                self.answers.setdefault("quiet", set()).add(key)
            return answer
        answer, self.detail, added = hit
        if added is not None:
            for found, more in zip(lists, added, strict=True):
                found.extend(more)
        return answer

    def header(self, name: str) -> str | None:
        for key, value in self.request.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def _transform(text: str, transformations: Sequence[Mapping[str, Any]]) -> str:
    """Apply text transformations in priority order ("Text transformations"); unknown types are left out."""
    for step in sorted(transformations or (), key=lambda t: float(t.get("priority", 0))):
        kind = step.get("type", "NONE")
        if kind == "LOWERCASE":
            text = text.lower()
        elif kind == "URL_DECODE":
            text = unquote_plus(text)
        elif kind == "COMPRESS_WHITE_SPACE":
            text = re.sub(r"[ \t\n\r\f\v]+", " ", text)
        elif kind == "HTML_ENTITY_DECODE":
            text = html.unescape(text)
        elif kind == "NORMALIZE_PATH":
            text = re.sub(r"/+", "/", text)
            parts: list[str] = []
            for part in text.split("/"):
                if part == "..":
                    if len(parts) > 1:
                        parts.pop()
                elif part != ".":
                    parts.append(part)
            text = "/".join(parts)
    return text


def _body_text(ctx: _Ctx) -> str:
    return ctx.request.body[: ctx.body_limit].decode("utf-8", "replace")


def _fields(ctx: _Ctx, field_to_match: Mapping[str, Any]) -> list[str] | None:
    """The texts a ``fieldToMatch`` selects; None when the field type is not modelled."""
    req = ctx.request
    if "uriPath" in field_to_match:
        return [req.uri_path]
    if "queryString" in field_to_match:
        return [req.query_string]
    if "method" in field_to_match:
        return [req.method]
    if "body" in field_to_match:
        return [_body_text(ctx)]
    if "singleHeader" in field_to_match:
        value = ctx.header(field_to_match["singleHeader"].get("name", ""))
        return [] if value is None else [value]
    if "allQueryArguments" in field_to_match:
        return [v for _, v in parse_qsl(req.query_string, keep_blank_values=True)]
    if "singleQueryArgument" in field_to_match:
        name = field_to_match["singleQueryArgument"].get("name", "").lower()
        return [v for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k.lower() == name]
    if "headers" in field_to_match:
        out: list[str] = []
        for spec in (
            field_to_match["headers"] if isinstance(field_to_match["headers"], list) else [field_to_match["headers"]]
        ):
            pattern = spec.get("matchPattern", {})
            excluded = {h.lower() for h in pattern.get("excludedHeaders", [])}
            included = {h.lower() for h in pattern.get("includedHeaders", [])}
            scope = spec.get("matchScope", "ALL")
            for key, value in req.headers.items():
                if key.lower() in excluded or (included and key.lower() not in included):
                    continue
                out += {"KEY": [key], "VALUE": [value]}.get(scope, [key, value])
        return out
    return None


def _oversize(ctx: _Ctx, field_to_match: Mapping[str, Any]) -> bool | None:
    """For a body larger than the inspection limit: True = match, False = no match, None = inspect the part."""
    body = field_to_match.get("body")
    if body is None or len(ctx.request.body) <= ctx.body_limit:
        return None
    handling = body.get("oversizeHandling", "CONTINUE")
    return {"MATCH": True, "NO_MATCH": False}.get(handling)


def _texts(ctx: _Ctx, spec: Mapping[str, Any], kind: str) -> list[str] | None:
    texts = _fields(ctx, spec.get("fieldToMatch", {}))
    if texts is None:
        ctx.not_evaluated.append(f"{ctx.rule}: {kind} fieldToMatch {sorted(spec.get('fieldToMatch', {}))} not modelled")
        return None
    return [_transform(t, spec.get("textTransformations", ())) for t in texts]


def _byte_match(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
    """String match statement: positionalConstraint against the transformed field ("String match")."""
    over = _oversize(ctx, spec.get("fieldToMatch", {}))
    if over is not None:
        return over
    texts = _texts(ctx, spec, "byteMatchStatement") or []
    needle = spec.get("searchString", "")
    pos = spec.get("positionalConstraint", "CONTAINS")
    word = re.compile(rf"(^|[^A-Za-z0-9_]){re.escape(needle)}([^A-Za-z0-9_]|$)")
    tests: dict[str, Callable[[str], bool]] = {
        "EXACTLY": lambda t: t == needle,
        "STARTS_WITH": lambda t: t.startswith(needle),
        "ENDS_WITH": lambda t: t.endswith(needle),
        "CONTAINS": lambda t: needle in t,
        "CONTAINS_WORD": lambda t: bool(word.search(t)),
    }
    return any(tests[pos](t) for t in texts)


def _regex_match(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
    """Regex match statement ("Regex match"); Python ``re`` stands in for WAF's PCRE subset."""
    over = _oversize(ctx, spec.get("fieldToMatch", {}))
    if over is not None:
        return over
    pattern = re.compile(spec.get("regexString", ""))
    return any(pattern.search(t) for t in _texts(ctx, spec, "regexMatchStatement") or [])


def _size_constraint(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
    """Size constraint on the field's size in bytes; an oversize body follows oversizeHandling ("Size constraint")."""
    fm = spec.get("fieldToMatch", {})
    over = _oversize(ctx, fm)
    if over is not None:
        ctx.detail = f"body of {len(ctx.request.body)} bytes over the {ctx.body_limit}-byte inspection limit"
        return over
    texts = _texts(ctx, spec, "sizeConstraintStatement") or []
    size, op = float(spec.get("size", 0)), spec.get("comparisonOperator", "GT")
    compare: dict[str, Callable[[int], bool]] = {
        "EQ": lambda n: n == size,
        "NE": lambda n: n != size,
        "LE": lambda n: n <= size,
        "LT": lambda n: n < size,
        "GE": lambda n: n >= size,
        "GT": lambda n: n > size,
    }
    return any(compare[op](len(t.encode())) for t in texts)


_SQLI = re.compile(
    r"('|\"|\)|\b\d+)\s*(or|and)\s+[\w'\"]+\s*(=|like|<|>)|\bunion\b[\s\S]*\bselect\b|;\s*(drop|delete|insert|update|"
    r"select)\b|'\s*(--|#|/\*)|\bsleep\s*\(|\bbenchmark\s*\(|\bwaitfor\s+delay\b",
    re.IGNORECASE,
)
_XSS = re.compile(r"<\s*script\b|javascript\s*:|\bon\w+\s*=|<\s*(iframe|svg|img|object|embed)\b", re.IGNORECASE)


def _detector(name: str, pattern: re.Pattern[str]) -> Callable[[_Ctx, Mapping[str, Any]], bool]:
    """A heuristic SQLi/XSS detector; WAF's own detector is unpublished, so every use is an approximation."""

    def judge(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
        ctx.approximations.append(f"{ctx.rule}: {name} judged by a regular-expression heuristic")
        over = _oversize(ctx, spec.get("fieldToMatch", {}))
        if over is not None:
            return over
        return any(pattern.search(t) for t in _texts(ctx, spec, name) or [])

    return judge


def _in_ip_set(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
    """IP set match against the source IP, or the forwardedIpConfig header's first address ("IP set match")."""
    address = ctx.request.source_ip
    forwarded = spec.get("ipSetForwardedIpConfig")
    if forwarded:
        value = ctx.header(forwarded.get("headerName", "X-Forwarded-For"))
        if value is None:
            return forwarded.get("fallbackBehavior", "MATCH") == "MATCH"
        address = value.split(",")[0].strip()
    arn = spec.get("arn", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return bool(forwarded) and forwarded.get("fallbackBehavior", "MATCH") == "MATCH"
    for net in _networks(tuple(ctx.ip_sets.get(arn, ()))):
        if net.version == ip.version and ip in net:
            ctx.detail = f"{address} in IP set {arn.split('/')[-2] if arn.count('/') >= 2 else arn}"
            return True
    return False


@lru_cache(maxsize=256)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _geo(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
    """Geographic match on the request's country ("Geographic match"); unknown country never matches."""
    hit = ctx.request.country is not None and ctx.request.country in spec.get("countryCodes", [])
    if hit:
        ctx.detail = f"country {ctx.request.country}"
        ctx.labels.append(f"awswaf:clientip:geo:country:{ctx.request.country}")
    return hit


def _rate(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
    """Rate-based rule: count this request when the scope-down matches; match when the count exceeds the limit."""
    scope = spec.get("scopeDownStatement")
    if scope and not ctx.remembered(("scope", ctx.rule), ctx.scope_stateless, partial(_match, ctx, scope)):
        return False
    kind = spec.get("aggregateKeyType", "IP")
    if kind == "IP":
        key = ctx.request.source_ip
    elif kind == "FORWARDED_IP":
        key = ctx.header(spec.get("forwardedIpConfig", {}).get("headerName", "X-Forwarded-For")) or ""
        key = key.split(",")[0].strip()
    elif kind == "CONSTANT":
        key = ""
    else:
        ctx.not_evaluated.append(f"{ctx.rule}: rateBasedStatement aggregateKeyType {kind} not modelled")
        return False
    window, limit = float(spec.get("evaluationWindowSec", 300)), float(spec.get("limit", 0))
    count = ctx.rates.add_and_count(ctx.rule, key, ctx.now, window, ctx.copies)
    ctx.detail = f"{count} requests from {key or 'all'} in {window:g} s over limit {limit:g}"
    return count > limit


def _label_match(ctx: _Ctx, spec: Mapping[str, Any]) -> bool:
    """Label match on labels added by earlier rules; scope LABEL (exact) or NAMESPACE (prefix)."""
    key = spec.get("key", "")
    if spec.get("scope", "LABEL") == "NAMESPACE":
        prefix = key if key.endswith(":") else key + ":"
        return any(label.startswith(prefix) for label in ctx.labels)
    return any(label == key or label.endswith(":" + key) for label in ctx.labels)


_STATEMENTS: dict[str, Callable[[_Ctx, Mapping[str, Any]], bool]] = {
    "ipSetReferenceStatement": _in_ip_set,
    "geoMatchStatement": _geo,
    "byteMatchStatement": _byte_match,
    "regexMatchStatement": _regex_match,
    "sizeConstraintStatement": _size_constraint,
    "sqliMatchStatement": _detector("sqliMatchStatement", _SQLI),
    "xssMatchStatement": _detector("xssMatchStatement", _XSS),
    "andStatement": lambda ctx, s: all(_match(ctx, sub) for sub in s.get("statements", [])),
    "orStatement": lambda ctx, s: any(_match(ctx, sub) for sub in s.get("statements", [])),
    "notStatement": lambda ctx, s: not _match(ctx, s.get("statement", {})),
    "labelMatchStatement": _label_match,
    "rateBasedStatement": _rate,
}


def _match(ctx: _Ctx, statement: Mapping[str, Any]) -> bool:
    """Whether one statement matches; an unknown type passes (no match) with a ``not_evaluated`` entry."""
    for kind, spec in statement.items():
        judge = _STATEMENTS.get(kind)
        if judge is None:
            ctx.not_evaluated.append(f"{ctx.rule}: {kind} not evaluated offline")
            return False
        return judge(ctx, spec or {})
    return False


def _log4j(ctx: _Ctx) -> list[str]:
    req, found = ctx.request, []
    probe = re.compile(r"\$\{\s*jndi\s*:", re.IGNORECASE)
    for name, text in (
        ("HEADER", " ".join(req.headers.values())),
        ("QUERYSTRING", unquote_plus(req.query_string)),
        ("BODY", _body_text(ctx)),
        ("URIPATH", unquote_plus(req.uri_path)),
    ):
        if probe.search(text):
            found.append(f"Log4JRCE_{name}")
    return found


def _size_restrictions(ctx: _Ctx) -> list[str]:
    found = []
    if len(ctx.request.body) > SIZE_RESTRICTIONS_BODY_BYTES:
        found.append("SizeRestrictions_BODY")
    if len(ctx.request.query_string.encode()) > 2048:
        found.append("SizeRestrictions_QUERYSTRING")
    return found


def _body_attack(rule: str, pattern: re.Pattern[str]) -> Callable[[_Ctx], list[str]]:
    """A managed rule AWS documents as its built-in SQLi or XSS statement on the body, oversize CONTINUE
    (SQLi_BODY, CrossSiteScripting_BODY): the body within the inspection limit, URL- and HTML-entity-decoded
    as our own rules decode it (the group's transformations are unpublished), judged by the same heuristic."""
    decode = ({"priority": 0, "type": "URL_DECODE"}, {"priority": 1, "type": "HTML_ENTITY_DECODE"})

    def signature(ctx: _Ctx) -> list[str]:
        ctx.approximations.append(f"{ctx.rule}: {rule} judged by a regular-expression heuristic")
        return [rule] if pattern.search(_transform(_body_text(ctx), decode)) else []

    return signature


_XSS_BODY = _body_attack("CrossSiteScripting_BODY", _XSS)

_MANAGED_SIGNATURES: dict[str, Callable[[_Ctx], list[str]]] = {
    "AWSManagedRulesKnownBadInputsRuleSet": _log4j,
    "AWSManagedRulesCommonRuleSet": lambda ctx: [*_size_restrictions(ctx), *_XSS_BODY(ctx)],
    "AWSManagedRulesSQLiRuleSet": _body_attack("SQLi_BODY", _SQLI),
}
"""Documented signatures ("AWS Managed Rules rule groups list") judged offline: group name → matching rule names."""


def _action_of(spec: Mapping[str, Any] | None) -> str:
    return next(iter(spec or {"allow": {}})).upper()


def _status(action_spec: Mapping[str, Any] | None, action: str) -> int:
    if action == "ALLOW":
        return 200
    custom = (next(iter((action_spec or {}).values()), None) or {}).get("customResponse") or {}
    return int(custom.get("responseCode", 405 if action == "CHALLENGE" else 403 if action == "BLOCK" else 405))


def _body_limit(acl_inputs: Mapping[str, Any]) -> int:
    """Body bytes inspected: associationConfig.requestBodies[0].apiGateway.defaultSizeInspectionLimit, else 16 KB."""
    body = ((acl_inputs.get("associationConfig") or {}).get("requestBodies") or [{}])[0] or {}
    limit = str((body.get("apiGateway") or {}).get("defaultSizeInspectionLimit", "KB_16"))
    return int(limit[3:]) * 1024 if limit.startswith("KB_") and limit[3:].isdigit() else BODY_INSPECTION_LIMIT


def evaluate(
    acl_inputs: Mapping[str, Any],
    request: WafRequest,
    *,
    ip_sets: Mapping[str, Sequence[str]],
    rates: RateCounter | None = None,
    now: float = 0.0,
    copies: int = 1,
    memo: dict[Any, Any] | None = None,
) -> WafOutcome:
    """Evaluate ``acl_inputs`` (WebAcl inputs) over ``request``; ``ip_sets`` maps IP set ARN → CIDRs.

    Rules run in ascending priority; the first matching rule with a terminating action (block, allow, captcha,
    challenge) decides; count rules add their labels and evaluation goes on; otherwise the defaultAction applies
    ("Processing order of rules and rule groups in a web ACL", "Rule action"). ``now`` is in seconds;
    ``copies`` identical requests arrive at that instant (rate-based rules count them all) and the
    outcome is the last one's. ``memo`` (a dict the caller keeps with ``acl_inputs``) remembers what
    each stateless rule (no rate-based or label match statement) answered each distinct request.
    """
    ctx = _Ctx(request, ip_sets, rates or RateCounter(), now, _body_limit(acl_inputs), copies=copies)
    if memo is not None:
        fingerprint = (
            id(acl_inputs),
            request.method,
            request.uri_path,
            request.query_string,
            tuple(request.headers.items()),
            request.body,
            request.source_ip,
            request.country,
        )
        ctx.answers = memo.get(fingerprint)
        if ctx.answers is None:
            if len(memo) > MEMO_ENTRIES:
                memo.clear()
            ctx.answers = memo[fingerprint] = {}
    counted = ctx.counted

    def outcome(action: str, rule: str, status: int, reason: str) -> WafOutcome:
        return WafOutcome(
            action,
            rule,
            status,
            reason,
            tuple(dict.fromkeys(ctx.labels)),
            tuple(counted),
            tuple(ctx.not_evaluated),
            tuple(ctx.approximations),
        )

    quiet = ctx.answers.get("quiet", ()) if ctx.answers is not None else ()
    for index, (rule, stateless, scope_stateless) in enumerate(_by_priority(acl_inputs, memo)):
        if index in quiet:  # a stateless rule that neither matched this request nor left a trace
            continue
        ctx.rule, ctx.detail, ctx.scope_stateless = rule["name"], "", scope_stateless
        statement = rule.get("statement", {})
        group = statement.get("managedRuleGroupStatement")
        if group is not None:
            verdict = ctx.remembered(index, stateless, partial(_managed, ctx, rule, group, counted))
            if verdict is not None:
                action, action_spec, inner = verdict
                return outcome(action, rule["name"], _status(action_spec, action), f"{_where(rule)}: {inner}")
            continue
        if not ctx.remembered(index, stateless, partial(_match, ctx, statement)):
            continue
        ctx.labels += [label["name"] for label in rule.get("ruleLabels", []) or []]
        action = _action_of(rule.get("action"))
        if action == "COUNT":
            counted.append(rule["name"])
            continue
        return outcome(
            action, rule["name"], _status(rule.get("action"), action), f"{_where(rule)}: {ctx.detail or 'matched'}"
        )
    default = acl_inputs.get("defaultAction", {"allow": {}})
    action = _action_of(default)
    return outcome(action, "", _status(default, action), f"default action {action.lower()}")


def _where(rule: Mapping[str, Any]) -> str:
    return f"rule {rule['name']} (priority {float(rule.get('priority', 0)):g})"


def _by_priority(
    acl_inputs: Mapping[str, Any], memo: dict[Any, Any] | None
) -> list[tuple[Mapping[str, Any], bool, bool]]:
    """The rules in the order WAF runs them, each with `_statelessness`."""
    key = ("rules", id(acl_inputs))
    rules = memo.get(key) if memo is not None else None
    if rules is None:
        ordered = sorted(acl_inputs.get("rules", []), key=lambda r: float(r.get("priority", 0)))
        rules = [(rule, *_statelessness(rule)) for rule in ordered]
        if memo is not None:
            memo[key] = rules
    return rules


MEMO_ENTRIES = 100_000
"""Entries a `memo` holds before it starts over."""


def _statelessness(rule: Mapping[str, Any]) -> tuple[bool, bool]:
    """Whether the rule's statement is stateless, and whether its rate-based scope-down statement is."""
    statement = rule.get("statement", {})
    scope = (statement.get("rateBasedStatement") or {}).get("scopeDownStatement")
    return _stateless(statement), scope is not None and _stateless(scope)


def _stateless(statement: Mapping[str, Any]) -> bool:
    """Whether a statement's answer depends on the request alone: no rate-based or label match statement in it,
    at any depth (a key, not a value: a byte match may well search for the text "labelMatchStatement")."""
    pending: list[Any] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, Mapping):
            if "rateBasedStatement" in node or "labelMatchStatement" in node:
                return False
            pending.extend(node.values())
        elif isinstance(node, list | tuple):
            pending.extend(node)
    return True


def _managed(
    ctx: _Ctx, rule: Mapping[str, Any], group: Mapping[str, Any], counted: list[str]
) -> tuple[str, Mapping[str, Any] | None, str] | None:
    """A managed rule group: judge documented signatures, honouring ruleActionOverrides and overrideAction."""
    name = group.get("name", "")
    signature = _MANAGED_SIGNATURES.get(name)
    beyond = " (beyond documented signatures)" if signature else ""
    ctx.not_evaluated.append(f"{name}: not evaluated offline{beyond}")
    if signature is None:
        return None
    overrides = {o["name"]: o.get("actionToUse") for o in group.get("ruleActionOverrides", []) or []}
    group_counts = "count" in (rule.get("overrideAction") or {})
    vendor = group.get("vendorName", "AWS").lower()
    for inner in signature(ctx):
        ctx.labels.append(f"awswaf:managed:{vendor}:{_label_namespace(name)}:{inner}")
        action_spec = overrides.get(inner) or {"block": {}}
        action = _action_of(action_spec)
        if action == "COUNT" or group_counts:
            counted.append(f"{name}:{inner}")
            continue
        return action, action_spec, f"managed rule {name}:{inner} (documented signature)"
    return None


def _label_namespace(group: str) -> str:
    """``AWSManagedRulesKnownBadInputsRuleSet`` → ``known-bad-inputs`` (label namespace of the group)."""
    if group == "AWSManagedRulesCommonRuleSet":
        return "core-rule-set"
    stem = group.removeprefix("AWSManagedRules").removesuffix("RuleSet")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()
