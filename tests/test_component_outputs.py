"""Output-valued args: a program creates its backend and hands `fn.arn` to a route.

Preview (unknown outputs) and update (known) on the mock runtime. The route's invoke permission
names that function and depends on it; the OpenAPI body's integration URI is built from its ARN.
An Output that resolves to a value the field's rule rejects fails the run with the key path.
"""

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.output import Unknown

from secure_api import SecureApi, SecureApiArgs
from secure_api.plan.harness import ACCOUNT_ID, PlanResult, run_program

REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:orders-backend"
ASSUME_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
)


def backend() -> aws.lambda_.Function:
    role = aws.iam.Role("orders-backend-role", assume_role_policy=ASSUME_LAMBDA)
    return aws.lambda_.Function(
        "orders-backend",
        role=role.arn,
        runtime="python3.13",
        handler="index.handler",
        code=pulumi.AssetArchive({"index.py": pulumi.StringAsset("def handler(event, context):\n    return {}\n")}),
    )


def api_args(function_arn: pulumi.Input[str], **extra: Any) -> SecureApiArgs:
    return {
        "routes": [
            {
                "path": "/orders",
                "method": "GET",
                "auth": "iam",
                "integration": {"type": "lambda", "function_arn": function_arn},
            }
        ],
        "network": {"allowed_source_cidrs": ["203.0.113.0/24"]},
        **extra,
    }


def plan(program: Any, *, preview: bool, result: PlanResult | None = None) -> PlanResult:
    return run_program(
        program, config={"aws:region": REGION}, project="shop", stack="dev", preview=preview, result=result
    )


@pytest.fixture(params=["preview", "update"], scope="module")
def wired(request: pytest.FixtureRequest) -> PlanResult:
    def program() -> None:
        SecureApi("orders", api_args(backend().arn))

    return plan(program, preview=request.param == "preview")


def test_route_permission_names_the_function_output(wired: PlanResult) -> None:
    function = wired.one("aws:lambda/function:Function")
    permissions = [p for p in wired.of_type("aws:lambda/permission:Permission") if p.name.startswith("orders-route")]
    assert len(permissions) == 1
    permission = permissions[0]
    assert function.urn in permission.property_dependencies["function"]
    if wired.preview:
        assert isinstance(permission.inputs["function"], Unknown)
    else:
        assert permission.inputs["function"] == FUNCTION_ARN


def test_integration_uri_is_built_from_the_function_output(wired: PlanResult) -> None:
    function = wired.one("aws:lambda/function:Function")
    api = wired.one("aws:apigateway/restApi:RestApi")
    assert function.urn in api.property_dependencies["body"]
    if wired.preview:
        assert isinstance(api.inputs["body"], Unknown)
        return
    operation = json.loads(api.inputs["body"])["paths"]["/orders"]["get"]
    assert operation["x-amazon-apigateway-integration"]["uri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
    )


def test_an_output_resolving_to_an_invalid_value_fails_the_update_with_its_key_path() -> None:
    def program() -> None:
        # A classic mistake: the invoke ARN where the function ARN belongs.
        SecureApi("orders", api_args(backend().invoke_arn))

    result = PlanResult(preview=False)
    with pytest.raises(
        Exception, match=r"secure-api:routes\[0\]\.integration\.functionArn: must be a Lambda function ARN"
    ):
        plan(program, preview=False, result=result)
    # Every resource that takes the value fails to register: no API, no permission for the wrong ARN.
    registered = {r.type for r in result.resources}
    assert "aws:lambda/function:Function" in registered
    assert "aws:apigateway/restApi:RestApi" not in registered
    assert "aws:lambda/permission:Permission" not in registered


def test_the_invalid_output_is_not_checked_before_it_is_known() -> None:
    def program() -> None:
        SecureApi("orders", api_args(backend().invoke_arn))

    preview = plan(program, preview=True)  # unknown in preview: nothing to check yet, nothing wrongly passes
    permission = next(
        p for p in preview.of_type("aws:lambda/permission:Permission") if p.name.startswith("orders-route")
    )
    assert isinstance(permission.inputs["function"], Unknown)


def test_private_api_takes_its_vpc_endpoint_as_an_output() -> None:
    def program() -> None:
        endpoint = aws.ec2.VpcEndpoint(
            "execute-api", vpc_id="vpc-0123456789abcdef0", service_name=f"com.amazonaws.{REGION}.execute-api"
        )
        SecureApi(
            "orders",
            api_args(
                FUNCTION_ARN,
                api={"endpoint_type": "PRIVATE"},
                network={"allowed_source_cidrs": ["10.0.0.0/16"], "vpc_endpoint_ids": [endpoint.id]},
            ),
        )

    result = plan(program, preview=False)
    endpoint = result.one("aws:ec2/vpcEndpoint:VpcEndpoint")
    api = result.one("aws:apigateway/restApi:RestApi")
    endpoint_id = api.inputs["endpointConfiguration"]["vpcEndpointIds"][0]
    assert endpoint_id.startswith("vpce-")
    assert endpoint.urn in api.property_dependencies["endpointConfiguration"]
    body = json.loads(api.inputs["body"])
    assert body["servers"][0]["x-amazon-apigateway-endpoint-configuration"]["vpcEndpointIds"] == [endpoint_id]
    policy = json.loads(result.one("aws:apigateway/restApiPolicy:RestApiPolicy").inputs["policy"])
    deny = next(s for s in policy["Statement"] if s.get("Sid") == "DenyOutsideVpcEndpoints")
    assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"] == [endpoint_id]
