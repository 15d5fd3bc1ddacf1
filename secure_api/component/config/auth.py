"""Authentication settings: the Cognito user pool and the custom Lambda authorizer (README layer "1. Auth")."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import ConfigModel, check_retention_days, is_pending

_SCOPE_NAME = re.compile(r"^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+$")
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Cognito's ClientNameType (botocore cognito-idp service model): `[\w\s+=,.@-]+`, 1-128 characters.
_CLIENT_NAME = re.compile(r"^[A-Za-z0-9_ \t+=,.@-]{1,128}$")
# "The domain prefix can't contain reserved words such as aws, amazon or cognito" (Cognito developer guide,
# "Using the Amazon Cognito domain").
RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")
MAX_REDIRECT_URL_LENGTH = 1024  # RedirectUrlType


def _redirect_url_problem(url: str) -> str | None:
    """Why Cognito (CreateUserPoolClient CallbackURLs/LogoutURLs) would refuse `url`, or None.

    A redirect URL must be absolute and have no fragment; Cognito "requires HTTPS over HTTP except for
    http://localhost for testing purposes only" (Cognito API reference, CreateUserPoolClient). Only the
    host name `localhost` is that exception: `http://127.0.0.1` and `http://localhost.example.com` are not.
    Native-app schemes are not offered here (the code flow is for web clients).
    """
    if len(url) > MAX_REDIRECT_URL_LENGTH:
        return f"{url[:40]!r}… is longer than {MAX_REDIRECT_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"{url!r} is not a URL ({error})"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{url!r} must be an absolute https:// URL, e.g. https://app.example.com/callback"
    if parts.fragment or url.endswith("#"):
        return f"{url!r} has a fragment (#…); redirect URLs may not"
    if parts.username is not None or parts.password is not None:
        return f"{url!r} has user information (user@host); redirect URLs may not"
    if parts.scheme == "http" and parts.hostname != "localhost":
        return (
            f"{url!r} must be https://; Cognito allows http only for http://localhost (testing), "
            f"e.g. http://localhost:{port or 3000}/callback"
        )
    return None


class PasswordPolicy(ConfigModel):
    """Defaults follow NIST 800-63B length guidance plus AWS's Cognito.3 control (all character classes)."""

    minimum_length: int = Field(default=14, ge=12, le=99)
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True
    temporary_password_validity_days: int = Field(default=3, ge=1, le=7)
    password_history_size: int = Field(default=5, ge=0, le=24)


class Scope(ConfigModel):
    name: str = Field(examples=["orders.read"])
    description: str = Field(examples=["Read orders"])

    @field_validator("name")
    @classmethod
    def _valid_scope(cls, name: str) -> str:
        if not _SCOPE_NAME.match(name):
            raise ValueError(
                f"scope name {name!r} has characters OAuth scopes do not allow (spaces, quotes, backslashes), "
                "e.g. orders.read"
            )
        return name


class ResourceServer(ConfigModel):
    """The OAuth resource server whose scopes routes can require."""

    identifier: str = Field(examples=["https://orders.example.com"])
    name: str = Field(examples=["orders"])
    scopes: tuple[Scope, ...] = Field(min_length=1)


AuthFlow = Literal["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
OAuthFlow = Literal["code", "client_credentials"]


class AppClient(ConfigModel):
    """An app client; the implicit grant is not offered at all (tokens in URLs leak)."""

    name: str = Field(examples=["web"])
    id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,128}$",
        description="The client's stable handle, 1 to 128 letters, digits, - or _ (default: its name): it alone "
        "names the client's Pulumi resources and keys appClientIds. Keep it when renaming the client, and the "
        "rename is an update in place that keeps the client id.",
        examples=["web"],
    )
    generate_secret: bool = False
    explicit_auth_flows: tuple[AuthFlow, ...] = ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    allow_password_auth: bool = False
    oauth_flows: tuple[OAuthFlow, ...] = ()
    allowed_scopes: tuple[str, ...] = Field(default=(), examples=[["openid", "https://orders.example.com/orders.read"]])
    callback_urls: tuple[str, ...] = Field(default=(), examples=[["https://app.example.com/callback"]])
    logout_urls: tuple[str, ...] = Field(default=(), examples=[["https://app.example.com/signed-out"]])
    access_token_validity_minutes: int = Field(default=60, ge=5, le=1440)
    id_token_validity_minutes: int = Field(default=60, ge=5, le=1440)
    refresh_token_validity_days: int = Field(default=1, ge=1, le=3650)

    @field_validator("name")
    @classmethod
    def _client_name(cls, name: str) -> str:
        if not _CLIENT_NAME.match(name):
            raise ValueError(
                f"{name!r} is not a Cognito app client name: 1-128 of letters, digits, spaces and _ + = , . @ -"
            )
        return name

    @field_validator("callback_urls", "logout_urls")
    @classmethod
    def _redirect_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        problems = [problem for url in urls if (problem := _redirect_url_problem(url))]
        if len(urls) > 100:
            problems.append(f"{len(urls)} URLs; Cognito accepts at most 100")
        if problems:
            raise ValueError("; ".join(problems))
        return urls

    @property
    def stable_id(self) -> str:
        """`id`, else `name`: the client's resources are keyed by it."""
        return self.id or self.name

    @property
    def issues_id_tokens(self) -> bool:
        """Whether a user signs in through this client (and so gets an ID token): the code flow with `openid`,
        or a user explicit auth flow; `client_credentials` and refresh alone issue none."""
        user_flows = {
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_CUSTOM_AUTH",
            "ALLOW_USER_AUTH",
        }
        return ("code" in self.oauth_flows and "openid" in self.allowed_scopes) or bool(
            user_flows & set(self.explicit_auth_flows)
        )

    @model_validator(mode="after")
    def _consistent_flows(self) -> AppClient:
        if "ALLOW_USER_PASSWORD_AUTH" in self.explicit_auth_flows and not self.allow_password_auth:
            raise ValueError(
                "ALLOW_USER_PASSWORD_AUTH sends the plain password to Cognito: "
                "set allowPasswordAuth: true to accept it, or use ALLOW_USER_SRP_AUTH"
            )
        if "client_credentials" in self.oauth_flows:
            if not self.generate_secret:
                raise ValueError("the client_credentials flow needs generateSecret: true")
            if "code" in self.oauth_flows:
                raise ValueError("client_credentials cannot be combined with code on one app client")
        if "code" in self.oauth_flows and not self.callback_urls:
            raise ValueError("the code flow needs at least one callbackUrls entry")
        if self.oauth_flows and not self.allowed_scopes:
            raise ValueError("OAuth flows need allowedScopes")
        return self


class CognitoSettings(ConfigModel):
    """The user pool behind the `cognito` routes."""

    enabled: bool = True
    mfa: Literal["ON", "OPTIONAL"] = "ON"
    """OPTIONAL lets users sign in without a second factor: an accepted exception of `cognito-mfa`."""
    tier: Literal["ESSENTIALS", "PLUS"] = "PLUS"
    threat_protection: Literal["ENFORCED", "AUDIT", "OFF"] = "ENFORCED"
    deletion_protection: bool = True
    password_policy: PasswordPolicy = PasswordPolicy()
    resource_server: ResourceServer | None = None
    app_clients: tuple[AppClient, ...] = (AppClient(name="web"),)
    domain_prefix: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
        description="1 to 63 lowercase letters, digits or -, not starting or ending with -. Default, when a "
        "client uses an OAuth flow: the physical name prefix and a digest of the account, region, stack and "
        "component (a prefix is unique per region across all AWS accounts)",
        examples=["orders-auth"],
    )

    @field_validator("domain_prefix")
    @classmethod
    def _no_reserved_words(cls, prefix: str | None) -> str | None:
        reserved = [word for word in RESERVED_DOMAIN_WORDS if word in (prefix or "")]
        if reserved:
            raise ValueError(f"{prefix!r} contains the reserved word(s) {reserved}, which Cognito refuses in a prefix")
        return prefix

    @model_validator(mode="after")
    def _consistent(self) -> CognitoSettings:
        if self.threat_protection != "OFF" and self.tier != "PLUS":
            raise ValueError(
                f"threatProtection {self.threat_protection} needs tier PLUS; set threatProtection: OFF for {self.tier}"
            )
        names = [c.name for c in self.app_clients]
        if len(set(names)) != len(names):
            raise ValueError(f"appClients names must be unique, got {names}")
        ids = [c.stable_id for c in self.app_clients]
        if len(set(ids)) != len(ids):
            raise ValueError(f"appClients ids (names unless set) must be unique, got {ids}")
        known = (
            {f"{self.resource_server.identifier}/{s.name}" for s in self.resource_server.scopes}
            if (self.resource_server)
            else set()
        )
        for client in self.app_clients:
            unknown = sorted(set(client.allowed_scopes) - known - {"openid", "email", "profile", "phone"})
            if unknown:
                raise ValueError(f"app client {client.name!r} allows unknown scopes {unknown}; known: {sorted(known)}")
        return self

    @property
    def needs_domain(self) -> bool:
        """Whether a client uses an OAuth flow: the authorize and token endpoints live on the pool's domain."""
        return any(client.oauth_flows for client in self.app_clients)

    def full_scope(self, scope: str) -> str:
        """Route scopes may be written short (`orders.read`); the token carries `<identifier>/<name>`."""
        if self.resource_server and "/" not in scope:
            return f"{self.resource_server.identifier}/{scope}"
        return scope


class JwtIssuer(ConfigModel):
    issuer: str = Field(examples=["https://login.example.com/"])
    jwks_url: str | None = Field(default=None, examples=["https://login.example.com/.well-known/jwks.json"])
    client_ids: tuple[str, ...] = Field(default=(), examples=[["0oa1b2c3d4e5f6g7h8i9"]])
    audiences: tuple[str, ...] = Field(default=(), examples=[["https://orders.example.com"]])
    token_use: Literal["access", "id"] | None = None

    @field_validator("issuer", "jwks_url")
    @classmethod
    def _https(cls, url: str | None, info: ValidationInfo) -> str | None:
        if url is not None and not is_pending(url, info) and not url.startswith("https://"):
            raise ValueError(f"must be an https:// URL, got {url!r}")
        return url

    @model_validator(mode="after")
    def _has_allow_list(self) -> JwtIssuer:
        if not self.client_ids and not self.audiences:
            raise ValueError(
                f"issuer {self.issuer!r} needs clientIds or audiences (an allow-list of who tokens are for)"
            )
        return self


class LambdaAuthorizerSettings(ConfigModel):
    """The custom authorizer function and how API Gateway calls it; built when a route uses `custom`."""

    type: Literal["TOKEN", "REQUEST"] = "TOKEN"
    mode: Literal["jwt", "api_key", "header"] = "jwt"
    identity_header: str = Field(
        default="Authorization",
        pattern=r"^[A-Za-z0-9-]+$",
        # WAF logs redact it as a SingleHeader, whose name is 1-64 characters (botocore wafv2 FieldToMatchData).
        max_length=64,
        description="an HTTP header name of letters, digits and -, at most 64 characters",
        examples=["Authorization"],
    )
    result_ttl_seconds: int = Field(default=300, ge=0, le=3600)
    issuers: tuple[JwtIssuer, ...] = ()
    use_component_user_pool: bool = True
    algorithms: tuple[Literal["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"], ...] = ("RS256",)
    api_key_sha256: dict[str, str | None] = Field(
        default_factory=dict,
        examples=[{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08": "partner-acme"}],
    )
    architecture: Literal["arm64", "x86_64"] = "arm64"
    runtime: Literal["python3.12", "python3.13"] = "python3.13"
    memory_mb: int = Field(default=256, ge=128, le=10_240)
    timeout_seconds: int = Field(default=5, ge=1, le=30)
    log_retention_days: int = 365

    _retention = field_validator("log_retention_days")(check_retention_days)

    @field_validator("api_key_sha256")
    @classmethod
    def _hex_digests(cls, digests: dict[str, str | None]) -> dict[str, str | None]:
        bad = [d for d in digests if not _HEX_SHA256.match(d)]
        if bad:
            raise ValueError(
                f"keys must be lowercase hex SHA-256 digests (64 chars), not the API keys themselves: {bad}"
            )
        return digests

    @model_validator(mode="after")
    def _mode_has_credentials(self) -> LambdaAuthorizerSettings:
        if self.mode == "jwt" and not self.issuers and not self.use_component_user_pool:
            raise ValueError("mode jwt needs issuers, or useComponentUserPool: true")
        if self.mode in ("api_key", "header") and not self.api_key_sha256:
            raise ValueError(f"mode {self.mode} needs apiKeySha256 (SHA-256 digests of the accepted values)")
        return self

    @property
    def identity_source(self) -> str:
        return f"method.request.header.{self.identity_header}"
