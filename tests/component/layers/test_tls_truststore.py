"""The mTLS truststore against every rule API Gateway documents, and ownership verification.

Source: API Gateway developer guide, "mutual TLS for REST APIs" (chains of at most four, SHA-256 or
stronger, RSA 2048+ or ECDSA P-256/P-384, unbroken name/key chaining, current validity) and the
DomainName `ownershipVerificationCertificateArn` for imported / Private CA certificates.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.config.tls import parse_truststore
from tests.conftest import Plan

NOW = datetime(2030, 1, 1, tzinfo=UTC)
P256 = ec.generate_private_key(ec.SECP256R1())
SHA256 = hashes.SHA256()
TRUSTSTORE = "secure-api:domain.mutualTls.truststorePem"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
OWNERSHIP = "arn:aws:acm:eu-west-1:123456789012:certificate/1a2b3c4d-4b5a-6978-8a9b-0c1d2e3f4a5b"


def certificate(
    name: str,
    key: Any = P256,
    *,
    issuer: tuple[str, Any] | None = None,
    start: timedelta = timedelta(days=-1),
    hash_: Any = SHA256,
) -> x509.Certificate:
    issuer_name, issuer_key = issuer or (name, key)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + start)
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(issuer_key, hash_)
    )


def bundle(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def chain(depth: int) -> list[x509.Certificate]:
    """A root and `depth - 1` intermediates below it, each signed by the previous."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(depth)]
    result = [certificate("ca-0", keys[0])]
    for level in range(1, depth):
        result.append(certificate(f"ca-{level}", keys[level], issuer=(f"ca-{level - 1}", keys[level - 1])))
    return result


def refused(data: bytes) -> str:
    with pytest.raises(ValueError, match=r".") as caught:
        parse_truststore(data, NOW)
    return str(caught.value)


def test_a_root_with_two_intermediates_is_accepted() -> None:
    """Root + 2 intermediates + the client's certificate is a chain of four."""
    assert len(parse_truststore(bundle(*chain(3)), NOW)) == 3
    assert parse_truststore(bundle(certificate("p384", ec.generate_private_key(ec.SECP384R1()))), NOW)


def test_a_chain_longer_than_four_is_refused() -> None:
    assert "'CN=ca-3' is certificate 4 of its chain to the root" in refused(bundle(*chain(4)))


def test_a_broken_chain_is_refused() -> None:
    root, intermediate = chain(2)
    assert "'CN=ca-1' does not chain to a root in the bundle: no certificate of 'CN=ca-0'" in refused(
        bundle(intermediate)
    )
    impostor = certificate("ca-0", ec.generate_private_key(ec.SECP256R1()))  # same name, other key
    assert "does not chain to a root" in refused(bundle(impostor, intermediate))
    assert parse_truststore(bundle(root, intermediate), NOW)


@pytest.mark.parametrize(
    ("key", "hash_", "message"),
    [
        (ec.generate_private_key(ec.SECP521R1()), hashes.SHA256(), "ECDSA key on secp521r1; API Gateway takes P-256"),
        (ed25519.Ed25519PrivateKey.generate(), None, "has a Ed25519 key"),
        (rsa.generate_private_key(65537, 2048), hashes.SHA224(), "signed with sha224; SHA-256 or stronger"),
        (rsa.generate_private_key(65537, 1024), hashes.SHA256(), "1024-bit RSA key; at least 2048"),
    ],
    ids=["p521", "ed25519", "sha224", "rsa1024"],
)
def test_keys_and_signatures_api_gateway_does_not_take(key: Any, hash_: Any, message: str) -> None:
    assert message in refused(bundle(certificate("weak", key, hash_=hash_)))


def test_a_certificate_not_yet_valid_is_refused() -> None:
    assert "is not valid before 2030-01-03" in refused(bundle(certificate("early", start=timedelta(days=2))))


def test_every_problem_is_named_at_once() -> None:
    message = refused(bundle(certificate("early", start=timedelta(days=2)), *chain(4)))
    assert "not valid before" in message
    assert "certificate 4 of its chain" in message


def with_mtls(pem: str, **domain: Any) -> dict[str, Any]:
    route = {"path": "/orders", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}
    return {
        "routes": [route],
        "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
        "domain": {
            "domainName": "api.example.com",
            "hostedZoneId": "Z123",
            "mutualTls": {"truststorePem": pem},
            **domain,
        },
    }


def test_the_config_names_the_truststore_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(with_mtls(bundle(*chain(4)).decode()))
    assert "certificate 4 of its chain" in dict(caught.value.problems)[TRUSTSTORE]


CURRENT_CA = bundle(certificate("partner CA", start=timedelta(days=-3650))).decode()


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_ownership_verification_certificate_reaches_the_domain(plan: Plan, preview: bool) -> None:
    values = with_mtls(CURRENT_CA, certificateArn=CERTIFICATE, ownershipVerificationCertificateArn=OWNERSHIP)
    result = plan(values, preview=preview)
    domain = result.one("aws:apigateway/domainName:DomainName")
    assert domain.inputs["ownershipVerificationCertificateArn"] == OWNERSHIP
    assert not any("ownershipVerificationCertificateArn" in w for w in result.warnings)
    values["domain"].pop("ownershipVerificationCertificateArn")
    result = plan(values, preview=preview)
    assert "ownershipVerificationCertificateArn" not in result.one("aws:apigateway/domainName:DomainName").inputs
    assert any("imported into ACM or issued by AWS Private CA" in w for w in result.warnings)


def test_ownership_verification_needs_mtls_and_an_own_certificate() -> None:
    values = with_mtls(CURRENT_CA, ownershipVerificationCertificateArn=OWNERSHIP)
    with pytest.raises(ConfigError) as caught:
        parse_config(copy.deepcopy(values))
    assert (
        "only used with domain.mutualTls and your own domain.certificateArn"
        in dict(caught.value.problems)["secure-api:domain.ownershipVerificationCertificateArn"]
    )


def test_ownership_verification_certificate_in_another_region_fails_the_plan(plan: Plan) -> None:
    other = OWNERSHIP.replace("eu-west-1", "us-east-1")
    values = with_mtls(CURRENT_CA, certificateArn=CERTIFICATE, ownershipVerificationCertificateArn=other)
    with pytest.raises(ConfigError) as caught:
        plan(values, preview=True)
    assert (
        "in the stack's region eu-west-1"
        in dict(caught.value.problems)["secure-api:domain.ownershipVerificationCertificateArn"]
    )
