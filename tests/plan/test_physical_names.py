"""No shared names: two stacks of one config in one account and region, or two SecureApi in one program.

AWS keeps some names unique per account and region (log groups, WAF web ACLs and IP sets, Lambda functions,
SNS topics, KMS aliases) and overwrites others silently (CloudWatch alarms, `PutMetricAlarm`). Each starts
with the component's physical prefix, `<component>-<stack>` unless `api.physicalNamePrefix` sets it.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest

from secure_api import SecureApi
from secure_api.component.config import ConfigError
from secure_api.component.layers.context import PHYSICAL_PREFIX_LIMIT, default_physical_prefix
from secure_api.plan.harness import PlanResult, run_program
from tests.plan.test_update_hazards import MINIMAL, minimal, run

# (type, the input holding the name AWS keeps unique per account and region, or per account)
UNIQUE_NAMES = {
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:wafv2/webAcl:WebAcl": "name",
    "aws:wafv2/ipSet:IpSet": "name",
    "aws:lambda/function:Function": "name",
    "aws:sns/topic:Topic": "name",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
    "aws:kms/alias:Alias": "name",
    "aws:iam/policy:Policy": "name",
    "aws:iam/role:Role": "name",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
}


def _every_layer() -> dict[str, Any]:
    """The minimal stack with a custom route (authorizer function), a blocklist and alarm e-mails."""
    config = minimal()
    config["routes"] = [
        *config["routes"],
        {"path": "/hook", "method": "POST", "auth": "custom", "integration": {"type": "mock"}},
    ]
    config["lambdaAuthorizer"] = {"issuers": [{"issuer": "https://idp.example.com", "audiences": ["orders"]}]}
    config["waf"] = {"blockedIps": ["203.0.113.0/24"]}
    config["observability"] = {"alarms": {"emails": ["oncall@example.com"]}}
    return config


def unique_names(result: PlanResult) -> set[tuple[str, str]]:
    return {
        (r.type, str(r.inputs[key]))
        for r in result.custom_resources()
        # The execution log group's name holds the REST API id, unknown in preview (AWS picks it: unique).
        if (key := UNIQUE_NAMES.get(r.type)) and isinstance(r.inputs.get(key), str)
    }


def test_two_stacks_of_one_config_share_no_name() -> None:
    dev, prod = (unique_names(run(_every_layer(), preview=True, stack=stack)) for stack in ("dev", "prod"))
    assert {kind for kind, _ in dev} == set(UNIQUE_NAMES) - {"aws:iam/role:Role"}  # roles are auto-named
    assert dev & prod == set()
    assert ("aws:wafv2/webAcl:WebAcl", "secure-api-dev-v1") in dev
    assert ("aws:cloudwatch/logGroup:LogGroup", "/aws/apigateway/secure-api-dev/v1/access") in dev
    assert ("aws:lambda/function:Function", "secure-api-dev-authorizer") in dev


def test_an_explicit_prefix_names_them_and_keeps_the_0_2_0_names() -> None:
    config = _every_layer()
    config["api"] = {"name": "orders-api", "physicalNamePrefix": "orders-api"}
    names = {kind: name for kind, name in unique_names(run(config, preview=True)) if "Alarm" not in kind}
    assert names["aws:wafv2/webAcl:WebAcl"] == "orders-api-v1"
    assert names["aws:lambda/function:Function"] == "orders-api-authorizer"
    assert names["aws:sns/topic:Topic"] == "orders-api-v1-alarms"
    assert names["aws:kms/alias:Alias"] == "alias/orders-api-v1-logs"


def test_renaming_the_api_renames_nothing_aws_keeps_unique_but_the_account_scoped_ones() -> None:
    before = unique_names(run(_every_layer(), preview=True))
    renamed = _every_layer()
    renamed["api"] = {"name": "payments-api"}
    after = unique_names(run(renamed, preview=True))
    assert {kind for kind, _ in before - after} == {"aws:iam/policy:Policy", "aws:cloudwatch/dashboard:Dashboard"}


@pytest.mark.parametrize("stack", ["x" * 100, "org.team.stack-with-a-very-long-name-indeed", "dev"])
def test_the_default_prefix_fits_every_name_limit(stack: str) -> None:
    prefix = default_physical_prefix("secure-api", stack)
    assert len(prefix) <= PHYSICAL_PREFIX_LIMIT
    assert set(prefix) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    function = next(r for r in run(_every_layer(), preview=True, stack=stack).of_type("aws:lambda/function:Function"))
    assert len(function.inputs["name"]) <= 64  # Lambda's limit
    assert default_physical_prefix("secure-api", stack + "2") != prefix


def _two(first: dict[str, Any], second: dict[str, Any]) -> PlanResult:
    def program() -> None:
        SecureApi("orders", first)
        SecureApi("payments", second, opts=pulumi.ResourceOptions())

    return run_program(program, config={"aws:region": "eu-west-1"}, project="p", stack="dev", preview=True)


def test_two_components_with_one_prefix_are_a_config_error_naming_both() -> None:
    shared = {**MINIMAL, "api": {"physicalNamePrefix": "shop"}}
    with pytest.raises(ConfigError) as raised:
        _two(shared, shared)
    ((key, message),) = raised.value.problems
    assert key == "secure-api:api.physicalNamePrefix"
    assert "SecureApi 'payments' and SecureApi 'orders' would both name" in message
    result = _two(shared, {**MINIMAL, "api": {"physicalNamePrefix": "shop-payments"}})
    assert len(result.of_type("secure-api:index:SecureApi")) == 2


def test_two_components_with_one_api_name_are_a_config_error_naming_both() -> None:
    """The IAM invoke policy and the dashboard are named by api.name (account-wide, with the stack)."""
    first = {**MINIMAL, "api": {"name": "shop", "physicalNamePrefix": "shop-orders"}}
    second = {**MINIMAL, "api": {"name": "shop", "physicalNamePrefix": "shop-payments"}}
    with pytest.raises(ConfigError) as raised:
        _two(first, second)
    ((key, message),) = raised.value.problems
    assert key == "secure-api:api.name"
    assert "SecureApi 'payments' and SecureApi 'orders' are both named 'shop'" in message


def test_an_oauth_client_without_a_domain_prefix_gets_one_per_stack() -> None:
    config = minimal()
    config["routes"] = [{**config["routes"][0], "auth": "cognito"}]
    config["cognito"] = {
        "appClients": [
            {
                "name": "web",
                "oauthFlows": ["code"],
                "allowedScopes": ["openid"],
                "callbackUrls": ["https://app.example.com/cb"],
            }
        ]
    }
    prefixes = {
        stack: run(config, preview=True, stack=stack)
        .of_type("aws:cognito/userPoolDomain:UserPoolDomain")[0]
        .inputs["domain"]
        for stack in ("dev", "prod", "aws-cognito-amazon")
    }
    assert prefixes["dev"].startswith("secure-api-dev-")
    assert len(set(prefixes.values())) == 3
    for prefix in prefixes.values():
        assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", prefix), prefix
        assert not any(word in prefix for word in ("aws", "amazon", "cognito")), prefix
    no_oauth = minimal()
    no_oauth["routes"] = [{**no_oauth["routes"][0], "auth": "cognito"}]
    assert run(no_oauth, preview=True).of_type("aws:cognito/userPoolDomain:UserPoolDomain") == []


def test_two_components_under_their_own_names_never_collide() -> None:
    result = _two(MINIMAL, MINIMAL)
    names = [name for kind, name in unique_names(result) if kind == "aws:wafv2/webAcl:WebAcl"]
    assert sorted(names) == ["orders-dev-v1", "payments-dev-v1"]
