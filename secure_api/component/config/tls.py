"""TLS, custom domain and mutual TLS (README layer "6. TLS"), and the mTLS truststore checked at plan time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import ConfigModel, is_pending

# TLS_1_0 is left out on purpose. The SecurityPolicy_* ("enhanced") policies are the regional ones.
SecurityPolicy = Literal[
    "TLS_1_2",
    "SecurityPolicy_TLS13_1_3_2025_09",
    "SecurityPolicy_TLS13_1_3_FIPS_2025_09",
    "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09",
    "SecurityPolicy_TLS13_1_2_2021_06",
]
EXPIRY_WARNING = timedelta(days=30)
# API Gateway's truststore limits.
MAX_TRUSTSTORE_CERTIFICATES = 1000
MAX_TRUSTSTORE_BYTES = 1024 * 1024
MAX_CHAIN_LENGTH = 4
MIN_RSA_BITS = 2048
SUPPORTED_CURVES = ("secp256r1", "secp384r1")
_STRONG_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512, hashes.SHA3_256, hashes.SHA3_384, hashes.SHA3_512)

_DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
_HOSTED_ZONE_ID = re.compile(r"^Z[0-9A-Z]{1,31}$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")


class TlsSettings(ConfigModel):
    """One policy for the execute-api endpoint and the custom domain (default TLS_1_2, never TLS_1_0).

    `endpointAccessMode` applies to the SecurityPolicy_* policies only (default STRICT for them).
    """

    security_policy: SecurityPolicy = "TLS_1_2"
    endpoint_access_mode: Literal["BASIC", "STRICT"] | None = None

    @model_validator(mode="after")
    def _access_mode_needs_enhanced_policy(self) -> TlsSettings:
        if self.endpoint_access_mode and not self.enhanced:
            raise ValueError(
                f"endpointAccessMode applies to SecurityPolicy_* policies only, not {self.security_policy}"
            )
        return self

    @property
    def enhanced(self) -> bool:
        return self.security_policy.startswith("SecurityPolicy_")

    @property
    def access_mode(self) -> str | None:
        return (self.endpoint_access_mode or "STRICT") if self.enhanced else None


def project_dir() -> Path:
    """The Pulumi project folder of the running program: the nearest folder at or above the working
    directory holding `Pulumi.yaml`, else the working directory.

    The Pulumi CLI starts a program in its `main:` folder when `Pulumi.yaml` names one (this repository's
    `main: deploy`; pulumi/pulumi pkg/engine `getPwdMain`), a folder inside the project, so the project
    is found upwards. Other languages' programs: the CLI spawns the component plugin in the program's
    working directory too (`plugin.Context.Pwd`, pulumi/pulumi sdk/go/common/resource/plugin).
    """
    cwd = Path.cwd()
    return next((folder for folder in (cwd, *cwd.parents) if (folder / "Pulumi.yaml").is_file()), cwd)


class MutualTlsSettings(ConfigModel):
    """The CA bundle clients' certificates must chain to: a PEM file in the project or inline PEM (exactly one).

    A relative `truststorePath` is resolved against the Pulumi project folder of the running program
    (`project_dir()`), never against this package. `kmsKeyArn` encrypts the truststore bucket with a
    customer-managed key (default: the account's AWS-managed S3 key); deployers need kms:Decrypt on it.
    """

    truststore_path: str | None = Field(default=None, examples=["examples/truststore/dev-ca.pem"])
    truststore_pem: str | None = Field(
        default=None, examples=["-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----"]
    )
    kms_key_arn: str | None = Field(
        default=None, examples=["arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"]
    )

    @field_validator("truststore_path")
    @classmethod
    def _readable_bundle(cls, path: str | None) -> str | None:
        if path is not None:
            file = project_dir() / path
            if not file.is_file():
                raise ValueError(f"no file {path!r} in {project_dir()}")
            parse_truststore(file.read_bytes())
        return path

    @field_validator("truststore_pem")
    @classmethod
    def _valid_bundle(cls, pem: str | None, info: ValidationInfo) -> str | None:
        if pem is not None and not is_pending(pem, info):
            parse_truststore(pem.encode())
        return pem

    @field_validator("kms_key_arn")
    @classmethod
    def _key_arn(cls, arn: str | None, info: ValidationInfo) -> str | None:
        if arn is not None and not is_pending(arn, info) and not _KMS_KEY_ARN.match(arn):
            raise ValueError(f"must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got {arn!r}")
        return arn

    @model_validator(mode="after")
    def _one_source(self) -> MutualTlsSettings:
        if (self.truststore_path is None) == (self.truststore_pem is None):
            raise ValueError("set exactly one of truststorePath (a PEM file in the repo) or truststorePem (inline PEM)")
        return self

    def bundle(self) -> bytes:
        if self.truststore_path is not None:
            return (project_dir() / self.truststore_path).read_bytes()
        return (self.truststore_pem or "").encode()

    def certificates(self) -> list[x509.Certificate]:
        return parse_truststore(self.bundle())


class DomainSettings(ConfigModel):
    """A custom domain: REGIONAL for a REGIONAL API (the default execute-api endpoint is switched off),
    PRIVATE for a PRIVATE API (its `policy` admits only the API's VPC endpoints, one access association
    per endpoint; `hostedZoneId` is then a private hosted zone whose alias points at the first endpoint).

    The ACM certificate is `certificateArn` (issued, in the stack's region), or created and
    DNS-validated in `hostedZoneId`. With `hostedZoneId` an alias record points the name at the
    domain; without it DNS is yours to set. `basePath` maps the stage below the root (default: root);
    a multi-level path (`catalog/v2`) is an API Gateway V2 API mapping, which AWS offers for REGIONAL
    domains with the TLS_1_2 policy (API Gateway developer guide, "API mappings for REST APIs").
    """

    domain_name: str = Field(examples=["api.example.com"])
    # Checked by `_zone_id`, not a pattern: it may be an Output's placeholder until the Output resolves.
    hosted_zone_id: str | None = Field(
        default=None,
        description="a Route 53 hosted zone id: Z and up to 31 capital letters or digits",
        examples=["Z0123456789EXAMPLE01"],
    )
    certificate_arn: str | None = Field(
        default=None, examples=["arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"]
    )
    base_path: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$",
        description="path segments of letters, digits, . _ ~ or - joined by / (no leading or trailing /)",
        examples=["v1"],
    )
    mutual_tls: MutualTlsSettings | None = None
    ownership_verification_certificate_arn: str | None = Field(
        default=None, examples=["arn:aws:acm:eu-west-1:123456789012:certificate/1a2b3c4d-4f50-6172-8394-a5b6c7d8e9f0"]
    )
    """A public ACM certificate for the domain; API Gateway needs it for mutual TLS when `certificateArn`
    is imported into ACM or issued by AWS Private CA."""

    @field_validator("domain_name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not _DOMAIN_NAME.match(name):
            raise ValueError(f"must be a lowercase fully qualified domain name like api.example.com, got {name!r}")
        return name

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone_id(cls, zone: str | None, info: ValidationInfo) -> str | None:
        if zone is not None and not is_pending(zone, info) and not _HOSTED_ZONE_ID.match(zone):
            raise ValueError(
                f"{zone!r} is not a Route 53 hosted zone id (Z and up to 31 capital letters or digits), "
                "e.g. Z0123456789EXAMPLE01"
            )
        return zone

    @field_validator("certificate_arn", "ownership_verification_certificate_arn")
    @classmethod
    def _certificate_arn(cls, arn: str | None, info: ValidationInfo) -> str | None:
        if arn is not None and not is_pending(arn, info) and not _CERTIFICATE_ARN.match(arn):
            raise ValueError(
                f"must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), got {arn!r}"
            )
        return arn

    @property
    def multi_level_base_path(self) -> bool:
        return "/" in (self.base_path or "")

    @property
    def url(self) -> str:
        return f"https://{self.domain_name}/{self.base_path or ''}"


def certificate_region(arn: str | None) -> str | None:
    """The region of an ACM certificate ARN (None for None)."""
    match = _CERTIFICATE_ARN.match(arn or "")
    return match.group(1) if match else None


def tls_problems(tls: TlsSettings, domain: DomainSettings | None, endpoint_type: str) -> list[tuple[str, str]]:
    """Cross-section rules for TLS and the custom domain; (key path, message) as `cross_problems` reports."""
    if domain is None:
        return []
    problems: list[tuple[str, str]] = []
    if endpoint_type == "PRIVATE":
        return _private_domain_problems(domain)
    if domain.certificate_arn is None and domain.hosted_zone_id is None:
        problems.append(
            (
                "domain.hostedZoneId",
                "needed to create and DNS-validate the certificate; or set domain.certificateArn to an issued "
                "ACM certificate in the stack's region",
            )
        )
    if domain.ownership_verification_certificate_arn and (domain.mutual_tls is None or domain.certificate_arn is None):
        problems.append(
            (
                "domain.ownershipVerificationCertificateArn",
                "only used with domain.mutualTls and your own domain.certificateArn (a certificate the component "
                "creates is a public ACM certificate and needs no ownership verification)",
            )
        )
    if domain.multi_level_base_path and tls.security_policy != "TLS_1_2":
        problems.append(
            (
                "domain.basePath",
                f"a multi-level base path ({domain.base_path!r}) needs tls.securityPolicy TLS_1_2: API Gateway maps "
                f"several levels only on REGIONAL domains with TLS_1_2, not {tls.security_policy}; use one level "
                "(e.g. 'catalog') or TLS_1_2",
            )
        )
    if domain.mutual_tls is not None and tls.enhanced:
        problems.append(
            (
                "tls.securityPolicy",
                f"{tls.security_policy} cannot be combined with domain.mutualTls: AWS allows mutual TLS only with "
                "TLS_1_2, not with the SecurityPolicy_* policies (TLS 1.3-only included)",
            )
        )
    return problems


def _private_domain_problems(domain: DomainSettings) -> list[tuple[str, str]]:
    """What API Gateway refuses for a private custom domain name (developer guide, "Custom domain names for
    private APIs in API Gateway"): no mutual TLS, no API mappings (so one base path level only), an ACM
    certificate of the stack's region; a private hosted zone cannot answer ACM's public DNS validation."""
    problems: list[tuple[str, str]] = []
    if domain.certificate_arn is None:
        problems.append(
            (
                "domain.certificateArn",
                "a private custom domain needs an issued ACM certificate in the stack's region: the component "
                "cannot DNS-validate one in a private hosted zone (ACM validates through public DNS)",
            )
        )
    if domain.mutual_tls is not None:
        problems.append(("domain.mutualTls", "API Gateway offers no mutual TLS on private custom domain names"))
    if domain.ownership_verification_certificate_arn:
        problems.append(
            ("domain.ownershipVerificationCertificateArn", "only used with mutual TLS, which private domains lack")
        )
    if domain.multi_level_base_path:
        problems.append(
            (
                "domain.basePath",
                f"a multi-level base path ({domain.base_path!r}) is an API mapping, which private custom domain "
                "names do not support; use one level (e.g. 'catalog')",
            )
        )
    return problems


def parse_truststore(data: bytes, now: datetime | None = None) -> list[x509.Certificate]:
    """The certificates of a PEM bundle, or ValueError naming every rule a certificate breaks.

    API Gateway's mutual TLS truststore rules (API Gateway developer guide, "mutual TLS for REST
    APIs": prerequisites and the certificate properties it validates; quotas for the file):
    one PEM file of at most 1 MB and 1,000 certificates; X.509 syntax; currently valid; signed
    with SHA-256 or stronger; RSA keys of 2048 bits or more, or ECDSA P-256 / P-384; names and
    signatures chaining unbroken within the bundle to a self-signed root; chains of at most four
    certificates, the client's own certificate included.
    """
    if len(data) > MAX_TRUSTSTORE_BYTES:
        raise ValueError(f"the truststore is {len(data)} bytes; API Gateway accepts at most {MAX_TRUSTSTORE_BYTES}")
    if b"PRIVATE KEY-----" in data:
        raise ValueError("the truststore contains a private key: it must hold CA certificates only")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise ValueError(f"not a PEM bundle of X.509 certificates ({error})") from None
    if len(certificates) > MAX_TRUSTSTORE_CERTIFICATES:
        raise ValueError(f"{len(certificates)} certificates; API Gateway accepts at most {MAX_TRUSTSTORE_CERTIFICATES}")
    moment = now or datetime.now(UTC)
    problems = [p for certificate in certificates for p in _certificate_problems(certificate, moment)]
    problems.extend(_chain_problems(certificates))
    if problems:
        raise ValueError("; ".join(problems))
    return certificates


def _certificate_problems(certificate: x509.Certificate, moment: datetime) -> list[str]:
    subject = repr(certificate.subject.rfc4514_string())
    problems = []
    if certificate.not_valid_after_utc <= moment:
        problems.append(f"certificate {subject} expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
    if certificate.not_valid_before_utc > moment:
        problems.append(f"certificate {subject} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}")
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            problems.append(
                f"certificate {subject} has a {key.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits needed"
            )
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in SUPPORTED_CURVES:
            problems.append(
                f"certificate {subject} has an ECDSA key on {key.curve.name}; API Gateway takes P-256 or P-384"
            )
    else:
        problems.append(
            f"certificate {subject} has a {type(key).__name__.removesuffix('PublicKey')} key; API Gateway takes RSA "
            "(2048 bits or more) or ECDSA P-256/P-384"
        )
    algorithm = certificate.signature_hash_algorithm
    if not isinstance(algorithm, _STRONG_HASHES):
        name = (
            algorithm.name if algorithm else f"signature algorithm {certificate.signature_algorithm_oid.dotted_string}"
        )
        problems.append(f"certificate {subject} is signed with {name}; SHA-256 or stronger needed")
    return problems


def _chain_problems(certificates: list[x509.Certificate]) -> list[str]:
    """Every certificate must chain (by name and signature) to a self-signed root in the bundle."""
    by_subject: dict[x509.Name, list[x509.Certificate]] = {}
    for certificate in certificates:
        by_subject.setdefault(certificate.subject, []).append(certificate)

    def issuer_of(certificate: x509.Certificate) -> x509.Certificate | None:
        for candidate in by_subject.get(certificate.issuer, []):
            try:
                certificate.verify_directly_issued_by(candidate)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return candidate
        return None

    problems = []
    for certificate in certificates:
        subject = repr(certificate.subject.rfc4514_string())
        chain = [certificate]
        while chain[-1].issuer != chain[-1].subject:
            issuer = issuer_of(chain[-1])
            if issuer is None or issuer in chain:
                problems.append(
                    f"certificate {subject} does not chain to a root in the bundle: no certificate of "
                    f"{chain[-1].issuer.rfc4514_string()!r} that signed "
                    f"{chain[-1].subject.rfc4514_string()!r}; add it (the chain must be unbroken)"
                )
                break
            chain.append(issuer)
        else:
            if issuer_of(chain[-1]) is None:
                problems.append(f"certificate {subject}: the self-signed root's signature does not verify")
            elif len(chain) >= MAX_CHAIN_LENGTH:
                problems.append(
                    f"certificate {subject} is certificate {len(chain)} of its chain to the root: a client certificate "
                    f"it issues would make a chain of {len(chain) + 1}; API Gateway accepts at most {MAX_CHAIN_LENGTH}"
                )
    return problems


def expiry_warnings(
    certificates: list[x509.Certificate], now: datetime, within: timedelta = EXPIRY_WARNING
) -> list[str]:
    """One message per certificate that stops being valid within `within` of `now`."""
    return [
        f"truststore certificate {c.subject.rfc4514_string()!r} expires on {c.not_valid_after_utc:%Y-%m-%d} "
        f"({(c.not_valid_after_utc - now).days} days): add its successor to the bundle"
        for c in certificates
        if c.not_valid_after_utc - now <= within
    ]
