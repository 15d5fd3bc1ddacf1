"""Logging, monitoring and alarms on the mock runtime: log groups, the key, method settings, alarms, dashboard.

Plans run in preview (unknown outputs) and update mode; assertions read recorded inputs and the
dependency edges the engine would see, so none of them hides inside an `.apply`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.output import Unknown

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.layers.observability import ACCESS_LOG_FORMAT
from secure_api.plan.harness import PlannedResource, PlanResult
from secure_api.plan.report import render_plan
from tests.conftest import Plan

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
STAGE = "aws:apigateway/stage:Stage"
ACCOUNT_ID = "123456789012"


def named(result: PlanResult, type_: str, role: str) -> PlannedResource:
    (match,) = [r for r in result.of_type(type_) if r.name == f"secure-api-{role}"]
    return match


def depends_on(resource: PlannedResource, target: PlannedResource, prop: str) -> bool:
    return target.urn in resource.property_dependencies.get(prop, ())


def test_stage_writes_json_access_logs_with_the_caller_and_never_a_token(dev_plan: PlanResult) -> None:
    stage = dev_plan.one(STAGE)
    access_logs = named(dev_plan, LOG_GROUP, "access-logs")
    settings = stage.inputs["accessLogSettings"]
    assert depends_on(stage, access_logs, "accessLogSettings")
    fields = json.loads(settings["format"])
    assert fields == ACCESS_LOG_FORMAT
    required = {
        "requestId",
        "extendedRequestId",
        "identity.sourceIp",
        "identity.userAgent",
        "requestTime",
        "httpMethod",
        "resourcePath",
        "status",
        "protocol",
        "responseLength",
        "integrationLatency",
        "authorizer.error",
        "waf.error",
        "wafResponseCode",
        "tlsVersion",
        "identity.caller",
        "identity.user",
        "authorizer.principalId",
        "authorizer.claims.sub",
    }
    assert {f"$context.{v}" for v in required} <= set(fields.values())
    text = settings["format"].lower()
    for leak in ("authorization", '$context.identity.apikey"', "token", "$input", "$method.request", "cookie"):
        assert leak not in text, leak
    assert "\n" not in settings["format"]  # one line per request
    if dev_plan.preview:
        assert isinstance(settings["destinationArn"], Unknown)
    else:
        assert settings["destinationArn"].endswith(":log-group:/aws/apigateway/orders-api-dev/v1/access")


def test_every_log_group_is_encrypted_retained_and_deletion_protected(dev_plan: PlanResult) -> None:
    key = dev_plan.one(KEY)
    groups = {role: named(dev_plan, LOG_GROUP, role) for role in ("access-logs", "execution-logs", "waf-logs")}
    for group in groups.values():
        assert group.protect, group.name
        assert group.retain_on_delete, group.name
        assert group.inputs["deletionProtectionEnabled"] is True
        assert depends_on(group, key, "kmsKeyId"), group.name
    assert groups["access-logs"].inputs["retentionInDays"] == 400
    assert groups["execution-logs"].inputs["retentionInDays"] == 400
    if not dev_plan.preview:
        api_id = dev_plan.one("aws:apigateway/restApi:RestApi").outputs["id"]
        assert groups["execution-logs"].inputs["name"] == f"API-Gateway-Execution-Logs_{api_id}/v1"


def test_the_customer_managed_key_rotates_is_protected_and_scoped(dev_plan: PlanResult) -> None:
    key = dev_plan.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.protect
    assert key.retain_on_delete
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    logs = statements["CloudWatchLogsEncryptsTheseLogGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    prefix = f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:"
    assert sorted(logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]) == sorted(
        [
            f"{prefix}/aws/apigateway/orders-api-dev/v1/access",
            f"{prefix}API-Gateway-Execution-Logs_*/v1",
            f"{prefix}aws-waf-logs-orders-api-dev-v1",
            f"{prefix}/aws/lambda/orders-api-dev-authorizer",
        ]
    )
    alarms = statements["CloudWatchAlarmsPublishToTheTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert alarms["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT_ID}:alarm:orders-api-dev-v1-*"},
    }
    alias = dev_plan.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == "alias/orders-api-dev-v1-logs"
    assert depends_on(alias, key, "targetKeyId")


def test_method_settings_metrics_on_data_trace_off_throttled(dev_plan: PlanResult) -> None:
    settings = dev_plan.one("aws:apigateway/methodSettings:MethodSettings")
    assert settings.inputs["methodPath"] == "*/*"
    assert settings.inputs["settings"] == {
        "metricsEnabled": True,
        "loggingLevel": "ERROR",
        "dataTraceEnabled": False,
        "throttlingRateLimit": 200,
        "throttlingBurstLimit": 400,
    }
    assert depends_on(settings, dev_plan.one(STAGE), "stageName")
    assert depends_on(settings, dev_plan.one("aws:apigateway/restApi:RestApi"), "restApi")
    # The execution log group exists (encrypted, with retention) before logging is switched on.
    assert named(dev_plan, LOG_GROUP, "execution-logs").urn in settings.dependencies
    assert dev_plan.one(STAGE).inputs["xrayTracingEnabled"] is True


def test_the_account_cloudwatch_role_is_opt_in_and_retained(dev_plan: PlanResult) -> None:
    account = dev_plan.one("aws:apigateway/account:Account")
    role = named(dev_plan, "aws:iam/role:Role", "apigateway-cloudwatch-role")
    attachment = named(
        dev_plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "apigateway-cloudwatch-role-policy"
    )
    for resource in (account, role, attachment):
        assert resource.retain_on_delete, resource.name
    assert depends_on(account, role, "cloudwatchRoleArn")
    assert attachment.urn in account.dependencies
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    )
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": ["sts:AssumeRole"],
    }
    # A REST stage with logging is rejected until the account has the role; so are method settings.
    assert account.urn in dev_plan.one(STAGE).dependencies
    assert account.urn in dev_plan.one("aws:apigateway/methodSettings:MethodSettings").dependencies
    assert not [w for w in dev_plan.warnings if "createAccountRole" in w]


def test_without_the_account_role_the_plan_says_the_account_needs_one(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["observability"]["createAccountRole"] = False
    dev_config["observability"]["executionLogging"] = "INFO"
    result = plan(dev_config, preview=True)
    assert not result.of_type("aws:apigateway/account:Account")
    assert not [r for r in result.resources if "apigateway-cloudwatch-role" in r.name]
    (warning,) = [w for w in result.warnings if "createAccountRole" in w]
    assert "must already have one" in warning
    assert result.one("aws:apigateway/methodSettings:MethodSettings").inputs["settings"]["loggingLevel"] == "INFO"


def alarms_of(result: PlanResult) -> dict[str, PlannedResource]:
    return {a.inputs["name"].removeprefix("orders-api-dev-v1-"): a for a in result.of_type(ALARM)}


def test_alarms_watch_error_rates_latency_traffic_and_waf(dev_plan: PlanResult) -> None:
    alarms = alarms_of(dev_plan)
    assert set(alarms) == {"5xx-rate", "4xx-rate", "latency-p99", "traffic-spike", "waf-blocked"}
    api = dev_plan.one("aws:apigateway/restApi:RestApi")
    stage = dev_plan.one(STAGE)
    topic = dev_plan.one(TOPIC)
    for alarm in alarms.values():
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
        assert alarm.inputs["treatMissingData"] == "notBreaching"
        assert depends_on(alarm, topic, "alarmActions")
        assert depends_on(alarm, topic, "okActions")
        if not dev_plan.preview:
            assert alarm.inputs["alarmActions"] == [f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:orders-api-dev-v1-alarms"]
    for role in ("5xx-rate", "4xx-rate", "latency-p99", "traffic-spike"):
        assert alarms[role].inputs["namespace"] == "AWS/ApiGateway"
        assert depends_on(alarms[role], api, "dimensions")
        assert depends_on(alarms[role], stage, "dimensions")
        assert alarms[role].inputs["dimensions"] == {"ApiName": "orders-api", "Stage": "v1"}
    # 5XXError / 4XXError are 0 or 1 per request: the Average is the error rate.
    assert (alarms["5xx-rate"].inputs["metricName"], alarms["5xx-rate"].inputs["statistic"]) == ("5XXError", "Average")
    assert alarms["5xx-rate"].inputs["threshold"] == pytest.approx(0.01)
    assert alarms["4xx-rate"].inputs["threshold"] == pytest.approx(0.15)
    for role in ("5xx-rate", "4xx-rate", "latency-p99"):
        window = {k: alarms[role].inputs[k] for k in ("period", "evaluationPeriods", "datapointsToAlarm")}
        assert window == {"period": 60, "evaluationPeriods": 5, "datapointsToAlarm": 3}
    latency = alarms["latency-p99"].inputs
    assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == ("Latency", "p99", 2000)
    assert "statistic" not in latency
    assert latency["evaluateLowSampleCountPercentiles"] == "ignore"
    spike = alarms["traffic-spike"].inputs
    assert (spike["metricName"], spike["statistic"], spike["period"], spike["threshold"]) == (
        "Count",
        "Sum",
        300,
        20000,
    )
    waf = alarms["waf-blocked"]
    assert (waf.inputs["namespace"], waf.inputs["metricName"], waf.inputs["statistic"]) == (
        "AWS/WAFV2",
        "BlockedRequests",
        "Sum",
    )
    assert depends_on(waf, dev_plan.one("aws:wafv2/webAcl:WebAcl"), "dimensions")
    assert waf.inputs["dimensions"] == {"WebACL": "orders-api-dev-v1", "Rule": "ALL", "Region": "eu-west-1"}
    assert waf.inputs["threshold"] == 200


def test_alarm_topic_is_encrypted_with_the_key_and_mails_on_call(dev_plan: PlanResult) -> None:
    topic = dev_plan.one(TOPIC)
    assert topic.inputs["name"] == "orders-api-dev-v1-alarms"
    assert depends_on(topic, dev_plan.one(KEY), "kmsMasterKeyId")
    (subscription,) = dev_plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "api-oncall@example.com")
    assert depends_on(subscription, topic, "topic")
    policy = dev_plan.one("aws:sns/topicPolicy:TopicPolicy")
    assert depends_on(policy, topic, "policy")
    if dev_plan.preview:
        return
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    publish = statements["CloudWatchAlarmsOfThisStage"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Action"] == ["sns:Publish"]
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    assert statements["TlsOnly"]["Effect"] == "Deny"


def test_dashboard_shows_traffic_errors_latency_waf_and_authorizer_errors(dev_plan: PlanResult) -> None:
    dashboard = dev_plan.one("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == "orders-api-v1-eu-west-1-dev-dashboard"
    assert depends_on(dashboard, dev_plan.one(STAGE), "dashboardBody")
    body = dashboard.inputs["dashboardBody"]
    if isinstance(body, Unknown):
        assert dev_plan.preview
        return
    widgets = {w["properties"]["title"]: w for w in json.loads(body)["widgets"]}
    assert set(widgets) == {
        "Requests",
        "4XX / 5XX errors",
        "Latency (ms)",
        "WAF allowed / blocked",
        "Authorizer errors",
    }
    latency = {m[-1]["stat"] for m in widgets["Latency (ms)"]["properties"]["metrics"]}
    assert {"p50", "p99"} <= latency
    errors = [m[1] for m in widgets["4XX / 5XX errors"]["properties"]["metrics"]]
    assert errors == ["4XXError", "5XXError"]
    waf = [m[1] for m in widgets["WAF allowed / blocked"]["properties"]["metrics"]]
    assert waf == ["AllowedRequests", "BlockedRequests"]
    query = widgets["Authorizer errors"]["properties"]["query"]
    assert query.startswith("SOURCE '/aws/apigateway/orders-api-dev/v1/access'")
    assert "authorizerError" in query


def test_turning_kms_off_is_explicit_and_warned(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["observability"]["kmsEncryption"] = False
    result = plan(dev_config, preview=False)
    assert not result.of_type(KEY)
    assert all("kmsKeyId" not in g.inputs for g in result.of_type(LOG_GROUP))
    assert "kmsMasterKeyId" not in result.one(TOPIC).inputs
    assert any("kmsEncryption is off" in w for w in result.warnings)


def test_defaults_when_the_stack_says_nothing_about_observability(dev_config: dict[str, Any], plan: Plan) -> None:
    del dev_config["observability"]
    result = plan(dev_config, preview=True)
    assert named(result, LOG_GROUP, "access-logs").inputs["retentionInDays"] == 365
    settings = result.one("aws:apigateway/methodSettings:MethodSettings").inputs["settings"]
    assert (settings["loggingLevel"], settings["dataTraceEnabled"], settings["metricsEnabled"]) == (
        "ERROR",
        False,
        True,
    )
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (500, 1000)
    assert result.one(KEY).inputs["enableKeyRotation"] is True
    assert not result.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert len(result.of_type(ALARM)) == 5
    assert result.of_type("aws:cloudwatch/dashboard:Dashboard")


def test_no_dashboard_when_switched_off(
    dev_plans: dict[str, PlanResult], dev_config: dict[str, Any], plan: Plan
) -> None:
    dev_config["observability"]["dashboard"] = False
    result = plan(dev_config, preview=False)
    assert not result.of_type("aws:cloudwatch/dashboard:Dashboard")
    outputs = result.outputs[result.one("secure-api:index:SecureApi").urn]
    assert outputs.get("dashboardName") is None
    dev = dev_plans["update"]
    dev_outputs = dev.outputs[dev.one("secure-api:index:SecureApi").urn]
    assert dev_outputs["dashboardName"] == "orders-api-v1-eu-west-1-dev-dashboard"
    assert dev_outputs["accessLogGroupName"] == "/aws/apigateway/orders-api-dev/v1/access"
    assert dev_outputs["alarmTopicArn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:orders-api-dev-v1-alarms"


BAD_INPUTS = [
    pytest.param({"logRetentionDays": 100}, "observability.logRetentionDays", "must be one of", id="retention"),
    pytest.param({"executionLogging": "DEBUG"}, "observability.executionLogging", "ERROR", id="log-level"),
    pytest.param({"kmsDeletionWindowDays": 3}, "observability.kmsDeletionWindowDays", "7", id="kms-window"),
    pytest.param(
        {"throttle": {"rateLimit": 100, "burstLimit": 0}}, "observability.throttle.burstLimit", "1", id="burst"
    ),
    pytest.param({"alarms": {"emails": ["oncall"]}}, "observability.alarms.emails", "not e-mail", id="email"),
    pytest.param({"alarms": {"serverErrorPercent": 0}}, "observability.alarms.serverErrorPercent", "0", id="zero-rate"),
    pytest.param(
        {"alarms": {"evaluationPeriods": 2, "datapointsToAlarm": 3}},
        "observability.alarms",
        "cannot exceed evaluationPeriods",
        id="m-of-n",
    ),
    pytest.param({"alarms": {"periodSeconds": 30}}, "observability.alarms.periodSeconds", "60", id="period"),
    pytest.param({"dashbord": False}, "observability.dashbord", "unknown key", id="typo"),
]


@pytest.mark.parametrize(("settings", "path", "message"), BAD_INPUTS)
def test_bad_observability_settings_fail_with_the_key_named(
    dev_config: dict[str, Any], settings: dict[str, Any], path: str, message: str
) -> None:
    dev_config["observability"] = settings
    with pytest.raises(ConfigError) as raised:
        parse_config(dev_config)
    problems = dict(raised.value.problems)
    assert f"secure-api:{path}" in problems, problems
    assert message in problems[f"secure-api:{path}"]


def test_plan_summary_names_the_observability_controls(
    dev_plans: dict[str, PlanResult], dev_config: dict[str, Any]
) -> None:
    report = render_plan("dev", parse_config(dev_config), dev_plans["preview"])
    (line,) = [line for line in report.splitlines() if line.startswith("[observability]")]
    assert "17 resource(s)" in line
    assert "kept 400 d, KMS customer-managed key" in line
    assert "data trace off" in line
    assert "account CloudWatch role created" in line
