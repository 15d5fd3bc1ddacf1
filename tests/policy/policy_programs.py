"""Raw `pulumi_aws` programs (no SecureApi component) the pack must judge like any other stack.

`secure_program` builds every layer by hand; `insecure_program` is the same API written the way
many quick-start examples do it. Both are plain Pulumi programs run on the mock runtime.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

MANAGED_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
)
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "sourceIp": "$context.identity.sourceIp",
        "status": "$context.status",
    }
)


def _visibility(name: str) -> aws.wafv2.WebAclVisibilityConfigArgs:
    return aws.wafv2.WebAclVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _rule_visibility(name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _waf_rules() -> list[aws.wafv2.WebAclRuleArgs]:
    rules = [
        aws.wafv2.WebAclRuleArgs(
            name="rate",
            priority=0,
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=2000, aggregate_key_type="IP"
                )
            ),
            visibility_config=_rule_visibility("rate"),
        )
    ]
    for priority, group in enumerate(MANAGED_GROUPS, start=1):
        rules.append(
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=priority,
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        name=group, vendor_name="AWS"
                    )
                ),
                visibility_config=_rule_visibility(group),
            )
        )
    return rules


def _openapi(authorizer_uri: str, user_pool_arn: str, backend_uri: str) -> str:
    integration = {"type": "http_proxy", "httpMethod": "GET", "uri": backend_uri}
    cors = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'}}
    return json.dumps(
        {
            "openapi": "3.0.1",
            "info": {"title": "orders", "version": "1"},
            "x-amazon-apigateway-api-key-source": "HEADER",
            "security": [{"cognito": ["orders/read"]}],
            "paths": {
                "/orders": {
                    "get": {"x-amazon-apigateway-integration": integration},
                    "post": {
                        "security": [{"lambda": [], "api_key": []}],
                        "x-amazon-apigateway-integration": integration,
                    },
                    "options": {"security": [], "x-amazon-apigateway-integration": cors},
                }
            },
            "components": {
                "securitySchemes": {
                    "cognito": {
                        "type": "apiKey",
                        "name": "Authorization",
                        "in": "header",
                        "x-amazon-apigateway-authtype": "cognito_user_pools",
                        "x-amazon-apigateway-authorizer": {
                            "type": "cognito_user_pools",
                            "providerARNs": [user_pool_arn],
                        },
                    },
                    "lambda": {
                        "type": "apiKey",
                        "name": "Authorization",
                        "in": "header",
                        "x-amazon-apigateway-authtype": "custom",
                        "x-amazon-apigateway-authorizer": {
                            "type": "request",
                            "authorizerUri": authorizer_uri,
                            "identitySource": "method.request.header.Authorization",
                            "authorizerResultTtlInSeconds": 300,
                        },
                    },
                    "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                }
            },
        }
    )


def secure_program() -> None:
    """Every layer, by hand: Cognito + Lambda authorizer, usage plan, WAF, logs, mTLS domain, alarm."""
    pool = aws.cognito.UserPool(
        "users",
        mfa_configuration="ON",
        software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
        password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
            minimum_length=14,
            require_lowercase=True,
            require_uppercase=True,
            require_numbers=True,
            require_symbols=True,
            temporary_password_validity_days=3,
        ),
        user_pool_tier="PLUS",
        user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode="ENFORCED"),
        deletion_protection="ACTIVE",
    )
    aws.cognito.UserPoolClient(
        "web",
        user_pool_id=pool.id,
        explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        allowed_oauth_flows=["code"],
        allowed_oauth_flows_user_pool_client=True,
        allowed_oauth_scopes=["openid"],
        callback_urls=["https://app.example.com/callback"],
        supported_identity_providers=["COGNITO"],
        enable_token_revocation=True,
        generate_secret=False,
    )
    role = aws.iam.Role(
        "authorizer-role",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    authorizer_fn = aws.lambda_.Function(
        "authorizer",
        role=role.arn,
        runtime="python3.12",
        handler="index.handler",
        code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(e, c):\n    return {}\n")}),
    )
    api = aws.apigateway.RestApi(
        "orders",
        body=pulumi.Output.all(authorizer_fn.invoke_arn, pool.arn).apply(
            lambda args: _openapi(args[0], args[1], "https://backend.example.com/orders")
        ),
        endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
        api_key_source="HEADER",
        disable_execute_api_endpoint=True,
    )
    aws.apigateway.RestApiPolicy("orders", rest_api_id=api.id, policy=_office_only_policy())
    aws.lambda_.Permission(
        "authorizer-invoke",
        action="lambda:InvokeFunction",
        function=authorizer_fn.name,
        principal="apigateway.amazonaws.com",
        source_arn=api.execution_arn.apply(lambda arn: f"{arn}/authorizers/*"),
    )
    deployment = aws.apigateway.Deployment("orders", rest_api=api.id, triggers={"body": "1"})
    access_logs = aws.cloudwatch.LogGroup(
        "access-logs", name="/aws/apigateway/orders", retention_in_days=365, kms_key_id="alias/logs"
    )
    stage = aws.apigateway.Stage(
        "prod",
        rest_api=api.id,
        deployment=deployment.id,
        stage_name="prod",
        xray_tracing_enabled=True,
        access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
            destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
        ),
    )
    aws.apigateway.MethodSettings(
        "prod-all",
        rest_api=api.id,
        stage_name=stage.stage_name,
        method_path="*/*",
        settings=aws.apigateway.MethodSettingsSettingsArgs(
            logging_level="INFO", metrics_enabled=True, data_trace_enabled=False
        ),
    )
    acl = aws.wafv2.WebAcl(
        "orders",
        scope="REGIONAL",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        visibility_config=_visibility("orders"),
        rules=_waf_rules(),
    )
    aws.wafv2.WebAclAssociation("orders", resource_arn=stage.arn, web_acl_arn=acl.arn)
    waf_logs = aws.cloudwatch.LogGroup(
        "waf-logs", name="aws-waf-logs-orders", retention_in_days=365, kms_key_id="alias/logs"
    )
    aws.wafv2.WebAclLoggingConfiguration(
        "orders",
        resource_arn=acl.arn,
        log_destination_configs=[waf_logs.arn],
        redacted_fields=[
            aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name="authorization")
            )
        ],
    )
    domain = aws.apigateway.DomainName(
        "api",
        domain_name="api.example.com",
        regional_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
        endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
        security_policy="TLS_1_2",
        mutual_tls_authentication=aws.apigateway.DomainNameMutualTlsAuthenticationArgs(
            truststore_uri="s3://truststore/ca.pem", truststore_version="v1"
        ),
    )
    aws.apigateway.BasePathMapping("api", rest_api=api.id, stage_name=stage.stage_name, domain_name=domain.domain_name)
    plan = aws.apigateway.UsagePlan(
        "partners",
        api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=api.id, stage=stage.stage_name)],
        throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(burst_limit=20, rate_limit=10),
        quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(limit=10000, period="DAY"),
    )
    key = aws.apigateway.ApiKey("partner-a")
    aws.apigateway.UsagePlanKey("partner-a", key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id)
    aws.cloudwatch.MetricAlarm(
        "prod-5xx",
        namespace="AWS/ApiGateway",
        metric_name="5XXError",
        dimensions={"ApiName": api.name, "Stage": stage.stage_name},
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
    )


def _office_only_policy() -> str:
    """Invoke for anyone the authorizers let in, from the office network only (the documented fence)."""
    invoke = {"Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    outside = {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", **invoke}, {"Effect": "Deny", **invoke, "Condition": outside}],
        }
    )


def _open_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}],
        }
    )


def insecure_program() -> None:
    """The quick-start way: every layer missing or misconfigured, one control per resource at least."""
    pool = aws.cognito.UserPool(
        "users",
        password_policy=aws.cognito.UserPoolPasswordPolicyArgs(minimum_length=6),
        user_pool_tier="PLUS",
        user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode="AUDIT"),
    )
    aws.cognito.UserPoolClient(
        "web",
        user_pool_id=pool.id,
        explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        allowed_oauth_flows=["implicit"],
        enable_token_revocation=False,
    )
    api = aws.apigateway.RestApi("orders", policy=_open_policy())
    resource = aws.apigateway.Resource("orders", rest_api=api.id, parent_id=api.root_resource_id, path_part="orders")
    aws.apigateway.Method(
        "orders-get",
        rest_api=api.id,
        resource_id=resource.id,
        http_method="GET",
        authorization="NONE",
        api_key_required=True,
    )
    # OPTIONS proxied to the backend (so that it answers CORS itself): not a preflight, it needs an authorizer.
    options = aws.apigateway.Method(
        "orders-options", rest_api=api.id, resource_id=resource.id, http_method="OPTIONS", authorization="NONE"
    )
    aws.apigateway.Integration(
        "orders-options",
        rest_api=api.id,
        resource_id=resource.id,
        http_method=options.http_method,
        type="HTTP_PROXY",
        integration_http_method="OPTIONS",
        uri="https://backend.example.com/orders",
    )
    authorizer = aws.apigateway.Authorizer(
        "lambda",
        rest_api=api.id,
        type="REQUEST",
        authorizer_uri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
    )
    aws.lambda_.Permission(
        "authorizer-invoke", action="lambda:InvokeFunction", function="auth", principal="apigateway.amazonaws.com"
    )
    deployment = aws.apigateway.Deployment(
        "orders", rest_api=api.id, opts=pulumi.ResourceOptions(depends_on=[authorizer])
    )
    stage = aws.apigateway.Stage("prod", rest_api=api.id, deployment=deployment.id, stage_name="prod")
    aws.apigateway.MethodSettings(
        "prod-all",
        rest_api=api.id,
        stage_name=stage.stage_name,
        method_path="*/*",
        settings=aws.apigateway.MethodSettingsSettingsArgs(logging_level="OFF", data_trace_enabled=True),
    )
    aws.cloudwatch.LogGroup("app-logs", name="/aws/apigateway/orders")
    acl = aws.wafv2.WebAcl(
        "orders",
        scope="REGIONAL",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        visibility_config=_visibility("orders"),
        rules=_waf_rules()[1:2],
    )
    waf_logs = aws.cloudwatch.LogGroup("waf-logs", name="waf-orders", retention_in_days=365, kms_key_id="alias/logs")
    aws.wafv2.WebAclLoggingConfiguration("orders", resource_arn=acl.arn, log_destination_configs=[waf_logs.arn])
    aws.wafv2.WebAcl(
        "unlogged",
        scope="REGIONAL",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        visibility_config=_visibility("unlogged"),
        rules=_waf_rules(),
    )
    domain = aws.apigateway.DomainName(
        "api",
        domain_name="api.example.com",
        regional_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
        endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
        security_policy="TLS_1_0",
        mutual_tls_authentication=aws.apigateway.DomainNameMutualTlsAuthenticationArgs(
            truststore_uri="s3://truststore/ca.pem"
        ),
    )
    aws.apigateway.DomainName(
        "api-tls13",
        domain_name="tls13.example.com",
        regional_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
        endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
        security_policy="SecurityPolicy_TLS13_1_3_2025_09",
    )
    aws.apigateway.BasePathMapping("api", rest_api=api.id, stage_name=stage.stage_name, domain_name=domain.domain_name)
    aws.apigateway.UsagePlan("partners")
    aws.apigateway.ApiKey("partner-a")
    aws.apigateway.RestApi(
        "internal", endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="PRIVATE")
    )


INSECURE_VIOLATIONS = frozenset(
    {
        ("api-route-authorizer", "orders-get"),
        ("api-route-authorizer", "orders-options"),
        ("authorizer-cache-scope", "lambda"),
        ("lambda-permission-source-arn", "authorizer-invoke"),
        ("cognito-password-policy", "users"),
        ("cognito-mfa", "users"),
        ("cognito-deletion-protection", "users"),
        ("cognito-threat-protection", "users"),
        ("cognito-client-no-password-flows", "web"),
        ("cognito-client-no-implicit-flow", "web"),
        ("cognito-client-token-revocation", "web"),
        ("usage-plan-throttle", "partners"),
        ("usage-plan-quota", "partners"),
        ("usage-plan-stage", "partners"),
        ("api-key-in-usage-plan", "partner-a"),
        ("api-key-stage-in-usage-plan", "prod"),
        ("resource-policy-no-open-allow", "orders"),
        ("private-api-vpce-policy", "internal"),
        ("waf-stage-association", "prod"),
        ("waf-acl-rules", "orders"),
        ("waf-reputation-lists", "orders"),
        ("waf-logging", "unlogged"),
        ("waf-log-redaction", "orders"),
        ("waf-log-destination-name", "orders"),
        ("stage-access-logs", "prod"),
        ("stage-execution-logging", "prod"),
        ("method-data-trace-off", "prod-all"),
        ("log-group-retention", "app-logs"),
        ("log-group-kms", "app-logs"),
        ("domain-tls-policy", "api"),
        ("enhanced-tls-endpoint-access-mode", "api-tls13"),
        ("mtls-truststore-version", "api"),
        ("custom-domain-default-endpoint", "orders"),
        ("stage-5xx-alarm", "prod"),
    }
)
"""(rule, resource name) of every finding the insecure program must produce, in both modes."""
