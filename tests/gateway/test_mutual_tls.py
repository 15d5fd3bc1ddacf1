"""Mutual TLS on the custom domain: real client chains verified against the truststore the stack uploads.

"Configuring mutual TLS authentication for a REST API" (API Gateway developer guide): a client without a
certificate fails the handshake; one that does not chain to the truststore, or has expired, is refused;
chains are at most four certificates long. Each chain here is generated with `cryptography`.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.request import Request
from secure_api.gateway.stack import load
from secure_api.plan.cli import main
from secure_api.plan.harness import PlannedResource
from secure_api.plan.offline import plan_stack

REPO = Path(__file__).resolve().parents[2]
NOW = datetime.datetime.now(datetime.UTC)


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
    expired: bool = False,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start, end = (
        (NOW - datetime.timedelta(days=30), NOW - datetime.timedelta(days=1))
        if expired
        else (
            NOW - datetime.timedelta(days=1),
            NOW + datetime.timedelta(days=30),
        )
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _chain(intermediates: int, *, expired: bool = False) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """(root CA, [leaf, intermediates...]) with `intermediates` CAs between them."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate("test root", root_key, None, ca=True)
    issuer, middle = (root, root_key), []
    for index in range(intermediates):
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _certificate(f"intermediate {index}", key, issuer, ca=True)
        middle.insert(0, certificate)
        issuer = (certificate, key)
    leaf = _certificate("partner client", ec.generate_private_key(ec.SECP256R1()), issuer, ca=False, expired=expired)
    return root, [leaf, *middle]


def _pem(certificates: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


@pytest.fixture(scope="module")
def dev_model() -> list[PlannedResource]:
    return plan_stack("dev", preview=False, project_dir=REPO).resources


def _ask(resources: list[PlannedResource], truststore: x509.Certificate, client: str) -> tuple[int, str, str]:
    stack = load(resources)
    stack.domains = [dataclasses.replace(d, truststore_pem=_pem([truststore])) for d in stack.domains]
    gateway = Gateway(stack)
    try:
        result = gateway.evaluate(
            Request("GET", "/v1/health", via="domain", source_ip="198.51.100.20", client_certificate_pem=client)
        )
    finally:
        gateway.close()
    return result.status, result.layer, result.reason


def test_a_chain_to_the_truststore_gets_in(dev_model: list[PlannedResource]) -> None:
    root, chain = _chain(1)
    assert _ask(dev_model, root, _pem(chain))[:2] == (200, "integration")


def test_four_certificates_is_the_longest_chain(dev_model: list[PlannedResource]) -> None:
    root, chain = _chain(2)  # leaf, two intermediates, root: four
    assert _ask(dev_model, root, _pem(chain))[0] == 200
    root, chain = _chain(3)  # five
    status, layer, reason = _ask(dev_model, root, _pem(chain))
    assert (status, layer) == (403, "entry")
    assert "does not verify against the truststore" in reason


def test_another_ca_and_an_expired_leaf_are_refused(dev_model: list[PlannedResource]) -> None:
    root, _ = _chain(1)
    _, foreign = _chain(1)
    status, layer, reason = _ask(dev_model, root, _pem(foreign))
    assert (status, layer) == (403, "entry")
    assert "CN=partner client" in reason
    root, expired = _chain(0, expired=True)
    status, _, reason = _ask(dev_model, root, _pem(expired))
    assert status == 403
    assert "has expired" in reason


def test_the_dev_truststore_signs_no_client_here(dev_model: list[PlannedResource]) -> None:
    """The repository's test CA has no private key anywhere: any real chain is refused by it."""
    _, chain = _chain(0)
    stack = load(dev_model)
    gateway = Gateway(stack)
    try:
        result = gateway.evaluate(
            Request("GET", "/v1/health", via="domain", source_ip="198.51.100.20", client_certificate_pem=_pem(chain))
        )
    finally:
        gateway.close()
    assert (result.status, result.layer) == (403, "entry")


def test_a_case_file_names_a_pem_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, chain = _chain(0)
    (tmp_path / "client.pem").write_text(_pem(chain))
    (tmp_path / "not.pem").write_text("hello")
    cases = tmp_path / "cases.yaml"
    request = "method: GET, path: /v1/health, via: domain, sourceIp: 198.51.100.20"
    cases.write_text(
        f"- {{name: real chain, request: {{{request}, clientCertificateFile: client.pem}}, "
        "expect: {status: 403, layer: entry}}\n"
    )
    assert main(["requests", "--cwd", str(REPO), "--stack", "dev", str(cases)]) == 0, capsys.readouterr().out
    cases.write_text(f"- {{name: not a chain, request: {{{request}, clientCertificateFile: not.pem}}}}\n")
    assert main(["requests", "--cwd", str(REPO), "--stack", "dev", str(cases)]) == 2
    assert "clientCertificateFile is not a PEM certificate chain" in capsys.readouterr().err
