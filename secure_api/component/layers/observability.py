"""Logging, monitoring and alarms (README layer "5. Observability").

Two steps, because the stage sits between them: `build_access_logging` makes what the Stage writes
to (the customer-managed key, the access log group, optionally the account's CloudWatch role);
`build_monitoring` makes what watches the Stage (method settings, execution log group, alarm
topic, alarms and dashboard).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .context import LayerContext
from .lambda_authorizer import authorizer_log_group_name
from .log_groups import protected_log_group
from .policy_document import document_json, statement
from .waf import WafResources, waf_log_group_name

# One JSON object per request: who called (never their token), what they asked, what WAF, the
# authorizer and the backend said, and over which TLS. Absent values are logged as "-".
ACCESS_LOG_FORMAT: dict[str, str] = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "userArn": "$context.identity.userArn",
    "principalId": "$context.authorizer.principalId",
    "cognitoSub": "$context.authorizer.claims.sub",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "stage": "$context.stage",
    "domainName": "$context.domainName",
    "protocol": "$context.protocol",
    "tlsVersion": "$context.tlsVersion",
    "cipherSuite": "$context.cipherSuite",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integration.status",
    "errorMessage": "$context.error.message",
    "errorResponseType": "$context.error.responseType",
    "authorizerError": "$context.authorizer.error",
    "wafError": "$context.waf.error",
    "wafStatus": "$context.waf.status",
    "wafResponseCode": "$context.wafResponseCode",
    "webAclArn": "$context.webaclArn",
    "xrayTraceId": "$context.xrayTraceId",
}

PUSH_TO_CLOUDWATCH_POLICY = "iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


@dataclass(frozen=True)
class AccessLogging:
    key: aws.kms.Key | None
    log_group: aws.cloudwatch.LogGroup
    account: aws.apigateway.Account | None
    stage_settings: aws.apigateway.StageAccessLogSettingsArgs

    @property
    def stage_dependencies(self) -> list[pulumi.Resource]:
        """A REST stage with logging is rejected until the account has its CloudWatch role."""
        return [self.account] if self.account else []


@dataclass(frozen=True)
class Monitoring:
    method_settings: aws.apigateway.MethodSettings
    execution_log_group: aws.cloudwatch.LogGroup
    topic: aws.sns.Topic
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    dashboard: aws.cloudwatch.Dashboard | None


def build_access_logging(ctx: LayerContext) -> AccessLogging:
    settings = ctx.config.observability
    key = _log_key(ctx)
    log_group = protected_log_group(ctx, "access-logs", _access_log_group_name(ctx), settings.log_retention_days, key)
    return AccessLogging(
        key=key,
        log_group=log_group,
        account=_account_role(ctx),
        stage_settings=aws.apigateway.StageAccessLogSettingsArgs(
            destination_arn=log_group.arn,
            format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
        ),
    )


def build_monitoring(
    ctx: LayerContext,
    api: aws.apigateway.RestApi,
    stage: aws.apigateway.Stage,
    waf: WafResources | None,
    logging: AccessLogging,
) -> Monitoring:
    settings = ctx.config.observability
    # Created before logging is switched on, or API Gateway creates it unencrypted and kept forever.
    execution_logs = protected_log_group(
        ctx,
        "execution-logs",
        pulumi.Output.concat("API-Gateway-Execution-Logs_", api.id, "/", ctx.config.api.stage_name),
        settings.log_retention_days,
        logging.key,
    )
    method_settings = aws.apigateway.MethodSettings(
        ctx.child("method-settings"),
        rest_api=api.id,
        stage_name=stage.stage_name,
        method_path="*/*",
        settings=aws.apigateway.MethodSettingsSettingsArgs(
            metrics_enabled=True,
            logging_level=settings.execution_logging,
            # Data trace would write full request and response bodies (tokens, personal data) to the logs.
            data_trace_enabled=False,
            throttling_rate_limit=settings.throttle.rate_limit,
            throttling_burst_limit=settings.throttle.burst_limit,
        ),
        # One settings entry per stage and method path (an update of the stage): deleting the old
        # resource after the new one was written would reset logging, metrics and throttling.
        opts=ctx.opts(delete_before_replace=True, depends_on=[execution_logs, *logging.stage_dependencies]),
    )
    topic = _alarm_topic(ctx, logging.key)
    alarms = _alarms(ctx, api, stage, waf, topic)
    dashboard = _dashboard(ctx, api, stage, waf, logging) if settings.dashboard else None
    return Monitoring(
        method_settings=method_settings,
        execution_log_group=execution_logs,
        topic=topic,
        alarms=alarms,
        dashboard=dashboard,
    )


def _prefix(ctx: LayerContext) -> str:
    return f"{ctx.physical_prefix}-{ctx.config.api.stage_name}"


def _access_log_group_name(ctx: LayerContext) -> str:
    return f"/aws/apigateway/{ctx.physical_prefix}/{ctx.config.api.stage_name}/access"


def _log_group_arn(ctx: LayerContext, name: str) -> str:
    return f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account_id}:log-group:{name}"


def _alarm_arn_pattern(ctx: LayerContext) -> str:
    return f"arn:{ctx.partition}:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{_prefix(ctx)}-*"


def _log_key(ctx: LayerContext) -> aws.kms.Key | None:
    settings = ctx.config.observability
    if not settings.kms_encryption:
        pulumi.log.warn(
            "observability.kmsEncryption is off: log groups use CloudWatch's default encryption and the "
            "alarm topic is unencrypted (the AWS-managed SNS key does not accept CloudWatch alarms)"
        )
        return None
    log_groups = [_access_log_group_name(ctx), f"API-Gateway-Execution-Logs_*/{ctx.config.api.stage_name}"]
    if ctx.config.waf.enabled:
        log_groups.append(waf_log_group_name(ctx))
    if ctx.config.uses_auth("custom"):
        log_groups.append(authorizer_log_group_name(ctx))
    key = aws.kms.Key(
        ctx.child("logs-key"),
        description=f"Encrypts the logs and alarm topic of {_prefix(ctx)} (secure-api)",
        enable_key_rotation=True,
        deletion_window_in_days=settings.kms_deletion_window_days,
        policy=document_json(
            statement(
                "Allow",
                ["kms:*"],
                ["*"],
                sid="AccountAdministersTheKey",
                principal={"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"},
            ),
            statement(
                "Allow",
                ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                ["*"],
                sid="CloudWatchLogsEncryptsTheseLogGroups",
                principal={"Service": f"logs.{ctx.region}.amazonaws.com"},
                condition={
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": [_log_group_arn(ctx, g) for g in log_groups]}
                },
            ),
            statement(
                "Allow",
                ["kms:Decrypt", "kms:GenerateDataKey*"],
                ["*"],
                sid="CloudWatchAlarmsPublishToTheTopic",
                principal={"Service": "cloudwatch.amazonaws.com"},
                condition={
                    "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    "ArnLike": {"aws:SourceArn": _alarm_arn_pattern(ctx)},
                },
            ),
        ),
        tags=ctx.tags(),
        # Deleting the key makes every log line it encrypted unreadable: never with the stack.
        opts=ctx.opts(protect=True, retain_on_delete=True),
    )
    aws.kms.Alias(
        ctx.child("logs-key-alias"), name=f"alias/{_prefix(ctx)}-logs", target_key_id=key.arn, opts=ctx.opts()
    )
    return key


def _account_role(ctx: LayerContext) -> aws.apigateway.Account | None:
    """The region's API Gateway CloudWatch Logs role, an account-wide setting shared by every REST API.

    Created only on request, and retained on delete: destroying this stack must not take logging
    away from the other APIs in the region (pulumi-aws v7 dropped `reset_on_delete`; deleting the
    `Account` resource resets the setting).
    """
    if not ctx.config.observability.create_account_role:
        pulumi.log.warn(
            "observability.createAccountRole is false: REST API access and execution logging need the region's "
            "API Gateway CloudWatch Logs role, so this account must already have one (else the stage fails with "
            "'CloudWatch Logs role ARN must be set in account settings')"
        )
        return None
    retained = ctx.opts(retain_on_delete=True)
    role = aws.iam.Role(
        ctx.child("apigateway-cloudwatch-role"),
        description="API Gateway pushes logs to CloudWatch Logs (account-wide setting, kept on stack delete)",
        assume_role_policy=document_json(
            statement("Allow", ["sts:AssumeRole"], None, principal={"Service": "apigateway.amazonaws.com"})
        ),
        tags=ctx.tags(),
        opts=retained,
    )
    attachment = aws.iam.RolePolicyAttachment(
        ctx.child("apigateway-cloudwatch-role-policy"),
        role=role.name,
        policy_arn=f"arn:{ctx.partition}:{PUSH_TO_CLOUDWATCH_POLICY}",
        opts=retained,
    )
    return aws.apigateway.Account(
        ctx.child("apigateway-account"),
        cloudwatch_role_arn=role.arn,
        opts=ctx.opts(retain_on_delete=True, depends_on=[attachment]),
    )


def _alarm_topic(ctx: LayerContext, key: aws.kms.Key | None) -> aws.sns.Topic:
    topic = aws.sns.Topic(
        ctx.child("alarms"),
        name=f"{_prefix(ctx)}-alarms",
        kms_master_key_id=key.arn if key else None,
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    aws.sns.TopicPolicy(
        ctx.child("alarms-policy"),
        arn=topic.arn,
        policy=document_json(
            statement(
                "Allow",
                ["sns:Publish"],
                [topic.arn],
                sid="CloudWatchAlarmsOfThisStage",
                principal={"Service": "cloudwatch.amazonaws.com"},
                condition={
                    "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    "ArnLike": {"aws:SourceArn": _alarm_arn_pattern(ctx)},
                },
            ),
            statement(
                "Deny",
                ["sns:Publish"],
                [topic.arn],
                sid="TlsOnly",
                principal="*",
                condition={"Bool": {"aws:SecureTransport": "false"}},
            ),
        ),
        opts=ctx.opts(),
    )
    for email in ctx.config.observability.alarms.emails:
        # Named by a digest, so adding an address never renames the others' subscriptions.
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:10]
        aws.sns.TopicSubscription(
            ctx.child(f"alarm-email-{digest}"), topic=topic.arn, protocol="email", endpoint=email, opts=ctx.opts()
        )
    return topic


@dataclass(frozen=True)
class _AlarmSpec:
    role: str
    description: str
    namespace: str
    metric: str
    threshold: float
    statistic: str | None = None
    extended_statistic: str | None = None
    sustained: bool = True
    """Judged over the configured M-of-N periods; otherwise one 5-minute total is enough."""


def _alarms(
    ctx: LayerContext,
    api: aws.apigateway.RestApi,
    stage: aws.apigateway.Stage,
    waf: WafResources | None,
    topic: aws.sns.Topic,
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    thresholds = ctx.config.observability.alarms
    api_specs = [
        # 5XXError and 4XXError are 1 or 0 per request: their Average over a period is the error rate.
        _AlarmSpec(
            "5xx-rate",
            f"More than {thresholds.server_error_percent:g}% of requests fail with 5XX",
            "AWS/ApiGateway",
            "5XXError",
            thresholds.server_error_percent / 100,
            statistic="Average",
        ),
        _AlarmSpec(
            "4xx-rate",
            f"More than {thresholds.client_error_percent:g}% of requests are rejected with 4XX",
            "AWS/ApiGateway",
            "4XXError",
            thresholds.client_error_percent / 100,
            statistic="Average",
        ),
        _AlarmSpec(
            "latency-p99",
            f"p99 latency above {thresholds.latency_p99_ms} ms",
            "AWS/ApiGateway",
            "Latency",
            thresholds.latency_p99_ms,
            extended_statistic="p99",
        ),
        _AlarmSpec(
            "traffic-spike",
            f"More than {thresholds.traffic_spike_requests} requests in 5 minutes",
            "AWS/ApiGateway",
            "Count",
            thresholds.traffic_spike_requests,
            statistic="Sum",
            sustained=False,
        ),
    ]
    api_dimensions: dict[str, pulumi.Input[str]] = {"ApiName": api.name, "Stage": stage.stage_name}
    alarms = {spec.role: _alarm(ctx, spec, api_dimensions, topic) for spec in api_specs}
    if waf:
        waf_spec = _AlarmSpec(
            "waf-blocked",
            f"WAF blocked more than {thresholds.waf_blocked_requests} requests in 5 minutes",
            "AWS/WAFV2",
            "BlockedRequests",
            thresholds.waf_blocked_requests,
            statistic="Sum",
            sustained=False,
        )
        waf_dimensions = {"WebACL": waf.acl.name, "Rule": "ALL", "Region": ctx.region}
        alarms[waf_spec.role] = _alarm(ctx, waf_spec, waf_dimensions, topic)
    return alarms


def _alarm(
    ctx: LayerContext, spec: _AlarmSpec, dimensions: dict[str, pulumi.Input[str]], topic: aws.sns.Topic
) -> aws.cloudwatch.MetricAlarm:
    thresholds = ctx.config.observability.alarms
    if spec.sustained:
        period, periods, datapoints = (
            thresholds.period_seconds,
            thresholds.evaluation_periods,
            thresholds.datapoints_to_alarm,
        )
    else:
        period, periods, datapoints = 300, 1, 1
    return aws.cloudwatch.MetricAlarm(
        ctx.child(f"alarm-{spec.role}"),
        name=f"{_prefix(ctx)}-{spec.role}",
        alarm_description=spec.description,
        namespace=spec.namespace,
        metric_name=spec.metric,
        dimensions=dimensions,
        statistic=spec.statistic,
        extended_statistic=spec.extended_statistic,
        # A percentile over a handful of night-time requests says little: keep the alarm's state then.
        evaluate_low_sample_count_percentiles="ignore" if spec.extended_statistic else None,
        period=period,
        evaluation_periods=periods,
        datapoints_to_alarm=datapoints,
        threshold=spec.threshold,
        comparison_operator="GreaterThanThreshold",
        # No traffic is not an incident; quiet periods must not page anyone.
        treat_missing_data="notBreaching",
        alarm_actions=[topic.arn],
        ok_actions=[topic.arn],
        tags=ctx.tags(),
        opts=ctx.opts(),
    )


def _dashboard(
    ctx: LayerContext,
    api: aws.apigateway.RestApi,
    stage: aws.apigateway.Stage,
    waf: WafResources | None,
    logging: AccessLogging,
) -> aws.cloudwatch.Dashboard:
    def api_metric(metric: str, stat: str, label: str) -> list[Any]:
        return [
            "AWS/ApiGateway",
            metric,
            "ApiName",
            api.name,
            "Stage",
            stage.stage_name,
            {"stat": stat, "label": label},
        ]

    def metrics_widget(title: str, metrics: list[list[Any]], stat: str) -> dict[str, Any]:
        properties = {"title": title, "region": ctx.region, "view": "timeSeries", "stat": stat, "period": 60}
        return {"type": "metric", "width": 12, "height": 6, "properties": {**properties, "metrics": metrics}}

    widgets = [
        metrics_widget("Requests", [api_metric("Count", "Sum", "requests")], "Sum"),
        metrics_widget(
            "4XX / 5XX errors", [api_metric("4XXError", "Sum", "4XX"), api_metric("5XXError", "Sum", "5XX")], "Sum"
        ),
        metrics_widget(
            "Latency (ms)",
            [
                api_metric("Latency", "p50", "p50"),
                api_metric("Latency", "p99", "p99"),
                api_metric("IntegrationLatency", "p99", "integration p99"),
            ],
            "p99",
        ),
    ]
    if waf:
        widgets.append(
            metrics_widget(
                "WAF allowed / blocked",
                [
                    ["AWS/WAFV2", metric, "WebACL", waf.acl.name, "Rule", "ALL", "Region", ctx.region, {"label": label}]
                    for metric, label in (("AllowedRequests", "allowed"), ("BlockedRequests", "blocked"))
                ],
                "Sum",
            )
        )
    # Cognito and Lambda authorizer failures alike land in the access log's authorizerError field.
    query = pulumi.Output.concat(
        "SOURCE '",
        logging.log_group.name,
        '\' | filter authorizerError != "-" | stats count(*) as authorizerErrors by bin(5m)',
    )
    widgets.append(
        {
            "type": "log",
            "width": 12,
            "height": 6,
            "properties": {"title": "Authorizer errors", "region": ctx.region, "view": "timeSeries", "query": query},
        }
    )
    return aws.cloudwatch.Dashboard(
        ctx.child("dashboard"),
        # Dashboard names are per account, across regions (limit 255 characters).
        dashboard_name=ctx.account_scoped_name("dashboard", 255),
        dashboard_body=pulumi.Output.json_dumps({"widgets": widgets}),
        opts=ctx.opts(),
    )
