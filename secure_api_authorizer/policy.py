"""The authorizer response: principal, IAM policy and flat context.

API Gateway caches the whole response per identity when ``authorizerResultTtlInSeconds`` > 0 and
reuses it for every route of the stage. The policy must therefore not depend on the route that
happened to trigger it: it allows the stage (``{api}/{stage}/*/*``) and explicitly denies each
route whose requirements this identity does not meet. Without caching it names the exact method.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .events import Identity
from .routes import MethodArn, RouteRule, match_route


class Decision(NamedTuple):
    allowed: bool
    route: RouteRule | None
    response: dict[str, Any]


def decide(identity: Identity, arn: MethodArn, rules: tuple[RouteRule, ...], *, stage_wide: bool) -> Decision:
    route = match_route(rules, arn) if rules else None
    allowed = route is None or route.satisfied_by(identity.scopes, identity.groups)
    if not stage_wide:
        statements = [_statement("Allow" if allowed else "Deny", arn.raw)]
    else:
        statements = [_statement("Allow", arn.stage_resource)]
        if rules:
            denied = [rule.resource(arn) for rule in rules if not rule.satisfied_by(identity.scopes, identity.groups)]
            statements += [_statement("Deny", resource) for resource in dict.fromkeys(denied)]
    response: dict[str, Any] = {
        "principalId": identity.principal_id,
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": identity.context,
    }
    if identity.usage_identifier_key is not None:
        response["usageIdentifierKey"] = identity.usage_identifier_key
    return Decision(allowed, route, response)


def _statement(effect: str, resource: str) -> dict[str, str]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
