"""Every row of AWS's outcome tables, through raw `pulumi_aws` programs planned in update mode.

Source: API Gateway developer guide, "How API Gateway resource policies affect authorization workflow"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html).
The rows below are copied from that page, not from the model:

- the resource policy only (no authentication type): only an explicit Allow lets the caller in;
- table A, IAM authentication in the API's own account, and the Lambda authorizer (its returned
  policy in the IAM column): an Allow in either side suffices unless either side denies explicitly;
- table B, IAM authentication from another account: both sides must allow;
- Amazon Cognito: the token first (401), then the resource policy needs an explicit Allow.

"Neither" is a policy that does not mention the call; each side is a real policy document the model
evaluates, never a stated outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from raw_programs import ACCOUNT, OTHER_ACCOUNT, RawApi, gateway, policy

from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.request import CognitoCaller, IamCaller, LambdaAnswer, Request

ALLOW, NEITHER, DENY = "allow", "neither", "deny"
SIDES = (ALLOW, NEITHER, DENY)
EFFECT = {ALLOW: "Allow", NEITHER: None, DENY: "Deny"}

# (caller's IAM policy or authorizer's policy, resource policy) -> outcome; "deny" is an explicit deny,
# "neither" an implicit one. Both give 403.
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
STATUS = {ALLOW: 200, NEITHER: 403, DENY: 403}
AUTH_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")


@pytest.fixture(scope="module")
def gateways() -> Iterator[dict[tuple[str, str], Gateway]]:
    """A planned raw program per (authentication type, resource-policy side)."""
    found = {(kind, side): gateway(RawApi(kind, policy(EFFECT[side]))) for kind in AUTH_TYPES for side in SIDES}
    yield found
    for each in found.values():
        each.close()


def _identity_policy(side: str) -> str:
    """The caller's own IAM policy: Allow or Deny on execute-api:Invoke, or only about something else."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    if side != NEITHER:
        statement = {"Effect": EFFECT[side], "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _authorizer_policy(side: str) -> dict[str, object]:
    """The policy a Lambda authorizer returns: on this API's methods, or on another API only."""
    resource = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:other-api/*"
    if side != NEITHER:
        resource = "arn:aws:execute-api:*:*:*/*/*/*"
    effect = EFFECT[side] or "Allow"
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}],
    }


def _get(api: Gateway, **fields: object) -> tuple[int, str, str]:
    result = api.evaluate(Request("GET", "/v1/items", **fields))  # type: ignore[arg-type]
    return result.status, result.layer, result.reason


@pytest.mark.parametrize("side", SIDES)
def test_resource_policy_only(gateways: dict[tuple[str, str], Gateway], side: str) -> None:
    status, layer, reason = _get(gateways[("NONE", side)])
    assert status == STATUS[ALLOW if side == ALLOW else side], reason
    if side != ALLOW:
        assert layer == "resource-policy"
        assert ("denies" if side == DENY else "has no Allow") in reason


def test_no_resource_policy_lets_a_method_without_authorization_through() -> None:
    api = gateway(RawApi("NONE", None))
    try:
        assert _get(api)[0] == 200
    finally:
        api.close()


IAM_ROWS = [
    (account, where, table, identity, resource)
    for account, where, table in (
        (ACCOUNT, "same account (table A)", TABLE_A),
        (OTHER_ACCOUNT, "cross-account (table B)", TABLE_B),
    )
    for identity, resource in table
]


@pytest.mark.parametrize(
    ("account", "where", "table", "identity", "resource"),
    IAM_ROWS,
    ids=[f"{'A' if r[0] == ACCOUNT else 'B'}-{r[3]}-{r[4]}" for r in IAM_ROWS],
)
def test_tables_a_and_b_iam(
    gateways: dict[tuple[str, str], Gateway],
    account: str,
    where: str,
    table: dict[tuple[str, str], str],
    identity: str,
    resource: str,
) -> None:
    caller = IamCaller(account, identity_policy=_identity_policy(identity))
    status, _, reason = _get(gateways[("AWS_IAM", resource)], caller=caller)
    outcome = table[(identity, resource)]
    assert status == STATUS[outcome], reason
    assert f"IAM policy {identity}, resource policy {resource}: {outcome}, {where}" in reason


@pytest.mark.parametrize(("returned", "resource"), list(TABLE_A), ids=[f"{i}-{r}" for i, r in TABLE_A])
def test_table_a_lambda_authorizer(gateways: dict[tuple[str, str], Gateway], returned: str, resource: str) -> None:
    caller = LambdaAnswer("Allow", policy=_authorizer_policy(returned))
    status, layer, reason = _get(gateways[("CUSTOM", resource)], caller=caller, headers={"Authorization": "t"})
    outcome = TABLE_A[(returned, resource)]
    assert status == STATUS[outcome], reason
    if resource == DENY:
        # Phase one: an explicit deny of the resource policy stops the call before the authorizer runs.
        assert layer == "resource-policy"
        assert "denies before the authorizer runs" in reason
    elif returned == DENY:
        assert "its policy denies" in reason
    elif outcome == NEITHER:
        assert "does not cover" in reason


def test_lambda_authorizer_is_not_invoked_without_its_identity_source(gateways: dict[tuple[str, str], Gateway]) -> None:
    status, layer, reason = _get(gateways[("CUSTOM", ALLOW)], caller=None)
    assert (status, layer) == (401, "authorizer")
    assert "without invoking it" in reason


@pytest.mark.parametrize("side", SIDES)
def test_cognito_then_the_resource_policy_alone(gateways: dict[tuple[str, str], Gateway], side: str) -> None:
    api = gateways[("COGNITO_USER_POOLS", side)]
    # A method without scopes takes an ID token (AWS knowledge center, "api-gateway-cognito-401-unauthorized").
    status, layer, reason = _get(api, caller=CognitoCaller("web", token_use="id"))
    assert status == STATUS[ALLOW if side == ALLOW else side], reason
    if side != ALLOW:
        assert layer == "resource-policy"
    # Without a valid token Cognito answers 401 before the resource policy is read, whatever it says.
    assert _get(api, caller=None)[:2] == (401, "authorizer")
    assert _get(api, caller=CognitoCaller("web", token_use="id", expired=True))[:2] == (401, "authorizer")
