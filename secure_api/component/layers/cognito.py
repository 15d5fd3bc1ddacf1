"""Cognito user pool, resource server, app clients and optional hosted domain (README layer "1. Auth")."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..config.auth import RESERVED_DOMAIN_WORDS
from .context import LayerContext


@dataclass(frozen=True)
class UserPoolResources:
    pool: aws.cognito.UserPool
    clients: dict[str, aws.cognito.UserPoolClient]
    resource_server: aws.cognito.ResourceServer | None
    issuer_url: pulumi.Output[str]
    jwks_url: pulumi.Output[str]


def build_user_pool(ctx: LayerContext) -> UserPoolResources:
    settings = ctx.config.cognito
    policy = settings.password_policy
    if not settings.deletion_protection:
        pulumi.log.warn("cognito.deletionProtection is off: the user pool can be deleted with all its users")
    if settings.threat_protection == "OFF":
        pulumi.log.warn("cognito.threatProtection is OFF: no compromised-credential or adaptive-auth checks")
    elif settings.threat_protection == "AUDIT":
        pulumi.log.warn("cognito.threatProtection is AUDIT: risky sign-ins are logged, not blocked")
    if settings.mfa == "OPTIONAL":
        pulumi.log.warn("cognito.mfa is OPTIONAL: users may sign in with a password alone")
    pool = aws.cognito.UserPool(
        ctx.child("users"),
        name=f"{ctx.api_name}-users",
        deletion_protection="ACTIVE" if settings.deletion_protection else "INACTIVE",
        mfa_configuration=settings.mfa,
        software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
        user_pool_tier=settings.tier,
        user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode=settings.threat_protection)
        if settings.tier == "PLUS"
        else None,
        password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
            minimum_length=policy.minimum_length,
            require_lowercase=policy.require_lowercase,
            require_uppercase=policy.require_uppercase,
            require_numbers=policy.require_numbers,
            require_symbols=policy.require_symbols,
            temporary_password_validity_days=policy.temporary_password_validity_days,
            # "your user pool must be in the Essentials tier or higher" (Cognito API reference, PasswordPolicyType);
            # independent of threat protection. Both tiers offered here qualify.
            password_history_size=policy.password_history_size,
        ),
        admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=True),
        account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
            recovery_mechanisms=[
                aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)
            ]
        ),
        auto_verified_attributes=["email"],
        username_attributes=["email"],
        tags=ctx.marked_tags("user_pool"),
        # The pool holds the users: a config change must never delete or replace it. Cognito cannot rename a
        # pool (UpdateUserPool takes no PoolName) and the name only labels it, so an `api.name` rename keeps
        # the pool and its name.
        opts=ctx.opts(protect=True, ignore_changes=["name"]),
    )
    server = _resource_server(ctx, pool)
    clients = {
        # Keyed by id: renaming `name` with the id kept updates the client in place (same client id).
        client.stable_id: aws.cognito.UserPoolClient(
            ctx.child(f"client-{client.stable_id}"),
            name=client.name,
            user_pool_id=pool.id,
            generate_secret=client.generate_secret,
            explicit_auth_flows=list(client.explicit_auth_flows),
            allowed_oauth_flows_user_pool_client=bool(client.oauth_flows),
            allowed_oauth_flows=list(client.oauth_flows) or None,
            allowed_oauth_scopes=list(client.allowed_scopes) or None,
            callback_urls=list(client.callback_urls) or None,
            logout_urls=list(client.logout_urls) or None,
            supported_identity_providers=["COGNITO"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=client.access_token_validity_minutes,
            id_token_validity=client.id_token_validity_minutes,
            refresh_token_validity=client.refresh_token_validity_days,
            token_validity_units=aws.cognito.UserPoolClientTokenValidityUnitsArgs(
                access_token="minutes", id_token="minutes", refresh_token="days"
            ),
            opts=ctx.opts(depends_on=[server] if server else None),
        )
        for client in settings.app_clients
    }
    prefix = settings.domain_prefix or (default_domain_prefix(ctx) if settings.needs_domain else None)
    if prefix:
        domain = aws.cognito.UserPoolDomain(
            ctx.child("users-domain"),
            domain=prefix,
            user_pool_id=pool.id,
            managed_login_version=2,
            # One prefix domain per user pool: a new prefix can only be created once the old one is gone.
            opts=ctx.opts(delete_before_replace=True),
        )
        for config_client in settings.app_clients:
            if "code" in config_client.oauth_flows:
                # Managed login v2 serves sign-in pages only to clients that have a branding style.
                aws.cognito.ManagedLoginBranding(
                    ctx.child(f"client-{config_client.stable_id}-login-style"),
                    user_pool_id=pool.id,
                    client_id=clients[config_client.stable_id].id,
                    use_cognito_provided_values=True,
                    opts=ctx.opts(depends_on=[domain]),
                )
    issuer = pulumi.Output.concat("https://cognito-idp.", ctx.region, ".amazonaws.com/", pool.id)
    return UserPoolResources(
        pool=pool,
        clients=clients,
        resource_server=server,
        issuer_url=issuer,
        jwks_url=issuer.apply(lambda url: f"{url}/.well-known/jwks.json"),
    )


def default_domain_prefix(ctx: LayerContext) -> str:
    """`<physical prefix>-<8 hex>`: lowercase, Cognito's reserved words left out, and a digest of the account,
    region, stack and component, since a prefix domain is unique per region across all AWS accounts
    (Cognito developer guide, "Using the Amazon Cognito prefix domain")."""
    base = re.sub(r"[^a-z0-9-]", "-", ctx.physical_prefix.lower())
    for word in RESERVED_DOMAIN_WORDS:
        base = base.replace(word, "")
    base = re.sub(r"-{2,}", "-", base).strip("-")[:54].strip("-")
    digest = hashlib.sha256(f"{ctx.account_id}/{ctx.region}/{pulumi.get_stack()}/{ctx.name}".encode()).hexdigest()
    return f"{base}-{digest[:8]}" if base else f"pool-{digest[:8]}"


def _resource_server(ctx: LayerContext, pool: aws.cognito.UserPool) -> aws.cognito.ResourceServer | None:
    server = ctx.config.cognito.resource_server
    if server is None:
        return None
    return aws.cognito.ResourceServer(
        ctx.child("resource-server"),
        identifier=server.identifier,
        name=server.name,
        user_pool_id=pool.id,
        scopes=[
            aws.cognito.ResourceServerScopeArgs(scope_name=s.name, scope_description=s.description)
            for s in server.scopes
        ],
        # The name only labels the server and replaces it (create-before-delete of the same identifier in the
        # same pool would fail): a rename keeps the name it was created with; the identifier is what counts.
        opts=ctx.opts(ignore_changes=["name"]),
    )
