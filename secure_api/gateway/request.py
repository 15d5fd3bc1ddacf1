"""A request to the planned API, who sends it, and what the model answers.

Shapes: `path` is what the client sends to the host `via` names (`/v1/health` through the stage's
execute-api host, `/v1/health` through a custom domain with base path `v1`); header names are
case-insensitive; `source_ip` is IPv4 or IPv6 text; `country` is ISO 3166-1 alpha-2; times are seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

LAYERS = ("entry", "waf", "resource-policy", "authorizer", "api-key", "throttle", "validation", "integration")
"""The layers that can decide, in the order API Gateway applies them."""

DEFAULT_SOURCE_IP = "198.18.0.1"
"""A benchmarking address (RFC 2544), in nobody's allow or block list unless a stack names it."""


@dataclass(frozen=True)
class CognitoCaller:
    """A Cognito user pool token of app client `client` (its name in Cognito).

    `token_use` is `access` or `id`. `scopes` are the scopes requested; None asks for every custom scope
    the client is allowed (what a `client_credentials` grant without `scope` gets).
    """

    client: str
    token_use: str = "access"
    scopes: tuple[str, ...] | None = None
    expired: bool = False


@dataclass(frozen=True)
class IamCaller:
    """A SigV4-signed caller: its account, and whether its own IAM policy allows `execute-api:Invoke` here.

    `identity_policy`, when given, is the caller's identity-based policy (IAM policy JSON text); it is
    evaluated, so it can also deny explicitly, and `identity_policy_allows` is not read.
    """

    account: str
    identity_policy_allows: bool = True
    arn: str = ""
    organization: str = ""
    identity_policy: str = ""

    @property
    def principal_arn(self) -> str:
        return self.arn or f"arn:aws:iam::{self.account}:role/caller"


@dataclass(frozen=True)
class LambdaAnswer:
    """What a Lambda authorizer answers this caller: `Allow`, `Deny` or `Unauthorized` (it throws).

    `Allow` and `Deny` return a policy with that effect on the called method. `policy`, when given, is
    the policy document the authorizer returns instead (it may cover other methods only, or none);
    `effect` is then `Allow` ("Output from an Amazon API Gateway Lambda authorizer").
    """

    effect: str
    context: Mapping[str, str] = field(default_factory=dict)
    policy: Mapping[str, Any] | None = None


Caller = CognitoCaller | IamCaller | LambdaAnswer | None


@dataclass(frozen=True)
class Request:
    """One HTTP request. `via` is `stage` or `execute-api` (the default endpoint) or `domain` (custom domain).

    `api_key` names a configured API key (its Pulumi or AWS name), or is `invalid`; `client_certificate`
    is `none`, `valid`, `expired` or `untrusted` (mutual TLS on a custom domain); `host` picks a domain
    or an API (its id or name) when the stack has several.
    """

    method: str
    path: str
    via: str = "stage"
    source_ip: str = DEFAULT_SOURCE_IP
    vpc_endpoint: str = ""
    country: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    client_certificate: str = "valid"
    client_certificate_pem: str = ""
    """A real client certificate chain (PEM, leaf first); when given it is verified, and `client_certificate`
    is not read."""
    caller: Caller = None
    api_key: str = ""
    host: str = ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class Result:
    """The model's answer. `status` 0 means no HTTP response (TLS handshake refused, host unreachable).

    `layer` is one of `LAYERS`; `reason` names the resource and the rule or statement that decided.
    `not_evaluated` lists what the request passed without being judged offline (managed WAF rule
    groups, policy conditions the model does not know), so a 200 never hides what could still stop it.
    """

    status: int
    layer: str
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    operation: str = ""
    not_evaluated: tuple[str, ...] = ()
    approximations: tuple[str, ...] = ()
    log_line: Callable[[Result], str] | None = field(default=None, repr=False, compare=False)
    """Renders the stage's access-log line for this result; None when nothing reached a stage."""

    @cached_property
    def access_log(self) -> str:
        """The stage's access-log line (`$context` variables filled in), written when first read; "" without one."""
        return self.log_line(self) if self.log_line is not None else ""
