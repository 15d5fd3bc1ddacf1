"""The authorizers of a REST API: Cognito user pool tokens, and Lambda authorizers (the component's, run for real).

Sources: "Control access to REST APIs using Amazon Cognito user pools as an authorizer" and the
knowledge-center article "api-gateway-cognito-401-unauthorized" (a method with OAuth scopes takes
an access token carrying one of them; a method without scopes takes an ID token); "Amazon Cognito
user pool app clients" (which grant issues which token); "Input to an API Gateway Lambda
authorizer" and "Output from an API Gateway Lambda authorizer" (event and response shapes).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secure_api_authorizer.authorizer import Authorizer as ComponentCode

from .issuer import LocalIssuer
from .request import CognitoCaller, Request
from .resources import AppClient, Authorizer, Function, GatewayStack, Operation, UserPool

USER_FLOWS = (
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_AUTH",
)
"""Explicit auth flows that sign a user in (and so issue an ID token); refresh alone issues nothing new."""


class UnknownNameError(Exception):
    """A request names an app client, API key or host the stack does not have; the message lists what it has."""


@dataclass(frozen=True)
class Verdict:
    """An authorizer's answer: `status` 200 lets the request go on; 401/403/500 stop it with `response_type`."""

    status: int
    reason: str
    response_type: str = ""
    policy: Mapping[str, Any] | None = None
    """The Lambda authorizer's policy document (to combine with the resource policy)."""
    context: Mapping[str, Any] | None = None
    usage_identifier_key: str | None = None
    cached: bool = False


def issuable(client: AppClient, token_use: str, scopes: tuple[str, ...] | None) -> tuple[tuple[str, ...], str]:
    """The scopes a token of `client` would carry, and '' — or () and why Cognito would not issue it.

    `client_credentials` issues access tokens only, with custom (resource server) scopes; an ID token
    needs a user sign-in: the code or implicit grant with `openid`, or a user explicit auth flow.
    """
    allowed = client.scopes
    user_oauth = any(f in client.oauth_flows for f in ("code", "implicit"))
    user_sign_in = (user_oauth and "openid" in allowed) or any(f in client.explicit_auth_flows for f in USER_FLOWS)
    if token_use == "id":
        if not user_sign_in:
            return (), (
                f"app client {client.name} cannot obtain an ID token: its flows "
                f"({', '.join(client.oauth_flows + client.explicit_auth_flows) or 'none'}) sign no user in"
            )
        return (), ""
    if token_use != "access":
        return (), f"tokenUse {token_use!r} is neither access nor id"
    if not client.oauth_flows and not user_sign_in:
        return (), f"app client {client.name} has no OAuth flow and no user sign-in flow: it obtains no token"
    machine = client.oauth_flows == ("client_credentials",)
    grantable = tuple(s for s in allowed if "/" in s) if machine else allowed
    if scopes is None:
        return (grantable or ("aws.cognito.signin.user.admin",)), ""
    refused = [s for s in scopes if s not in grantable]
    if refused:
        return (
            (),
            f"Cognito refuses the token (invalid_scope): app client {client.name} may not request {', '.join(refused)}",
        )
    return tuple(scopes), ""


def _pool_of(stack: GatewayStack, client: AppClient) -> UserPool | None:
    return next((p for p in stack.user_pools if p.id == client.pool_id), None)


def cognito(stack: GatewayStack, authorizer: Authorizer, operation: Operation, request: Request) -> Verdict:
    """A COGNITO_USER_POOLS authorizer: 401 UNAUTHORIZED unless the token suits the method (see module doc)."""
    header = authorizer.identity_sources[0] if authorizer.identity_sources else "authorization"
    caller = request.caller
    if not isinstance(caller, CognitoCaller):
        sent = request.header(header)
        why = "a value that is not a token of its user pool" if sent else "no token"
        return Verdict(401, f"Cognito authorizer {authorizer.name}: the {header} header carries {why}", "UNAUTHORIZED")
    client = app_client(stack, caller.client)
    pool = _pool_of(stack, client)
    if pool is None or pool.arn not in authorizer.provider_arns:
        return Verdict(
            401,
            f"Cognito authorizer {authorizer.name} trusts {', '.join(authorizer.provider_arns)}, "
            f"not the user pool of app client {client.name}",
            "UNAUTHORIZED",
        )
    scopes, refused = issuable(client, caller.token_use, caller.scopes)
    if refused:
        return Verdict(401, refused + "; without a token the call is unauthorized", "UNAUTHORIZED")
    if caller.expired:
        return Verdict(
            401, f"Cognito authorizer {authorizer.name}: the {caller.token_use} token has expired", "UNAUTHORIZED"
        )
    if operation.scopes:
        if caller.token_use != "access":
            return Verdict(
                401,
                f"{operation.key} has OAuth scopes ({', '.join(operation.scopes)}): it takes an access "
                "token, and an ID token is refused",
                "UNAUTHORIZED",
            )
        if not set(scopes) & set(operation.scopes):
            return Verdict(
                401,
                f"{operation.key} needs one of {', '.join(operation.scopes)}; the access token of "
                f"{client.name} carries {', '.join(scopes) or 'no scope'}",
                "UNAUTHORIZED",
            )
        return Verdict(
            200, f"access token of {client.name} with {', '.join(sorted(set(scopes) & set(operation.scopes)))}"
        )
    if caller.token_use != "id":
        return Verdict(
            401,
            f"{operation.key} has no OAuth scopes: it takes an ID token, and an access token is refused",
            "UNAUTHORIZED",
        )
    return Verdict(200, f"ID token of {client.name}")


def app_client(stack: GatewayStack, name: str) -> AppClient:
    """The app client named `name` in Cognito; UnknownNameError listing the stack's clients."""
    client = stack.client(name)
    if client is None:
        names = [c.name for p in stack.user_pools for c in p.clients]
        raise UnknownNameError(f"no app client named {name!r} (the stack has: {', '.join(names) or 'none'})")
    return client


class ComponentAuthorizer:
    """SecureApi's Lambda authorizer (`secure_api_authorizer`), run in-process with the function's environment.

    The issuers' `jwksUrl` are pointed at `issuer`'s loopback JWKS: the code fetches, caches and checks
    keys as it does in Lambda, and the tokens the model mints verify against them.
    """

    def __init__(self, function: Function, issuer: LocalIssuer) -> None:
        env = dict(function.environment)
        if "JWT_ISSUERS" in env:
            issuers = json.loads(env["JWT_ISSUERS"])
            for entry in issuers:
                entry["jwksUrl"] = issuer.jwks_url
            env["JWT_ISSUERS"] = json.dumps(issuers)
        self.environment = env
        self._code = ComponentCode.from_env(env, log_stream=io.StringIO())

    def __call__(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The authorizer's response; raises Exception('Unauthorized') as the function does."""
        return self._code(dict(event))
