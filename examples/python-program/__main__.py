"""orders-service: a PRIVATE REST API in front of a Lambda function, reached through a VPC endpoint.

Everything the API points at is created here and handed to `SecureApi` as Outputs: the function's
ARN goes into the routes, the VPC, subnet and security group ids into `network.vpcEndpoint`, from
which the component creates the execute-api interface endpoint with its least-privilege endpoint
policy (this API's stage only) and private DNS off. The component
checks those values by the same rules as plain ones once they are known, and fails the update with
the key path if one is wrong. Deploy with `pulumi up` (AWS credentials and `aws:region` set).
"""

import json

import pulumi
import pulumi_aws as aws

from secure_api import SecureApi, SecureApiArgs, args

VPC_CIDR = "10.20.0.0/16"

# ---- the network the API is reached from: a VPC, and a security group for its execute-api endpoint
vpc = aws.ec2.Vpc("orders", cidr_block=VPC_CIDR, enable_dns_support=True, enable_dns_hostnames=True)
subnet = aws.ec2.Subnet("orders-a", vpc_id=vpc.id, cidr_block="10.20.1.0/24")
endpoint_security_group = aws.ec2.SecurityGroup(
    "execute-api-endpoint",
    vpc_id=vpc.id,
    description="HTTPS from the VPC to the execute-api endpoint",
    ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[VPC_CIDR])],
)

# ---- the backend: a Lambda function with its own execution role
role = aws.iam.Role(
    "orders-backend",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment(
    "orders-backend-logs",
    role=role.name,
    policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
)
backend = aws.lambda_.Function(
    "orders-backend",
    role=role.arn,
    runtime="python3.13",
    handler="index.handler",
    architectures=["arm64"],
    code=pulumi.AssetArchive(
        {
            "index.py": pulumi.StringAsset(
                "import json\n\n"
                "def handler(event, context):\n"
                '    return {"statusCode": 200, "body": json.dumps({"orders": []})}\n'
            )
        }
    ),
)

# ---- the API: typed args; Outputs where a value comes from another resource
lambda_route: args.Integration = {"type": args.IntegrationType.LAMBDA, "function_arn": backend.arn}
api_args: SecureApiArgs = {
    "api": {"name": "orders", "endpoint_type": args.EndpointType.PRIVATE, "tags": {"service": "orders"}},
    "routes": [
        {"path": "/orders", "method": args.HttpMethod.GET, "auth": args.AuthType.COGNITO, "integration": lambda_route},
        {"path": "/orders", "method": args.HttpMethod.POST, "auth": args.AuthType.IAM, "integration": lambda_route},
    ],
    # Stated explicitly rather than left to the defaults.
    "cognito": {"mfa": args.MfaMode.ON, "threat_protection": args.ThreatProtection.ENFORCED},
    "network": {
        "allowed_source_cidrs": [VPC_CIDR],
        # The component creates the interface endpoint. Private DNS stays off (the default): with it on,
        # every *.execute-api.<region>.amazonaws.com name resolves to this endpoint for the whole VPC, so
        # calls from the VPC to public (REGIONAL/EDGE) APIs would fail. Clients call the stack output
        # `vpcEndpointUrls` ({api-id}-{vpce-id} host names) instead.
        "vpc_endpoint": {
            "vpc_id": vpc.id,
            "subnet_ids": [subnet.id],
            "security_group_ids": [endpoint_security_group.id],
        },
    },
    "tls": {"security_policy": args.SecurityPolicy.TLS_1_2},
    "waf": {"enabled": True},
    # Creates the region's API Gateway CloudWatch Logs role, which REST API logging needs. It is one
    # setting per account and region: set False if another stack already manages it.
    "observability": {"kms_encryption": True, "log_retention_days": 365, "create_account_role": True},
}
api = SecureApi("orders", api_args)

pulumi.export("invokeUrl", api.invoke_url)
pulumi.export("vpcEndpointUrls", api.vpc_endpoint_urls)
pulumi.export("userPoolId", api.user_pool_id)
