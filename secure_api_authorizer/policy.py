"""The authorizer response: principal, IAM policy and flat context.

API Gateway caches the whole response per identity when ``authorizerResultTtlInSeconds`` > 0 and
reuses it for every route of the stage. The policy must therefore not depend on the route that
happened to trigger it: it allows the stage (``{api}/{stage}/*/*``) and explicitly denies each
route whose requirements this identity does not meet. Without caching it names the exact method.
"""

from __future__ import annotations

import fnmatch
from typing import Any, NamedTuple

from .events import Identity
from .routes import MethodArn, RouteRule, match_route


class Decision(NamedTuple):
    allowed: bool
    """What the returned policy does to the method called (a Deny covering it wins, IAM's rule)."""
    route: RouteRule | None
    response: dict[str, Any]
    denied_by: str | None = None
    """The Deny pattern of another route that covers the method called although its own route allows it."""


def decide(identity: Identity, arn: MethodArn, rules: tuple[RouteRule, ...], *, stage_wide: bool) -> Decision:
    route = match_route(rules, arn) if rules else None
    allowed = route is None or route.satisfied_by(identity.scopes, identity.groups)
    denied_by = None
    if not stage_wide:
        statements = [_statement("Allow" if allowed else "Deny", arn.raw)]
    else:
        statements = [_statement("Allow", arn.stage_resource)]
        if rules:
            denied = [rule.resource(arn) for rule in rules if not rule.satisfied_by(identity.scopes, identity.groups)]
            statements += [_statement("Deny", resource) for resource in dict.fromkeys(denied)]
            if allowed:
                # The config refuses route tables where this can happen between listed routes
                # (`routes.cache_conflicts`); a route without requirements can still be covered.
                denied_by = next((d for d in denied if fnmatch.fnmatchcase(arn.raw, d)), None)
                allowed = denied_by is None
    response: dict[str, Any] = {
        "principalId": identity.principal_id,
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": identity.context,
    }
    if identity.usage_identifier_key is not None:
        response["usageIdentifierKey"] = identity.usage_identifier_key
    return Decision(allowed, route, response, denied_by)


def _statement(effect: str, resource: str) -> dict[str, str]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
