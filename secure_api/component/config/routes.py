"""Routes: path, method, who may call it (auth), and where it goes (integration)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import ConfigModel, is_pending
from .request_validation import RequestBody, check_parameter_names

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]
AuthType = Literal["cognito", "iam", "custom", "none"]

_URL_PARAMETER = re.compile(r"\{([^{}]*)\}")
_SEGMENT = re.compile(r"^(\{[A-Za-z_][A-Za-z0-9_]*\+?\}|[A-Za-z0-9._~-]+)$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"
)


class HttpIntegration(ConfigModel):
    """HTTPS proxy to a backend; plain HTTP would leave the gateway-to-backend hop unencrypted."""

    type: Literal["http"]
    url: str = Field(examples=["https://backend.example.com/orders"])
    timeout_ms: int = Field(default=29_000, ge=50, le=29_000)

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str, info: ValidationInfo) -> str:
        if is_pending(url, info):
            return url
        if not url.startswith("https://") or len(url) <= len("https://"):
            raise ValueError(f"must be an https:// URL, got {url!r}")
        return url


class LambdaIntegration(ConfigModel):
    """Lambda proxy integration; the component grants API Gateway invoke rights for this route only."""

    type: Literal["lambda"]
    function_arn: str = Field(examples=["arn:aws:lambda:eu-west-1:123456789012:function:orders"])
    timeout_ms: int = Field(default=29_000, ge=50, le=29_000)

    @field_validator("function_arn")
    @classmethod
    def _is_function_arn(cls, arn: str, info: ValidationInfo) -> str:
        if is_pending(arn, info):
            return arn
        if not _LAMBDA_ARN.match(arn):
            raise ValueError(
                f"must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>), got {arn!r}"
            )
        return arn

    @property
    def region(self) -> str:
        return _LAMBDA_ARN.match(self.function_arn).group("region")  # type: ignore[union-attr]

    @property
    def account_id(self) -> str:
        return _LAMBDA_ARN.match(self.function_arn).group("account")  # type: ignore[union-attr]


class MockIntegration(ConfigModel):
    """A fixed response from API Gateway itself, e.g. a health check."""

    type: Literal["mock"]
    status_code: int = Field(default=200, ge=200, le=599)
    response_body: str = '{"status": "ok"}'


Integration = Annotated[HttpIntegration | LambdaIntegration | MockIntegration, Field(discriminator="type")]


class AuthorizerRequirements(ConfigModel):
    """What the custom JWT authorizer demands of a token on one route (all scopes, any one group)."""

    scopes: tuple[str, ...] = Field(default=(), examples=[["https://orders.example.com/orders.write"]])
    groups: tuple[str, ...] = Field(default=(), examples=[["partners"]])

    @model_validator(mode="after")
    def _not_empty(self) -> AuthorizerRequirements:
        if not self.scopes and not self.groups:
            raise ValueError("name at least one of scopes or groups")
        return self


class Route(ConfigModel):
    """One method on one resource path."""

    path: str = Field(examples=["/orders/{orderId}"])
    method: HttpMethod
    auth: AuthType = "cognito"
    scopes: tuple[str, ...] = Field(default=(), examples=[["orders.read"]])
    api_key_required: bool = False
    allow_unauthenticated: bool = False
    allow_api_key_only: bool = False
    authorizer_requirements: AuthorizerRequirements | None = None
    integration: Integration
    cors: bool = True
    """With `cors` configured: whether browsers may call this route (it joins its path's preflight)."""
    request_body: RequestBody | None = None
    required_query_parameters: tuple[str, ...] = Field(default=(), examples=[["page"]])
    required_headers: tuple[str, ...] = Field(default=(), examples=[["Idempotency-Key"]])

    _parameter_names = field_validator("required_query_parameters", "required_headers")(check_parameter_names)

    @field_validator("path")
    @classmethod
    def _valid_path(cls, path: str) -> str:
        if path == "/":
            return path
        if not path.startswith("/") or path.endswith("/"):
            raise ValueError(f"must start with '/' and not end with '/', e.g. /orders/{{orderId}}; got {path!r}")
        segments = path[1:].split("/")
        for segment in segments:
            if not _SEGMENT.match(segment):
                raise ValueError(
                    f"segment {segment!r} of {path!r} is neither a literal (letters, digits, . _ ~ -) nor a "
                    "{parameter}, e.g. /orders/{orderId}"
                )
        if any(s.endswith("+}") for s in segments[:-1]):
            raise ValueError(f"a greedy {{param+}} may only be the last segment of {path!r}")
        return path

    @model_validator(mode="after")
    def _auth_is_explicit(self) -> Route:
        if self.scopes and self.auth != "cognito":
            raise ValueError(f"scopes are only valid with auth 'cognito', not {self.auth!r}")
        if self.authorizer_requirements and self.auth != "custom":
            raise ValueError(f"authorizerRequirements are only valid with auth 'custom', not {self.auth!r}")
        if self.auth == "none":
            if not self.allow_unauthenticated:
                raise ValueError("auth 'none' makes the route public: set allowUnauthenticated: true to confirm")
            if self.api_key_required and not self.allow_api_key_only:
                raise ValueError(
                    "an API key is never the only control: give the route an authorizer, "
                    "or set allowApiKeyOnly: true to accept the risk"
                )
        return self

    @model_validator(mode="after")
    def _backend_parameters_exist(self) -> Route:
        """Every `{name}` of an http backend URL must be a parameter of the route path (API Gateway maps
        `integration.request.path.<name>` from `method.request.path.<name>`; `{proxy}` for `{proxy+}`)."""
        if isinstance(self.integration, HttpIntegration):
            missing = [n for n in _URL_PARAMETER.findall(self.integration.url) if n not in self.path_parameters]
            if missing:
                raise ValueError(
                    f"integration.url uses {{{missing[0]}}}, which {self.path!r} does not have; path parameters: "
                    f"{self.path_parameters or 'none'} (a greedy {{proxy+}} is written {{proxy}} in the URL)"
                )
        return self

    @property
    def validates_request(self) -> bool:
        return bool(self.request_body or self.required_query_parameters or self.required_headers)

    @property
    def key(self) -> str:
        """`METHOD /path`, unique per API."""
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        return [s.strip("{}").rstrip("+") for s in self.path.split("/") if s.startswith("{")]


def route_tree_problems(routes: tuple[Route, ...]) -> list[tuple[str, str]]:
    """API Gateway's resource tree allows one variable child per resource: `/payments/{id}` next to
    `/payments/{paymentId}` (or `/payments/{proxy+}`) is refused on import ("A sibling of this resource
    already has a variable path part -- only one is allowed"). (key path, message) per offending route."""
    variables: dict[str, dict[str, list[int]]] = {}
    for index, route in enumerate(routes):
        segments = [s for s in route.path.split("/") if s]
        for depth, segment in enumerate(segments):
            if segment.startswith("{"):
                parent = "/" + "/".join(segments[:depth])
                variables.setdefault(parent, {}).setdefault(segment, []).append(index)
    problems = []
    for parent, children in variables.items():
        if len(children) > 1:
            names = sorted(children)
            for segment, indexes in children.items():
                for index in sorted(set(indexes)):
                    others = [n for n in names if n != segment]
                    problems.append(
                        (
                            f"routes[{index}].path",
                            f"{segment} under {parent!r} sits next to {', '.join(others)}: API Gateway allows one "
                            "variable path part per level; use one parameter name for all routes there",
                        )
                    )
    return problems
