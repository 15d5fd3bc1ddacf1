"""Rule metadata, apart from the logic: ids, severities, enforcement, remediation, checker mappings.

Enforcement is mandatory for the controls of the layered model and advisory for recommendations.
`checkers` lists the IDs of well-known checkers for the same control (checkov `CKV_*`, cdk-nag
`AwsSolutions-*`, Security Hub controls) where one exists.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity

from .model import RuleMeta
from .waf_capacity import INCLUDED_WCU, MAX_WCU

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

REQUIRED_MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
"""What every public API needs: the OWASP-style common rules and the known-bad inputs (Log4j)."""
RECOMMENDED_MANAGED_RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList")
"""A choice, not a baseline: the anonymous-IP list's HostingProviderIPList blocks callers hosted
outside AWS (a partner's webhook sender, a service in another cloud)."""

RULES: tuple[RuleMeta, ...] = (
    # --- auth
    RuleMeta(
        id="api-route-authorizer",
        layer="auth",
        title="Every route has an authorizer",
        description="Every method or route that reaches a backend (in an OpenAPI body: any integration "
        "but `mock`, OPTIONS included; as `Method` resources: any but an OPTIONS method whose `Integration` "
        "is a MOCK; as HTTP API `Route`s: any "
        "but a target-less OPTIONS) is authorized by "
        "Cognito, IAM, JWT or a Lambda authorizer; an API key alone identifies a client, it does not "
        "authenticate it.",
        severity=Severity.CRITICAL,
        enforcement=MANDATORY,
        remediation="Give the operation a `security` requirement naming a Cognito, IAM (awsSigv4) or "
        "custom authorizer scheme, or set `authorization` to COGNITO_USER_POOLS/AWS_IAM/CUSTOM with an "
        "`authorizer_id`; keep `api_key_required` only for metering. An OPTIONS preflight without an "
        "authorizer needs a MOCK integration.",
        checkers=("CKV_AWS_59", "AwsSolutions-APIG4", "AwsSolutions-COG4"),
    ),
    RuleMeta(
        id="authorizer-cache-scope",
        layer="auth",
        title="Lambda authorizer caching is keyed and bounded",
        description="A caching Lambda authorizer keys its cache on an identity source and keeps decisions "
        "no longer than the configured TTL.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `identity_source` (e.g. method.request.header.Authorization) and "
        "`authorizer_result_ttl_in_seconds` at or below the limit, or 0 to disable caching.",
        config={
            "maxTtlSeconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": 3600,
                "default": 3600,
                "description": "Longest cache TTL allowed for a Lambda authorizer.",
            }
        },
    ),
    RuleMeta(
        id="lambda-permission-source-arn",
        layer="auth",
        title="API Gateway invoke permissions are scoped",
        description="A Lambda permission granted to apigateway.amazonaws.com is scoped by `source_arn` "
        "to one API of one account; one granted to every principal (`*`) is scoped by `source_arn`, "
        "`source_account` or `principal_org_id`.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Set `source_arn` to `api.execution_arn` + `/*` (or the authorizer path); never grant "
        '`principal: "*"` without `source_arn`, `source_account` or `principal_org_id`.',
        checkers=("CKV_AWS_301", "CKV_AWS_364", "Lambda.1"),
    ),
    # --- cognito
    RuleMeta(
        id="cognito-password-policy",
        layer="cognito",
        title="Strong Cognito password policy",
        description="User pools require long passwords with all character classes and short-lived temporary passwords.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Set `password_policy` with `minimum_length` at or above the minimum, all `require_*` "
        "flags true and `temporary_password_validity_days` at or below the maximum.",
        checkers=("AwsSolutions-COG1", "Cognito.3"),
        config={
            "minimumLength": {"type": "integer", "minimum": 8, "maximum": 99, "default": 12},
            "maxTemporaryPasswordDays": {"type": "integer", "minimum": 1, "maximum": 365, "default": 7},
        },
    ),
    RuleMeta(
        id="cognito-mfa",
        layer="cognito",
        title="Cognito MFA required",
        description="User pools require multi-factor authentication.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation='Set `mfa_configuration="ON"` with `software_token_mfa_configuration` enabled.',
        checkers=("AwsSolutions-COG2", "Cognito.5"),
    ),
    RuleMeta(
        id="cognito-deletion-protection",
        layer="cognito",
        title="Cognito deletion protection",
        description="User pools have deletion protection on.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation='Set `deletion_protection="ACTIVE"`.',
        checkers=("Cognito.6",),
    ),
    RuleMeta(
        id="cognito-threat-protection",
        layer="cognito",
        title="Cognito threat protection enforced",
        description="Where the tier offers it (PLUS), threat protection runs in ENFORCED mode.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation='Set `user_pool_add_ons.advanced_security_mode="ENFORCED"` on PLUS-tier pools.',
        checkers=("AwsSolutions-COG3", "AwsSolutions-COG8", "Cognito.1", "Cognito.4"),
    ),
    RuleMeta(
        id="cognito-client-no-password-flows",
        layer="cognito",
        title="No plain-password auth flows",
        description="App clients do not allow flows that send the plain password (USER_PASSWORD_AUTH, "
        "ADMIN_USER_PASSWORD_AUTH); SRP and refresh-token flows remain.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Use `explicit_auth_flows=['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']`.",
    ),
    RuleMeta(
        id="cognito-client-no-implicit-flow",
        layer="cognito",
        title="No OAuth implicit flow",
        description="App clients do not allow the OAuth implicit grant.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Use `allowed_oauth_flows=['code']` (with PKCE in the client).",
    ),
    RuleMeta(
        id="cognito-client-token-revocation",
        layer="cognito",
        title="Token revocation on",
        description="App clients keep token revocation enabled.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `enable_token_revocation=True` (the default).",
    ),
    # --- usage plans
    RuleMeta(
        id="usage-plan-throttle",
        layer="usage",
        title="Usage plans throttle",
        description="Usage plans set a burst and a rate limit.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `throttle_settings` with positive `burst_limit` and `rate_limit`.",
    ),
    RuleMeta(
        id="usage-plan-quota",
        layer="usage",
        title="Usage plans set a quota",
        description="Usage plans set a request quota per period.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `quota_settings` with a positive `limit` and a `period`.",
    ),
    RuleMeta(
        id="usage-plan-stage",
        layer="usage",
        title="Usage plans reference a stage",
        description="Usage plans are bound to at least one API stage, and a stage they name is one its API has "
        "in the stack (otherwise every call with one of their keys is refused).",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Add `api_stages=[{api_id: api.id, stage: stage.stage_name}]` using the Stage "
        "resource's output (a literal name races the stage: 'Invalid API Stage').",
    ),
    RuleMeta(
        id="api-key-stage-in-usage-plan",
        layer="usage",
        title="Stages with API-key methods are in a usage plan",
        description="A stage serving methods that require an API key is in a usage plan: API Gateway accepts a "
        "key only for the stages of its plans, so otherwise every call to those methods is refused (403).",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Add the stage to a usage plan's `api_stages` (from the Stage resource) and the keys to it.",
    ),
    RuleMeta(
        id="api-key-in-usage-plan",
        layer="usage",
        title="API keys belong to a usage plan",
        description="Every enabled API key is bound to a usage plan, so its throttle and quota apply.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Add a `UsagePlanKey(key_id=key.id, key_type='API_KEY', usage_plan_id=plan.id)`.",
    ),
    # --- network
    RuleMeta(
        id="resource-policy-no-open-allow",
        layer="network",
        title="No open Allow in resource policies",
        description="No resource-policy statement allows Principal * without a source condition "
        "(aws:SourceVpce, aws:SourceVpc, aws:SourceIp, aws:PrincipalOrgID, ...), and no REGIONAL or EDGE "
        "REST API is without a resource policy (no `policy`, no `x-amazon-apigateway-policy` in its body, "
        "no `RestApiPolicy`): either way it takes calls from any address.",
        severity=Severity.CRITICAL,
        enforcement=MANDATORY,
        remediation="With SecureApi, list the callers' networks in `network.allowedSourceCidrs`, or set "
        "`network.acceptPublicApi: true` to accept a public API. In other programs, condition the Allow on a "
        "source key or add a Deny for Principal * unless the source matches; give an API without a policy one "
        "(`policy`, the body's `x-amazon-apigateway-policy` or a `RestApiPolicy`), or mark it "
        "`secure-api:accept:resource-policy-no-open-allow`.",
    ),
    RuleMeta(
        id="private-api-vpce-policy",
        layer="network",
        title="PRIVATE APIs are fenced to VPC endpoints",
        description="A PRIVATE API has a resource policy conditioned on aws:SourceVpce or aws:SourceVpc.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Attach a `RestApiPolicy` that denies execute-api:Invoke unless aws:SourceVpce "
        "matches your endpoint(s).",
    ),
    RuleMeta(
        id="execute-api-endpoint-policy",
        layer="network",
        title="execute-api endpoints have a least-privilege endpoint policy",
        description="An interface VPC endpoint for execute-api that the program creates has an endpoint policy "
        "(its `policy`, or a `VpcEndpointPolicy`) with no Allow that lets anyone invoke any API without a "
        "condition: AWS's default endpoint policy allows full access, so any principal in the VPC could reach "
        "any API of any account through it.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Attach a `VpcEndpointPolicy` allowing `execute-api:Invoke` on your APIs' stage ARNs only "
        "(the component does this for `network.vpcEndpoint` and `network.managedEndpointPolicies`).",
    ),
    RuleMeta(
        id="execute-api-endpoint-private-dns",
        layer="network",
        title="execute-api endpoints keep private DNS off",
        description="An interface VPC endpoint for execute-api has private DNS off: with it on, its VPC "
        "cannot call public (edge-optimized and Regional) APIs at their default names (developer guide, "
        '"Private REST APIs in API Gateway"). A recommendation: the plan sees the flag, not what the VPC calls.',
        severity=Severity.LOW,
        enforcement=ADVISORY,
        remediation="Set `private_dns_enabled=False` and call private APIs by their `{api-id}-{vpce-id}` names "
        "or a private custom domain; keep it on only in a VPC that calls no public API by its execute-api name "
        "(and say so with an accepted exception).",
    ),
    # --- waf
    RuleMeta(
        id="waf-stage-association",
        layer="waf",
        title="Stages sit behind WAF",
        description="Every REGIONAL or EDGE REST API stage is associated with a WAFv2 web ACL.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Add `wafv2.WebAclAssociation(resource_arn=stage.arn, web_acl_arn=acl.arn)`.",
        checkers=("CKV2_AWS_29", "AwsSolutions-APIG3", "APIGateway.4"),
    ),
    RuleMeta(
        id="waf-one-acl-per-stage",
        layer="waf",
        title="One web ACL per stage",
        description="A stage has at most one WAFv2 web ACL association: a resource keeps a single web ACL (WAF API "
        "reference, AssociateWebACL), so a second association silently replaces the first.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Keep one `wafv2.WebAclAssociation` per stage and put every rule in that web ACL.",
    ),
    RuleMeta(
        id="waf-acl-rules",
        layer="waf",
        title="Web ACLs rate-limit, block injection and run the baseline managed groups",
        description="Every web ACL has a blocking rate-based rule; blocks SQL injection and cross-site "
        "scripting (its own sqli/xss match rules, or the AWS SQLi and Common groups); and runs the "
        "required AWS managed groups (Common, KnownBadInputs with its Log4j rules blocking), none of "
        "them in count mode.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Add a `rate_based_statement` rule with a block action, `sqli_match_statement` and "
        "`xss_match_statement` rules with a block action (or the AWSManagedRulesSQLiRuleSet group), and "
        "one `managed_rule_group_statement` per required group with `override_action={'none': {}}` and no "
        "count override of its Log4JRCE rules.",
        checkers=("CKV_AWS_175", "CKV_AWS_192", "CKV2_AWS_77", "WAF.10"),
        config={
            "requiredManagedRuleGroups": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(REQUIRED_MANAGED_RULE_GROUPS),
                "description": "AWS managed rule groups every web ACL must run.",
            }
        },
    ),
    RuleMeta(
        id="waf-reputation-lists",
        layer="waf",
        title="Web ACLs run the IP reputation lists",
        description="Web ACLs run the AWS IP reputation and anonymous-IP lists (recommendation: the "
        "anonymous-IP list blocks hosting providers, VPNs and Tor, which may include legitimate callers).",
        severity=Severity.LOW,
        enforcement=ADVISORY,
        remediation="Add a `managed_rule_group_statement` per recommended group with `override_action={'none': {}}`, "
        "or set this rule's enforcementLevel to mandatory to require them.",
        config={
            "recommendedManagedRuleGroups": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(RECOMMENDED_MANAGED_RULE_GROUPS),
                "description": "AWS managed rule groups every web ACL should run.",
            }
        },
    ),
    RuleMeta(
        id="waf-capacity",
        layer="waf",
        title="Web ACLs fit the capacity their base price covers",
        description="A web ACL's rules use at most `maxCapacityUnits` web ACL capacity units (WCUs), computed "
        "from AWS's documented cost of each statement and managed rule group; above 1,500 WAF charges per "
        'request for every further 500 WCU (AWS WAF developer guide, "Web ACL capacity units (WCUs)").',
        severity=Severity.LOW,
        enforcement=ADVISORY,
        remediation="Leave out a managed rule group the API does not need, or an inspection a managed rule "
        "already makes; `secure-api plan` shows the web ACL's WCUs.",
        config={
            "maxCapacityUnits": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_WCU,
                "default": INCLUDED_WCU,
                "description": "Most WCUs a web ACL may use.",
            }
        },
    ),
    RuleMeta(
        id="waf-capacity-quota",
        layer="waf",
        title="Web ACLs stay within WAF's capacity quota",
        description=f"A web ACL's rules use at most {MAX_WCU} WCUs, the most WAF accepts: over it, the create or "
        "update fails after the preview passed (AWS What's New, 2023-04-11).",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Split the rules over rule groups of their own or leave out managed rule groups.",
    ),
    RuleMeta(
        id="waf-logging",
        layer="waf",
        title="WAF logging enabled",
        description="Every web ACL has a logging configuration.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Add `wafv2.WebAclLoggingConfiguration(resource_arn=acl.arn, "
        "log_destination_configs=[log_group.arn])`.",
        checkers=("CKV2_AWS_31", "WAF.11"),
    ),
    RuleMeta(
        id="waf-log-redaction",
        layer="waf",
        title="WAF logs redact the Authorization header",
        description="WAF logging redacts the authorization header, so tokens do not land in logs.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Add `redacted_fields=[{single_header: {name: 'authorization'}}]`.",
    ),
    RuleMeta(
        id="waf-log-destination-name",
        layer="waf",
        title="WAF log destination named aws-waf-logs-",
        description="WAF log destinations are named with the `aws-waf-logs-` prefix WAF requires.",
        severity=Severity.LOW,
        enforcement=MANDATORY,
        remediation="Name the log group (or stream/bucket) `aws-waf-logs-<api>`.",
    ),
    # --- logging
    RuleMeta(
        id="stage-access-logs",
        layer="logging",
        title="Stages write JSON access logs",
        description="Every stage writes access logs in a JSON format with the request id and the caller's source IP.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Set `access_log_settings` with `destination_arn` and a JSON `format` including "
        "$context.requestId and $context.identity.sourceIp.",
        checkers=("CKV_AWS_76", "AwsSolutions-APIG1", "APIGateway.9"),
        config={
            "requiredVariables": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["$context.requestId", "$context.identity.sourceIp"],
            }
        },
    ),
    RuleMeta(
        id="stage-execution-logging",
        layer="logging",
        title="Stages log execution and emit metrics",
        description="Every REST stage has `*/*` method settings with ERROR or INFO logging and metrics enabled.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Add `MethodSettings(method_path='*/*', settings={logging_level: 'INFO', "
        "metrics_enabled: True})` for the stage.",
        checkers=("CKV2_AWS_4", "AwsSolutions-APIG6", "APIGateway.1"),
    ),
    RuleMeta(
        id="method-data-trace-off",
        layer="logging",
        title="Data trace off",
        description="Data trace (full request/response logging) is off.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `data_trace_enabled=False`.",
        checkers=("CKV_AWS_276",),
    ),
    RuleMeta(
        id="log-group-retention",
        layer="logging",
        title="Log groups keep logs long enough",
        description="Log groups set a retention of at least the configured minimum (0 = never expire).",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `retention_in_days` at or above the minimum.",
        checkers=("CKV_AWS_66", "CKV_AWS_338", "CloudWatch.16"),
        config={"minRetentionDays": {"type": "integer", "minimum": 1, "default": 365}},
    ),
    RuleMeta(
        id="log-group-kms",
        layer="logging",
        title="Log groups use a customer-managed key",
        description="Log groups are encrypted with a customer-managed KMS key (recommendation).",
        severity=Severity.LOW,
        enforcement=ADVISORY,
        remediation="Set `kms_key_id` to a KMS key whose policy lets CloudWatch Logs use it.",
        checkers=("CKV_AWS_158",),
    ),
    # --- tls
    RuleMeta(
        id="domain-tls-policy",
        layer="tls",
        title="TLS 1.2 or later",
        description="Custom domains (and APIs that set one) use TLS_1_2 or an enhanced TLS 1.2+/1.3 security policy.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Set `security_policy='TLS_1_2'` or a `SecurityPolicy_TLS13_*` policy.",
        checkers=("CKV_AWS_206", "APIGateway.11"),
    ),
    RuleMeta(
        id="enhanced-tls-endpoint-access-mode",
        layer="tls",
        title="Enhanced TLS policies set the endpoint access mode",
        description="An enhanced (SecurityPolicy_*) policy comes with endpoint access mode BASIC or STRICT.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `endpoint_access_mode='STRICT'` (or BASIC while migrating).",
    ),
    RuleMeta(
        id="mtls-truststore-version",
        layer="tls",
        title="mTLS truststore version pinned",
        description="Mutual TLS names a truststore and pins its object version.",
        severity=Severity.MEDIUM,
        enforcement=MANDATORY,
        remediation="Set `truststore_version` to the versioned S3 object's `version_id`.",
    ),
    RuleMeta(
        id="integration-https-backend",
        layer="tls",
        title="Backends are called over HTTPS",
        description="HTTP and HTTP_PROXY integrations (Integration resources and the "
        "`x-amazon-apigateway-integration` of OpenAPI bodies) call `https://` backends: the hop from "
        "API Gateway to the backend carries the caller's request, tokens and API keys included. "
        "(No checkov, cdk-nag or Security Hub check covers the backend URI scheme.)",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Set the integration `uri` (HTTP API: `integration_uri`) to an `https://` URL; for a "
        "backend inside a VPC use a VPC link to a TLS listener.",
    ),
    RuleMeta(
        id="custom-domain-default-endpoint",
        layer="tls",
        title="Default endpoint off behind a custom domain",
        description="An API served by a custom domain (with its TLS policy and mTLS) disables the "
        "default execute-api endpoint, which would bypass both. Private custom domains (no mTLS; the API's "
        "endpoint is itself behind its VPC endpoints) are exempt.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Set `disable_execute_api_endpoint=True` on the API.",
    ),
    # --- alarms
    RuleMeta(
        id="stage-5xx-alarm",
        layer="alarms",
        title="5XX alarm per stage",
        description="A CloudWatch alarm watches server errors (5XXError / 5xx) on every stage.",
        severity=Severity.LOW,
        enforcement=ADVISORY,
        remediation="Add a `MetricAlarm(namespace='AWS/ApiGateway', metric_name='5XXError', "
        "dimensions={'ApiName': api.name, 'Stage': stage.stage_name})`.",
    ),
    # --- cors
    RuleMeta(
        id="cors-credentials-exact-origin",
        layer="cors",
        title="Credentialed CORS answers name an exact origin",
        description="No gateway response or integration response sends `Access-Control-Allow-Credentials: "
        "true` with `Access-Control-Allow-Origin` `*` or an origin copied from the request "
        "(`method.request.header.Origin`): that would let any website read the signed-in user's answers.",
        severity=Severity.HIGH,
        enforcement=MANDATORY,
        remediation="Set `Access-Control-Allow-Origin` to one fixed origin (`'https://app.example.com'`) in "
        "`response_parameters` / `responseParameters`, or drop `Access-Control-Allow-Credentials`; with "
        "secure-api, list exact origins in `cors.allowOrigins`.",
    ),
    RuleMeta(
        id="cors-no-wildcard-with-authorizers",
        layer="cors",
        title="No any-origin CORS on an API with authorizers",
        description="An API whose routes need an authorizer does not let every website read its answers "
        "(`Access-Control-Allow-Origin` `*` or an echoed request origin) in its gateway responses or "
        "integration responses.",
        severity=Severity.MEDIUM,
        enforcement=ADVISORY,
        remediation="Name the app's exact origin in `Access-Control-Allow-Origin`; with secure-api, list it "
        "in `cors.allowOrigins` instead of `*`.",
    ),
)
