"""Output-valued args: a program creates its backend and hands `fn.arn` to a route.

Preview (unknown outputs) and update (known) on the mock runtime. The route's invoke permission
names that function and depends on it; the OpenAPI body's integration URI is built from its ARN.
An Output that resolves to a value the field's rule rejects fails the run with the key path.
"""

import asyncio
import gc
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.output import Unknown

from secure_api import SecureApi, SecureApiArgs
from secure_api.plan.harness import PlanResult, run_program
from secure_api.plan.mock_state import ACCOUNT_ID

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
        name="orders-backend",  # else Pulumi auto-names it orders-backend-<7 hex>, as the mock runtime does
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
    # The resource policy travels in the body and as the API's policy argument, both naming the endpoint.
    for policy in (body["x-amazon-apigateway-policy"], json.loads(api.inputs["policy"])):
        deny = next(s for s in policy["Statement"] if s.get("Sid") == "DenyOutsideVpcEndpoints")
        assert deny["Condition"]["StringNotEquals"]["aws:SourceVpce"] == [endpoint_id]


def issuer_args(issuer: pulumi.Input[str], auth: str) -> SecureApiArgs:
    config = api_args(FUNCTION_ARN)
    config["routes"][0]["auth"] = auth  # type: ignore[typeddict-item]
    config["lambda_authorizer"] = {
        "use_component_user_pool": False,
        "issuers": [{"issuer": issuer, "audiences": ["orders"]}],
    }
    return config


def test_issuer_output_reaches_the_authorizer_environment() -> None:
    def program() -> None:
        SecureApi("orders", issuer_args(pulumi.Output.from_input("https://login.example.com/"), "custom"))

    result = plan(program, preview=False)
    authorizer = next(f for f in result.of_type("aws:lambda/function:Function") if f.name == "orders-authorizer")
    issuers = json.loads(authorizer.inputs["environment"]["variables"]["JWT_ISSUERS"])
    assert issuers == [{"audiences": ["orders"], "clientIds": [], "issuer": "https://login.example.com/"}]


def test_an_unused_output_arg_is_still_checked() -> None:
    """No `custom` route, so no resource takes the issuer: a bad value still fails the update.

    The program's runtime awaits every apply, but a component provider serving Construct does not:
    there the component's registered outputs are what waits for the check, so they must not register.
    """

    def program() -> None:
        SecureApi("orders", issuer_args(pulumi.Output.from_input("http://login.example.com/"), "iam"))

    result = PlanResult(preview=False)
    with pytest.raises(Exception, match=r"secure-api:lambdaAuthorizer\.issuers\[0\]\.issuer: must be an https:// URL"):
        plan(program, preview=False, result=result)
    component = result.one("secure-api:index:SecureApi")
    assert component.urn not in result.outputs


def domain_args(certificate_arn: pulumi.Input[str], zone_id: pulumi.Input[str]) -> SecureApiArgs:
    return api_args(
        FUNCTION_ARN,
        domain={"domain_name": "api.example.com", "certificate_arn": certificate_arn, "hosted_zone_id": zone_id},
    )


def test_custom_domain_takes_its_certificate_and_zone_as_outputs() -> None:
    def program() -> None:
        zone = aws.route53.Zone("example", name="example.com")
        certificate = aws.acm.Certificate("api", domain_name="api.example.com", validation_method="DNS")
        SecureApi("orders", domain_args(certificate.arn, zone.zone_id))

    result = plan(program, preview=False)
    certificate = result.one("aws:acm/certificate:Certificate")
    zone = result.one("aws:route53/zone:Zone")
    domain = result.one("aws:apigateway/domainName:DomainName")
    assert domain.inputs["regionalCertificateArn"].startswith(f"arn:aws:acm:{REGION}:{ACCOUNT_ID}:certificate/")
    assert certificate.urn in domain.property_dependencies["regionalCertificateArn"]
    records = [r for r in result.of_type("aws:route53/record:Record") if r.name.startswith("orders-domain-")]
    assert records
    assert all(r.inputs["zoneId"].startswith("Z") and zone.urn in r.property_dependencies["zoneId"] for r in records)


def test_a_certificate_output_from_another_region_fails_with_its_key_path() -> None:
    other_region = f"arn:aws:acm:eu-west-1:{ACCOUNT_ID}:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

    def program() -> None:
        SecureApi("orders", domain_args(pulumi.Output.from_input(other_region), "Z0123456789EXAMPLE01"))

    with pytest.raises(Exception, match=r"secure-api:domain\.certificateArn: the certificate is in eu-west-1"):
        plan(program, preview=False)


def test_a_failed_run_leaves_no_unretrieved_error_for_the_garbage_collector() -> None:
    # The runtime resolves every output of the failed resources with the error. Left unretrieved, those futures
    # are finalized by the cyclic GC at some later moment, inside whatever code runs then, where asyncio's
    # "exception was never retrieved" report formats a traceback; on CPython 3.11 that parses source and breaks
    # an `ast.parse` it interrupts (see `harness._consume_abandoned_errors`).
    other_region = f"arn:aws:acm:eu-west-1:{ACCOUNT_ID}:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

    def program() -> None:
        SecureApi("orders", domain_args(pulumi.Output.from_input(other_region), "Z0123456789EXAMPLE01"))

    with pytest.raises(Exception, match=r"secure-api:domain\.certificateArn") as raised:
        plan(program, preview=False)
    holders = [o for o in gc.get_referrers(raised.value) if isinstance(o, asyncio.Future)]
    assert holders, "the runtime resolves the failed resources' outputs with the error"
    # `_log_traceback` is the flag asyncio's Future finalizer checks before reporting "never retrieved".
    assert [f for f in holders if f._log_traceback] == []
