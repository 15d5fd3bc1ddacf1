"""Raw `pulumi_aws` programs (no SecureApi component) for the request model: one REST API per auth type.

Each program builds the API the classic way (`RestApi`, `Resource`, `Method`, `Integration`,
`Deployment`, `Stage`), so the model reads it without an OpenAPI body, as it must for any stack.
`GET /items` has the authentication type asked for and a mock integration; the resource policy is the
document given (None: no policy). Planned in update mode, it is what AWS would hold after `pulumi up`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.stack import load
from secure_api.plan.harness import run_program

STAGE = "v1"
ACCOUNT = "123456789012"
"""The mock runtime's account (secure_api.plan.mock_state): the API's owner."""
OTHER_ACCOUNT = "210987654321"
SCOPE = "items/read"
USER_AUTHORIZER_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:their-authorizer/invocations"
)


@dataclass(frozen=True)
class RawApi:
    """What the program builds. `authorization` is the Method's: NONE, AWS_IAM, CUSTOM or COGNITO_USER_POOLS."""

    authorization: str
    policy: Mapping[str, Any] | None = None
    scopes: tuple[str, ...] = ()
    api_key_required: bool = False
    plan_stage: str = STAGE
    """The stage the usage plan lists (with `api_key_required`); another name breaks every keyed call."""


def policy(effect: str | None, *, principal: Any = "*") -> dict[str, Any] | None:
    """A resource policy whose one statement has `effect` on every method of the API; None gives a
    policy that names some other API only (neither allows nor denies this one)."""
    resource = "execute-api:/*" if effect else "arn:aws:execute-api:us-east-1:123456789012:other-api/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"{effect or 'Elsewhere'}Everything",
                "Effect": effect or "Allow",
                "Principal": principal,
                "Action": "execute-api:Invoke",
                "Resource": resource,
            }
        ],
    }


def program(spec: RawApi) -> Callable[[], None]:
    def run() -> None:
        api = aws.apigateway.RestApi(
            "items",
            name="items",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
        )
        if spec.policy is not None:
            document = json.dumps(spec.policy).replace('"execute-api:/*"', '"EXECUTION_ARN/*"')
            aws.apigateway.RestApiPolicy(
                "items",
                rest_api_id=api.id,
                policy=api.execution_arn.apply(lambda arn: document.replace("EXECUTION_ARN", arn)),
            )
        resource = aws.apigateway.Resource("items", rest_api=api.id, parent_id=api.root_resource_id, path_part="items")
        authorizer_id: pulumi.Output[str] | None = None
        if spec.authorization == "COGNITO_USER_POOLS":
            pool = aws.cognito.UserPool("users", name="users")
            aws.cognito.ResourceServer(
                "items",
                user_pool_id=pool.id,
                identifier="items",
                name="items",
                scopes=[aws.cognito.ResourceServerScopeArgs(scope_name="read", scope_description="read items")],
            )
            aws.cognito.UserPoolClient(
                "web",
                name="web",
                user_pool_id=pool.id,
                allowed_oauth_flows_user_pool_client=True,
                allowed_oauth_flows=["code"],
                allowed_oauth_scopes=["openid", SCOPE],
                callback_urls=["https://app.example.com/callback"],
                supported_identity_providers=["COGNITO"],
            )
            authorizer_id = aws.apigateway.Authorizer(
                "users", name="users", rest_api=api.id, type="COGNITO_USER_POOLS", provider_arns=[pool.arn]
            ).id
        elif spec.authorization == "CUSTOM":
            authorizer_id = aws.apigateway.Authorizer(
                "theirs",
                name="theirs",
                rest_api=api.id,
                type="REQUEST",
                identity_source="method.request.header.Authorization",
                authorizer_uri=USER_AUTHORIZER_URI,
                authorizer_result_ttl_in_seconds=0,
            ).id
        method = aws.apigateway.Method(
            "get-items",
            rest_api=api.id,
            resource_id=resource.id,
            http_method="GET",
            authorization=spec.authorization,
            authorizer_id=authorizer_id,
            authorization_scopes=list(spec.scopes) or None,
            api_key_required=spec.api_key_required,
        )
        integration = aws.apigateway.Integration(
            "get-items",
            rest_api=api.id,
            resource_id=resource.id,
            http_method="GET",
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
            opts=pulumi.ResourceOptions(depends_on=[method]),
        )
        deployment = aws.apigateway.Deployment(
            "items", rest_api=api.id, opts=pulumi.ResourceOptions(depends_on=[integration])
        )
        stage = aws.apigateway.Stage("v1", rest_api=api.id, deployment=deployment.id, stage_name=STAGE)
        if spec.api_key_required:
            usage_plan = aws.apigateway.UsagePlan(
                "partners",
                name="partners",
                api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=api.id, stage=spec.plan_stage)],
                throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(rate_limit=10, burst_limit=20),
                opts=pulumi.ResourceOptions(depends_on=[stage]),
            )
            key = aws.apigateway.ApiKey("partner", name="partner")
            aws.apigateway.UsagePlanKey("partner", key_id=key.id, key_type="API_KEY", usage_plan_id=usage_plan.id)

    return run


def gateway(spec: RawApi) -> Gateway:
    """The request model of `spec`'s program, planned in update mode. Close it after use."""
    planned = run_program(program(spec), config={}, project="raw", stack="test", preview=False)
    return Gateway(load(planned.resources))
