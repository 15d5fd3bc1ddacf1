"""TLS layer: clients negotiate TLS 1.2+ and cannot bypass the custom domain's TLS/mTLS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .apis import optional_setting, setting
from .graph import StackView, label
from .model import Config, Outcome, ResourceCheck, StackCheck, Undecided, Violation
from .openapi import routes
from .values import UNKNOWN, is_set, parse_document, peek

ENDPOINT_ACCESS_MODES = frozenset({"BASIC", "STRICT"})
_ENHANCED = "SecurityPolicy_"


def _is_tls12_or_later(policy: str) -> bool:
    """`TLS_1_2`, or an enhanced policy; every enhanced policy starts at TLS 1.2 or 1.3."""
    return policy == "TLS_1_2" or policy.startswith((f"{_ENHANCED}TLS12", f"{_ENHANCED}TLS13"))


def domain_tls(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    policy = props.get("securityPolicy")
    if not policy:
        yield Violation("custom domain sets no security policy; set TLS_1_2 or an enhanced TLS 1.2+ policy")
    elif not _is_tls12_or_later(str(policy)):
        yield Violation(f"custom domain accepts {policy}, below TLS 1.2")


def http_domain_tls(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    policy = (props.get("domainNameConfiguration") or {}).get("securityPolicy")
    if not _is_tls12_or_later(str(policy)):
        yield Violation(f"custom domain accepts {policy}, below TLS 1.2")


def api_tls(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """An API's own security policy is optional; when set it must be TLS 1.2+."""
    policy = optional_setting(props, "securityPolicy", "x-amazon-apigateway-security-policy")
    if policy is UNKNOWN:
        yield Undecided("security policy is unknown")
    elif policy and not _is_tls12_or_later(str(policy)):
        yield Violation(f"API accepts {policy}, below TLS 1.2")


def endpoint_access_mode(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    policy = optional_setting(props, "securityPolicy", "x-amazon-apigateway-security-policy")
    if policy is UNKNOWN:
        yield Undecided("security policy is unknown")
    elif str(policy).startswith(_ENHANCED):
        mode = setting(props, "endpointAccessMode", "x-amazon-apigateway-endpoint-access-mode")
        if mode is UNKNOWN:
            yield Undecided("endpoint access mode is unknown")
        elif str(mode).upper() not in ENDPOINT_ACCESS_MODES:
            yield Violation(f"enhanced policy {policy} needs endpointAccessMode BASIC or STRICT")


def truststore_version(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    mtls = props.get("mutualTlsAuthentication")
    if not mtls:
        return
    if not is_set(mtls, "truststoreUri"):
        yield Violation("mTLS has no truststoreUri")
    if not is_set(mtls, "truststoreVersion"):
        yield Violation("mTLS truststore version is not pinned, so an updated truststore is not picked up")


_HTTP_INTEGRATIONS = frozenset({"HTTP", "HTTP_PROXY"})


def _plaintext(uri: Any) -> bool:
    return isinstance(uri, str) and uri.lower().startswith("http://")


def _backend_problem(kind: Any, uri: Any, what: str, route: str | None = None) -> Iterator[Outcome]:
    if str(kind).upper() not in _HTTP_INTEGRATIONS:
        return
    if uri is UNKNOWN:
        yield Undecided(f"{what}: backend URI is unknown")
    elif _plaintext(uri):
        yield Violation(f"{what} calls its backend over plaintext HTTP ({uri})", subject=route)


def integration_https(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """REST `Integration`: HTTP and HTTP_PROXY integrations name an https:// backend."""
    yield from _backend_problem(props.get("type"), peek(props, "uri"), "integration")


def http_integration_https(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """HTTP API `Integration`: an HTTP_PROXY URL (private integrations name a listener ARN instead)."""
    yield from _backend_problem(props.get("integrationType"), peek(props, "integrationUri"), "integration")


def body_integrations_https(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """`x-amazon-apigateway-integration` of every operation of an OpenAPI body."""
    for route, operation in routes(parse_document(props.get("body"))):
        integration = operation.get("x-amazon-apigateway-integration")
        if isinstance(integration, Mapping):
            yield from _backend_problem(integration.get("type"), integration.get("uri"), route, route)


_MAPPINGS = (
    (t.BASE_PATH_MAPPING, "restApi", "domainName", {t.REST_API}, {t.DOMAIN_NAME}),
    # A V2 API mapping also maps REST API stages (multi-level base paths).
    (t.HTTP_API_MAPPING, "apiId", "domainName", {t.HTTP_API, t.REST_API}, {t.HTTP_DOMAIN_NAME, t.DOMAIN_NAME}),
)


def _private_domain(props: Mapping[str, Any]) -> bool:
    configuration = props.get("endpointConfiguration")
    types = configuration.get("types") if isinstance(configuration, Mapping) else None
    return types == "PRIVATE" or (isinstance(types, list) and types == ["PRIVATE"])


def default_endpoint_disabled(view: StackView, _config: Config) -> Iterator[Outcome]:
    """An API behind a custom domain (TLS policy, mTLS, WAF on the domain) must not stay reachable
    on execute-api, which bypasses all of them."""
    reported: set[str] = set()
    for mapping_type, api_prop, domain_prop, api_types, domain_types in _MAPPINGS:
        for mapping in view.of_type(mapping_type):
            apis = view.link(mapping, api_prop, api_types, keys=("id",))
            if not apis.decided:
                yield Undecided(f"{label(mapping)}: its API is unknown")
            domains = view.link(mapping, domain_prop, domain_types, keys=("domainName",)).targets
            if domains and all(_private_domain(d.props) for d in domains):
                # A private domain has no mTLS; the API's endpoint is itself behind VPC endpoints and the
                # API's resource policy, and its {api-id}-{vpce-id} URLs are what clients without private DNS call.
                continue
            domain = domains[0].name if domains else "a custom domain"
            for api in apis.targets:
                disabled = setting(
                    api.props,
                    "disableExecuteApiEndpoint",
                    "x-amazon-apigateway-endpoint-configuration",
                )
                if isinstance(disabled, Mapping):
                    disabled = disabled.get("disableExecuteApiEndpoint")
                if disabled is UNKNOWN:
                    yield Undecided(f"{label(api)}: disableExecuteApiEndpoint is unknown")
                elif disabled is not True and api.urn not in reported:
                    reported.add(api.urn)
                    yield Violation(
                        f"API {api.name} is served by {domain} but its execute-api endpoint is still enabled",
                        api.urn,
                    )


CHECKS = {
    "domain-tls-policy": ResourceCheck(
        {t.DOMAIN_NAME: domain_tls, t.HTTP_DOMAIN_NAME: http_domain_tls, t.REST_API: api_tls}
    ),
    "enhanced-tls-endpoint-access-mode": ResourceCheck(
        {t.DOMAIN_NAME: endpoint_access_mode, t.REST_API: endpoint_access_mode}
    ),
    "mtls-truststore-version": ResourceCheck(
        {t.DOMAIN_NAME: truststore_version, t.HTTP_DOMAIN_NAME: truststore_version}
    ),
    "integration-https-backend": ResourceCheck(
        {
            t.INTEGRATION: integration_https,
            t.HTTP_INTEGRATION: http_integration_https,
            t.REST_API: body_integrations_https,
            t.HTTP_API: body_integrations_https,
        }
    ),
    "custom-domain-default-endpoint": StackCheck(
        frozenset({t.REST_API, t.BASE_PATH_MAPPING, t.DOMAIN_NAME, t.HTTP_API, t.HTTP_API_MAPPING, t.HTTP_DOMAIN_NAME}),
        default_endpoint_disabled,
    ),
}
