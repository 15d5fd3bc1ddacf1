"""Custom domain, certificate, DNS and mutual TLS truststore (README layer "6. TLS").

The truststore bucket is protected and retained: deleting it would break mTLS for every client.
To tear a stack down deliberately, `pulumi state unprotect` the bucket's URN, run `pulumi destroy`
(the bucket and its settings stay in AWS), then empty and delete the bucket by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi_aws as aws

from ..config import NAMESPACE, ConfigError
from ..config.tls import DomainSettings, MutualTlsSettings, certificate_region, expiry_warnings, parse_truststore
from .context import LayerContext
from .network import INVOKE
from .policy_document import VERSION, document_json, statement
from .vpc_endpoints import VpcEndpoints

TRUSTSTORE_KEY = "truststore.pem"


@dataclass(frozen=True)
class CustomDomain:
    domain: aws.apigateway.DomainName
    url: str
    truststore_bucket: aws.s3.Bucket | None


def build_custom_domain(
    ctx: LayerContext, api: aws.apigateway.RestApi, stage: aws.apigateway.Stage, endpoints: VpcEndpoints
) -> CustomDomain | None:
    """The custom domain of `domain`, REGIONAL or PRIVATE (`_private_domain`, through `endpoints`); None without."""
    settings = ctx.config.domain
    tls = ctx.config.tls
    if settings is None:
        if ctx.config.api.endpoint_type == "REGIONAL":
            pulumi.log.warn(
                f"no custom domain: clients call the default execute-api endpoint ({tls.security_policy}, "
                "no mutual TLS)"
            )
        return None
    if ctx.config.api.endpoint_type == "PRIVATE":
        return _private_domain(ctx, settings, api, stage, endpoints)
    ip_address_type = ctx.config.network.ip_address_type_for("REGIONAL")
    mutual_tls, bucket = _truststore(ctx, settings.mutual_tls) if settings.mutual_tls else (None, None)
    domain = aws.apigateway.DomainName(
        ctx.child("domain"),
        domain_name=settings.domain_name,
        regional_certificate_arn=_certificate_arn(ctx, settings),
        endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(
            types="REGIONAL", ip_address_type=ip_address_type
        ),
        security_policy=tls.security_policy,
        endpoint_access_mode=tls.access_mode,
        mutual_tls_authentication=mutual_tls,
        ownership_verification_certificate_arn=settings.ownership_verification_certificate_arn,
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    # One mapping per domain and base path: a second create of the same key fails with a conflict.
    if settings.multi_level_base_path:
        # The V1 CreateBasePathMapping refuses `a/b` ("use API Gateway V2"): a V2 API mapping takes it.
        aws.apigatewayv2.ApiMapping(
            ctx.child("api-mapping"),
            domain_name=domain.domain_name,
            api_id=api.id,
            stage=stage.stage_name,
            api_mapping_key=settings.base_path,
            opts=ctx.opts(delete_before_replace=True),
        )
    else:
        aws.apigateway.BasePathMapping(
            ctx.child("base-path"),
            domain_name=domain.domain_name,
            rest_api=api.id,
            # The Stage output, so the mapping waits for the stage ("Invalid stage identifier" otherwise).
            stage_name=stage.stage_name,
            base_path=settings.base_path,
            opts=ctx.opts(delete_before_replace=True),
        )
    if settings.hosted_zone_id:
        for record_type in ("A", "AAAA") if ip_address_type == "dualstack" else ("A",):
            aws.route53.Record(
                ctx.child(f"domain-{record_type.lower()}"),
                zone_id=ctx.input(settings.hosted_zone_id),
                name=settings.domain_name,
                type=record_type,
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=domain.regional_domain_name, zone_id=domain.regional_zone_id, evaluate_target_health=True
                    )
                ],
                opts=ctx.opts(),
            )
    else:
        pulumi.log.warn(
            f"domain.hostedZoneId is not set: point {settings.domain_name} at the domain's regional name yourself"
        )
    return CustomDomain(domain=domain, url=settings.url, truststore_bucket=bucket)


def private_domain_policy(ctx: LayerContext, domain_name: str, vpc_endpoint_ids: list[str]) -> dict[str, Any]:
    """The private domain's `policy`: execute-api:Invoke on this domain (any of its ids, `+*`) through the
    listed VPC endpoints only; with `network.allowedAccounts`, signed callers only of this or those accounts.

    The resource is `arn:<partition>:execute-api:<region>:<account>:/domainnames/<name>+<domainNameId>`
    (developer guide, "Custom domain names for private APIs"); the id is AWS's, so it is a wildcard here.
    """
    network = ctx.config.network
    arn = [f"arn:{ctx.partition}:execute-api:{ctx.region}:{ctx.account_id}:/domainnames/{domain_name}+*"]
    statements = [
        statement("Allow", INVOKE, arn, principal="*", sid="AllowInvokeOfDomain"),
        statement(
            "Deny",
            INVOKE,
            arn,
            principal="*",
            condition={"StringNotEquals": {"aws:SourceVpce": list(vpc_endpoint_ids)}},
            sid="DenyOutsideVpcEndpoints",
        ),
    ]
    if network.allowed_accounts:
        # Unsigned callers (auth none, Cognito, Lambda authorizer) carry no principal account: not refused here.
        accounts = sorted({ctx.account_id, *network.allowed_accounts})
        statements.append(
            statement(
                "Deny",
                INVOKE,
                arn,
                principal="*",
                condition={
                    "StringNotEquals": {"aws:PrincipalAccount": accounts},
                    "Null": {"aws:PrincipalAccount": "false"},
                },
                sid="DenyOtherAccounts",
            )
        )
    return {"Version": VERSION, "Statement": statements}


def _private_domain(
    ctx: LayerContext,
    settings: DomainSettings,
    api: aws.apigateway.RestApi,
    stage: aws.apigateway.Stage,
    endpoints: VpcEndpoints,
) -> CustomDomain:
    """A PRIVATE DomainName, one DomainNameAccessAssociation per VPC endpoint, the base path mapping by
    `domainNameId`, and alias records in the private hosted zone when one is given."""
    network = ctx.config.network
    ip_address_type = network.ip_address_type_for("PRIVATE")
    domain = aws.apigateway.DomainName(
        ctx.child("domain"),
        domain_name=settings.domain_name,
        # Private domains take `certificateArn`, not `regionalCertificateArn` (aws-cdk#32551).
        certificate_arn=_certificate_arn(ctx, settings),
        endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(
            types="PRIVATE", ip_address_type=ip_address_type
        ),
        security_policy=ctx.config.tls.security_policy,
        endpoint_access_mode=ctx.config.tls.access_mode,
        policy=endpoints.resolved.apply(lambda ids: json.dumps(private_domain_policy(ctx, settings.domain_name, ids))),
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    associations = [(f"domain-access-{e}", ctx.input(e) or e) for e in network.vpc_endpoint_ids]
    if endpoints.created is not None:
        associations.append(("domain-access", endpoints.created.id))
    for role, endpoint in associations:
        aws.apigateway.DomainNameAccessAssociation(
            ctx.child(role),
            domain_name_arn=domain.arn,
            access_association_source_type="VPCE",
            access_association_source=endpoint,
            tags=ctx.tags(),
            opts=ctx.opts(),
        )
    aws.apigateway.BasePathMapping(
        ctx.child("base-path"),
        domain_name=domain.domain_name,
        domain_name_id=domain.domain_name_id,
        rest_api=api.id,
        stage_name=stage.stage_name,
        base_path=settings.base_path,
        opts=ctx.opts(delete_before_replace=True),
    )
    if settings.hosted_zone_id:
        # The endpoint this stack creates, else the first listed one.
        if endpoints.created is not None:
            target, entries = "network.vpcEndpoint", endpoints.created.dns_entries
        else:
            first = network.vpc_endpoint_ids[0]
            target = f"{first}, the first of network.vpcEndpointIds"
            entries = aws.ec2.get_vpc_endpoint_output(id=ctx.input(first)).dns_entries
        if len(endpoints.ids) > 1:
            pulumi.log.warn(
                f"domain.hostedZoneId: {settings.domain_name} is aliased to {target}; other VPCs need their own "
                "private zone pointing at their endpoint"
            )
        entry = entries.apply(lambda found: found[0])
        for record_type in ("A", "AAAA") if ip_address_type == "dualstack" else ("A",):
            aws.route53.Record(
                ctx.child(f"domain-{record_type.lower()}"),
                zone_id=ctx.input(settings.hosted_zone_id),
                name=settings.domain_name,
                type=record_type,
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=entry.dns_name, zone_id=entry.hosted_zone_id, evaluate_target_health=False
                    )
                ],
                opts=ctx.opts(),
            )
    else:
        pulumi.log.warn(
            f"domain.hostedZoneId is not set: point {settings.domain_name} at a listed VPC endpoint's DNS name in "
            "a private hosted zone of each consuming VPC yourself"
        )
    return CustomDomain(domain=domain, url=settings.url, truststore_bucket=None)


def check_domain_region(ctx: LayerContext) -> None:
    """Before any resource: ACM certificates of a regional domain must be in the stack's region."""
    settings = ctx.config.domain
    if settings is None:
        return
    problems = [
        (key, _other_region(region, ctx.region))
        for key, region in (
            ("domain.certificateArn", certificate_region(settings.certificate_arn)),
            (
                "domain.ownershipVerificationCertificateArn",
                certificate_region(settings.ownership_verification_certificate_arn),
            ),
        )
        if region not in (None, ctx.region)
    ]
    if problems:
        raise ConfigError(NAMESPACE, problems)
    if settings.mutual_tls and settings.certificate_arn and not settings.ownership_verification_certificate_arn:
        pulumi.log.warn(
            "domain.certificateArn with mutual TLS: if that certificate is imported into ACM or issued by AWS "
            "Private CA, API Gateway also needs domain.ownershipVerificationCertificateArn (a public ACM "
            "certificate for the same domain name)"
        )


def _other_region(found: str | None, region: str) -> str:
    return f"the certificate is in {found}; a regional custom domain needs one in the stack's region {region}"


def _in_stack_region(arn: str, region: str) -> str:
    """A regional custom domain takes a certificate of its own region only; ConfigError otherwise."""
    found = certificate_region(arn)
    if found != region:
        raise ConfigError(NAMESPACE, [("domain.certificateArn", _other_region(found, region))])
    return arn


def _certificate_arn(ctx: LayerContext, settings: DomainSettings) -> pulumi.Input[str]:
    if settings.certificate_arn:
        if ctx.inputs.is_deferred(settings.certificate_arn):
            # Checked when the Output resolves; a certificate of another region fails the domain's registration.
            return pulumi.Output.from_input(ctx.input(settings.certificate_arn)).apply(
                lambda arn: _in_stack_region(arn, ctx.region)
            )
        return _in_stack_region(settings.certificate_arn, ctx.region)
    certificate = aws.acm.Certificate(
        ctx.child("certificate"),
        domain_name=settings.domain_name,
        validation_method="DNS",
        tags=ctx.tags(),
        opts=ctx.opts(),
    )
    option = certificate.domain_validation_options.apply(lambda options: options[0])
    record = aws.route53.Record(
        ctx.child("certificate-dns"),
        zone_id=ctx.input(settings.hosted_zone_id),
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=60,
        # ACM's validation name is the same for every certificate of this domain in the account:
        # a replacement certificate must be able to take the existing record over.
        allow_overwrite=True,
        # Overwriting means the old record's deletion would remove the new one (same name and type).
        opts=ctx.opts(delete_before_replace=True),
    )
    validation = aws.acm.CertificateValidation(
        ctx.child("certificate-validation"),
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=ctx.opts(),
    )
    # The validation's ARN, so the domain is created only once the certificate is issued.
    return validation.certificate_arn


def _truststore(
    ctx: LayerContext, settings: MutualTlsSettings
) -> tuple[aws.apigateway.DomainNameMutualTlsAuthenticationArgs, aws.s3.Bucket]:
    content = _truststore_content(ctx, settings)
    bucket = aws.s3.Bucket(
        ctx.child("truststore"),
        bucket_prefix=_bucket_prefix(ctx.api_name),
        tags=ctx.tags(),
        # Every mTLS client depends on it: never deleted or replaced by a config change. S3 cannot rename a
        # bucket and the prefix only labels it, so an `api.name` rename keeps the bucket it was created as.
        opts=ctx.opts(protect=True, retain_on_delete=True, ignore_changes=["bucketPrefix"]),
    )
    # The bucket's settings stay with the retained bucket (a deleted public access block would open it).
    keep = ctx.opts(retain_on_delete=True)
    versioning = aws.s3.BucketVersioning(
        ctx.child("truststore-versioning"),
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=keep,
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        ctx.child("truststore-encryption"),
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=ctx.input(settings.kms_key_arn)
                ),
                bucket_key_enabled=True,
            )
        ],
        opts=keep,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        ctx.child("truststore-public-access"),
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=keep,
    )
    aws.s3.BucketPolicy(
        ctx.child("truststore-policy"),
        bucket=bucket.id,
        policy=document_json(
            statement(
                "Deny",
                ["s3:*"],
                [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                principal="*",
                condition={"Bool": {"aws:SecureTransport": "false"}},
                sid="DenyInsecureTransport",
            )
        ),
        # After the public access block: S3 rejects concurrent changes to one bucket's policy settings.
        opts=ctx.opts(retain_on_delete=True, depends_on=[public_access]),
    )
    bundle = aws.s3.BucketObjectv2(
        ctx.child("truststore-bundle"),
        bucket=bucket.id,
        key=TRUSTSTORE_KEY,
        content=content,
        content_type="application/x-pem-file",
        server_side_encryption="aws:kms",
        kms_key_id=ctx.input(settings.kms_key_arn),
        # Uploaded once versioning is on, so the object has a real version id to pin. Deleting a
        # versioned object deletes every version of its key, the new one included: delete first.
        opts=ctx.opts(delete_before_replace=True, depends_on=[versioning, encryption]),
    )
    mutual_tls = aws.apigateway.DomainNameMutualTlsAuthenticationArgs(
        truststore_uri=pulumi.Output.concat("s3://", bucket.id, "/", TRUSTSTORE_KEY),  # id is the name
        # Pinned: a changed bundle is a new version, and the domain rolls over to it.
        truststore_version=bundle.version_id,
    )
    return mutual_tls, bucket


def _truststore_content(ctx: LayerContext, settings: MutualTlsSettings) -> pulumi.Input[str]:
    """The PEM bundle to upload; certificates close to expiry are warned about (once an Output resolves)."""

    def warn(pem: str) -> str:
        for message in expiry_warnings(parse_truststore(pem.encode()), datetime.now(UTC)):
            pulumi.log.warn(message)
        return pem

    if ctx.inputs.is_deferred(settings.truststore_pem):
        return pulumi.Output.from_input(ctx.input(settings.truststore_pem)).apply(warn)
    return warn(settings.bundle().decode())


def _bucket_prefix(api_name: str) -> str:
    """S3 names are lowercase; a prefix may be 37 characters at most."""
    return re.sub(r"[^a-z0-9-]", "-", api_name.lower())[:25].strip("-") + "-truststore-"
