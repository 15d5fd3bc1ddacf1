"""What API Gateway, AWS WAF, Cognito and Lambda hold for a planned stack, as the request model reads it.

Shapes: ids and ARNs are strings as AWS returns them; rates are requests per second, bursts are
requests, quota limits are requests per `period` (DAY, WEEK, MONTH).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..plan.harness import PlannedResource


class StackModelError(Exception):
    """The plan cannot be modelled (no values: a preview), or a reference does not resolve."""


@dataclass(frozen=True)
class Authorizer:
    """A REST API authorizer ("Use API Gateway Lambda authorizers", "Control access with Cognito user pools").

    `type` is TOKEN, REQUEST or COGNITO_USER_POOLS; `identity_sources` are header names (lower case)
    for TOKEN/REQUEST, and the header the Cognito token travels in; `ttl_seconds` is the result cache.
    """

    name: str
    type: str
    identity_sources: tuple[str, ...]
    provider_arns: tuple[str, ...] = ()
    function_arn: str = ""
    ttl_seconds: int = 300
    validation_expression: str = ""


@dataclass(frozen=True)
class Operation:
    """One method of one resource path: `GET /orders/{orderId}`; `method` ANY matches every method."""

    method: str
    path: str
    authorization: str
    """NONE, AWS_IAM, CUSTOM or COGNITO_USER_POOLS."""
    authorizer: Authorizer | None
    scopes: tuple[str, ...]
    api_key_required: bool
    validate_body: bool
    validate_parameters: bool
    models: Mapping[str, Any]
    """Content type (or `$default`) -> JSON schema, `$ref`s into the API's schemas still in place."""
    required_parameters: tuple[tuple[str, str], ...]
    """(`header` | `querystring` | `path`, name) pairs the method request marks required."""
    integration: Mapping[str, Any]
    """`type` (lower case: mock, http, http_proxy, aws, aws_proxy), `uri`, `responses` (mock), as in the body."""
    source: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class GatewayResponse:
    """A gateway response ("Gateway response types for API Gateway"): status, headers, body template."""

    status: int
    headers: Mapping[str, str]
    template: str = ""


@dataclass
class Api:
    """A REST API with its operations, resource policy and gateway responses."""

    resource: PlannedResource
    id: str
    name: str
    endpoint_type: str
    disable_execute_api_endpoint: bool
    policy: Mapping[str, Any] | None
    api_key_source: str
    vpc_endpoint_ids: tuple[str, ...]
    operations: list[Operation] = field(default_factory=list)
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    schemas: Mapping[str, Any] = field(default_factory=dict)
    component: str = ""
    """The URN of the SecureApi component that built it; empty for a raw program's API."""
    validators: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    """Compiled request models by (operation key, content type), filled as requests need them."""
    body_verdicts: dict[tuple[str, str, bytes], str | None] = field(default_factory=dict, repr=False)
    """Why a body failed its model (None: it passed), by (operation key, content type, body)."""

    @cached_property
    def policy_text(self) -> str:
        """The resource policy as canonical JSON (sorted keys); `null` without one.

        The `execute-api:/<stage>/<method>/<path>` shorthand is expanded to this API's ARN, as API
        Gateway does when the policy is saved ("Create and attach an API Gateway resource policy to an API").
        """
        text = json.dumps(self.policy, sort_keys=True)
        execution_arn = str(self.resource.outputs.get("executionArn") or "")
        return text.replace('"execute-api:/', f'"{execution_arn}/') if execution_arn else text


@dataclass(frozen=True)
class Throttle:
    rate: float
    burst: int


@dataclass(frozen=True)
class Quota:
    limit: int
    period: str


@dataclass
class Stage:
    api: Api
    name: str
    arn: str
    access_log_format: str
    web_acl: Mapping[str, Any] | None
    web_acl_name: str
    throttle: Throttle | None
    method_throttles: Mapping[str, Throttle]
    """`<resource path>/<METHOD>` (MethodSettings' methodPath, `*/*` excluded) -> throttle."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    """The key's logical (Pulumi) name, as cases name it; `physical_name` is what AWS calls it."""
    physical_name: str
    id: str
    enabled: bool


@dataclass
class UsagePlan:
    name: str
    id: str
    stages: list[tuple[str, str, dict[str, Throttle]]]
    """(API id, stage name, `/<path>/<METHOD>` -> throttle) per stage the plan lists."""
    throttle: Throttle | None
    quota: Quota | None
    keys: list[ApiKey] = field(default_factory=list)


@dataclass(frozen=True)
class BasePathMapping:
    api_id: str
    stage: str


@dataclass
class Domain:
    name: str
    endpoint_type: str
    security_policy: str
    truststore_pem: str | None
    truststore_uri: str
    mappings: dict[str, BasePathMapping]
    """Base path ('' for none; multi-level `v1/orders` from V2 ApiMappings) -> API and stage."""
    access_vpc_endpoints: tuple[str, ...] = ()
    """The VPC endpoints with a DomainNameAccessAssociation to this (private) domain in the stack."""
    policy: Any = None
    """A private domain's execute-api `policy` (parsed JSON), None without one."""
    invoke_arn: str = ""
    """The resource its policy speaks of: `arn:aws:execute-api:<region>:<account>:/domainnames/<name>+<id>`."""


@dataclass(frozen=True)
class AppClient:
    name: str
    """The client's name in Cognito (`name` input), as cases name it."""
    id: str
    pool_id: str
    oauth_flows: tuple[str, ...]
    scopes: tuple[str, ...]
    explicit_auth_flows: tuple[str, ...]


@dataclass
class UserPool:
    id: str
    arn: str
    issuer: str
    clients: list[AppClient] = field(default_factory=list)


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    environment: Mapping[str, str]
    component_authorizer: bool
    """Built by SecureApi from `secure_api_authorizer`: the model runs its real code."""


@dataclass
class GatewayStack:
    """Everything of a planned stack a request can meet, linked by the ids AWS would hold."""

    region: str
    account: str
    apis: list[Api]
    stages: list[Stage]
    usage_plans: list[UsagePlan]
    keys: list[ApiKey]
    domains: list[Domain]
    user_pools: list[UserPool]
    functions: dict[str, Function]
    ip_sets: dict[str, tuple[str, ...]]
    """IP set ARN -> addresses (CIDRs)."""
    vpc_endpoints: tuple[str, ...]
    endpoint_policies: dict[str, Any] = field(default_factory=dict)
    """VPC endpoint id -> the endpoint policy the stack sets on it (parsed JSON): its `VpcEndpoint` `policy`, or a
    `VpcEndpointPolicy`. Endpoints without one keep AWS's default, which allows everything."""

    def stage(self, api: Api, name: str) -> Stage | None:
        return next((s for s in self.stages if s.api is api and s.name == name), None)

    def api(self, api_id: str) -> Api | None:
        return next((a for a in self.apis if a.id == api_id), None)

    def client(self, name: str) -> AppClient | None:
        return next((c for pool in self.user_pools for c in pool.clients if c.name == name), None)

    def key(self, name: str) -> ApiKey | None:
        """The API key `name` names: its Pulumi or AWS name, else the one key whose name ends in `-<name>`.

        The suffix form finds the key a stack file calls `partner-acme` (Pulumi name
        `secure-api-key-partner-acme`, AWS name `orders-api-partner-acme`); None when nothing or more
        than one key matches.
        """
        exact = [k for k in self.keys if name in (k.name, k.physical_name)]
        if exact:
            return exact[0]
        suffixed = {k.id: k for k in self.keys if (k.name.endswith(f"-{name}") or k.physical_name.endswith(f"-{name}"))}
        return next(iter(suffixed.values())) if len(suffixed) == 1 else None
