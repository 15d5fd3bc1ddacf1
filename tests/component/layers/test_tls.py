"""TLS: custom domain, certificate and DNS, mTLS truststore, backend client certificate.

The dev stack has a custom domain with a certificate created and DNS-validated in a hosted zone,
mTLS with the committed example truststore, and a backend client certificate.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from google.protobuf import json_format, struct_pb2
from pulumi.output import Unknown
from secure_api_policies.verdict import evaluate, is_mandatory_violation

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.config.tls import expiry_warnings, parse_truststore, project_dir
from secure_api.plan.harness import PlannedResource, PlanResult
from tests.conftest import Plan

DOMAIN = "aws:apigateway/domainName:DomainName"
RECORD = "aws:route53/record:Record"
DEV_CA = "examples/truststore/dev-ca.pem"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def named(result: PlanResult, type_: str, role: str) -> PlannedResource:
    matches = [r for r in result.of_type(type_) if r.name == f"secure-api-{role}"]
    assert len(matches) == 1, f"no single {type_} named secure-api-{role}"
    return matches[0]


def ca_pem(*, valid_for: timedelta, now: datetime | None = None, key: Any = None, name: str = "test CA") -> str:
    """A self-signed CA certificate that expires `valid_for` after `now` (negative: already expired)."""
    moment = now or datetime.now(UTC)
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(moment, moment + valid_for) - timedelta(days=1))
        .not_valid_after(moment + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_domain_uses_the_tls_policy_and_a_validated_certificate(dev_plan: PlanResult) -> None:
    domain = dev_plan.one(DOMAIN)
    assert domain.inputs["domainName"] == "orders.dev.example.com"
    assert domain.inputs["securityPolicy"] == "TLS_1_2"
    assert "endpointAccessMode" not in domain.inputs  # only for SecurityPolicy_* policies
    assert domain.inputs["endpointConfiguration"] == {"types": "REGIONAL", "ipAddressType": "dualstack"}
    certificate = dev_plan.one("aws:acm/certificate:Certificate")
    validation = dev_plan.one("aws:acm/certificateValidation:CertificateValidation")
    dns = named(dev_plan, RECORD, "certificate-dns")
    assert certificate.inputs["domainName"] == "orders.dev.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    assert dns.inputs["zoneId"] == "Z0123456789EXAMPLE01"
    assert certificate.urn in dns.property_dependencies["name"]
    assert dns.urn in validation.property_dependencies["validationRecordFqdns"]
    assert validation.urn in domain.property_dependencies["regionalCertificateArn"]  # waits for issuance
    if dev_plan.preview:
        assert isinstance(dns.inputs["name"], Unknown)
    else:
        (option,) = certificate.outputs["domainValidationOptions"]
        assert dns.inputs["name"] == option["resourceRecordName"]
        assert option["resourceRecordName"].endswith(".orders.dev.example.com.")


def test_base_path_mapping_targets_the_stage(dev_plan: PlanResult) -> None:
    mapping = dev_plan.one("aws:apigateway/basePathMapping:BasePathMapping")
    stage = dev_plan.one("aws:apigateway/stage:Stage")
    assert stage.urn in mapping.property_dependencies["stageName"]
    assert dev_plan.one("aws:apigateway/restApi:RestApi").urn in mapping.property_dependencies["restApi"]
    assert dev_plan.one(DOMAIN).urn in mapping.property_dependencies["domainName"]
    assert mapping.inputs["basePath"] == "v1"
    if not dev_plan.preview:
        assert mapping.inputs["stageName"] == "v1"


API_MAPPING = "aws:apigatewayv2/apiMapping:ApiMapping"


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_multi_level_base_path_is_a_v2_api_mapping(dev_config: dict[str, Any], plan: Plan, preview: bool) -> None:
    """The V1 CreateBasePathMapping refuses `catalog/v2`; the V2 API mapping takes REST API stages."""
    dev_config["domain"]["basePath"] = "catalog/v2"
    result = plan(dev_config, preview=preview)
    assert not result.of_type("aws:apigateway/basePathMapping:BasePathMapping")
    mapping = result.one(API_MAPPING)
    assert mapping.inputs["apiMappingKey"] == "catalog/v2"
    assert result.one("aws:apigateway/stage:Stage").urn in mapping.property_dependencies["stage"]
    assert result.one("aws:apigateway/restApi:RestApi").urn in mapping.property_dependencies["apiId"]
    assert result.one(DOMAIN).urn in mapping.property_dependencies["domainName"]
    # The pack still sees the REST API behind the domain through the V2 mapping.
    api = result.one("aws:apigateway/restApi:RestApi")
    opened = [r if r.urn != api.urn else _with_input(r, "disableExecuteApiEndpoint", False) for r in result.resources]
    findings = {(f.rule, f.urn) for f in evaluate(opened) if is_mandatory_violation(f)}
    assert ("custom-domain-default-endpoint", api.urn) in findings


def _with_input(resource: PlannedResource, key: str, value: Any) -> PlannedResource:
    properties = json_format.MessageToDict(resource.properties)
    properties[key] = value
    struct = struct_pb2.Struct()
    struct.update(properties)
    return replace(resource, properties=struct)


def test_alias_records_point_at_the_domain(dev_plan: PlanResult) -> None:
    domain = dev_plan.one(DOMAIN)
    for role, record_type in (("domain-a", "A"), ("domain-aaaa", "AAAA")):  # dualstack: both families
        record = named(dev_plan, RECORD, role)
        assert (record.inputs["name"], record.inputs["type"]) == ("orders.dev.example.com", record_type)
        assert domain.urn in record.property_dependencies["aliases"]
        if not dev_plan.preview:
            assert record.inputs["aliases"] == [
                {
                    "name": domain.outputs["regionalDomainName"],
                    "zoneId": "ZLY8HYME6SFDD",  # API Gateway's regional zone in eu-west-1
                    "evaluateTargetHealth": True,
                }
            ]
            assert domain.outputs["regionalDomainName"].endswith(".execute-api.eu-west-1.amazonaws.com")


def test_default_endpoint_is_off_with_a_custom_domain(dev_plan: PlanResult) -> None:
    api = dev_plan.one("aws:apigateway/restApi:RestApi")
    assert api.inputs["disableExecuteApiEndpoint"] is True
    assert api.inputs["securityPolicy"] == "TLS_1_2"  # the execute-api default would be TLS_1_0
    if not dev_plan.preview:
        servers = json.loads(api.inputs["body"])["servers"]
        assert servers[0]["x-amazon-apigateway-endpoint-configuration"] == {"disableExecuteApiEndpoint": True}
        outputs = dev_plan.outputs[dev_plan.one("secure-api:index:SecureApi").urn]
        assert outputs["customDomainUrl"] == "https://orders.dev.example.com/v1"
        assert outputs["truststoreBucket"] == dev_plan.one("aws:s3/bucket:Bucket").outputs["id"]
        assert outputs["truststoreBucket"].startswith("orders-api-truststore-")


def test_truststore_bucket_is_versioned_encrypted_private_and_kept(dev_plan: PlanResult) -> None:
    bucket = dev_plan.one("aws:s3/bucket:Bucket")
    assert (bucket.protect, bucket.retain_on_delete) == (True, True)
    assert bucket.inputs["bucketPrefix"] == "orders-api-truststore-"
    versioning = dev_plan.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    encryption = dev_plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert encryption.inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}
    ]
    public_access = dev_plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(public_access.inputs[flag] is True for flag in flags)
    policy = dev_plan.one("aws:s3/bucketPolicy:BucketPolicy")
    assert public_access.urn in policy.dependencies
    for setting in (versioning, encryption, public_access, policy):
        assert bucket.urn in setting.property_dependencies["bucket"]
        assert setting.retain_on_delete  # a retained bucket keeps its protections
    if not dev_plan.preview:
        (deny,) = json.loads(policy.inputs["policy"])["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        bucket_arn, objects = deny["Resource"]
        assert (bucket_arn.startswith("arn:aws:s3:"), objects) == (True, f"{bucket_arn}/*")


def test_truststore_version_is_pinned_to_the_uploaded_object(dev_plan: PlanResult) -> None:
    bundle = dev_plan.one("aws:s3/bucketObjectv2:BucketObjectv2")
    versioning = dev_plan.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.urn in bundle.dependencies  # a real version id, not "null"
    assert bundle.inputs["content"] == (project_dir() / DEV_CA).read_text()
    assert bundle.inputs["serverSideEncryption"] == "aws:kms"
    domain = dev_plan.one(DOMAIN)
    assert bundle.urn in domain.property_dependencies["mutualTlsAuthentication"]
    if not dev_plan.preview:
        bucket = dev_plan.one("aws:s3/bucket:Bucket").outputs["id"]
        assert domain.inputs["mutualTlsAuthentication"] == {
            "truststoreUri": f"s3://{bucket}/truststore.pem",
            "truststoreVersion": bundle.outputs["versionId"],
        }


def test_backend_client_certificate_is_on_the_stage(dev_plan: PlanResult) -> None:
    certificate = dev_plan.one("aws:apigateway/clientCertificate:ClientCertificate")
    stage = dev_plan.one("aws:apigateway/stage:Stage")
    assert certificate.urn in stage.property_dependencies["clientCertificateId"]
    if not dev_plan.preview:
        assert stage.inputs["clientCertificateId"] == certificate.outputs["id"]


def test_turning_tls_controls_off_is_visible(dev_config: dict[str, Any], plan: Plan) -> None:
    del dev_config["domain"]
    dev_config["backendClientCertificate"] = False
    result = plan(dev_config, preview=True)
    assert not result.of_type(DOMAIN)
    assert not result.of_type("aws:s3/bucket:Bucket")
    assert not result.of_type("aws:apigateway/clientCertificate:ClientCertificate")
    api = result.one("aws:apigateway/restApi:RestApi")
    assert api.inputs["disableExecuteApiEndpoint"] is False
    assert "clientCertificateId" not in result.one("aws:apigateway/stage:Stage").inputs
    assert "no custom domain: clients call the default execute-api endpoint (TLS_1_2, no mutual TLS)" in (
        result.warnings
    )
    assert any(w.startswith("backendClientCertificate is off") for w in result.warnings)


def test_enhanced_policy_with_an_existing_certificate(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["tls"] = {"securityPolicy": "SecurityPolicy_TLS13_1_3_2025_09"}
    dev_config["domain"] = {
        "domainName": "orders.dev.example.com",
        "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    }
    result = plan(dev_config, preview=False)
    domain = result.one(DOMAIN)
    assert domain.inputs["securityPolicy"] == "SecurityPolicy_TLS13_1_3_2025_09"
    assert domain.inputs["endpointAccessMode"] == "STRICT"  # the secure default for enhanced policies
    assert domain.inputs["regionalCertificateArn"] == dev_config["domain"]["certificateArn"]
    assert "mutualTlsAuthentication" not in domain.inputs
    api = result.one("aws:apigateway/restApi:RestApi")
    assert (api.inputs["securityPolicy"], api.inputs["endpointAccessMode"]) == (
        "SecurityPolicy_TLS13_1_3_2025_09",
        "STRICT",
    )
    assert not result.of_type("aws:acm/certificate:Certificate")
    assert not result.of_type(RECORD)  # no hosted zone: DNS is the user's, and the plan says so
    assert any(w.startswith("domain.hostedZoneId is not set") for w in result.warnings)


def test_certificate_from_another_region_is_rejected(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["domain"]["certificateArn"] = (
        "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    )
    with pytest.raises(ConfigError) as caught:
        plan(dev_config, preview=True)
    (key, message), *_ = caught.value.problems
    assert key == "secure-api:domain.certificateArn"
    assert "in the stack's region eu-west-1" in message


def test_truststore_certificates_close_to_expiry_are_warned_about(dev_config: dict[str, Any], plan: Plan) -> None:
    soon = ca_pem(valid_for=timedelta(days=12), name="partner CA")
    dev_config["domain"]["mutualTls"] = {"truststorePem": soon + ca_pem(valid_for=timedelta(days=400))}
    result = plan(dev_config, preview=True)
    warnings = [w for w in result.warnings if w.startswith("truststore certificate")]
    assert len(warnings) == 1
    assert "'CN=partner CA' expires on" in warnings[0]
    assert result.one("aws:s3/bucketObjectv2:BucketObjectv2").inputs["content"].startswith(soon)


def test_expiry_warnings_use_the_given_time() -> None:
    certificates = x509.load_pem_x509_certificates(
        (
            ca_pem(valid_for=timedelta(days=29), now=NOW, name="a") + ca_pem(valid_for=timedelta(days=31), now=NOW)
        ).encode()
    )
    (warning,) = expiry_warnings(certificates, NOW)
    assert warning.startswith("truststore certificate 'CN=a' expires on 2030-01-30 (29 days)")
    assert len(expiry_warnings(certificates, NOW + timedelta(days=2))) == 2
    assert not expiry_warnings(certificates, NOW - timedelta(days=5))


def test_committed_example_truststore_is_a_ca_without_key() -> None:
    data = (project_dir() / DEV_CA).read_bytes()
    (certificate,) = parse_truststore(data)
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc >= timedelta(days=3650)
    assert b"PRIVATE KEY" not in data


def with_domain(domain: dict[str, Any], **extra: Any) -> dict[str, Any]:
    route = {"path": "/orders", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}
    return {"routes": [route], "domain": {"domainName": "api.example.com", "hostedZoneId": "Z123", **domain}, **extra}


def mtls(**settings: Any) -> dict[str, Any]:
    return {"mutualTls": settings}


KEY_PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)
TRUSTSTORE = "secure-api:domain.mutualTls.truststorePem"
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("not PEM", with_domain(mtls(truststorePem="hello")), TRUSTSTORE, "not a PEM bundle of X.509 certificates"),
    (
        "corrupt certificate",
        with_domain(mtls(truststorePem="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")),
        TRUSTSTORE,
        "not a PEM bundle of X.509 certificates",
    ),
    (
        "private key in the bundle",
        with_domain(mtls(truststorePem=ca_pem(valid_for=timedelta(days=90)) + KEY_PEM)),
        TRUSTSTORE,
        "contains a private key",
    ),
    (
        "expired certificate",
        with_domain(mtls(truststorePem=ca_pem(valid_for=timedelta(days=-2), name="old CA"))),
        TRUSTSTORE,
        "certificate 'CN=old CA' expired on",
    ),
    (
        "weak key",
        with_domain(
            mtls(truststorePem=ca_pem(valid_for=timedelta(days=90), key=rsa.generate_private_key(65537, 1024)))
        ),
        TRUSTSTORE,
        "1024-bit RSA key; at least 2048 bits needed",
    ),
    (
        "missing truststore file",
        with_domain(mtls(truststorePath="examples/truststore/missing.pem")),
        "secure-api:domain.mutualTls.truststorePath",
        "no file 'examples/truststore/missing.pem'",
    ),
    (
        "two truststore sources",
        with_domain(mtls(truststorePath=DEV_CA, truststorePem=(project_dir() / DEV_CA).read_text())),
        "secure-api:domain.mutualTls",
        "set exactly one of truststorePath",
    ),
    (
        "mTLS with a TLS 1.3-only policy",
        with_domain(mtls(truststorePath=DEV_CA), tls={"securityPolicy": "SecurityPolicy_TLS13_1_3_2025_09"}),
        "secure-api:tls.securityPolicy",
        "AWS allows mutual TLS only with TLS_1_2",
    ),
    (
        "created certificate without a hosted zone",
        with_domain({"hostedZoneId": None}),
        "secure-api:domain.hostedZoneId",
        "needed to create and DNS-validate the certificate",
    ),
    (
        "TLS 1.0",
        with_domain({}, tls={"securityPolicy": "TLS_1_0"}),
        "secure-api:tls.securityPolicy",
        "one of TLS_1_2, SecurityPolicy_TLS13_1_3_2025_09",
    ),
    (
        "access mode with a legacy policy",
        with_domain({}, tls={"endpointAccessMode": "STRICT"}),
        "secure-api:tls",
        "endpointAccessMode applies to SecurityPolicy_* policies only",
    ),
    (
        "private custom domain without an issued certificate",
        with_domain({}, api={"endpointType": "PRIVATE"}, network={"vpcEndpointIds": ["vpce-0a1b2c3d4e5f67890"]}),
        "secure-api:domain.certificateArn",
        "cannot DNS-validate one in a private hosted zone",
    ),
    (
        "multi-level base path with an enhanced policy",
        with_domain(
            {"basePath": "catalog/v2"},
            tls={"securityPolicy": "SecurityPolicy_TLS13_1_2_2021_06"},
        ),
        "secure-api:domain.basePath",
        "a multi-level base path ('catalog/v2') needs tls.securityPolicy TLS_1_2",
    ),
    (
        "uppercase domain name",
        with_domain({"domainName": "API.example.com"}),
        "secure-api:domain.domainName",
        "lowercase fully qualified domain name",
    ),
    (
        "not a certificate ARN",
        with_domain({"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}),
        "secure-api:domain.certificateArn",
        "must be an ACM certificate ARN",
    ),
]


@pytest.mark.parametrize(("values", "key", "message"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_tls_config_names_the_key(values: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(copy.deepcopy(values))
    problems = dict(caught.value.problems)
    assert key in problems, problems
    assert message in problems[key]
