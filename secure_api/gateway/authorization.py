"""The resource policy together with the method's authentication type, as API Gateway combines them.

Source: API Gateway developer guide, "How API Gateway resource policies affect authorization
workflow" (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html):

- no authentication type: the resource policy alone; only an explicit Allow lets the caller in;
- Lambda authorizer: the policy is read before the authorizer for explicit denies, then the
  authorizer's returned policy and the resource policy are combined by table A;
- IAM: the caller's IAM policy and the resource policy, by table A for a caller in the API's own
  account and by table B for any other account;
- Amazon Cognito: the token is checked first (401), then the resource policy needs an explicit Allow.

Table A (same account): an Allow in either suffices unless either denies explicitly.
Table B (cross-account): both must allow; an explicit deny in either denies.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from . import iam
from .authorizers import UnknownNameError, Verdict, app_client, cognito, issuable
from .request import CognitoCaller, IamCaller, LambdaAnswer, Request
from .resources import Api, Operation

if TYPE_CHECKING:
    from .pipeline import Gateway

INVOKE = "execute-api:Invoke"
ALLOW, NEITHER, DENY = "Allow", "Neither", "Deny"

TABLE_A = {
    (ALLOW, ALLOW): ALLOW,
    (ALLOW, NEITHER): ALLOW,
    (ALLOW, DENY): DENY,
    (NEITHER, ALLOW): ALLOW,
    (NEITHER, NEITHER): NEITHER,
    (NEITHER, DENY): DENY,
    (DENY, ALLOW): DENY,
    (DENY, NEITHER): DENY,
    (DENY, DENY): DENY,
}
"""(IAM or authorizer policy, resource policy) -> outcome, caller and API in the same account."""
TABLE_B = {
    (ALLOW, ALLOW): ALLOW,
    (ALLOW, NEITHER): NEITHER,
    (ALLOW, DENY): DENY,
    (NEITHER, ALLOW): NEITHER,
    (NEITHER, NEITHER): NEITHER,
    (NEITHER, DENY): DENY,
    (DENY, ALLOW): DENY,
    (DENY, NEITHER): DENY,
    (DENY, DENY): DENY,
}
"""(IAM policy, resource policy) -> outcome, caller in another account."""


@dataclass(frozen=True)
class Decision:
    status: int
    layer: str
    reason: str
    response_type: str = ""
    usage_key: str | None = None
    not_evaluated: tuple[str, ...] = field(default_factory=tuple)
    decided: bool = True


def context_keys(request: Request) -> dict[str, str]:
    """The global condition keys API Gateway supplies for this request ("AWS global condition context keys")."""
    keys = {"aws:SecureTransport": "true", "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if request.vpc_endpoint:
        keys.update({"aws:SourceVpce": request.vpc_endpoint, "aws:VpcSourceIp": request.source_ip})
    else:
        keys["aws:SourceIp"] = request.source_ip
    caller = request.caller
    if isinstance(caller, IamCaller):
        keys.update({"aws:PrincipalAccount": caller.account, "aws:PrincipalArn": caller.principal_arn})
        if caller.organization:
            keys["aws:PrincipalOrgID"] = caller.organization
    return keys


def _resource_policy(api: Api, request: Request, method_arn: str) -> iam.Evaluation | None:
    if api.policy is None:
        return None
    caller = request.caller
    principal = (
        iam.Principal(account=caller.account, arn=caller.principal_arn) if isinstance(caller, IamCaller) else None
    )
    return _evaluate(api.policy_text, method_arn, principal, context_keys(request), check_principal=True)


@lru_cache(maxsize=8192)
def _evaluate_frozen(
    document: str, resource: str, principal: iam.Principal | None, context: tuple[tuple[str, str], ...], check: bool
) -> iam.Evaluation:
    return iam.evaluate(
        json.loads(document),
        action=INVOKE,
        resource=resource,
        principal=principal,
        context=dict(context),
        check_principal=check,
    )


def _evaluate(
    document: Any, resource: str, principal: iam.Principal | None, context: dict[str, str], *, check_principal: bool
) -> iam.Evaluation:
    """`iam.evaluate` of `execute-api:Invoke`, memoised: a pure function of the document and the request."""
    text = document if isinstance(document, str) else json.dumps(document, sort_keys=True)
    return _evaluate_frozen(text, resource, principal, tuple(sorted(context.items())), check_principal)


def _side(evaluation: iam.Evaluation | None) -> str:
    if evaluation is None:
        return NEITHER
    return {iam.Effect.ALLOW: ALLOW, iam.Effect.EXPLICIT_DENY: DENY}.get(evaluation.effect, NEITHER)


def _not_evaluated(evaluation: iam.Evaluation | None, api: Api) -> Decision | None:
    if evaluation is not None and evaluation.effect is iam.Effect.NOT_EVALUATED:
        return Decision(
            0,
            "resource-policy",
            f"not evaluated offline: the resource policy of {api.name}: {evaluation.reason}",
            decided=False,
        )
    return None


def _policy_denied(api: Api, evaluation: iam.Evaluation | None, why: str) -> Decision:
    statement = f" by {evaluation.statement}" if evaluation is not None and evaluation.statement else ""
    detail = f": {evaluation.reason}" if evaluation is not None and evaluation.reason else ""
    return Decision(403, "resource-policy", f"resource policy of {api.name} {why}{statement}{detail}", "ACCESS_DENIED")


def decide(gateway: Gateway, request: Request, api: Api, operation: Operation, method_arn: str, now: float) -> Decision:
    """Whether the caller may invoke `operation` (see the module docstring for the tables)."""
    policy = _resource_policy(api, request, method_arn)
    if (unknown := _not_evaluated(policy, api)) is not None:
        return unknown
    kind = operation.authorization
    if kind == "AWS_IAM":
        return _iam(api, request, method_arn, policy)
    if kind == "CUSTOM" and operation.authorizer is not None:
        return _lambda(gateway, request, api, operation, method_arn, policy, now)
    verdict = None
    if kind == "COGNITO_USER_POOLS" and operation.authorizer is not None:
        verdict = cognito(gateway.stack, operation.authorizer, operation, request)
        if verdict.status != 200:
            return Decision(verdict.status, "authorizer", verdict.reason, verdict.response_type)
    if api.policy is not None and _side(policy) != ALLOW:
        return _policy_denied(api, policy, "denies" if _side(policy) == DENY else "has no Allow for this caller")
    who = verdict.reason if verdict else "no authorizer"
    allowed = f"; resource policy allows ({policy.statement})" if policy is not None else "; no resource policy"
    return Decision(200, "authorizer", who + allowed)


def _iam(api: Api, request: Request, method_arn: str, policy: iam.Evaluation | None) -> Decision:
    caller = request.caller
    if not isinstance(caller, IamCaller):
        return Decision(
            403,
            "authorizer",
            f"{api.name}: an AWS_IAM method needs a SigV4-signed request",
            "MISSING_AUTHENTICATION_TOKEN",
        )
    same = caller.account == _owner(api)
    table = TABLE_A if same else TABLE_B
    identity = ALLOW if caller.identity_policy_allows else NEITHER
    if caller.identity_policy:
        own = _evaluate(caller.identity_policy, method_arn, None, context_keys(request), check_principal=False)
        if own.effect is iam.Effect.NOT_EVALUATED:
            return Decision(
                0, "authorizer", f"not evaluated offline: the caller's IAM policy: {own.reason}", decided=False
            )
        identity = _side(own)
    outcome = table[(identity, _side(policy))]
    where = "same account (table A)" if same else "cross-account (table B)"
    summary = f"IAM policy {identity.lower()}, resource policy {_side(policy).lower()}: {outcome.lower()}, {where}"
    if outcome == ALLOW:
        return Decision(200, "authorizer", f"SigV4 caller of account {caller.account}: {summary}")
    layer = "resource-policy" if _side(policy) == DENY or (not same and identity == ALLOW) else "authorizer"
    statement = f" ({policy.statement})" if policy is not None and policy.statement else ""
    return Decision(403, layer, f"SigV4 caller of account {caller.account}: {summary}{statement}", "ACCESS_DENIED")


def _owner(api: Api) -> str:
    """The API's account, from its execution ARN (`arn:aws:execute-api:<region>:<account>:<id>`)."""
    parts = str(api.resource.outputs.get("executionArn", "")).split(":")
    return parts[4] if len(parts) > 4 else ""


def _lambda(
    gateway: Gateway,
    request: Request,
    api: Api,
    operation: Operation,
    method_arn: str,
    policy: iam.Evaluation | None,
    now: float,
) -> Decision:
    authorizer = operation.authorizer
    assert authorizer is not None
    if _side(policy) == DENY:
        return _policy_denied(api, policy, "denies before the authorizer runs")
    values = _identity(gateway, request, authorizer.identity_sources)
    if any(v is None for v in values):
        return Decision(
            401,
            "authorizer",
            f"Lambda authorizer {authorizer.name}: no "
            f"{', '.join(authorizer.identity_sources)}: API Gateway answers 401 without invoking it",
            "UNAUTHORIZED",
        )
    expression = authorizer.validation_expression if authorizer.type == "TOKEN" else ""
    if expression and not re.fullmatch(expression, str(values[0])):
        return Decision(
            401,
            "authorizer",
            f"Lambda authorizer {authorizer.name}: the token does not match its "
            "identityValidationExpression; API Gateway answers 401 without invoking it",
            "UNAUTHORIZED",
        )
    cache_key = (f"{api.id}/{authorizer.name}", "\x00".join(str(v) for v in values))
    cached = gateway.authorizer_cache.get(cache_key) if authorizer.ttl_seconds > 0 else None
    verdict: Verdict
    if cached is not None and now - cached[0] < authorizer.ttl_seconds:
        verdict = Verdict(**{**cached[1].__dict__, "cached": True})
    else:
        verdict = _invoke(gateway, request, operation, method_arn, values)
        if verdict.status == 200 and authorizer.ttl_seconds > 0:
            gateway.authorizer_cache[cache_key] = (now, verdict)
    if verdict.status == 0:
        return Decision(0, "authorizer", verdict.reason, decided=False)
    if verdict.status != 200:
        return Decision(verdict.status, "authorizer", verdict.reason, verdict.response_type)
    returned = _evaluate(verdict.policy or {}, method_arn, None, context_keys(request), check_principal=False)
    if returned.effect is iam.Effect.NOT_EVALUATED:
        return Decision(
            0, "authorizer", f"not evaluated offline: the policy of {authorizer.name}: {returned.reason}", decided=False
        )
    side = _side(returned)
    outcome = TABLE_A[(side, _side(policy))]
    source = "its cached policy" if verdict.cached else "its policy"
    if outcome == ALLOW:
        return Decision(
            200,
            "authorizer",
            f"Lambda authorizer {authorizer.name}: {source} allows {method_arn}",
            usage_key=verdict.usage_identifier_key,
        )
    if side == DENY:
        why = f"{source} denies {method_arn}"
    elif side == NEITHER:
        why = f"{source} does not cover {method_arn}" + (
            " (a result cached for another method, reused within the TTL)" if verdict.cached else ""
        )
    else:
        return _policy_denied(api, policy, "has no Allow for this caller")
    return Decision(403, "authorizer", f"Lambda authorizer {authorizer.name}: {why}", "ACCESS_DENIED")


def _identity(gateway: Gateway, request: Request, sources: tuple[str, ...]) -> list[str | None]:
    """The identity-source header values; a Cognito caller's token is minted into the first one."""
    caller = request.caller
    values: list[str | None] = [request.header(source) for source in sources]
    if isinstance(caller, CognitoCaller) and sources:
        values[0] = "Bearer " + _mint(gateway, caller)
    elif isinstance(caller, LambdaAnswer) and values and values[0] is None:
        # A stand-in token per stated answer: the same answer shares a cache entry, another one does not.
        policy = json.dumps(caller.policy, sort_keys=True) if caller.policy else ""
        values[0] = f"stated-answer {caller.effect} {sorted(caller.context.items())} {policy}"
    return values


def _mint(gateway: Gateway, caller: CognitoCaller) -> str:
    client = app_client(gateway.stack, caller.client)
    pool = next(p for p in gateway.stack.user_pools if p.id == client.pool_id)
    scopes, _ = issuable(client, caller.token_use, caller.scopes)
    return gateway.issuer.token(pool.issuer, client, caller.token_use, scopes, expired=caller.expired)


def _invoke(
    gateway: Gateway, request: Request, operation: Operation, method_arn: str, values: list[str | None]
) -> Verdict:
    authorizer = operation.authorizer
    assert authorizer is not None
    caller = request.caller
    if isinstance(caller, LambdaAnswer):
        return _stated(caller, authorizer.name, method_arn)
    if isinstance(caller, CognitoCaller):
        _, refused = issuable(app_client(gateway.stack, caller.client), caller.token_use, caller.scopes)
        if refused:
            return Verdict(401, f"{refused}; without a token the authorizer answers Unauthorized", "UNAUTHORIZED")
    code = gateway.component_authorizer(authorizer.function_arn)
    if code is None:
        return Verdict(
            0,
            f"not evaluated offline: Lambda authorizer {authorizer.name} runs "
            f"{authorizer.function_arn or 'an unknown function'}, not the component's code: state its "
            "answer with caller.lambdaAuthorizer",
        )
    event: dict[str, Any]
    if authorizer.type == "TOKEN":
        event = {"type": "TOKEN", "authorizationToken": values[0], "methodArn": method_arn}
    else:
        event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": operation.path,
            "httpMethod": request.method.upper(),
            "headers": dict(request.headers) | dict(zip(authorizer.identity_sources, values, strict=True)),
            "queryStringParameters": dict(request.query),
            "pathParameters": {},
            "stageVariables": {},
            "requestContext": {"identity": {"sourceIp": request.source_ip}},
        }
    try:
        response = code(event)
    except Exception as error:
        if str(error) == "Unauthorized":
            return Verdict(
                401, f"Lambda authorizer {authorizer.name} (the component's code) answers Unauthorized", "UNAUTHORIZED"
            )
        return Verdict(500, f"Lambda authorizer {authorizer.name} failed: {type(error).__name__}", "AUTHORIZER_FAILURE")
    return Verdict(
        200,
        f"Lambda authorizer {authorizer.name} (the component's code)",
        policy=response.get("policyDocument"),
        context=response.get("context"),
        usage_identifier_key=response.get("usageIdentifierKey"),
    )


def _stated(caller: LambdaAnswer, name: str, method_arn: str) -> Verdict:
    if caller.effect == "Unauthorized":
        return Verdict(401, f"Lambda authorizer {name} answers Unauthorized (stated by the case)", "UNAUTHORIZED")
    if caller.effect not in ("Allow", "Deny"):
        raise UnknownNameError(
            f"caller.lambdaAuthorizer.effect must be Allow, Deny or Unauthorized, got {caller.effect!r}"
        )
    document = caller.policy or {
        "Version": "2012-10-17",
        "Statement": [{"Effect": caller.effect, "Action": INVOKE, "Resource": method_arn}],
    }
    return Verdict(
        200,
        f"Lambda authorizer {name} (answer stated by the case)",
        policy=document,
        context=dict(caller.context),
        usage_identifier_key=caller.context.get("usageIdentifierKey"),
    )
