"""What AWS would return for a created resource: ids, ARNs, names, domain names and endpoints in AWS's shapes;
and what it answers to the data sources the offline plan supports (region, caller identity, partition,
availability zones, IAM policy documents).

Used by the mock runtime in update mode (preview leaves computed outputs unknown). Every value is
derived from the resource's type and logical name, so two runs of one program give the same state.
Formats follow the AWS API references (API Gateway ids are 10 lowercase alphanumerics for REST APIs
and API keys, 6 for resources, deployments, authorizers and usage plans; Cognito pool ids are
`<region>_<9 alphanumerics>`; ARNs per https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
Physical names are auto-named as Pulumi does (`<logical name>-<7 hex>`) when the program sets none.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from secure_api_policies.waf_capacity import web_acl_capacity

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
_ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyz0123456789"
# Route 53 hosted zone of API Gateway regional endpoints, per region (API Gateway endpoints and quotas page).
_REGIONAL_ZONE = {
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "eu-west-1": "ZLY8HYME6SFDD",
    "eu-west-2": "ZJ5UAJN8Y3Z2Q",
    "eu-central-1": "Z1U9ULNL0V5AJ3",
    "ap-northeast-1": "Z1YSHQZHG15GKL",
    "ap-southeast-1": "ZL327KTPIQFUL",
    "ap-southeast-2": "Z2RPCDW04V8134",
}
_CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
# Auto-named types: the input that holds the physical name (Pulumi adds a random suffix when unset).
_NAME_INPUT = {
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/policy:Policy": "name",
    "aws:lambda/function:Function": "name",
    "aws:sns/topic:Topic": "name",
    "aws:kms/alias:Alias": "name",
    "aws:wafv2/webAcl:WebAcl": "name",
    "aws:wafv2/ipSet:IpSet": "name",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:apigateway/restApi:RestApi": "name",
    "aws:apigateway/apiKey:ApiKey": "name",
    "aws:apigateway/usagePlan:UsagePlan": "name",
    "aws:apigateway/authorizer:Authorizer": "name",
    "aws:cognito/userPool:UserPool": "name",
    "aws:cognito/userPoolClient:UserPoolClient": "name",
}


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def _chars(seed: bytes, length: int, alphabet: str = _ALPHANUMERIC) -> str:
    stream = seed + hashlib.sha256(seed).digest()
    return "".join(alphabet[byte % len(alphabet)] for byte in stream[:length])


def _hex(seed: bytes, length: int) -> str:
    return seed.hex()[:length]


def _uuid(seed: bytes) -> str:
    return str(uuid.UUID(bytes=seed[:16], version=4))


def physical_name(type_: str, name: str, inputs: Mapping[str, Any]) -> str | None:
    """The resource's physical name: the program's, or Pulumi's auto-name `<name>-<7 hex>`."""
    key = _NAME_INPUT.get(type_)
    if key is None:
        return None
    given = inputs.get(key)
    if isinstance(given, str) and given:
        return given
    prefix = inputs.get("bucketPrefix" if key == "bucket" else "namePrefix")
    if isinstance(prefix, str) and prefix:  # AWS/Terraform's unique suffix: 26 digits
        return prefix + _chars(_digest("prefix", type_, name), 26, "0123456789")
    return f"{name}-{_hex(_digest('autoname', type_, name), 7)}"


def _arn(service: str, region: str, resource: str, *, account: str = ACCOUNT_ID) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def _apigateway_arn(region: str, path: str) -> str:
    return f"arn:{PARTITION}:apigateway:{region}::{path}"


@dataclass(frozen=True)
class Created:
    """What a state builder knows: the logical name, the inputs, the region, a per-resource seed, the name."""

    name: str
    inputs: Mapping[str, Any]
    region: str
    seed: bytes
    physical: str | None


State = dict[str, Any]
Builder = Callable[["Created"], State]


def _rest_api(c: Created) -> State:
    rid = _chars(c.seed, 10)
    return {
        "id": rid,
        "arn": _apigateway_arn(c.region, f"/restapis/{rid}"),
        "executionArn": _arn("execute-api", c.region, rid),
        "rootResourceId": _chars(_digest("root", rid), 10),
        "createdDate": "2026-01-01T00:00:00Z",
    }


def _stage(c: Created) -> State:
    api, stage = c.inputs.get("restApi", ""), c.inputs.get("stageName", "")
    return {
        "id": f"ags-{api}-{stage}",
        "arn": _apigateway_arn(c.region, f"/restapis/{api}/stages/{stage}"),
        "invokeUrl": f"https://{api}.execute-api.{c.region}.amazonaws.com/{stage}",
        "executionArn": _arn("execute-api", c.region, f"{api}/{stage}"),
    }


def _short_api_child(kind: str) -> Builder:
    def build(c: Created) -> State:
        rid = _chars(c.seed, 6 if kind != "apikeys" else 10)
        state: State = {"id": rid}
        api = c.inputs.get("restApi")
        state["arn"] = _apigateway_arn(c.region, f"/restapis/{api}/{kind}/{rid}" if api else f"/{kind}/{rid}")
        if kind == "apikeys":
            state["value"] = c.inputs.get("value") or _chars(_digest("key", rid), 40, _ALPHANUMERIC + "ABCDEFGHIJ")
        return state

    return build


def _domain_name(c: Created) -> State:
    domain = c.inputs.get("domainName", f"{c.name}.example.com")
    types = (c.inputs.get("endpointConfiguration") or {}).get("types")
    if types == "PRIVATE" or (isinstance(types, list) and "PRIVATE" in types):
        # A private domain name is identified by name and AWS's domainNameId (`<name>+<id>` in its ARN).
        domain_id = _chars(c.seed, 10)
        return {
            "id": f"{domain}/{domain_id}",
            "domainNameId": domain_id,
            "arn": _apigateway_arn(c.region, f"/domainnames/{domain}+{domain_id}"),
            "certificateUploadDate": "2026-01-01T00:00:00Z",
        }
    return {
        "id": domain,
        "arn": _apigateway_arn(c.region, f"/domainnames/{domain}"),
        "regionalDomainName": f"d-{_chars(c.seed, 10)}.execute-api.{c.region}.amazonaws.com",
        "regionalZoneId": _REGIONAL_ZONE.get(c.region, "Z" + _chars(c.seed, 13).upper()),
        "certificateUploadDate": "2026-01-01T00:00:00Z",
    }


def _user_pool(c: Created) -> State:
    pool = f"{c.region}_{_chars(c.seed, 9, _ALPHANUMERIC + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
    return {
        "id": pool,
        "arn": _arn("cognito-idp", c.region, f"userpool/{pool}"),
        "endpoint": f"cognito-idp.{c.region}.amazonaws.com/{pool}",
        "creationDate": "2026-01-01T00:00:00Z",
    }


def _user_pool_client(c: Created) -> State:
    state: State = {"id": _chars(c.seed, 26)}
    if c.inputs.get("generateSecret"):
        state["clientSecret"] = _chars(_digest("secret", c.name), 51)
    return state


def _user_pool_domain(c: Created) -> State:
    distribution = f"d{_chars(c.seed, 13)}.cloudfront.net"
    return {
        "id": c.inputs.get("domain", c.name),
        "cloudfrontDistribution": distribution,
        "cloudfrontDistributionArn": distribution,
        "cloudfrontDistributionZoneId": _CLOUDFRONT_ZONE,
    }


def _lambda_function(c: Created) -> State:
    arn = _arn("lambda", c.region, f"function:{c.physical}")
    return {
        "id": c.physical,
        "arn": arn,
        "qualifiedArn": f"{arn}:1",
        "version": "1",
        "invokeArn": f"arn:{PARTITION}:apigateway:{c.region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        "lastModified": "2026-01-01T00:00:00.000+0000",
    }


def _kms_alias(c: Created) -> State:
    return {"id": c.physical, "arn": _arn("kms", c.region, str(c.physical))}


def _iam_policy(c: Created) -> State:
    arn = _arn("iam", "", f"policy{c.inputs.get('path', '/')}{c.physical}")
    return {"id": arn, "arn": arn, "policyId": "ANPA" + _chars(c.seed, 17).upper()}


def _iam_role(c: Created) -> State:
    return {
        "id": c.physical,
        "arn": _arn("iam", "", f"role{c.inputs.get('path', '/')}{c.physical}"),
        "uniqueId": "AROA" + _chars(c.seed, 17).upper(),
    }


def _sns_topic(c: Created) -> State:
    arn = _arn("sns", c.region, str(c.physical))
    return {"id": arn, "arn": arn}


def _kms_key(c: Created) -> State:
    key = _uuid(c.seed)
    return {"id": key, "keyId": key, "arn": _arn("kms", c.region, f"key/{key}")}


def _wafv2(kind: str) -> Builder:
    def build(c: Created) -> State:
        rid = _uuid(c.seed)
        scope = "global" if c.inputs.get("scope") == "CLOUDFRONT" else "regional"
        arn = _arn("wafv2", "us-east-1" if scope == "global" else c.region, f"{scope}/{kind}/{c.physical}/{rid}")
        state = {"id": rid, "arn": arn, "lockToken": _uuid(_digest("lock", rid))}
        if kind == "webacl":
            # What WAF reports for the web ACL: its rules' documented WCUs.
            state["capacity"] = web_acl_capacity(c.inputs.get("rules") or []).total
        return state

    return build


def _certificate(c: Created) -> State:
    arn = _arn("acm", c.region, f"certificate/{_uuid(c.seed)}")
    domain = c.inputs.get("domainName", "example.com")
    return {
        "id": arn,
        "arn": arn,
        "status": "ISSUED",
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_{_hex(c.seed, 32)}.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_hex(_digest('acm', domain), 32)}.acm-validations.aws.",
            }
        ],
    }


def _bucket(c: Created) -> State:
    return {
        "id": c.physical,
        "arn": f"arn:{PARTITION}:s3:::{c.physical}",
        "bucket": c.physical,
        "bucketDomainName": f"{c.physical}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{c.physical}.s3.{c.region}.amazonaws.com",
        "region": c.region,
    }


def _bucket_object(c: Created) -> State:
    return {"id": c.inputs.get("key", c.name), "versionId": _chars(c.seed, 32), "etag": _hex(c.seed, 32)}


def _metric_alarm(c: Created) -> State:
    return {"id": c.physical, "arn": _arn("cloudwatch", c.region, f"alarm:{c.physical}")}


def _dashboard(c: Created) -> State:
    return {"id": c.physical, "dashboardArn": _arn("cloudwatch", "", f"dashboard/{c.physical}")}


def _log_group(c: Created) -> State:
    return {"id": c.physical, "arn": _arn("logs", c.region, f"log-group:{c.physical}")}


def _vpc_endpoint(c: Created) -> State:
    rid = f"vpce-{_hex(c.seed, 17)}"
    state: State = {"id": rid, "arn": _arn("ec2", c.region, f"vpc-endpoint/{rid}"), "state": "available"}
    if c.inputs.get("vpcEndpointType") == "Interface":
        # An interface endpoint's regional DNS name first, as DescribeVpcEndpoints lists its DnsEntries.
        service = str(c.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
        zone = f"{rid}-{_chars(c.seed, 8)}.{service}.{c.region}.vpce.amazonaws.com"
        state["dnsEntries"] = [{"dnsName": zone, "hostedZoneId": "Z7HUB22UULQXV"}]
    return state


def _ec2_id(prefix: str, kind: str) -> Builder:
    """EC2 ids are `<prefix>-` and 17 hex digits (`vpc-…`, `subnet-…`, `sg-…`), the ARN `<kind>/<id>`."""

    def build(c: Created) -> State:
        rid = f"{prefix}-{_hex(c.seed, 17)}"
        return {"id": rid, "arn": _arn("ec2", c.region, f"{kind}/{rid}")}

    return build


def _hosted_zone(c: Created) -> State:
    zone = "Z" + _chars(c.seed, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return {"id": zone, "zoneId": zone, "arn": f"arn:{PARTITION}:route53:::hostedzone/{zone}"}


_BUILDERS: dict[str, Builder] = {
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/stage:Stage": _stage,
    "aws:apigateway/deployment:Deployment": _short_api_child("deployments"),
    "aws:apigateway/resource:Resource": _short_api_child("resources"),
    "aws:apigateway/authorizer:Authorizer": _short_api_child("authorizers"),
    "aws:apigateway/usagePlan:UsagePlan": _short_api_child("usageplans"),
    "aws:apigateway/apiKey:ApiKey": _short_api_child("apikeys"),
    "aws:apigateway/clientCertificate:ClientCertificate": _short_api_child("clientcertificates"),
    "aws:apigateway/domainName:DomainName": _domain_name,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_client,
    "aws:cognito/userPoolDomain:UserPoolDomain": _user_pool_domain,
    "aws:lambda/function:Function": _lambda_function,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:wafv2/webAcl:WebAcl": _wafv2("webacl"),
    "aws:wafv2/ipSet:IpSet": _wafv2("ipset"),
    "aws:acm/certificate:Certificate": _certificate,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/vpc:Vpc": _ec2_id("vpc", "vpc"),
    "aws:ec2/subnet:Subnet": _ec2_id("subnet", "subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2_id("sg", "security-group"),
    "aws:route53/zone:Zone": _hosted_zone,
}
# Resources AWS identifies by what they attach to: the id is built from those inputs.
_COMPOSITE_ID = {
    "aws:apigateway/restApiPolicy:RestApiPolicy": ("restApiId",),
    "aws:apigateway/usagePlanKey:UsagePlanKey": ("keyId",),
    "aws:apigateway/basePathMapping:BasePathMapping": ("domainName", "basePath"),
    "aws:apigateway/methodSettings:MethodSettings": ("restApi", "stageName", "methodPath"),
    "aws:wafv2/webAclAssociation:WebAclAssociation": ("webAclArn", "resourceArn"),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": ("resourceArn",),
    "aws:lambda/permission:Permission": ("statementId",),
    "aws:iam/rolePolicy:RolePolicy": ("role", "name"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role",),
    "aws:cognito/resourceServer:ResourceServer": ("userPoolId", "identifier"),
}


def created_state(type_: str, name: str, inputs: Mapping[str, Any], region: str) -> State:
    """The id and computed outputs AWS would return for `type_`; `id` always present."""
    seed = _digest(type_, name)
    physical = physical_name(type_, name, inputs)
    builder = _BUILDERS.get(type_)
    if builder is not None:
        state = builder(Created(name, inputs, region, seed, physical))
    elif type_ in _COMPOSITE_ID:
        parts = [str(inputs.get(key) or "") for key in _COMPOSITE_ID[type_]]
        state = {"id": "|".join(part for part in parts if part) or f"{name}-{_hex(seed, 8)}"}
    else:
        module = type_.split(":")[1].split("/")[0]
        kind = type_.rsplit(":", 1)[-1].lower()
        rid = f"{name}-{_hex(seed, 8)}"
        state = {"id": rid, "arn": _arn(module, region, f"{kind}/{rid}")}
    if physical is not None:
        state[_NAME_INPUT[type_]] = physical
    return state


def data_source(token: str, args: Mapping[str, Any], region: str) -> dict[str, Any] | None:
    """What AWS answers to one of the data sources the offline plan supports (`token`); None for any other."""
    if token == "aws:index/getRegion:getRegion":
        return {"name": region, "region": region, "id": region}
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": _arn("iam", "", "user/plan"),
            "userId": "PLAN",
            "id": ACCOUNT_ID,
        }
    if token == "aws:index/getPartition:getPartition":
        return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION}
    if token == "aws:iam/getPolicyDocument:getPolicyDocument":
        return policy_document(args)
    if token == "aws:ec2/getVpcEndpoint:getVpcEndpoint":
        endpoint = str(args.get("id") or "vpce-plan")
        zone = f"{endpoint}-plan.execute-api.{region}.vpce.amazonaws.com"
        return {
            "id": endpoint,
            "serviceName": f"com.amazonaws.{region}.execute-api",
            "vpcEndpointType": "Interface",
            "privateDnsEnabled": False,
            "dnsEntries": [{"dnsName": zone, "hostedZoneId": "Z7HUB22UULQXV"}],
        }
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {"names": [f"{region}{zone}" for zone in "abc"], "id": region}
    return None


def policy_document(args: Mapping[str, Any]) -> dict[str, Any]:
    """`aws.iam.get_policy_document`'s result for its `statements` (the common arguments)."""
    statements = []
    for given in args.get("statements") or []:
        statement: dict[str, Any] = {}
        if given.get("sid"):
            statement["Sid"] = given["sid"]
        statement["Effect"] = given.get("effect", "Allow")
        for key, out in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if given.get(key):
                statement[out] = {p["type"]: _one(p.get("identifiers", [])) for p in given[key]}
        for key, out in (("actions", "Action"), ("notActions", "NotAction")):
            if given.get(key):
                statement[out] = _one(given[key])
        for key, out in (("resources", "Resource"), ("notResources", "NotResource")):
            if given.get(key):
                statement[out] = _one(given[key])
        conditions: dict[str, dict[str, Any]] = {}
        for condition in given.get("conditions") or []:
            conditions.setdefault(condition["test"], {})[condition["variable"]] = _one(condition.get("values", []))
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    document = {"Version": args.get("version", "2012-10-17"), "Statement": statements}
    return {
        "id": _hex(_digest(json.dumps(document, sort_keys=True)), 10),
        "json": json.dumps(document, indent=2),
        "minifiedJson": json.dumps(document, separators=(",", ":")),
    }


def _one(values: list[Any]) -> Any:
    """IAM writes a single value as a string, several as a list."""
    return values[0] if len(values) == 1 else sorted(values)
