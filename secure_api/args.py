"""The typed args of `SecureApi(name, args, opts)`: the inputs of the published schema.

Pulumi infers the component's schema (`secure-api:index:SecureApi`, what `pulumi package add` serves
to TypeScript, Go, C#, Java and YAML programs) from these annotations, so this module follows the
analyzer's rules (`pulumi/provider/experimental/analyzer.py`): TypedDicts, `enum.Enum` for closed sets,
`NotRequired` where the component has a default, a description string after every attribute, and no
`from __future__ import annotations` (the analyzer does not evaluate string annotations).

Attribute names are snake_case; the schema (and every stack file) spells them in camelCase. The
pydantic models in `config/` stay the validators: `tests/component/test_args.py` proves that both trees
have the same keys, the same optional keys, the same enum values and the same stated defaults.

`pulumi.Input[str]` marks every field that names an AWS resource or endpoint created elsewhere (a
Lambda function, an HTTP backend, a VPC endpoint, a certificate, a hosted zone, a KMS key, a JWT
issuer, a CA bundle): pass a plain value or an `Output`. A plain value is validated before any
resource is registered; an Output is validated by the same rule when it resolves, and a bad value
fails the update with the same key path (see `inputs.py`).
"""

import enum
from typing import Any, NotRequired, TypedDict

import pulumi

# ---------------------------------------------------------------------------------------------- enums


class EndpointType(enum.Enum):
    """The API's endpoint type."""

    REGIONAL = "REGIONAL"
    """Reachable from the internet in the stack's region."""
    PRIVATE = "PRIVATE"
    """Reachable only through the interface VPC endpoints in `network.vpcEndpointIds`."""


class ApiKeySource(enum.Enum):
    """Where API Gateway reads a request's API key."""

    HEADER = "HEADER"
    """The `x-api-key` header."""
    AUTHORIZER = "AUTHORIZER"
    """The `usageIdentifierKey` the Lambda authorizer returns (`lambdaAuthorizer.mode: api_key`)."""


class HttpMethod(enum.Enum):
    """An HTTP method of a route; `ANY` matches every method."""

    GET = "GET"
    """GET."""
    POST = "POST"
    """POST."""
    PUT = "PUT"
    """PUT."""
    PATCH = "PATCH"
    """PATCH."""
    DELETE = "DELETE"
    """DELETE."""
    HEAD = "HEAD"
    """HEAD."""
    OPTIONS = "OPTIONS"
    """OPTIONS."""
    ANY = "ANY"
    """Every method."""


class AuthType(enum.Enum):
    """Who may call a route."""

    COGNITO = "cognito"
    """A token of the component's Cognito user pool (Cognito user pool authorizer)."""
    IAM = "iam"
    """A SigV4-signed request of an IAM principal."""
    CUSTOM = "custom"
    """The component's Lambda authorizer (`lambdaAuthorizer`)."""
    NONE = "none"
    """Public; needs `allowUnauthenticated: true`."""


class IntegrationType(enum.Enum):
    """Where a route's requests go."""

    HTTP = "http"
    """An HTTPS backend (`url`), proxied."""
    LAMBDA = "lambda"
    """A Lambda function (`functionArn`), proxied."""
    MOCK = "mock"
    """A fixed response from API Gateway itself (`statusCode`, `responseBody`)."""


class MfaMode(enum.Enum):
    """Whether users of the pool must use multi-factor authentication."""

    ON = "ON"
    """Every user signs in with a second factor."""
    OPTIONAL = "OPTIONAL"
    """Users may add a second factor."""


class UserPoolTier(enum.Enum):
    """The Cognito feature plan."""

    ESSENTIALS = "ESSENTIALS"
    """The Essentials feature plan."""
    PLUS = "PLUS"
    """The Plus feature plan (threat protection)."""


class ThreatProtection(enum.Enum):
    """Cognito threat protection (needs tier PLUS unless OFF)."""

    ENFORCED = "ENFORCED"
    """Risky sign-ins are blocked or challenged."""
    AUDIT = "AUDIT"
    """Risky sign-ins are only logged."""
    OFF = "OFF"
    """No threat protection."""


class AuthorizerType(enum.Enum):
    """The Lambda authorizer's type: one header (TOKEN) or the whole request (REQUEST)."""

    TOKEN = "TOKEN"
    """The authorizer gets one header."""
    REQUEST = "REQUEST"
    """The authorizer gets the whole request."""


class AuthorizerMode(enum.Enum):
    """What the Lambda authorizer checks."""

    JWT = "jwt"
    """A JWT from the listed issuers (and the component's user pool)."""
    API_KEY = "api_key"
    """An API key whose SHA-256 digest is in `apiKeySha256`."""
    HEADER = "header"
    """A shared header value whose SHA-256 digest is in `apiKeySha256`."""


class TokenUse(enum.Enum):
    """The `token_use` claim a Cognito issuer's tokens must carry."""

    ACCESS = "access"
    """Access tokens."""
    ID = "id"
    """ID tokens."""


class Architecture(enum.Enum):
    """The Lambda authorizer's instruction set."""

    ARM64 = "arm64"
    """Graviton (arm64)."""
    X86_64 = "x86_64"
    """x86_64."""


class AuthorizerRuntime(enum.Enum):
    """The Lambda authorizer's Python runtime."""

    PYTHON3_12 = "python3.12"
    """Python 3.12."""
    PYTHON3_13 = "python3.13"
    """Python 3.13."""


class QuotaPeriod(enum.Enum):
    """The period a usage plan's quota counts requests in."""

    DAY = "DAY"
    """Per day."""
    WEEK = "WEEK"
    """Per week."""
    MONTH = "MONTH"
    """Per month."""


class IpAddressType(enum.Enum):
    """The IP address types of the API's endpoint."""

    IPV4 = "ipv4"
    """IPv4 only (REGIONAL APIs)."""
    DUALSTACK = "dualstack"
    """IPv4 and IPv6."""


class SecurityPolicy(enum.Enum):
    """The TLS policy of the execute-api endpoint and the custom domain (TLS_1_0 is not offered)."""

    TLS_1_2 = "TLS_1_2"
    """TLS 1.2 and later."""
    SECURITY_POLICY_TLS13_1_3_2025_09 = "SecurityPolicy_TLS13_1_3_2025_09"
    """TLS 1.3 only."""
    SECURITY_POLICY_TLS13_1_3_FIPS_2025_09 = "SecurityPolicy_TLS13_1_3_FIPS_2025_09"
    """TLS 1.3 only, FIPS ciphers."""
    SECURITY_POLICY_TLS13_1_2_PFS_PQ_2025_09 = "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09"
    """TLS 1.2 and 1.3, forward secrecy, post-quantum key exchange."""
    SECURITY_POLICY_TLS13_1_2_FIPS_PFS_PQ_2025_09 = "SecurityPolicy_TLS13_1_2_FIPS_PFS_PQ_2025_09"
    """TLS 1.2 and 1.3, FIPS, forward secrecy, post-quantum key exchange."""
    SECURITY_POLICY_TLS13_1_2_PQ_2025_09 = "SecurityPolicy_TLS13_1_2_PQ_2025_09"
    """TLS 1.2 and 1.3, post-quantum key exchange."""
    SECURITY_POLICY_TLS13_1_2_FIPS_PQ_2025_09 = "SecurityPolicy_TLS13_1_2_FIPS_PQ_2025_09"
    """TLS 1.2 and 1.3, FIPS, post-quantum key exchange."""
    SECURITY_POLICY_TLS13_1_2_2021_06 = "SecurityPolicy_TLS13_1_2_2021_06"
    """TLS 1.2 and 1.3 (2021-06 ciphers)."""


class EndpointAccessMode(enum.Enum):
    """How strictly the SecurityPolicy_* policies are enforced on the endpoint."""

    BASIC = "BASIC"
    """Requests through either endpoint type are accepted."""
    STRICT = "STRICT"
    """Requests must match the endpoint's type and TLS policy."""


class RuleMode(enum.Enum):
    """What a WAF rule does with a match: block it, or only count it (a staged rollout)."""

    BLOCK = "BLOCK"
    """Matching requests are blocked."""
    COUNT = "COUNT"
    """Matching requests are only counted."""


class EvaluationWindow(enum.Enum):
    """The seconds a WAF rate-based rule counts a client's requests over."""

    SECONDS_60 = 60
    """1 minute."""
    SECONDS_120 = 120
    """2 minutes."""
    SECONDS_300 = 300
    """5 minutes."""
    SECONDS_600 = 600
    """10 minutes."""


class SqlInjectionSensitivity(enum.Enum):
    """The sensitivity of WAF's SQL injection match."""

    LOW = "LOW"
    """Fewer false positives."""
    HIGH = "HIGH"
    """Catches more, more false positives."""


class BotControlInspectionLevel(enum.Enum):
    """How deeply the Bot Control managed group inspects requests."""

    COMMON = "COMMON"
    """Self-identifying bots and common bot signatures."""
    TARGETED = "TARGETED"
    """COMMON plus the rules against sophisticated bots (priced higher)."""


class GeoMode(enum.Enum):
    """`allow`: only the listed countries may call; `block`: they may not."""

    ALLOW = "allow"
    """Only the listed countries may call."""
    BLOCK = "block"
    """The listed countries may not call."""


class ExecutionLogging(enum.Enum):
    """The stage's execution log level."""

    ERROR = "ERROR"
    """Errors only."""
    INFO = "INFO"
    """Every request (verbose; no request bodies)."""


class AlarmPeriod(enum.Enum):
    """The seconds each alarm datapoint covers."""

    SECONDS_60 = 60
    """1 minute."""
    SECONDS_300 = 300
    """5 minutes."""


# ---------------------------------------------------------------------------------------------- api


class ApiSettings(TypedDict, total=False):
    """The REST API itself: name, stage, endpoint type and where API keys come from."""

    name: str
    """The API's name (letters, digits, - and _, at most 53), a label: renaming it replaces nothing that holds
    state. Default: the component's name."""
    physical_name_prefix: str
    """What the names AWS keeps unique per account and region start with: log groups, the WAF web ACL and IP
    sets, the authorizer function, the alarms and their SNS topic, the KMS alias (letters, digits, - and _, at
    most 40). Default: `<component name>-<stack>`. 0.2.0 used `api.name`: set that to keep a 0.2.0 stack's."""
    description: str
    """The API's description. Default: `Secure REST API managed by secure-api`."""
    stage_name: str
    """The stage's name (letters, digits, - and _, at most 48). Default: `v1`."""
    endpoint_type: EndpointType
    """REGIONAL or PRIVATE. Default: `REGIONAL`."""
    api_key_source: ApiKeySource
    """Where API keys are read. Default: `HEADER`."""
    tags: dict[str, str]
    """Tags on every resource the component creates. Default: none."""


# ---------------------------------------------------------------------------------------------- routes


class AuthorizerRequirements(TypedDict, total=False):
    """What the custom JWT authorizer demands of a token on one route: all scopes, any one group."""

    scopes: list[str]
    """Scopes the token must all carry. Default: none (name scopes or groups)."""
    groups: list[str]
    """Groups (`cognito:groups`) of which the token must carry one. Default: none."""


class Integration(TypedDict):
    """Where a route's requests go: `type` picks http (`url`), lambda (`functionArn`) or mock."""

    type: IntegrationType
    """http, lambda or mock."""
    url: NotRequired[pulumi.Input[str]]
    """type http: the backend's https:// URL (an Output is fine, e.g. a load balancer's URL)."""
    function_arn: NotRequired[pulumi.Input[str]]
    """type lambda: the function's ARN (an Output is fine, e.g. `aws.lambda_.Function.arn`)."""
    timeout_ms: NotRequired[int]
    """type http or lambda: integration timeout in milliseconds (50 to 29000). Default: `29000`."""
    status_code: NotRequired[int]
    """type mock: the fixed response's status code (200 to 599). Default: `200`."""
    response_body: NotRequired[str]
    """type mock: the fixed JSON response body. Default: `{"status": "ok"}`."""


class RequestBody(TypedDict, total=False):
    """A route's request body model: exactly one of schema (inline) or schemaFile (JSON Schema draft 4)."""

    content_type: str
    (
        "application/json or application/*+json; the model also applies to any other content type. "
        "Default: `application/json`."
    )
    schema: dict[str, Any]
    """The inline JSON Schema (draft 4, without what API Gateway models do not support). Default: none."""
    schema_file: str
    """A JSON Schema file, relative to the Pulumi project folder. Default: none."""
    required: bool
    """false lets an empty body through. Default: `true`."""


class Route(TypedDict):
    """One method on one resource path."""

    path: str
    """The resource path, e.g. /orders/{orderId} (a greedy {proxy+} only last)."""
    method: HttpMethod
    """The HTTP method."""
    integration: Integration
    """Where requests go."""
    auth: NotRequired[AuthType]
    """Who may call the route. Default: `cognito`."""
    scopes: NotRequired[list[str]]
    (
        "OAuth scopes a Cognito token must carry (auth cognito; short names take the resource server's "
        "identifier). Default: none."
    )
    api_key_required: NotRequired[bool]
    """Callers must also send an API key of a usage plan. Default: `false`."""
    allow_unauthenticated: NotRequired[bool]
    """Confirms auth none (a public route). Default: `false`."""
    allow_api_key_only: NotRequired[bool]
    """Confirms auth none with an API key as the only control. Default: `false`."""
    authorizer_requirements: NotRequired[AuthorizerRequirements]
    """Scopes and groups the custom JWT authorizer demands on this route. Default: none."""
    cors: NotRequired[bool]
    (
        "With the API's cors section: whether browsers may call this route (it joins its path's preflight). "
        "Default: `true`."
    )
    request_body: NotRequired[RequestBody]
    """The JSON Schema the request body must match, checked by API Gateway's request validator. Default: none."""
    required_query_parameters: NotRequired[list[str]]
    """Query string parameters every request must carry (API Gateway refuses others with 400). Default: none."""
    required_headers: NotRequired[list[str]]
    """Headers every request must carry (API Gateway refuses others with 400). Default: none."""


# ---------------------------------------------------------------------------------------------- auth


class PasswordPolicy(TypedDict, total=False):
    """The user pool's password rules (NIST 800-63B length, every character class)."""

    minimum_length: int
    """Minimum length (12 to 99). Default: `14`."""
    require_lowercase: bool
    """Default: `true`."""
    require_uppercase: bool
    """Default: `true`."""
    require_numbers: bool
    """Default: `true`."""
    require_symbols: bool
    """Default: `true`."""
    temporary_password_validity_days: int
    """Days a temporary password stays valid (1 to 7). Default: `3`."""
    password_history_size: int
    """Previous passwords a user may not reuse (0 to 24). Default: `5`."""


class Scope(TypedDict):
    """An OAuth scope of the resource server."""

    name: str
    """The scope's name (RFC 6749 scope characters)."""
    description: str
    """What the scope allows."""


class ResourceServer(TypedDict):
    """The OAuth resource server whose scopes routes can require."""

    identifier: str
    """The resource server's identifier, e.g. https://api.example.com."""
    name: str
    """Its display name."""
    scopes: list[Scope]
    """Its scopes (at least one)."""


class AppClient(TypedDict):
    """A user pool app client."""

    name: str
    """The client's name (unique in the pool)."""
    id: NotRequired[str]
    """The client's stable handle (letters, digits, - or _): it alone names the client's resources and keys
    appClientIds; keep it when renaming the client. Default: the name."""
    generate_secret: NotRequired[bool]
    """Give the client a secret (needed by client_credentials). Default: `false`."""
    explicit_auth_flows: NotRequired[list[str]]
    (
        "Any of ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_AUTH, ALLOW_USER_PASSWORD_AUTH (sends the "
        "plain password; needs allowPasswordAuth). Default: `ALLOW_USER_SRP_AUTH`, `ALLOW_REFRESH_TOKEN_AUTH`."
    )
    allow_password_auth: NotRequired[bool]
    """Confirms ALLOW_USER_PASSWORD_AUTH (the plain password goes to Cognito). Default: `false`."""
    oauth_flows: NotRequired[list[str]]
    """OAuth grants, any of code, client_credentials (the implicit grant is not offered). Default: none."""
    allowed_scopes: NotRequired[list[str]]
    """OAuth scopes the client may request. Default: none."""
    callback_urls: NotRequired[list[str]]
    """https:// redirect URLs of the code flow (http://localhost for development). Default: none."""
    logout_urls: NotRequired[list[str]]
    """https:// sign-out URLs. Default: none."""
    access_token_validity_minutes: NotRequired[int]
    """5 to 1440. Default: `60`."""
    id_token_validity_minutes: NotRequired[int]
    """5 to 1440. Default: `60`."""
    refresh_token_validity_days: NotRequired[int]
    """1 to 3650. Default: `1`."""


class CognitoSettings(TypedDict, total=False):
    """The user pool behind the `cognito` routes."""

    enabled: bool
    """Create the user pool. Default: `true`."""
    mfa: MfaMode
    """Multi-factor authentication. Default: `ON`; `OPTIONAL` is an acknowledged, accepted exception (warned)."""
    tier: UserPoolTier
    """The feature plan. Default: `PLUS`."""
    threat_protection: ThreatProtection
    """Default: `ENFORCED`."""
    deletion_protection: bool
    """Default: `true`."""
    password_policy: PasswordPolicy
    """Default: the PasswordPolicy defaults."""
    resource_server: ResourceServer
    """The OAuth resource server. Default: none."""
    app_clients: list[AppClient]
    """Default: one client named `web` with the AppClient defaults."""
    domain_prefix: str
    """The hosted domain prefix (needed by OAuth flows). Default: none, or when a client uses an OAuth flow the
    physical name prefix and a digest of the account, region, stack and component."""


class JwtIssuer(TypedDict):
    """A JWT issuer the custom authorizer trusts, with an allow-list of whom its tokens are for."""

    issuer: pulumi.Input[str]
    """The https:// issuer URL (the `iss` claim); an Output is fine."""
    jwks_url: NotRequired[pulumi.Input[str]]
    """The https:// JSON Web Key Set URL; an Output is fine. Default: `<issuer>/.well-known/jwks.json`."""
    client_ids: NotRequired[list[str]]
    """Accepted `client_id` claims. Default: none (name clientIds or audiences)."""
    audiences: NotRequired[list[str]]
    """Accepted `aud` claims. Default: none."""
    token_use: NotRequired[TokenUse]
    """The required `token_use` claim. Default: not checked."""


class LambdaAuthorizerSettings(TypedDict, total=False):
    """The custom authorizer function and how API Gateway calls it; built when a route uses `custom`."""

    type: AuthorizerType
    """Default: `TOKEN`."""
    mode: AuthorizerMode
    """Default: `jwt`."""
    identity_header: str
    """The header carrying the credential. Default: `Authorization`."""
    result_ttl_seconds: int
    """Seconds API Gateway caches a decision (0 to 3600). Default: `300`."""
    issuers: list[JwtIssuer]
    """Trusted JWT issuers. Default: none."""
    use_component_user_pool: bool
    """Trust the component's user pool too (mode jwt). Default: `true`."""
    algorithms: list[str]
    """Accepted JWS algorithms, any of RS256, RS384, RS512, ES256, ES384, PS256. Default: `RS256`."""
    api_key_sha256: dict[str, str | None]
    (
        "Lowercase hex SHA-256 digests of accepted values (modes api_key and header), each to a usage "
        "identifier or null. Default: none."
    )
    architecture: Architecture
    """Default: `arm64`."""
    runtime: AuthorizerRuntime
    """Default: `python3.13`."""
    memory_mb: int
    """128 to 10240. Default: `256`."""
    timeout_seconds: int
    """1 to 30. Default: `5`."""
    log_retention_days: int
    """A CloudWatch Logs retention period. Default: `365`."""


# ---------------------------------------------------------------------------------------------- usage plans


class Throttle(TypedDict):
    """Steady-state requests per second and burst."""

    rate_limit: float
    """Requests per second (up to 10000)."""
    burst_limit: int
    """Burst size (1 to 5000)."""


class Quota(TypedDict):
    """Requests a key may make per period."""

    limit: int
    """Requests per period."""
    period: NotRequired[QuotaPeriod]
    """Default: `DAY`."""
    offset: NotRequired[int]
    """Days into the period it starts (0 for DAY, 0-6 for WEEK, 0-27 for MONTH). Default: `0`."""


class MethodThrottle(TypedDict):
    """A tighter throttle for one route of a usage plan."""

    path: str
    """The route's path."""
    method: HttpMethod
    """The route's method."""
    rate_limit: float
    """Requests per second."""
    burst_limit: int
    """Burst size."""


class UsagePlan(TypedDict):
    """A tier: every plan has a throttle and a quota, so no key is unlimited."""

    name: str
    """The plan's name."""
    id: NotRequired[str]
    """The plan's stable handle: it alone names the plan's resources, and api_keys[].plan names it; keep it
    when renaming the plan. Default: the name."""
    throttle: Throttle
    """The plan's throttle."""
    quota: Quota
    """The plan's quota."""
    description: NotRequired[str]
    """Default: empty."""
    method_throttles: NotRequired[list[MethodThrottle]]
    """Per-route throttles. Default: none."""


class ApiKey(TypedDict):
    """A client's key; its value is generated by AWS and only exported as a secret."""

    name: str
    """The key's name."""
    id: NotRequired[str]
    """The key's stable handle: it alone names the key's resources and keys apiKeyIds; keep it when renaming
    the key, and its value stays. Default: the name."""
    plan: str
    """The usage plan it belongs to: the plan's id (its name unless it sets one)."""
    enabled: NotRequired[bool]
    """Default: `true`."""
    description: NotRequired[str]
    """Default: empty."""


# ---------------------------------------------------------------------------------------------- network


class VpcEndpointSettings(TypedDict):
    """An interface VPC endpoint for execute-api that the component creates, with its least-privilege policy."""

    vpc_id: pulumi.Input[str]
    """The VPC (`vpc-…`)."""
    subnet_ids: list[pulumi.Input[str]]
    """One subnet per Availability Zone the endpoint serves (`subnet-…`); at least one."""
    security_group_ids: list[pulumi.Input[str]]
    """Groups that allow HTTPS (TCP 443) from the callers (`sg-…`); at least one."""
    private_dns_enabled: NotRequired[bool]
    (
        "On, every *.execute-api.<region>.amazonaws.com name in the VPC resolves to this endpoint, so the VPC "
        "cannot call public APIs by their default names. Default: `false`."
    )


class NetworkSettings(TypedDict, total=False):
    """Who may reach the API, expressed as its resource policy.

    A REGIONAL API needs allowedSourceCidrs or acceptPublicApi: true (the component cannot know which
    networks may call it)."""

    allowed_source_cidrs: list[str]
    (
        "IPv4/IPv6 ranges callers must come from; a set covering every address is refused (use "
        "acceptPublicApi). Default: none."
    )
    accept_public_api: bool
    (
        "A REGIONAL API without allowedSourceCidrs takes calls from any address: an acknowledged, accepted "
        "exception (warned, marked for the pack). Default: `false`."
    )
    vpc_endpoint_ids: list[pulumi.Input[str]]
    """Interface VPC endpoint ids of a PRIVATE API (Outputs are fine, e.g. `aws.ec2.VpcEndpoint.id`). Default: none."""
    vpc_endpoint: VpcEndpointSettings
    """An interface endpoint the component creates and manages; it joins vpcEndpointIds. Default: none."""
    managed_endpoint_policies: list[pulumi.Input[str]]
    (
        "Of vpcEndpointIds, the endpoints whose endpoint policy the component sets (replacing theirs): invoke "
        "this API's stage only, signed callers of this account and allowedAccounts only. Default: none."
    )
    allowed_accounts: list[str]
    """12-digit account ids whose SigV4 callers may use the iam routes. Default: none."""
    allowed_organizations: list[str]
    """AWS Organizations ids whose SigV4 callers may use the iam routes. Default: none."""
    ip_address_type: IpAddressType
    """Default: ipv4 for REGIONAL, dualstack for PRIVATE."""


# ---------------------------------------------------------------------------------------------- tls


class TlsSettings(TypedDict, total=False):
    """One TLS policy for the execute-api endpoint and the custom domain."""

    security_policy: SecurityPolicy
    """Default: `TLS_1_2`."""
    endpoint_access_mode: EndpointAccessMode
    """SecurityPolicy_* policies only. Default: STRICT for them."""


class MutualTlsSettings(TypedDict, total=False):
    """The CA bundle client certificates must chain to: truststorePath or truststorePem (exactly one)."""

    truststore_path: str
    """A PEM file, relative to the Pulumi project folder of the running program. Default: none."""
    truststore_pem: pulumi.Input[str]
    """The PEM bundle itself; an Output is fine. Default: none."""
    kms_key_arn: pulumi.Input[str]
    """A KMS key ARN for the truststore bucket; an Output is fine. Default: the AWS-managed S3 key."""


class DomainSettings(TypedDict):
    """A REGIONAL custom domain; the default execute-api endpoint is switched off when it is set."""

    domain_name: str
    """The lowercase fully qualified domain name, e.g. api.example.com."""
    hosted_zone_id: NotRequired[pulumi.Input[str]]
    (
        "The Route 53 hosted zone for the certificate's DNS validation and the alias records; an Output is "
        "fine. Default: none (DNS is yours to set)."
    )
    certificate_arn: NotRequired[pulumi.Input[str]]
    (
        "An issued ACM certificate in the stack's region; an Output is fine. Default: one is created and "
        "DNS-validated in hostedZoneId."
    )
    base_path: NotRequired[str]
    """The path the stage is mapped below. Default: the root."""
    mutual_tls: NotRequired[MutualTlsSettings]
    """Mutual TLS. Default: off."""
    ownership_verification_certificate_arn: NotRequired[pulumi.Input[str]]
    (
        "A public ACM certificate for the domain, in the stack's region; API Gateway needs it for mutual TLS "
        "when certificateArn is imported into ACM or issued by AWS Private CA; an Output is fine. Default: none."
    )


# ---------------------------------------------------------------------------------------------- waf


class RateLimit(TypedDict, total=False):
    """Requests one client IP may send per evaluation window before WAF blocks it."""

    limit: int
    """10 to 2,000,000,000. Default: `1000`."""
    evaluation_window_seconds: EvaluationWindow
    """Default: `300`."""
    mode: RuleMode
    """Default: `BLOCK`."""


class PathRateLimit(TypedDict):
    """A tighter per-IP limit for one part of the API (e.g. a login route)."""

    name: str
    """The rule's name."""
    path_prefix: str
    """The URI path prefix WAF matches (with the stage on the execute-api endpoint, e.g. /v1/login)."""
    limit: NotRequired[int]
    """Default: `1000`."""
    evaluation_window_seconds: NotRequired[EvaluationWindow]
    """Default: `300`."""
    mode: NotRequired[RuleMode]
    """Default: `BLOCK`."""


class ManagedRuleGroup(TypedDict, total=False):
    """One AWS managed rule group."""

    enabled: bool
    """Default: `true`."""
    mode: RuleMode
    """Default: `BLOCK`."""
    version: str
    """The group's version. Default: AWS's default version."""
    count_rules: list[str]
    """Rules of the group overridden to COUNT (known false positives). Default: none."""
    inspection_level: BotControlInspectionLevel
    """Bot Control only: its inspection level. Default: `COMMON` for Bot Control, unset otherwise."""


class GeoRestriction(TypedDict):
    """Countries allowed or blocked."""

    mode: GeoMode
    """allow or block."""
    countries: list[str]
    """ISO 3166-1 alpha-2 codes."""


class BodySizeLimit(TypedDict, total=False):
    """Requests whose body is larger than maxBytes are refused by WAF before they reach a backend."""

    max_bytes: int
    """1 to 16384 (what WAF inspects of an API Gateway body). Default: `8192` (the AWS Common rule set's limit)."""
    mode: RuleMode
    """Default: `BLOCK`."""


class WafSettings(TypedDict, total=False):
    """The regional web ACL in front of the stage; every protection is on by default."""

    enabled: bool
    """Default: `true`."""
    accept_no_waf: bool
    """Needed with enabled false on a REGIONAL API. Default: `false`."""
    rate_limit: RateLimit
    """Default: the RateLimit defaults."""
    path_rate_limits: list[PathRateLimit]
    """Default: none."""
    sql_injection: RuleMode
    """Default: `BLOCK`."""
    sql_injection_sensitivity: SqlInjectionSensitivity
    """Default: `LOW`."""
    cross_site_scripting: RuleMode
    """Default: `BLOCK`."""
    body_size_limit: BodySizeLimit
    """Default: the BodySizeLimit defaults."""
    geo: GeoRestriction
    """Default: none."""
    blocked_ips: list[str]
    """IPv4/IPv6 addresses or ranges to block. Default: none."""
    managed_rule_groups: dict[str, ManagedRuleGroup]
    (
        "Merged over the baseline AWS managed groups: name a baseline group to change it, any other to add "
        "it. Default: the baseline groups."
    )
    log_retention_days: int
    """Default: `365`."""
    redact_headers: list[str]
    """Lowercase headers kept out of WAF logs besides authorization, cookie and x-api-key. Default: none."""


# ---------------------------------------------------------------------------------------------- observability


class AlarmSettings(TypedDict, total=False):
    """Thresholds for the stage's alarms; every alarm notifies the component's SNS topic."""

    emails: list[str]
    """Addresses subscribed to the alarm topic. Default: none."""
    server_error_percent: float
    """Default: `1.0`."""
    client_error_percent: float
    """Default: `10.0`."""
    latency_p99_ms: int
    """Default: `2500`."""
    traffic_spike_requests: int
    """Requests per 5 minutes that count as a spike. Default: `10000`."""
    waf_blocked_requests: int
    """WAF-blocked requests per 5 minutes worth a look. Default: `100`."""
    period_seconds: AlarmPeriod
    """Default: `60`."""
    evaluation_periods: int
    """Default: `5`."""
    datapoints_to_alarm: int
    """Default: `3`."""


class ObservabilitySettings(TypedDict, total=False):
    """Access and execution logs, the key that encrypts them, the stage's throttle and alarms."""

    log_retention_days: int
    """Default: `365`."""
    kms_encryption: bool
    """A customer-managed key for the log groups and the alarm topic. Default: `true`."""
    kms_deletion_window_days: int
    """7 to 30. Default: `30`."""
    execution_logging: ExecutionLogging
    """Default: `ERROR`."""
    throttle: Throttle
    """Stage-wide per-method throttle. Default: 500 requests per second, burst 1000."""
    create_account_role: bool
    """Create the region's API Gateway CloudWatch Logs role (account-wide). Default: `false`."""
    alarms: AlarmSettings
    """Default: the AlarmSettings defaults."""
    dashboard: bool
    """Default: `true`."""


# ---------------------------------------------------------------------------------------------- component


class CorsSettings(TypedDict):
    """Lets browser apps on the listed origins call the API and read its answers, errors included."""

    allow_origins: list[str]
    """Exact origins (https://host[:port]); `*` only without credentials (warned)."""
    allow_localhost: NotRequired[bool]
    ("Also accept http://localhost:<port> and http://127.0.0.1:<port> origins (development; warned). Default: `false`.")
    allow_credentials: NotRequired[bool]
    """Browsers may send cookies or credentials (never with `*`). Default: `false`."""
    allow_methods: NotRequired[list[str]]
    """Default: per path, the methods of the CORS routes on that path."""
    allow_headers: NotRequired[list[str]]
    """Default: the authorizer's header(s), x-api-key and Content-Type."""
    expose_headers: NotRequired[list[str]]
    """Response headers scripts may read. Default: none."""
    max_age_seconds: NotRequired[int]
    """How long browsers cache a preflight, 0 to 7200 seconds (Chromium's cap). Default: `600`."""


class SecureApiArgs(TypedDict):
    """Everything a SecureApi is built from: the same keys as the `secure-api:` stack config."""

    routes: list[Route]
    """The API's routes (at least one)."""
    api: NotRequired[ApiSettings]
    """The REST API itself. Default: the ApiSettings defaults."""
    cognito: NotRequired[CognitoSettings]
    """The user pool. Default: the CognitoSettings defaults."""
    lambda_authorizer: NotRequired[LambdaAuthorizerSettings]
    """The custom authorizer. Default: the LambdaAuthorizerSettings defaults."""
    usage_plans: NotRequired[list[UsagePlan]]
    """Default: none."""
    api_keys: NotRequired[list[ApiKey]]
    """Default: none."""
    network: NotRequired[NetworkSettings]
    """The resource policy. Default: no network restriction."""
    tls: NotRequired[TlsSettings]
    """Default: the TlsSettings defaults."""
    domain: NotRequired[DomainSettings]
    """A custom domain. Default: none."""
    backend_client_certificate: NotRequired[bool]
    """A client certificate the stage presents to HTTP backends. Default: `true`."""
    cors: NotRequired[CorsSettings]
    """Browser origins that may call the API, with preflights and CORS headers on every answer. Default: none."""
    waf: NotRequired[WafSettings]
    """Default: the WafSettings defaults."""
    observability: NotRequired[ObservabilitySettings]
    """Default: the ObservabilitySettings defaults."""
