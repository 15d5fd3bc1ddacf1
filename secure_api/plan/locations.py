"""Where a policy finding is fixed, for SARIF/JSON consumers such as GitHub code scanning.

A resource built by `SecureApi` is fixed where its config is given. When the stack file holds
`secure-api:` config, the result points at the line of the config key that controls the rule
(`secure-api:cognito.mfa` in `Pulumi.dev.yaml`, else the file's first line) and the fix names that
key. When it holds none (the program passes the args in code), the result points at the line of the
`SecureApi(...)` call and the fix names the args key (camelCase, and the snake_case of
`SecureApiArgs`). A resource of any other program is fixed in the program: the result points at the
line that constructed it (the SDK's source position), else at the program's entry file. Paths are
relative to the repository root (the folder holding `.git`), or to the working directory outside a
repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic.alias_generators import to_snake
from secure_api_policies.verdict import Finding, Location

from ..component.config import NAMESPACE
from ..component.resource import TYPE_TOKEN
from .harness import PlannedResource
from .offline import Plan


@dataclass(frozen=True)
class ConfigFix:
    keys: tuple[str, ...]
    """Config key paths under `secure-api:` that control the rule, the most specific first."""
    hint: str


# Rule id -> the component's config keys that control it. Keys are the stack file's camelCase paths.
RULE_CONFIG: Mapping[str, ConfigFix] = {
    "api-route-authorizer": ConfigFix(("routes",), "give the route `auth: cognito`, `iam` or `custom`"),
    "authorizer-cache-scope": ConfigFix(
        ("lambdaAuthorizer.resultTtlSeconds", "lambdaAuthorizer"), "keep the TTL within the pack's limit (0 = no cache)"
    ),
    "lambda-permission-source-arn": ConfigFix(("routes",), "route Lambda integrations through the component"),
    "integration-https-backend": ConfigFix(("routes",), "give the route's `integration.url` an `https://` URL"),
    "cors-credentials-exact-origin": ConfigFix(
        ("cors.allowOrigins", "cors"), "list exact origins (no `*`) when `allowCredentials` is true"
    ),
    "cors-no-wildcard-with-authorizers": ConfigFix(
        ("cors.allowOrigins", "cors"), "list the app's exact origins instead of `*`"
    ),
    "cognito-password-policy": ConfigFix(
        ("cognito.passwordPolicy", "cognito"), "raise `minimumLength` and keep every `require*` true"
    ),
    "cognito-mfa": ConfigFix(("cognito.mfa", "cognito"), "set it to ON"),
    "cognito-deletion-protection": ConfigFix(("cognito.deletionProtection", "cognito"), "set it to true"),
    "cognito-threat-protection": ConfigFix(
        ("cognito.threatProtection", "cognito.tier", "cognito"), "set it to ENFORCED (tier PLUS)"
    ),
    "cognito-client-no-password-flows": ConfigFix(
        ("cognito.appClients", "cognito"), "drop ALLOW_USER_PASSWORD_AUTH/ADMIN flows from `explicitAuthFlows`"
    ),
    "cognito-client-no-implicit-flow": ConfigFix(
        ("cognito.appClients", "cognito"), "use `oauthFlows: [code]` instead of implicit"
    ),
    "cognito-client-token-revocation": ConfigFix(("cognito.appClients", "cognito"), "keep token revocation on"),
    "usage-plan-throttle": ConfigFix(("usagePlans",), "give each plan a `throttle`"),
    "usage-plan-quota": ConfigFix(("usagePlans",), "give each plan a `quota`"),
    "usage-plan-stage": ConfigFix(("usagePlans",), "keep each plan on the API's stage"),
    "api-key-in-usage-plan": ConfigFix(("apiKeys",), "give each key a `usagePlan`"),
    "api-key-stage-in-usage-plan": ConfigFix(("usagePlans",), "add a usage plan for the routes with `apiKeyRequired`"),
    "resource-policy-no-open-allow": ConfigFix(
        ("network.allowedSourceCidrs", "network.acceptPublicApi", "network"),
        "list the source networks allowed to call the API, or set `acceptPublicApi: true` for a public API",
    ),
    "private-api-vpce-policy": ConfigFix(
        ("network.vpcEndpointIds", "network"), "list the VPC endpoints a PRIVATE API accepts"
    ),
    "execute-api-endpoint-policy": ConfigFix(
        ("network.managedEndpointPolicies", "network.vpcEndpoint", "network"),
        "let the component create the endpoint, or manage its policy",
    ),
    "execute-api-endpoint-private-dns": ConfigFix(
        ("network.vpcEndpoint.privateDnsEnabled", "network.vpcEndpoint"),
        "keep it false and call the API by its vpcEndpointUrls",
    ),
    "waf-stage-association": ConfigFix(("waf.enabled", "waf"), "set it to true"),
    "waf-one-acl-per-stage": ConfigFix(("waf",), "keep the component's one web ACL association per stage"),
    "waf-acl-rules": ConfigFix(
        ("waf.managedRuleGroups", "waf.rateLimit", "waf"), "enable the required managed groups in BLOCK mode"
    ),
    "waf-reputation-lists": ConfigFix(
        ("waf.managedRuleGroups", "waf"), "enable the recommended IP reputation groups (or say why not)"
    ),
    "waf-capacity": ConfigFix(("waf.managedRuleGroups", "waf"), "leave out a managed rule group the API does not need"),
    "waf-capacity-quota": ConfigFix(("waf.managedRuleGroups", "waf"), "leave out managed rule groups"),
    "waf-logging": ConfigFix(("waf",), "keep WAF logging on"),
    "waf-log-redaction": ConfigFix(("waf",), "keep the credential headers redacted"),
    "waf-log-destination-name": ConfigFix(("waf",), "keep the component's `aws-waf-logs-` log group"),
    "stage-access-logs": ConfigFix(("observability",), "keep the component's JSON access logs"),
    "stage-execution-logging": ConfigFix(
        ("observability.executionLogging", "observability"), "set it to ERROR or INFO"
    ),
    "method-data-trace-off": ConfigFix(("observability",), "keep data trace off"),
    "log-group-retention": ConfigFix(
        ("observability.logRetentionDays", "observability"), "raise it to the pack's minimum or more"
    ),
    "log-group-kms": ConfigFix(("observability.kmsEncryption", "observability"), "set it to true"),
    "domain-tls-policy": ConfigFix(("tls.securityPolicy", "tls"), "choose a TLS 1.2+ policy"),
    "enhanced-tls-endpoint-access-mode": ConfigFix(("tls.endpointAccessMode", "tls"), "set it to STRICT"),
    "mtls-truststore-version": ConfigFix(("domain.mutualTls", "domain"), "keep the truststore in the component"),
    "custom-domain-default-endpoint": ConfigFix(("domain",), "keep the execute-api endpoint disabled"),
    "stage-5xx-alarm": ConfigFix(("observability.alarms", "observability"), "keep the 5XX alarm"),
}
# Log groups of other layers keep their own retention key.
_RETENTION_BY_NAME = (("waf", "waf.logRetentionDays"), ("authorizer", "lambdaAuthorizer.logRetentionDays"))


def repository_root(project_dir: Path, cwd: Path) -> Path:
    """The nearest folder at or above the project holding `.git` (a folder, or a file in a worktree).

    Outside a repository: the working directory when the project is inside it, else the project folder.
    """
    project_dir = project_dir.resolve()
    for folder in (project_dir, *project_dir.parents):
        if (folder / ".git").exists():
            return folder
    cwd = cwd.resolve()
    return cwd if project_dir.is_relative_to(cwd) else project_dir


def built_by_component(urn: str) -> bool:
    """True when the URN's type chain passes through a SecureApi component."""
    parts = urn.split("::")
    return len(parts) > 2 and TYPE_TOKEN in parts[2].split("$")


class Locator:
    """Finding -> Location for one plan; see the module docstring."""

    def __init__(self, plan: Plan, resources: list[PlannedResource], root: Path) -> None:
        self.plan = plan
        self.root = root
        self.by_urn = {resource.urn: resource for resource in resources}
        self.uses_component = any(resource.type == TYPE_TOKEN for resource in resources)
        self.args_in_code = not plan.stack_file.namespace(NAMESPACE)
        """No `secure-api:` config in the stack file: a SecureApi gets its args in the program."""
        program = plan.project.program
        self.program = self._relative(program) or program.name
        self.stack_uri = self._relative(plan.stack_file.path) or plan.stack_file.path.name

    def _relative(self, path: Path) -> str | None:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def __call__(self, finding: Finding) -> Location:
        resource = self.by_urn.get(finding.urn)
        component = built_by_component(finding.urn) if finding.urn else self.uses_component
        if component and finding.rule in RULE_CONFIG:
            call = self._component_call(resource)
            if call is not None and self.args_in_code:
                return self._in_args(finding, resource, call)
            return self._in_stack_file(finding, resource)
        if resource is not None and resource.source_file:
            relative = self._relative(Path(resource.source_file))
            if relative is not None:
                return Location(uri=relative, line=resource.source_line or 1, fix=finding.remediation)
        return Location(uri=self.program, line=1, fix=finding.remediation)

    def of_api(self, urn: str) -> tuple[str, int]:
        """Where an API's routes are set: `secure-api:routes` in the stack file, the args of its `SecureApi`
        call, or the line that constructed the `RestApi` in any other program."""
        resource = self.by_urn.get(urn)
        if resource is not None and built_by_component(urn):
            call = self._component_call(resource)
            if call is not None and self.args_in_code:
                return call[1], call[0].source_line or 1
            return self.stack_uri, self.plan.stack_file.line_of(f"{NAMESPACE}:routes") or 1
        if resource is not None and resource.source_file:
            relative = self._relative(Path(resource.source_file))
            if relative is not None:
                return relative, resource.source_line or 1
        return self.program, 1

    def _component_call(self, resource: PlannedResource | None) -> tuple[PlannedResource, str] | None:
        """The SecureApi that `resource` descends from and the program file of its call, when known."""
        owner = self.by_urn.get(resource.parent) if resource is not None else None
        while owner is not None and owner.type != TYPE_TOKEN:
            owner = self.by_urn.get(owner.parent)
        if owner is None or not owner.source_file:
            return None
        relative = self._relative(Path(owner.source_file))
        return None if relative is None else (owner, relative)

    def _in_args(
        self, finding: Finding, resource: PlannedResource | None, call: tuple[PlannedResource, str]
    ) -> Location:
        component, uri = call
        fix = fix_of(finding)
        key = _keys(finding, resource)[0]
        snake = ".".join(to_snake(part) for part in key.split("."))
        named = f"`{key}`" if snake == key else f"`{key}` (`{snake}` in SecureApiArgs)"
        return Location(
            uri=uri,
            line=component.source_line or 1,
            fix=f"set {named} in the args of SecureApi '{component.name}' at {uri}:{component.source_line}: {fix.hint}",
        )

    def _in_stack_file(self, finding: Finding, resource: PlannedResource | None) -> Location:
        fix = fix_of(finding)
        keys = _keys(finding, resource)
        stack_file = self.plan.stack_file
        line = next((n for key in keys if (n := stack_file.line_of(f"{NAMESPACE}:{key}"))), None)
        return Location(
            uri=self.stack_uri,
            line=line or 1,
            fix=f"set `{NAMESPACE}:{keys[0]}` in {stack_file.path.name}: {fix.hint}",
        )


def fix_of(finding: Finding) -> ConfigFix:
    """The config keys and fix for `finding`: its subject's (`SUBJECT_CONFIG`) when the rule names one, else
    the rule's. A missing managed group, or one counting its Log4j rules, is fixed at that group's keys."""
    rule, subject = finding.rule, finding.subject
    if (rule, subject) in SUBJECT_CONFIG:
        return SUBJECT_CONFIG[(rule, subject)]
    if rule in ("waf-acl-rules", "waf-reputation-lists") and subject.startswith("AWSManagedRules"):
        group = f"waf.managedRuleGroups.{subject}"
        if rule == "waf-acl-rules":
            return ConfigFix(
                (f"{group}.mode", f"{group}.enabled", group, "waf.managedRuleGroups", "waf"), "enable it in BLOCK mode"
            )
        return ConfigFix(("waf.managedRuleGroups", "waf"), f"add `{subject}: {{}}` under it (or say why not)")
    return RULE_CONFIG[rule]


_KNOWN_BAD = "waf.managedRuleGroups.AWSManagedRulesKnownBadInputsRuleSet"
SUBJECT_CONFIG: Mapping[tuple[str, str], ConfigFix] = {
    ("waf-acl-rules", "rate-limit"): ConfigFix(("waf.rateLimit.mode", "waf.rateLimit", "waf"), "set it to BLOCK"),
    ("waf-acl-rules", "sqli"): ConfigFix(
        ("waf.sqlInjection", "waf"), "set it to BLOCK, or run AWSManagedRulesSQLiRuleSet in BLOCK mode"
    ),
    ("waf-acl-rules", "xss"): ConfigFix(
        ("waf.crossSiteScripting", "waf"), "set it to BLOCK, or keep the Common rule set's XSS rules blocking"
    ),
    ("waf-acl-rules", "Log4JRCE"): ConfigFix(
        (f"{_KNOWN_BAD}.countRules", _KNOWN_BAD, "waf.managedRuleGroups", "waf"),
        "take the Log4JRCE rules out of countRules",
    ),
}
"""(rule, subject) -> where that subject of the rule is fixed, where it differs from the rule's own keys."""


def _keys(finding: Finding, resource: PlannedResource | None) -> tuple[str, ...]:
    """The config keys that control `finding` on `resource`, the most specific first."""
    keys = fix_of(finding).keys
    if finding.rule == "log-group-retention" and resource is not None:
        keys = tuple(key for word, key in _RETENTION_BY_NAME if word in resource.name) + keys
    return keys
