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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from .catalog import RULES
from .exceptions import split_accepted
from .model import ALLOW_EXCEPTIONS, UNDECIDED_PREFIX, RuleMeta
from .pack import PACK_DESCRIPTION, PACK_NAME, Binding, bindings, pack_version

SEVERITIES = ("critical", "high", "medium", "low")
STATES = ("violation", "undecided", "accepted")
_LEVELS = {proto.MANDATORY: "mandatory", proto.ADVISORY: "advisory"}
_LEVEL_VALUES = {level.value: level for level in EnforcementLevel}
_UNDECIDED_MARK = "during preview: "
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


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
    """The rule's enforcement level, `mandatory` or `advisory` (whatever the state)."""
    severity: str
    message: str
    urn: str
    """The resource in violation; empty for a stack-wide finding."""
    resource_type: str
    resource_name: str
    state: str
    """`violation`; `undecided`: the rule could not decide during preview (an unknown value the graph
    did not resolve); `accepted`: a violation the resource marks as an accepted exception."""
    reason: str
    """The accepted exception's reason (its `secure-api:accept:<rule>` tag); empty otherwise."""
    title: str
    remediation: str
    checkers: tuple[str, ...]


def _levels_and_properties(config: Mapping[str, Any] | None) -> dict[str, tuple[EnforcementLevel, dict[str, Any]]]:
    """Reconcile a `--policy-pack-config`-shaped mapping with each rule's defaults, like the CLI.

    `all` is a level or `{"enforcementLevel": ..., "allowExceptions": ...}`: both apply to every rule
    that does not set its own.
    """
    config = dict(config or {})
    everyone = config.pop("all", None)
    everyone = {"enforcementLevel": everyone} if isinstance(everyone, str) or everyone is None else dict(everyone)
    extra = set(everyone) - {"enforcementLevel", ALLOW_EXCEPTIONS}
    if extra:
        raise ValueError(f"invalid policy config for all: {sorted(extra)}")
    unknown = set(config) - {meta.id for meta in RULES}
    if unknown:
        raise ValueError(f"policy config names unknown rules: {sorted(unknown)}")
    reconciled = {}
    for meta in RULES:
        entry = config.get(meta.id, {})
        entry = {"enforcementLevel": entry} if isinstance(entry, str) else dict(entry)
        level = entry.pop("enforcementLevel", everyone.get("enforcementLevel") or meta.enforcement.value)
        if ALLOW_EXCEPTIONS in everyone:
            entry.setdefault(ALLOW_EXCEPTIONS, everyone[ALLOW_EXCEPTIONS])
        extra = set(entry) - set(meta.schema)
        if extra or level not in _LEVEL_VALUES:
            raise ValueError(f"invalid policy config for {meta.id}: {sorted(extra) or level}")
        reconciled[meta.id] = (_LEVEL_VALUES[level], {**meta.defaults(), **entry})
    return reconciled


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


def analyze_stack_request(resources: Sequence[PlannedLike]) -> proto.AnalyzeStackRequest:
    return proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
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
            for resource in resources
        ]
    )


def _classify(message: str, description: str) -> tuple[str, str, str]:
    """(state, message, reason) of a diagnostic's message."""
    if message.startswith("can't run policy") and _UNDECIDED_MARK in message:
        return "undecided", message.split(_UNDECIDED_MARK, 1)[1], ""
    if message.startswith(f"{description}\n"):
        message = message[len(description) + 1 :]
    if message.startswith(UNDECIDED_PREFIX):
        return "undecided", message[len(UNDECIDED_PREFIX) :], ""
    accepted = split_accepted(message)
    if accepted is not None:
        return "accepted", *accepted
    return "violation", message, ""


def findings_of(
    response: proto.AnalyzeResponse,
    default_urn: str,
    index: Mapping[str, PlannedLike],
    levels: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Findings from an analyzer response; `default_urn` is the analysed resource (Analyze).

    `levels` are the rules' configured enforcement levels (undecided and accepted diagnostics are
    advisory whatever the rule's level); without it, the diagnostic's level.
    """
    metas = {meta.id: meta for meta in RULES}
    found = []
    for diagnostic in response.diagnostics:
        meta: RuleMeta = metas[diagnostic.policyName]
        state, message, reason = _classify(diagnostic.message, diagnostic.description)
        urn = diagnostic.urn or default_urn
        resource = index.get(urn)
        found.append(
            Finding(
                rule=meta.id,
                level=(levels or {}).get(meta.id) or _LEVELS[diagnostic.enforcementLevel],
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
            )
        )
    return found


def evaluate(resources: Sequence[PlannedLike], config: Mapping[str, Any] | None = None) -> list[Finding]:
    """Run the pack on `resources` (Analyze each, AnalyzeStack once per stack rule) and return the findings.

    `config` has the shape of `pulumi preview --policy-pack-config`: `{"all": "advisory"}`,
    `{"<rule>": "disabled"}` or `{"<rule>": {"enforcementLevel": ..., "<property>": value}}`.
    """
    reconciled = _levels_and_properties(config)
    configure = configure_request(config)
    levels = {rule: level.value for rule, (level, _) in reconciled.items()}
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
    for binding in stack_rules:
        types = binding.types
        subset = [resource for resource in resources if resource.type in types]
        if subset:
            request = analyze_stack_request(subset)
            found += findings_of(servicer([binding.policy], configure).AnalyzeStack(request, None), "", index, levels)
    return sorted(found, key=_order)


def _order(finding: Finding) -> tuple[Any, ...]:
    return (
        SEVERITIES.index(finding.severity),
        STATES.index(finding.state),
        finding.level != "mandatory",
        finding.rule,
        finding.urn,
    )


def is_mandatory_violation(finding: Finding) -> bool:
    return finding.state == "violation" and finding.level == "mandatory"


def has_mandatory(findings: Sequence[Finding]) -> bool:
    """True when a mandatory violation should fail the plan (accepted and undecided findings never do)."""
    return any(is_mandatory_violation(finding) for finding in findings)


def _summary(findings: Sequence[Finding]) -> dict[str, int]:
    violations = [f for f in findings if f.state == "violation"]
    return {
        "mandatory": sum(f.level == "mandatory" for f in violations),
        "advisory": sum(f.level == "advisory" for f in violations),
        "undecided": sum(f.state == "undecided" for f in findings),
        "accepted": sum(f.state == "accepted" for f in findings),
    }


def render_text(findings: Sequence[Finding]) -> str:
    """Findings grouped by severity, mandatory first within each group."""
    counts = _summary(findings)
    lines = [
        f"Policy pack {PACK_NAME}@{pack_version()}: {counts['mandatory']} mandatory, "
        f"{counts['advisory']} advisory, {counts['undecided']} undecided (unknown until the update), "
        f"{counts['accepted']} accepted exceptions"
    ]
    for severity in SEVERITIES:
        group = [finding for finding in findings if finding.severity == severity]
        if group:
            lines += ["", severity.upper()]
        for finding in group:
            kind = finding.level if finding.state == "violation" else finding.state
            where = f"{finding.resource_name} ({finding.resource_type})" if finding.urn else "stack"
            lines += [f"  [{kind}] {finding.rule}  {where}", f"      {finding.message}"]
            accepted = finding.state == "accepted"
            lines.append(f"      reason: {finding.reason}" if accepted else f"      fix: {finding.remediation}")
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[Finding]) -> str:
    document = {
        "policyPack": {"name": PACK_NAME, "version": pack_version()},
        "summary": _summary(findings),
        "findings": [asdict(finding) for finding in findings],
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


def _sarif_result(finding: Finding, rule_index: int, artifact_uri: str) -> dict[str, Any]:
    fingerprint = hashlib.sha256(f"{finding.rule}|{finding.urn}|{finding.message}".encode()).hexdigest()
    where = f"{finding.resource_name}: " if finding.urn else ""
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": artifact_uri}, "region": {"startLine": 1}}
    }
    if finding.urn:
        location["logicalLocations"] = [
            {"name": finding.resource_name, "fullyQualifiedName": finding.urn, "kind": "resource"}
        ]
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.level] if finding.state == "violation" else "note",
        "message": {"text": f"{where}{finding.message}"},
        "locations": [location],
        "partialFingerprints": {"secureApiFinding/v1": fingerprint[:32]},
    }


def render_sarif(findings: Sequence[Finding], *, artifact_uri: str = "Pulumi.yaml") -> str:
    """SARIF 2.1.0 for GitHub code scanning; each result points at `artifact_uri` and names the URN."""
    indices = {meta.id: position for position, meta in enumerate(RULES)}
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
                "results": [_sarif_result(f, indices[f.rule], artifact_uri) for f in findings],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
