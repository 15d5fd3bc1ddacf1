"""Offline verdict: run the pack on planned resources through pulumi_policy's own analyzer service.

This is the code path `pulumi preview --policy-pack` drives: `Configure` with the reconciled
config, `Analyze` once per resource and `AnalyzeStack` once, on `_PolicyAnalyzerServicer`.
Each resource is analysed by a servicer holding only the rules that read its type (the others
return at once without a finding, but the servicer would deserialize the resource for each of
them); each stack rule gets the resources of the types it reads. Findings are identical to a
single servicer's; `tests/policy` checks that.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from .catalog import RULES
from .exceptions import split_accepted
from .model import COMMON_PROPERTIES, UNDECIDED_PREFIX, RuleMeta, subject_of
from .pack import PACK_DESCRIPTION, PACK_NAME, Binding, bindings, pack_version

SEVERITIES = ("critical", "high", "medium", "low")
_LEVELS = {proto.MANDATORY: "mandatory", proto.REMEDIATE: "mandatory", proto.ADVISORY: "advisory"}
"""How a configured level is reported. This pack's rules validate and do not transform, so a `remediate`
rule's violation persists and is enforced: pulumi_policy itself reports it as mandatory (`Analyze`)."""
_LEVEL_VALUES = {level.value: level for level in EnforcementLevel}
_UNDECIDED_MARK = "during preview: "
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}
STATES = ("violation", "undecided", "accepted")
State = Literal["violation", "undecided", "accepted"]
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
_METAS = {meta.id: meta for meta in RULES}


class PlannedLike(Protocol):
    """What the verdict reads of a planned resource (`secure_api.harness.PlannedResource`)."""

    urn: str
    type: str
    name: str
    parent: str
    properties: struct_pb2.Struct
    dependencies: Sequence[str]
    property_dependencies: Mapping[str, Sequence[str]]
    protect: bool
    delete_before_replace: bool
    ignore_changes: Sequence[str]


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    """The rule's enforcement level as configured: `mandatory` or `advisory`, whatever the state."""
    severity: str
    message: str
    urn: str
    """The resource in violation; empty for a stack-wide finding."""
    resource_type: str
    resource_name: str
    state: State
    """`violation`; `undecided` (a value the rule needs is unknown until the update, preview only); or
    `accepted` (an exception the stack acknowledges, with its `reason`). Only mandatory violations fail."""
    reason: str
    """Why the exception is accepted (state `accepted`); empty otherwise."""
    title: str
    remediation: str
    checkers: tuple[str, ...]
    blocking: bool = False
    """An undecided finding reported at the mandatory level (`failOnUndecided`): it fails the plan."""
    subject: str = ""
    """What on the resource is at fault (`rate-limit`, `sqli`, a route, a managed group), '' when the rule
    names none: the token a scoped accepted exception lists, and what the plan locates the config key by."""


@dataclass(frozen=True)
class Location:
    """Where a finding is fixed: a file relative to the repository root, a 1-based line, the fix to make there."""

    uri: str
    line: int
    fix: str


Locate = Callable[[Finding], Location]


class PolicyConfigError(ValueError):
    """A policy config the pack cannot use; `problems` lists each, naming the rule, property and what is allowed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"invalid policy config ({len(self.problems)} problem(s)):\n" + "\n".join(f"  - {p}" for p in problems)
        )


def _levels_and_properties(config: Mapping[str, Any] | None) -> dict[str, tuple[EnforcementLevel, dict[str, Any]]]:
    """Reconcile a `--policy-pack-config`-shaped mapping with each rule's defaults, like the CLI.

    `all` is a level or `{"enforcementLevel": ..., "allowExceptions": ...}`: both apply to every rule
    that does not set its own. Each rule's properties (`allowExceptions` included) are validated with
    `jsonschema` against the rule's config schema (`RuleMeta.schema`). Raises PolicyConfigError listing
    every problem: unknown rules (with the known ones), unknown properties (with the valid ones), levels
    and values outside what is allowed.
    """
    if config is not None and not isinstance(config, Mapping):
        raise PolicyConfigError([f"the policy config must be a JSON object of rule ids, got {type(config).__name__}"])
    config = dict(config or {})
    levels = sorted(_LEVEL_VALUES)
    problems: list[str] = []
    everyone = _everyone(config.pop("all", None), levels, problems)
    default_level = everyone.get("enforcementLevel") if everyone.get("enforcementLevel") in _LEVEL_VALUES else None
    known = [meta.id for meta in RULES]
    for rule in sorted(set(config) - set(known)):
        problems.append(f"{rule}: no such rule; known rules: all, {', '.join(known)}")
    reconciled = {}
    for meta in RULES:
        entry = config.get(meta.id, {})
        if isinstance(entry, str):
            entry = {"enforcementLevel": entry}
        if not isinstance(entry, Mapping):
            problems.append(
                f"{meta.id}: must be an enforcement level ({', '.join(levels)}) or an object, got {json.dumps(entry)}"
            )
            continue
        entry = dict(entry)
        level = entry.pop("enforcementLevel", default_level or meta.enforcement.value)
        if level not in _LEVEL_VALUES:
            problems.append(f"{meta.id}.enforcementLevel: {json.dumps(level)} is not one of {', '.join(levels)}")
        for key in COMMON_PROPERTIES:
            if key in everyone:
                entry.setdefault(key, everyone[key])
        valid = ["enforcementLevel", *meta.schema]
        for extra in sorted(set(entry) - set(meta.schema)):
            problems.append(f"{meta.id}.{extra}: no such property; valid: {', '.join(valid)}")
        for error in _schema_errors(meta, entry):
            where = ".".join(str(part) for part in error.absolute_path)
            problems.append(f"{meta.id}.{where}: {_schema_problem(error)}")
        if level in _LEVEL_VALUES:
            reconciled[meta.id] = (_LEVEL_VALUES[level], {**meta.defaults(), **entry})
    if problems:
        raise PolicyConfigError(problems)
    return reconciled


def _everyone(everyone: Any, levels: Sequence[str], problems: list[str]) -> dict[str, Any]:
    """The `all` entry as `{"enforcementLevel"?, "allowExceptions"?, "failOnUndecided"?}`; its problems are
    added to `problems`."""
    if everyone is None:
        return {}
    if isinstance(everyone, str):
        everyone = {"enforcementLevel": everyone}
    if not isinstance(everyone, Mapping):
        problems.append(
            f"all: must be an enforcement level ({', '.join(levels)}) or an object, got {json.dumps(everyone)}"
        )
        return {}
    everyone = dict(everyone)
    level = everyone.get("enforcementLevel")
    if level is not None and level not in _LEVEL_VALUES:
        problems.append(f"all.enforcementLevel: {json.dumps(level)} is not one of {', '.join(levels)}")
    valid = ["enforcementLevel", *COMMON_PROPERTIES]
    for extra in sorted(set(everyone) - set(valid)):
        problems.append(f"all.{extra}: no such property; valid: {', '.join(valid)}")
    wrong = _errors(COMMON_PROPERTIES, everyone)
    faulty = set()
    for error in wrong:
        where = ".".join(str(part) for part in error.absolute_path)
        faulty.add(str(error.absolute_path[0]) if error.absolute_path else "")
        problems.append(f"all.{where}: {_schema_problem(error)}")
    # A wrong value is reported once, here, not again for every rule it would apply to.
    return {key: value for key, value in everyone.items() if key in valid and key not in faulty}


def _schema_errors(meta: RuleMeta, entry: Mapping[str, Any]) -> list[Any]:
    """jsonschema's errors for a rule's given properties (`allowExceptions` included)."""
    return _errors(meta.schema, entry)


def _errors(properties: Mapping[str, Mapping[str, Any]], entry: Mapping[str, Any]) -> list[Any]:
    """jsonschema's errors for the given `properties` of `entry` (jsonschema loaded only when some are given)."""
    given = {key: value for key, value in entry.items() if key in properties}
    if not given:
        return []
    import jsonschema  # ~0.1 s of import that the common run (no properties given) does not need

    schema = {"type": "object", "properties": dict(properties)}
    return list(jsonschema.Draft7Validator(schema).iter_errors(given))


def _schema_problem(error: Any) -> str:
    """A JSON Schema failure in words: the value given and what the schema allows."""
    given = json.dumps(error.instance)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "type":
        article = "an" if str(error.validator_value)[0] in "aeiou" else "a"
        return f"{given} must be {article} {error.validator_value}"
    if error.validator == "minimum":
        return f"{given} is below the minimum {error.validator_value}"
    if error.validator == "maximum":
        return f"{given} is above the maximum {error.validator_value}"
    if error.validator == "enum":
        return f"{given} is not one of {', '.join(json.dumps(v) for v in error.validator_value)}"
    description = f" ({schema['description']})" if "description" in schema else ""
    return f"{given} is not allowed: {error.message}{description}"


def configure_request(config: Mapping[str, Any] | None) -> proto.ConfigureAnalyzerRequest:
    request = proto.ConfigureAnalyzerRequest()
    for rule, (level, properties) in _levels_and_properties(config).items():
        entry = request.policyConfig[rule]
        entry.enforcementLevel = {
            EnforcementLevel.ADVISORY: proto.ADVISORY,
            EnforcementLevel.MANDATORY: proto.MANDATORY,
            EnforcementLevel.REMEDIATE: proto.REMEDIATE,
            EnforcementLevel.DISABLED: proto.DISABLED,
        }[level]
        entry.properties.update(properties)
    return request


def servicer(policies: list[Policy], configure: proto.ConfigureAnalyzerRequest) -> _PolicyAnalyzerServicer:
    """The analyzer the CLI talks to, as `PolicyPack` builds it, configured."""
    analyzer = _PolicyAnalyzerServicer(
        PACK_NAME, pack_version(), policies, EnforcementLevel.MANDATORY, None, PACK_DESCRIPTION
    )
    analyzer.Configure(configure, None)
    return analyzer


def _options(resource: PlannedLike) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=resource.delete_before_replace,
        deleteBeforeReplaceDefined=True,
        parent=resource.parent,
    )


def analyze_request(resource: PlannedLike) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(
        type=resource.type,
        properties=resource.properties,
        urn=resource.urn,
        name=resource.name,
        options=_options(resource),
    )


def analyzer_resource(resource: PlannedLike) -> proto.AnalyzerResource:
    """One resource as an `AnalyzeStack` request carries it."""
    return proto.AnalyzerResource(
        type=resource.type,
        properties=resource.properties,
        urn=resource.urn,
        name=resource.name,
        options=_options(resource),
        parent=resource.parent,
        dependencies=list(resource.dependencies),
        propertyDependencies={
            key: proto.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in resource.property_dependencies.items()
        },
    )


def analyze_stack_request(resources: Sequence[PlannedLike]) -> proto.AnalyzeStackRequest:
    return proto.AnalyzeStackRequest(resources=[analyzer_resource(resource) for resource in resources])


def classify(message: str, description: str = "") -> tuple[State, str, str]:
    """The state of one diagnostic: (state, reason, message shown to the user).

    `message` is the diagnostic's message; pulumi_policy starts it with the rule's `description` and a
    newline, which is dropped. `undecided`: pulumi_policy's "can't run policy ... during preview: <why>"
    (a stack rule raised an unknown-value error: a value it needs is known only after the update), or
    an advisory starting `UNDECIDED_PREFIX` (the same, reported on the resource it concerns).
    `accepted`: a violation the resource marks `secure-api:accept:<rule>` (`exceptions.accepted_message`),
    with the marker's reason.
    """
    if message.startswith("can't run policy") and _UNDECIDED_MARK in message:
        return "undecided", "", message.split(_UNDECIDED_MARK, 1)[1]
    if description and message.startswith(f"{description}\n"):
        message = message[len(description) + 1 :]
    if message.startswith(UNDECIDED_PREFIX):
        return "undecided", "", message[len(UNDECIDED_PREFIX) :]
    accepted = split_accepted(message)
    if accepted is not None:
        violation, reason = accepted
        return "accepted", reason, violation
    return "violation", "", message


def findings_of(
    response: proto.AnalyzeResponse,
    default_urn: str,
    index: Mapping[str, PlannedLike],
    levels: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Findings from an analyzer response; `default_urn` is the analysed resource (Analyze).

    `levels` maps rule ids to their configured enforcement level: a finding has its rule's level in
    every state (pulumi_policy reports undecided and accepted diagnostics as advisory). Without
    `levels`, a violation has its diagnostic's level and the other states their rule's default level.
    """
    found = []
    for diagnostic in response.diagnostics:
        meta: RuleMeta = _METAS[diagnostic.policyName]
        state, reason, reported = classify(diagnostic.message, diagnostic.description)
        message, subject = subject_of(reported)
        level = (levels or {}).get(meta.id) or (
            _LEVELS[diagnostic.enforcementLevel] if state == "violation" else meta.enforcement.value
        )
        urn = diagnostic.urn or default_urn
        resource = index.get(urn)
        found.append(
            Finding(
                rule=meta.id,
                level=level,
                severity=meta.severity.value,
                message=message,
                urn=urn,
                resource_type=resource.type if resource else "",
                resource_name=resource.name if resource else "",
                state=state,
                reason=reason,
                title=meta.title,
                remediation=meta.remediation,
                checkers=meta.checkers,
                blocking=state == "undecided" and diagnostic.enforcementLevel == proto.MANDATORY,
                subject=subject,
            )
        )
    return found


def evaluate(resources: Sequence[PlannedLike], config: Mapping[str, Any] | None = None) -> list[Finding]:
    """Run the pack on `resources` (Analyze each, AnalyzeStack once per stack rule) and return the findings.

    `config` has the shape of `pulumi preview --policy-pack-config`: `{"all": "advisory"}`,
    `{"all": {"enforcementLevel": ..., "allowExceptions": false}}`, `{"<rule>": "disabled"}` or
    `{"<rule>": {"enforcementLevel": ..., "<property>": value}}`. Raises PolicyConfigError.
    """
    configure = configure_request(config)
    levels = {rule: _LEVELS.get(entry.enforcementLevel, "disabled") for rule, entry in configure.policyConfig.items()}
    index = {resource.urn: resource for resource in resources}
    per_type: dict[str, list[Binding]] = defaultdict(list)
    stack_rules = []
    for binding in bindings():
        if binding.is_stack:
            stack_rules.append(binding)
            continue
        for type_ in binding.types:
            per_type[type_].append(binding)
    analyzers = {type_: servicer([binding.policy for binding in group], configure) for type_, group in per_type.items()}
    found: list[Finding] = []
    for resource in resources:
        analyzer = analyzers.get(resource.type)
        if analyzer is not None:
            found += findings_of(analyzer.Analyze(analyze_request(resource), None), resource.urn, index, levels)
    stacked: dict[int, proto.AnalyzerResource] = {}  # each resource built once, for every stack rule reading it
    for binding in stack_rules:
        types = binding.types
        subset = [resource for resource in resources if resource.type in types]
        if subset:
            for resource in subset:
                if id(resource) not in stacked:
                    stacked[id(resource)] = analyzer_resource(resource)
            request = proto.AnalyzeStackRequest(resources=[stacked[id(resource)] for resource in subset])
            found += findings_of(servicer([binding.policy], configure).AnalyzeStack(request, None), "", index, levels)
    return sorted(found, key=_order)


def _order(finding: Finding) -> tuple[Any, ...]:
    return (
        STATES.index(finding.state),
        SEVERITIES.index(finding.severity),
        finding.level != "mandatory",
        finding.rule,
        finding.urn,
    )


def is_mandatory_violation(finding: Finding) -> bool:
    """True for a violation of a mandatory rule (not undecided, not an accepted exception)."""
    return finding.state == "violation" and finding.level == "mandatory"


def has_mandatory(findings: Sequence[Finding]) -> bool:
    """True when a mandatory violation should fail the plan (accepted findings never do, undecided ones only
    with `failOnUndecided`)."""
    return any(is_mandatory_violation(finding) or finding.blocking for finding in findings)


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """Counts: violations by level (`mandatory`, `advisory`), then `undecided` and `accepted` findings."""
    violations = [f for f in findings if f.state == "violation"]
    return {
        "mandatory": sum(f.level == "mandatory" for f in violations),
        "advisory": sum(f.level == "advisory" for f in violations),
        "undecided": sum(f.state == "undecided" for f in findings),
        "accepted": sum(f.state == "accepted" for f in findings),
    }


def _default_locate(artifact_uri: str) -> Locate:
    return lambda finding: Location(uri=artifact_uri, line=1, fix=finding.remediation)


def _where(finding: Finding) -> str:
    return f"{finding.resource_name} ({finding.resource_type})" if finding.urn else "stack"


def render_text(findings: Sequence[Finding], *, preview: bool = True, locate: Locate | None = None) -> str:
    """Violations by severity (mandatory first), then, in preview mode, undecided findings, then accepted exceptions.

    Each violation names its resource, the message, the fix and where to make it (`file:line`).
    """
    locate = locate or _default_locate("Pulumi.yaml")
    counts = summary(findings)
    head = f"Policy pack {PACK_NAME}@{pack_version()}: {counts['mandatory']} mandatory, {counts['advisory']} advisory"
    if preview:
        head += f", {counts['undecided']} undecided (unknown until the update)"
    head += f", {counts['accepted']} accepted exception(s)"
    lines = [head]
    violations = [f for f in findings if f.state == "violation"]
    for severity in SEVERITIES:
        group = [f for f in violations if f.severity == severity]
        if group:
            lines += ["", severity.upper()]
        for finding in group:
            location = locate(finding)
            lines += [
                f"  [{finding.level}] {finding.rule}  {_where(finding)}",
                f"      {finding.message}",
                f"      fix: {location.fix}  ({location.uri}:{location.line})",
            ]
    undecided = [f for f in findings if f.state == "undecided"]
    if preview and undecided:
        blocking = sum(1 for f in undecided if f.blocking)
        why = f"{blocking} fail the plan (failOnUndecided)" if blocking else "not violations"
        lines += ["", f"Undecided (unknown until the update; {why}; run --update to decide)"]
        for finding in undecided:
            level = f"{finding.level}, fails" if finding.blocking else finding.level
            lines += [f"  [{level}] {finding.rule}  {_where(finding)}", f"      {finding.message}"]
    accepted = [f for f in findings if f.state == "accepted"]
    if accepted:
        lines += ["", "Accepted exceptions (acknowledged in the config, with their reasons)"]
        for finding in accepted:
            lines += [
                f"  [accepted] {finding.rule}  {_where(finding)}",
                f"      {finding.message}",
                f"      reason: {finding.reason}",
            ]
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[Finding], *, locate: Locate | None = None) -> str:
    """`{policyPack, summary, findings: [Finding fields + location {uri, line, fix}], error: null}`."""
    locate = locate or _default_locate("Pulumi.yaml")
    document = {
        "policyPack": {"name": PACK_NAME, "version": pack_version()},
        "summary": summary(findings),
        "findings": [{**asdict(finding), "location": asdict(locate(finding))} for finding in findings],
        "error": None,
    }
    return json.dumps(document, indent=2) + "\n"


def render_json_error(message: str, exit_code: int) -> str:
    """The JSON document for a run that could not judge the stack: no findings, the error and the exit code."""
    document = {
        "policyPack": {"name": PACK_NAME, "version": pack_version()},
        "summary": summary([]),
        "findings": [],
        "error": {"message": message, "exitCode": exit_code},
    }
    return json.dumps(document, indent=2) + "\n"


def _sarif_rule(meta: RuleMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "name": "".join(part.title() for part in meta.id.split("-")),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.description},
        "help": {"text": meta.remediation},
        "defaultConfiguration": {"level": _SARIF_LEVEL[meta.enforcement.value]},
        "properties": {
            "tags": ["security", meta.layer, *meta.checkers],
            "security-severity": _SECURITY_SEVERITY[meta.severity.value],
        },
    }


def _sarif_result(finding: Finding, rule_index: int, location: Location) -> dict[str, Any]:
    fingerprint = hashlib.sha256(f"{finding.rule}|{finding.urn}|{finding.message}".encode()).hexdigest()
    where = f"{finding.resource_name}: " if finding.urn else ""
    physical = {"artifactLocation": {"uri": location.uri}, "region": {"startLine": location.line}}
    sarif_location: dict[str, Any] = {"physicalLocation": physical}
    if finding.urn:
        sarif_location["logicalLocations"] = [
            {"name": finding.resource_name, "fullyQualifiedName": finding.urn, "kind": "resource"}
        ]
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "message": {"text": f"{where}{finding.message} Fix: {location.fix}"},
        "locations": [sarif_location],
        "partialFingerprints": {"secureApiFinding/v1": fingerprint[:32]},
        "properties": {
            "state": finding.state,
            "enforcementLevel": finding.level,
            **({"subject": finding.subject} if finding.subject else {}),
        },
    }
    if finding.state == "undecided":
        result.update(kind="open", level="none")  # SARIF 2.1.0 §3.27.9: a non-`fail` kind has level none
    else:
        result.update(kind="fail", level=_SARIF_LEVEL[finding.level])
    if finding.state == "accepted":
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": finding.reason}]
    return result


def _sarif_document(results: list[dict[str, Any]], invocation: dict[str, Any]) -> str:
    document = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": PACK_NAME,
                        "version": pack_version(),
                        "informationUri": "https://www.pulumi.com/docs/iac/packages-and-automation/crossguard/",
                        "rules": [_sarif_rule(meta) for meta in RULES],
                    }
                },
                "invocations": [invocation],
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def render_sarif(
    findings: Sequence[Finding], *, artifact_uri: str = "Pulumi.yaml", locate: Locate | None = None
) -> str:
    """SARIF 2.1.0 for GitHub code scanning.

    Violations are `kind: fail` (`error` mandatory, `warning` advisory); undecided findings `kind: open`;
    accepted exceptions carry a `suppressions` entry (`status: accepted`, the reason as `justification`).
    `locate` places each result (default: line 1 of `artifact_uri`). Spec:
    https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
    """
    locate = locate or _default_locate(artifact_uri)
    indices = {meta.id: position for position, meta in enumerate(RULES)}
    results = [_sarif_result(f, indices[f.rule], locate(f)) for f in findings]
    return _sarif_document(results, {"executionSuccessful": True})


def render_sarif_error(message: str, exit_code: int) -> str:
    """SARIF for a run that could not judge the stack: no results, the error as a tool execution notification."""
    notification = {"level": "error", "message": {"text": message}}
    invocation = {"executionSuccessful": False, "exitCode": exit_code, "toolExecutionNotifications": [notification]}
    return _sarif_document([], invocation)
