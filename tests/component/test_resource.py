"""The SecureApi component on the mock runtime: what it registers, with which properties and edges.

Every test runs in preview mode (outputs unknown, as in `pulumi preview`) and update mode.
Assertions read the recorded registration inputs, so none of them hides inside an `.apply`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.output import Unknown

from secure_api.component.config import ConfigError
from secure_api.component.resource import TYPE_TOKEN
from secure_api.plan.harness import PlannedResource, PlanResult
from tests.conftest import Plan

SECRET_SIG = "4dabf18193072939515e22adb298388d"


def named(result: PlanResult, type_: str, role: str) -> PlannedResource:
    matches = [r for r in result.of_type(type_) if r.name == f"secure-api-{role}"]
    assert len(matches) == 1, f"no single {type_} named secure-api-{role}"
    return matches[0]


def depends_on(resource: PlannedResource, target: PlannedResource, prop: str | None = None) -> bool:
    edges = resource.property_dependencies.get(prop, ()) if prop else resource.dependencies
    return target.urn in edges


def test_component_parents_every_resource(dev_plan: PlanResult) -> None:
    component = dev_plan.one(TYPE_TOKEN)
    assert component.name == "secure-api"
    children = dev_plan.custom_resources()
    assert children
    assert {r.parent for r in children} == {component.urn}


def test_api_is_one_openapi_document(dev_plan: PlanResult) -> None:
    api = dev_plan.one("aws:apigateway/restApi:RestApi")
    assert api.inputs["name"] == "orders-api"
    assert api.inputs["endpointConfiguration"]["types"] == "REGIONAL"
    assert api.inputs["putRestApiMode"] == "overwrite"
    assert api.inputs["failOnWarnings"] is True
    assert api.inputs["apiKeySource"] == "HEADER"
    for per_route in ("resource:Resource", "method:Method", "integration:Integration", "authorizer:Authorizer"):
        assert not dev_plan.of_type(f"aws:apigateway/{per_route}")
    body = api.inputs["body"]
    if dev_plan.preview:
        assert isinstance(body, Unknown)  # embeds the user pool ARN, unknown until created
    else:
        assert set(json.loads(body)["paths"]) == {
            "/health",
            "/orders",
            "/orders/{orderId}",
            "/reports/daily",
            "/partners/webhook",
            "/admin/{proxy+}",
        }


def test_one_fingerprinted_deployment_and_a_stable_stage(dev_plan: PlanResult) -> None:
    api = dev_plan.one("aws:apigateway/restApi:RestApi")
    deployment = dev_plan.one("aws:apigateway/deployment:Deployment")
    stage = dev_plan.one("aws:apigateway/stage:Stage")
    assert "fingerprint" in deployment.inputs["triggers"]
    assert not deployment.delete_before_replace
    assert "stageName" not in deployment.inputs  # removed in pulumi-aws v7; the Stage owns it
    assert depends_on(deployment, api, "restApi")
    assert depends_on(stage, deployment, "deployment")
    assert stage.inputs["stageName"] == "v1"
    assert stage.inputs["xrayTracingEnabled"] is True
    if not dev_plan.preview:
        assert len(deployment.inputs["triggers"]["fingerprint"]) == 64


def test_user_pool_is_hardened_and_protected(dev_plan: PlanResult) -> None:
    pool = dev_plan.one("aws:cognito/userPool:UserPool")
    assert pool.protect
    assert pool.inputs["deletionProtection"] == "ACTIVE"
    assert pool.inputs["mfaConfiguration"] == "ON"
    assert pool.inputs["softwareTokenMfaConfiguration"] == {"enabled": True}
    assert pool.inputs["userPoolTier"] == "PLUS"
    assert pool.inputs["userPoolAddOns"] == {"advancedSecurityMode": "ENFORCED"}
    policy = pool.inputs["passwordPolicy"]
    assert policy["minimumLength"] >= 14
    assert all(policy[k] for k in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"))
    assert pool.inputs["adminCreateUserConfig"] == {"allowAdminCreateUserOnly": True}


def test_app_clients_have_no_plain_password_or_implicit_flows(dev_plan: PlanResult) -> None:
    clients = dev_plan.of_type("aws:cognito/userPoolClient:UserPoolClient")
    assert {c.inputs["name"] for c in clients} == {"web", "fulfilment-service"}
    for client in clients:
        assert "ALLOW_USER_PASSWORD_AUTH" not in client.inputs["explicitAuthFlows"]
        assert "implicit" not in client.inputs.get("allowedOauthFlows", [])
        assert client.inputs["preventUserExistenceErrors"] == "ENABLED"
        assert client.inputs["enableTokenRevocation"] is True
        assert client.inputs["accessTokenValidity"] <= 60
        assert client.inputs["tokenValidityUnits"] == {
            "accessToken": "minutes",
            "idToken": "minutes",
            "refreshToken": "days",
        }
    server = dev_plan.one("aws:cognito/resourceServer:ResourceServer")
    assert {s["scopeName"] for s in server.inputs["scopes"]} == {"orders.read", "orders.write"}
    domain = dev_plan.one("aws:cognito/userPoolDomain:UserPoolDomain")
    assert domain.inputs["domain"] == "orders-api-dev-auth"
    (style,) = dev_plan.of_type("aws:cognito/managedLoginBranding:ManagedLoginBranding")  # the code-flow client
    web = named(dev_plan, "aws:cognito/userPoolClient:UserPoolClient", "client-web")
    assert depends_on(style, web, "clientId")
    assert style.inputs["useCognitoProvidedValues"] is True


def test_iam_invoke_policy_covers_exactly_the_iam_routes(dev_plan: PlanResult) -> None:
    policy = dev_plan.one("aws:iam/policy:Policy")
    api = dev_plan.one("aws:apigateway/restApi:RestApi")
    assert depends_on(policy, api, "policy")
    if dev_plan.preview:
        assert isinstance(policy.inputs["policy"], Unknown)
        return
    document = json.loads(policy.inputs["policy"])
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["execute-api:Invoke"]
    base = f"{dev_plan.one('aws:apigateway/restApi:RestApi').outputs['executionArn']}/v1"
    assert sorted(statement["Resource"]) == sorted([f"{base}/GET/reports/daily", f"{base}/*/admin/*"])


def test_lambda_authorizer_is_wired_with_least_privilege(dev_plan: PlanResult) -> None:
    function = named(dev_plan, "aws:lambda/function:Function", "authorizer")
    assert function.inputs["name"] == "orders-api-dev-authorizer"
    assert function.inputs["runtime"] == "python3.13"
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["tracingConfig"] == {"mode": "Active"}
    assert function.inputs["loggingConfig"]["logFormat"] == "JSON"
    env = function.inputs["environment"]["variables"]
    assert env["AUTH_MODE"] == "jwt"
    assert env["RESULT_TTL_SECONDS"] == "300"
    assert env["JWT_ALGORITHMS"] == "RS256"
    assert json.loads(env["ROUTE_REQUIREMENTS"]) == {
        "POST /partners/webhook": {"scopes": ["https://orders.example.com/orders.write"], "groups": []}
    }
    if not dev_plan.preview:
        (issuer,) = json.loads(env["JWT_ISSUERS"])
        assert issuer["issuer"].startswith("https://cognito-idp.eu-west-1.amazonaws.com/")
        assert issuer["jwksUrl"] == issuer["issuer"] + "/.well-known/jwks.json"
        assert issuer["tokenUse"] == "access"
        assert len(issuer["clientIds"]) == 2
    logs = named(dev_plan, "aws:cloudwatch/logGroup:LogGroup", "authorizer-logs")
    assert logs.inputs["name"] == "/aws/lambda/orders-api-dev-authorizer"
    assert logs.protect
    assert logs.retain_on_delete
    assert depends_on(function, logs)
    key = dev_plan.one("aws:kms/key:Key")
    assert depends_on(logs, key, "kmsKeyId")  # decision logs are encrypted with the customer key
    role = named(dev_plan, "aws:iam/role:Role", "authorizer-role")
    if not dev_plan.preview:
        (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert "Resource" not in trust  # IAM rejects a Resource element in a trust policy
    role_policy = named(dev_plan, "aws:iam/rolePolicy:RolePolicy", "authorizer-role-policy")
    if not dev_plan.preview:
        statements = json.loads(role_policy.inputs["policy"])["Statement"]
        actions = sorted(a for s in statements for a in s["Action"])
        assert actions == [
            "kms:Decrypt",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ]
        assert statements[0]["Resource"] == [f"arn:aws:logs:eu-west-1:123456789012:log-group:{logs.inputs['name']}:*"]
        # The environment (API key digests, issuer config) is encrypted with the component's key.
        assert statements[2] == {
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [function.inputs["kmsKeyArn"]],
        }
    assert depends_on(function, key, "kmsKeyArn")
    assert depends_on(function, role_policy)  # the role can decrypt before the first invocation
    permission = named(dev_plan, "aws:lambda/permission:Permission", "authorizer-invoke")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    api = dev_plan.one("aws:apigateway/restApi:RestApi")
    assert depends_on(permission, api, "sourceArn")
    if not dev_plan.preview:
        assert permission.inputs["sourceArn"] == f"{api.outputs['executionArn']}/authorizers/*"


def _in_deploying_account(config: dict[str, Any]) -> dict[str, Any]:
    for route in config["routes"]:
        if route["integration"]["type"] == "lambda":
            route["integration"]["functionArn"] = route["integration"]["functionArn"].replace(
                ":111122223333:", ":123456789012:"
            )
    return config


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_lambda_routes_get_a_permission_for_that_route_only(
    dev_config: dict[str, Any], plan: Plan, preview: bool
) -> None:
    result = plan(_in_deploying_account(dev_config), preview=preview)
    permissions = [p for p in result.of_type("aws:lambda/permission:Permission") if "route-invoke" in p.name]
    functions = {p.inputs["function"].rsplit(":", 1)[-1] for p in permissions}
    assert functions == {"orders-daily-report", "orders-partner-webhook"}
    assert not any("not the deploying account" in w or "add-permission" in w for w in result.warnings)
    if not preview:
        arns = sorted(p.inputs["sourceArn"] for p in permissions)
        base = f"{result.one('aws:apigateway/restApi:RestApi').outputs['executionArn']}/v1"
        assert arns == [f"{base}/GET/reports/daily", f"{base}/POST/partners/webhook"]


def test_example_functions_in_another_account_are_flagged_not_granted(dev_plan: PlanResult) -> None:
    """The shipped stacks are templates: their functions are not in the deploying (mock) account."""
    assert not [p for p in dev_plan.of_type("aws:lambda/permission:Permission") if "route-invoke" in p.name]
    flagged = [w for w in dev_plan.warnings if "in account 111122223333, the API deploys to 123456789012" in w]
    assert [w.split(":", 2)[1].split(":")[0] for w in flagged] == [
        "routes[4].integration.functionArn",
        "routes[5].integration.functionArn",
    ]
    assert "--source-arn arn:aws:execute-api:eu-west-1:123456789012:<api-id>/v1/GET/reports/daily" in flagged[0]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_function_in_another_region_fails_the_plan_before_any_resource(plan: Plan, preview: bool) -> None:
    route = {
        "path": "/r",
        "method": "GET",
        "auth": "iam",
        "integration": {"type": "lambda", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f"},
    }
    config = {"routes": [route], "network": {"allowedSourceCidrs": ["203.0.113.0/24"]}}
    with pytest.raises(ConfigError) as caught:
        plan(config, preview=preview)
    (key, message), *_ = caught.value.problems
    assert key == "secure-api:routes[0].integration.functionArn"
    assert "in us-east-1, the API in eu-west-1" in message


def test_usage_plans_reference_the_stage_and_set_limits(dev_plan: PlanResult) -> None:
    stage = dev_plan.one("aws:apigateway/stage:Stage")
    plans = {p.inputs["name"]: p for p in dev_plan.of_type("aws:apigateway/usagePlan:UsagePlan")}
    assert set(plans) == {"orders-api-partner-gold", "orders-api-mobile-basic"}
    gold = plans["orders-api-partner-gold"]
    assert depends_on(gold, stage, "apiStages")
    assert gold.inputs["throttleSettings"] == {"rateLimit": 100, "burstLimit": 200}
    assert gold.inputs["quotaSettings"] == {"limit": 100000, "period": "MONTH", "offset": 0}
    (api_stage,) = gold.inputs["apiStages"]
    assert api_stage["throttles"] == [{"path": "/orders/POST", "rateLimit": 20, "burstLimit": 40}]
    if not dev_plan.preview:
        assert api_stage["stage"] == "v1"
    keys = dev_plan.of_type("aws:apigateway/apiKey:ApiKey")
    bindings = dev_plan.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")
    assert len(keys) == len(bindings) == 2
    for binding in bindings:
        assert binding.inputs["keyType"] == "API_KEY"
        assert any(depends_on(binding, key, "keyId") for key in keys)
        assert any(depends_on(binding, plan, "usagePlanId") for plan in plans.values())
    assert all("value" not in key.inputs for key in keys)  # AWS generates the values


def test_outputs_are_typed_and_key_values_secret(dev_plan: PlanResult) -> None:
    component = dev_plan.one(TYPE_TOKEN)
    outputs = dev_plan.outputs[component.urn]
    assert set(outputs) >= {
        "invokeUrl",
        "stageArn",
        "restApiId",
        "fingerprint",
        "userPoolId",
        "userPoolArn",
        "appClientIds",
        "issuerUrl",
        "jwksUrl",
        "apiKeyIds",
        "apiKeyValues",
        "iamInvokePolicyArn",
    }
    assert outputs["apiKeyValues"][SECRET_SIG]  # marked secret in both modes
    if not dev_plan.preview:
        assert set(outputs["apiKeyValues"]["value"]) == {"partner-acme", "mobile-app"}
        assert outputs["invokeUrl"].startswith("https://")
        assert set(outputs["appClientIds"]) == {"web", "fulfilment-service"}
        assert outputs["jwksUrl"].endswith("/.well-known/jwks.json")


def test_resource_count_does_not_grow_with_routes(dev_config: dict[str, Any], plan: Plan) -> None:
    def count_with(extra_routes: int) -> int:
        config = json.loads(json.dumps(dev_config))
        config["routes"] += [
            {
                "path": f"/items{i}/{{id}}",
                "method": "GET",
                "scopes": ["orders.read"],
                "integration": {"type": "http", "url": f"https://items.example.com/{i}"},
            }
            for i in range(extra_routes)
        ]
        return len(plan(config, preview=True).custom_resources())

    assert count_with(0) == count_with(40)


def fingerprint_of(config: dict[str, Any], plan: Plan) -> str:
    result = plan(config, preview=False)
    return result.one("aws:apigateway/deployment:Deployment").inputs["triggers"]["fingerprint"]


def test_fingerprint_is_stable_when_nothing_relevant_changes(dev_config: dict[str, Any], plan: Plan) -> None:
    before = fingerprint_of(dev_config, plan)
    assert fingerprint_of(dev_config, plan) == before
    dev_config["usagePlans"][0]["quota"]["limit"] = 1  # plans live outside the deployment
    dev_config["api"]["tags"]["owner"] = "someone-else"
    assert fingerprint_of(dev_config, plan) == before


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: c["routes"][1]["integration"].update(url="https://v2.example.com/orders"), id="body"),
        pytest.param(lambda c: c["lambdaAuthorizer"].update(resultTtlSeconds=60), id="authorizer"),
        pytest.param(lambda c: c["routes"][1].update(scopes=["orders.write"]), id="route-scopes"),
        pytest.param(lambda c: c["api"].update(apiKeySource="HEADER", description="new"), id="api-description"),
    ],
)
def test_fingerprint_changes_with_what_a_deployment_snapshots(
    dev_config: dict[str, Any], plan: Plan, change: Any
) -> None:
    before = fingerprint_of(dev_config, plan)
    change(dev_config)
    assert fingerprint_of(dev_config, plan) != before


def test_acknowledged_exceptions_are_warned_about(dev_plan: PlanResult) -> None:
    assert "route GET /health is public: no authorizer (allowUnauthenticated)" in dev_plan.warnings
