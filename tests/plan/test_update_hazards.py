"""Hazards of a later `pulumi up`: what a replacement, a second region
or stack, a matching WAF rule or an unused settings block would do, shown with the smallest config.

Every plan runs in preview (unknown outputs) and update mode; assertions read recorded inputs and
resource options, never values inside an `.apply`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from secure_api.component.config import NAMESPACE, ConfigError, parse_config
from secure_api.component.config.waf import MAX_REDACT_HEADERS
from secure_api.component.program import main
from secure_api.plan.harness import PlanResult, run_program

MINIMAL: dict[str, Any] = {
    "routes": [{"path": "/items", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}],
    "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
}
CERTIFICATE_ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
COGNITO_ROUTE = {"path": "/me", "method": "GET", "auth": "cognito", "integration": {"type": "mock"}}
CUSTOM_ROUTE = {"path": "/hook", "method": "POST", "auth": "custom", "integration": {"type": "mock"}}


def minimal(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(MINIMAL)
    for key, value in changes.items():
        config[key] = value
    return config


def run(config: dict[str, Any], *, preview: bool, stack: str = "dev", region: str = "eu-west-1") -> PlanResult:
    values = {f"{NAMESPACE}:{key}": json.dumps(value) for key, value in config.items()}
    values["aws:region"] = region
    return run_program(main, config=values, project=NAMESPACE, stack=stack, preview=preview, region=region)


@pytest.fixture(params=[True, False], ids=["preview", "update"])
def preview(request: pytest.FixtureRequest) -> bool:
    return request.param


def named(result: PlanResult, type_: str, role: str) -> Any:
    (match,) = [r for r in result.of_type(type_) if r.name == f"secure-api-{role}"]
    return match


# --- item 9: one-per-key resources are deleted before they are replaced -------------------------

DOMAIN = {"domainName": "api.example.com", "certificateArn": CERTIFICATE_ARN}
ONE_PER_KEY = [
    # (type, role, the smallest config that has the resource)
    ("aws:wafv2/webAclAssociation:WebAclAssociation", "waf-association", minimal()),
    ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "waf-logging", minimal()),
    ("aws:apigateway/methodSettings:MethodSettings", "method-settings", minimal()),
    (
        "aws:cognito/userPoolDomain:UserPoolDomain",
        "users-domain",
        minimal(routes=[COGNITO_ROUTE], cognito={"domainPrefix": "items-auth"}),
    ),
    (
        "aws:apigateway/usagePlanKey:UsagePlanKey",
        "key-k-plan",
        minimal(
            usagePlans=[{"name": "p", "throttle": {"rateLimit": 1, "burstLimit": 1}, "quota": {"limit": 1}}],
            apiKeys=[{"name": "k", "plan": "p"}],
        ),
    ),
    ("aws:apigateway/basePathMapping:BasePathMapping", "base-path", minimal(domain=DOMAIN)),
    ("aws:apigatewayv2/apiMapping:ApiMapping", "api-mapping", minimal(domain={**DOMAIN, "basePath": "catalog/v2"})),
    (
        "aws:route53/record:Record",
        "certificate-dns",
        minimal(domain={"domainName": "api.example.com", "hostedZoneId": "Z0123456789EXAMPLE01"}),
    ),
    (
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "truststore-bundle",
        minimal(domain={**DOMAIN, "mutualTls": {"truststorePath": "examples/truststore/dev-ca.pem"}}),
    ),
]


@pytest.mark.parametrize(("type_", "role", "config"), ONE_PER_KEY, ids=[case[1] for case in ONE_PER_KEY])
def test_one_per_key_resources_are_deleted_before_they_are_replaced(
    type_: str, role: str, config: dict[str, Any], preview: bool
) -> None:
    assert named(run(config, preview=preview), type_, role).delete_before_replace


def test_exactly_the_one_per_key_resources_of_the_dev_stack_delete_first(dev_plan: PlanResult) -> None:
    """The deployment must stay create-before-delete (the stage points at it), and so must the rest."""
    deleted_first = sorted(
        (r.type, r.name.removeprefix("secure-api-")) for r in dev_plan.resources if r.delete_before_replace
    )
    assert deleted_first == sorted(
        [
            ("aws:wafv2/webAclAssociation:WebAclAssociation", "waf-association"),
            ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "waf-logging"),
            ("aws:apigateway/methodSettings:MethodSettings", "method-settings"),
            ("aws:cognito/userPoolDomain:UserPoolDomain", "users-domain"),
            ("aws:apigateway/usagePlanKey:UsagePlanKey", "key-partner-acme-plan"),
            ("aws:apigateway/usagePlanKey:UsagePlanKey", "key-mobile-app-plan"),
            ("aws:apigateway/basePathMapping:BasePathMapping", "base-path"),
            ("aws:route53/record:Record", "certificate-dns"),
            ("aws:s3/bucketObjectv2:BucketObjectv2", "truststore-bundle"),
        ]
    )


# --- item 10: names AWS scopes per account carry the region and the stack ----------------------

ACCOUNT_SCOPED = [
    ("aws:iam/policy:Policy", "invoke-policy", "name"),
    ("aws:cloudwatch/dashboard:Dashboard", "dashboard", "dashboardName"),
]


@pytest.mark.parametrize(("type_", "role", "prop"), ACCOUNT_SCOPED, ids=["iam-policy", "dashboard"])
def test_account_scoped_names_differ_per_region_and_stack(type_: str, role: str, prop: str, preview: bool) -> None:
    names = {
        (stack, region): named(run(minimal(), preview=preview, stack=stack, region=region), type_, role).inputs[prop]
        for stack, region in (("dev", "eu-west-1"), ("dev", "us-east-2"), ("prod", "eu-west-1"))
    }
    assert names[("dev", "eu-west-1")].startswith("secure-api-v1-eu-west-1-dev-")
    assert len(set(names.values())) == 3


@pytest.mark.parametrize(("type_", "role", "prop", "limit"), [(*ACCOUNT_SCOPED[0], 128), (*ACCOUNT_SCOPED[1], 255)])
def test_account_scoped_names_stay_within_aws_limits(type_: str, role: str, prop: str, limit: int) -> None:
    config = minimal(api={"name": "a" * 53, "stageName": "s" * 48})
    names = set()
    for stack in ("x" * 100, "x" * 99 + "y", "stack.with.dots"):
        name = named(run(config, preview=True, stack=stack), type_, role).inputs[prop]
        assert len(name) <= limit
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_sxy")
        names.add(name)
    assert len(names) == 3


# --- item 12: a SQLi/XSS match never logs a redacted header's value ------------------------------


def test_every_redacted_header_is_left_out_of_injection_inspection(preview: bool) -> None:
    config = minimal(
        routes=[*MINIMAL["routes"], CUSTOM_ROUTE],
        lambdaAuthorizer={"identityHeader": "X-Partner-Token"},
        waf={"redactHeaders": ["x-tenant-secret"]},
    )
    result = run(config, preview=preview)
    redacted = [
        f["singleHeader"]["name"]
        for f in result.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration").inputs["redactedFields"]
    ]
    assert redacted == ["authorization", "cookie", "x-api-key", "x-tenant-secret", "x-partner-token"]
    rules = {rule["name"]: rule for rule in result.one("aws:wafv2/webAcl:WebAcl").inputs["rules"]}
    for rule, match in (("sql-injection", "sqliMatchStatement"), ("cross-site-scripting", "xssMatchStatement")):
        statements = [s[match] for s in rules[rule]["statement"]["orStatement"]["statements"]]
        (headers,) = [s["fieldToMatch"]["headers"][0] for s in statements if "headers" in s["fieldToMatch"]]
        assert headers["matchScope"] == "ALL"
        assert headers["matchPattern"] == {"excludedHeaders": redacted}


def test_more_redacted_headers_than_waf_logging_takes_is_an_error() -> None:
    config = minimal(waf={"redactHeaders": [f"x-h{i}" for i in range(MAX_REDACT_HEADERS + 1)]})
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    (message,) = [m for path, m in raised.value.problems if path == "secure-api:waf.redactHeaders"]
    assert "at most 100 fields" in message
    parse_config(minimal(waf={"redactHeaders": [f"x-h{i}" for i in range(MAX_REDACT_HEADERS)]}))


# --- item 16: a settings block nothing uses is warned about ----------------------------------------


def test_an_unused_lambda_authorizer_block_is_warned(preview: bool) -> None:
    result = run(minimal(lambdaAuthorizer={"resultTtlSeconds": 0}), preview=preview)
    assert any(w.startswith("lambdaAuthorizer is set but no route has auth: custom") for w in result.warnings)
    assert not result.of_type("aws:lambda/function:Function")


def test_an_unused_cognito_block_is_warned(preview: bool) -> None:
    result = run(minimal(cognito={"mfa": "ON"}), preview=preview)
    assert any(w.startswith("cognito is set but no route has auth: cognito") for w in result.warnings)
    quiet = run(minimal(cognito={"enabled": False}), preview=preview)
    assert not any("cognito is set" in w for w in quiet.warnings)


def test_used_blocks_are_not_warned(dev_plan: PlanResult) -> None:
    assert not any(" is set but no route " in w for w in dev_plan.warnings)
