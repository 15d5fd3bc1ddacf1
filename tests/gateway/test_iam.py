"""The IAM policy evaluator: evaluation logic, elements, condition operators, and the dev stack's resource policy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from secure_api.gateway.iam import Effect, Evaluation, Principal, evaluate

API = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
ORDERS = f"{API}/v1/GET/orders"
INVOKE = "execute-api:Invoke"
ACCOUNT_CALLER = Principal(account="210987654321", arn="arn:aws:iam::210987654321:role/caller")


def statement(effect: str = "Allow", sid: str | None = None, **elements: Any) -> dict[str, Any]:
    """A statement that matches every Invoke by anyone unless `elements` say otherwise."""
    body: dict[str, Any] = {"Effect": effect, "Principal": "*", "Action": INVOKE, "Resource": f"{API}/*"}
    body.update(elements)
    if sid:
        body["Sid"] = sid
    return {key: value for key, value in body.items() if value is not None}


def run(
    *statements: dict[str, Any],
    resource: str = ORDERS,
    action: str = INVOKE,
    principal: Principal | None = None,
    check_principal: bool = True,
    **context: str | Sequence[str],
) -> Evaluation:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return evaluate(
        document,
        action=action,
        resource=resource,
        principal=principal,
        context=context,
        check_principal=check_principal,
    )


def when(condition: Mapping[str, Any], **context: str | Sequence[str]) -> Effect:
    """The effect of one Allow statement guarded by `condition`."""
    return run(statement(Condition=condition), **context).effect


# --- evaluation logic -------------------------------------------------------------------------------------------------


def test_explicit_deny_beats_allow_whatever_the_order() -> None:
    allow, deny = statement(sid="Open"), statement("Deny", sid="Shut")
    for statements in ((allow, deny), (deny, allow)):
        result = run(*statements)
        assert result.effect is Effect.EXPLICIT_DENY
        assert result.statement == "Shut"
        assert result.reason.startswith("Shut: ")


def test_nothing_matching_is_an_implicit_deny() -> None:
    result = run(statement(Resource=f"{API}/v1/POST/orders"), statement(Action="execute-api:ManageConnections"))
    assert result == Evaluation(Effect.IMPLICIT_DENY, "", f"no statement allows {INVOKE} on {ORDERS}")
    assert run().effect is Effect.IMPLICIT_DENY


def test_unnamed_statement_is_named_by_its_index() -> None:
    result = run(statement(Resource=f"{API}/v1/POST/orders"), statement())
    assert (result.effect, result.statement) == (Effect.ALLOW, "Statement[1]")


def test_document_as_json_text_and_single_statement_object() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": statement(sid="One")})
    result = evaluate(text, action=INVOKE, resource=ORDERS, principal=None, context={})
    assert (result.effect, result.statement) == (Effect.ALLOW, "One")


@pytest.mark.parametrize(
    "document",
    ["{not json", {"Version": "2012-10-17"}, {"Version": "2020-01-01", "Statement": []}, ["a list"]],
)
def test_malformed_document_is_not_evaluated(document: Any) -> None:
    result = evaluate(document, action=INVOKE, resource=ORDERS, principal=None, context={})
    assert result.effect is Effect.NOT_EVALUATED
    assert result.reason


def test_malformed_statement_that_could_matter_is_not_evaluated() -> None:
    assert run(statement(Effect="Permit")).effect is Effect.NOT_EVALUATED
    assert run(statement(), {"Effect": "Deny"}).effect is Effect.NOT_EVALUATED  # no Action/Resource/Principal
    assert run(statement(), "not an object").effect is Effect.NOT_EVALUATED  # type: ignore[arg-type]
    both = statement(NotAction="execute-api:ManageConnections")
    assert "exactly one of Action and NotAction" in run(both).reason


def test_explicit_deny_is_decided_even_when_another_statement_is_unevaluable() -> None:
    unknown = statement("Deny", sid="Odd", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})
    result = run(statement(), unknown, statement("Deny", sid="Shut"))
    assert (result.effect, result.statement) == (Effect.EXPLICIT_DENY, "Shut")


def test_allow_next_to_an_unevaluable_deny_is_not_evaluated() -> None:
    unknown = statement("Deny", sid="Odd", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})
    result = run(statement(sid="Open"), unknown)
    assert (result.effect, result.statement) == (Effect.NOT_EVALUATED, "Odd")
    assert "DateGreaterThan" in result.reason


def test_unevaluable_allow_matters_only_when_nothing_else_allows() -> None:
    unknown = statement(sid="Odd", Condition={"StringEquals": {"execute-api:Stage": "v1"}})
    alone = run(unknown)
    assert (alone.effect, alone.statement) == (Effect.NOT_EVALUATED, "Odd")
    assert "execute-api:Stage" in alone.reason
    assert run(unknown, statement(sid="Open")).effect is Effect.ALLOW


def test_unevaluable_statement_that_cannot_match_does_not_matter() -> None:
    elsewhere = statement("Deny", Resource=f"{API}/v1/POST/*", Condition={"BinaryEquals": {"aws:SourceIp": "AA=="}})
    assert run(statement(), elsewhere).effect is Effect.ALLOW


# --- Action, Resource, Principal --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "effect"),
    [
        ("execute-api:Invoke", Effect.ALLOW),
        ("EXECUTE-API:invoke", Effect.ALLOW),
        ("execute-api:*", Effect.ALLOW),
        ("execute-api:In?oke", Effect.ALLOW),
        ("*", Effect.ALLOW),
        ("execute-api:Inv", Effect.IMPLICIT_DENY),
        ("apigateway:*", Effect.IMPLICIT_DENY),
        (["s3:GetObject", "execute-api:Invoke"], Effect.ALLOW),
    ],
)
def test_action_patterns_are_case_insensitive_wildcards(pattern: Any, effect: Effect) -> None:
    assert run(statement(Action=pattern)).effect is effect


def test_not_action() -> None:
    assert run(statement(Action=None, NotAction="execute-api:ManageConnections")).effect is Effect.ALLOW
    assert run(statement(Action=None, NotAction="execute-api:*")).effect is Effect.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("resource", "effect"),
    [
        (f"{API}/v1/GET/orders/42", Effect.ALLOW),
        (f"{API}/v1/GET/orders/42/items", Effect.ALLOW),
        (f"{API}/v1/GET/orders", Effect.IMPLICIT_DENY),  # `orders/*` needs something after the slash
        (f"{API}/v1/POST/orders/42", Effect.IMPLICIT_DENY),
        (f"{API}/v2/GET/orders/42", Effect.IMPLICIT_DENY),
        ("arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/orders/42", Effect.IMPLICIT_DENY),
        ("arn:aws:execute-api:eu-west-1:999999999999:abc123/v1/GET/orders/42", Effect.IMPLICIT_DENY),
        (f"{API}/v1/get/orders/42", Effect.IMPLICIT_DENY),  # ARNs are case-sensitive
    ],
)
def test_resource_wildcards(resource: str, effect: Effect) -> None:
    pattern = "arn:aws:execute-api:eu-west-1:123456789012:*/v1/GET/orders/*"
    assert run(statement(Resource=pattern), resource=resource).effect is effect


def test_resource_question_mark_and_star() -> None:
    assert run(statement(Resource=f"{API}/v?/GET/orders"), resource=ORDERS).effect is Effect.ALLOW
    assert (
        run(statement(Resource=f"{API}/v?/GET/orders"), resource=f"{API}/v10/GET/orders").effect is Effect.IMPLICIT_DENY
    )
    assert run(statement(Resource="*"), resource=ORDERS).effect is Effect.ALLOW
    assert run(statement(Resource="arn:aws:execute-api:*:*:*"), resource=ORDERS).effect is Effect.ALLOW
    assert run(statement(Resource="orders")).effect is Effect.NOT_EVALUATED  # not an ARN


def test_not_resource() -> None:
    fence = statement("Deny", sid="FenceAdmin", Resource=None, NotResource=[f"{API}/v1/GET/*", f"{API}/v1/OPTIONS/*"])
    assert run(statement(), fence, resource=ORDERS).effect is Effect.ALLOW
    result = run(statement(), fence, resource=f"{API}/v1/DELETE/admin/users")
    assert (result.effect, result.statement) == (Effect.EXPLICIT_DENY, "FenceAdmin")


@pytest.mark.parametrize(
    ("principal", "caller", "effect"),
    [
        ("*", None, Effect.ALLOW),
        ({"AWS": "*"}, None, Effect.ALLOW),
        ({"AWS": "210987654321"}, None, Effect.IMPLICIT_DENY),
        ({"AWS": "210987654321"}, ACCOUNT_CALLER, Effect.ALLOW),
        ({"AWS": "arn:aws:iam::210987654321:root"}, ACCOUNT_CALLER, Effect.ALLOW),
        ({"AWS": "arn:aws:iam::210987654321:root"}, Principal(arn="arn:aws:iam::210987654321:user/ann"), Effect.ALLOW),
        ({"AWS": ["111111111111", "arn:aws:iam::210987654321:role/caller"]}, ACCOUNT_CALLER, Effect.ALLOW),
        ({"AWS": "arn:aws:iam::210987654321:role/other"}, ACCOUNT_CALLER, Effect.IMPLICIT_DENY),
        ({"AWS": "111111111111"}, ACCOUNT_CALLER, Effect.IMPLICIT_DENY),
        (
            {"AWS": "arn:aws:iam::210987654321:role/team/caller"},
            Principal(arn="arn:aws:sts::210987654321:assumed-role/caller/session-1"),
            Effect.ALLOW,
        ),
        ({"Service": "apigateway.amazonaws.com"}, Principal(service="apigateway.amazonaws.com"), Effect.ALLOW),
        ({"Service": "apigateway.amazonaws.com"}, ACCOUNT_CALLER, Effect.IMPLICIT_DENY),
        ({"Service": "apigateway.amazonaws.com"}, None, Effect.IMPLICIT_DENY),
        ({"Federated": "cognito-identity.amazonaws.com"}, ACCOUNT_CALLER, Effect.NOT_EVALUATED),
        ({"AWS": "arn:aws:iam::210987654321:role/*"}, ACCOUNT_CALLER, Effect.NOT_EVALUATED),
    ],
)
def test_principal(principal: Any, caller: Principal | None, effect: Effect) -> None:
    assert run(statement(Principal=principal), principal=caller).effect is effect


def test_anonymous_principal() -> None:
    assert Principal().anonymous
    assert not ACCOUNT_CALLER.anonymous
    assert not Principal(service="apigateway.amazonaws.com").anonymous
    assert Principal(arn="arn:aws:iam::210987654321:root").account_id == "210987654321"


def test_not_principal() -> None:
    deny_others = statement("Deny", sid="OnlyPartner", Principal=None, NotPrincipal={"AWS": "210987654321"})
    assert run(statement(), deny_others, principal=ACCOUNT_CALLER).effect is Effect.ALLOW
    assert run(statement(), deny_others, principal=None).effect is Effect.EXPLICIT_DENY
    other = Principal(account="111111111111")
    assert run(statement(), deny_others, principal=other).statement == "OnlyPartner"


def test_identity_policy_has_no_principal() -> None:
    identity = statement(Principal=None)
    assert run(identity, check_principal=False).effect is Effect.ALLOW
    assert run(identity).effect is Effect.NOT_EVALUATED  # a resource policy statement needs one
    assert run(statement(), check_principal=False).effect is Effect.NOT_EVALUATED


# --- condition operators ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "request_value", "effect"),
    [
        ("StringEquals", "v1", "v1", Effect.ALLOW),
        ("StringEquals", "v1", "V1", Effect.IMPLICIT_DENY),
        ("StringEquals", ["a", "v1"], "v1", Effect.ALLOW),
        ("StringNotEquals", ["a", "b"], "v1", Effect.ALLOW),
        ("StringNotEquals", ["a", "v1"], "v1", Effect.IMPLICIT_DENY),
        ("StringEqualsIgnoreCase", "V1", "v1", Effect.ALLOW),
        ("StringNotEqualsIgnoreCase", "V1", "v1", Effect.IMPLICIT_DENY),
        ("StringLike", "vpce-*", "vpce-0abc", Effect.ALLOW),
        ("StringLike", "vpce-????", "vpce-0abc", Effect.ALLOW),
        ("StringLike", "VPCE-*", "vpce-0abc", Effect.IMPLICIT_DENY),
        ("StringNotLike", "vpce-*", "vpce-0abc", Effect.IMPLICIT_DENY),
        ("StringNotLike", "vpce-1*", "vpce-0abc", Effect.ALLOW),
        ("Bool", "true", "true", Effect.ALLOW),
        ("Bool", True, "true", Effect.ALLOW),
        ("Bool", "false", "true", Effect.IMPLICIT_DENY),
        ("Bool", "yes", "true", Effect.NOT_EVALUATED),
        ("NumericEquals", "3", "3.0", Effect.ALLOW),
        ("NumericNotEquals", "3", "3", Effect.IMPLICIT_DENY),
        ("NumericLessThan", 10, "9", Effect.ALLOW),
        ("NumericLessThan", "10", "10", Effect.IMPLICIT_DENY),
        ("NumericLessThanEquals", "10", "10", Effect.ALLOW),
        ("NumericGreaterThan", "10", "10.5", Effect.ALLOW),
        ("NumericGreaterThanEquals", "10", "9", Effect.IMPLICIT_DENY),
        ("NumericEquals", "ten", "10", Effect.NOT_EVALUATED),
    ],
)
def test_scalar_operators(operator: str, values: Any, request_value: str, effect: Effect) -> None:
    assert when({operator: {"aws:SomeKey": values}}, **{"aws:SomeKey": request_value}) is effect


@pytest.mark.parametrize(
    ("operator", "effect"),
    [("ArnEquals", Effect.ALLOW), ("ArnLike", Effect.ALLOW), ("ArnNotEquals", Effect.IMPLICIT_DENY)],
)
def test_arn_operators_match_each_field(operator: str, effect: Effect) -> None:
    pattern = "arn:aws:iam::210987654321:role/*"
    context = {"aws:PrincipalArn": "arn:aws:iam::210987654321:role/caller"}
    assert when({operator: {"aws:PrincipalArn": pattern}}, **context) is effect
    assert when({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/caller"}}, **context) is Effect.ALLOW
    # a wildcard in the account field does not reach into the resource field
    assert when({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*"}}, **context) is Effect.NOT_EVALUATED
    assert when({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:*"}}, **context) is Effect.ALLOW
    assert when({"ArnLike": {"aws:PrincipalArn": pattern}}, **{"aws:PrincipalArn": "caller"}) is Effect.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("198.51.100.4", True),
        ("192.0.2.127", True),
        ("192.0.2.128", False),
        ("203.0.113.9", False),
        ("2001:db8:1234:5::1", True),
        ("2001:db8:1235::1", False),
        ("::ffff:198.51.100.4", False),  # an IPv6 address is not in an IPv4 range
    ],
)
def test_ip_address_ipv4_and_ipv6(address: str, inside: bool) -> None:
    cidrs = ["198.51.100.0/24", "192.0.2.0/25", "2001:db8:1234::/48"]
    allowed = Effect.ALLOW if inside else Effect.IMPLICIT_DENY
    refused = Effect.IMPLICIT_DENY if inside else Effect.ALLOW
    assert when({"IpAddress": {"aws:SourceIp": cidrs}}, **{"aws:SourceIp": address}) is allowed
    assert when({"NotIpAddress": {"aws:SourceIp": cidrs}}, **{"aws:SourceIp": address}) is refused


def test_ip_address_single_host_and_bad_values() -> None:
    assert when({"IpAddress": {"aws:SourceIp": "203.0.113.9"}}, **{"aws:SourceIp": "203.0.113.9"}) is Effect.ALLOW
    assert when({"IpAddress": {"aws:SourceIp": "203.0.113.0/33"}}, **{"aws:SourceIp": "203.0.113.9"}) is (
        Effect.NOT_EVALUATED
    )
    assert when({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, **{"aws:SourceIp": "nowhere"}) is (
        Effect.NOT_EVALUATED
    )


def test_reason_names_statement_operator_key_value_and_ranges() -> None:
    deny = statement("Deny", sid="DenyOutside", Condition={"NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}})
    result = run(statement(), deny, **{"aws:SourceIp": "203.0.113.9"})
    assert result.reason.startswith("DenyOutside: NotIpAddress aws:SourceIp 203.0.113.9 not in [198.51.100.0/24]")


def test_operators_and_keys_and_together_values_or() -> None:
    condition = {
        "StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"], "aws:SourceVpc": "vpc-1"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    every = {"aws:SourceVpce": "vpce-2", "aws:SourceVpc": "vpc-1", "aws:SecureTransport": "true"}
    assert when(condition, **every) is Effect.ALLOW
    for key, wrong in (("aws:SourceVpce", "vpce-3"), ("aws:SourceVpc", "vpc-2"), ("aws:SecureTransport", "false")):
        assert when(condition, **{**every, key: wrong}) is Effect.IMPLICIT_DENY


def test_condition_key_names_are_case_insensitive() -> None:
    assert when({"StringEquals": {"AWS:SOURCEVPCE": "vpce-1"}}, **{"aws:sourcevpce": "vpce-1"}) is Effect.ALLOW
    assert when({"stringequals": {"aws:SourceVpce": "vpce-1"}}, **{"aws:SourceVpce": "vpce-1"}) is Effect.ALLOW


# --- absent keys, IfExists, Null, multivalued keys --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "effect"),
    [
        ("StringEquals", Effect.IMPLICIT_DENY),
        ("StringLike", Effect.IMPLICIT_DENY),
        ("IpAddress", Effect.IMPLICIT_DENY),
        ("StringNotEquals", Effect.ALLOW),
        ("StringNotLike", Effect.ALLOW),
        ("ArnNotLike", Effect.ALLOW),
        ("NotIpAddress", Effect.ALLOW),
        ("StringEqualsIfExists", Effect.ALLOW),
        ("IpAddressIfExists", Effect.ALLOW),
        ("NotIpAddressIfExists", Effect.ALLOW),
        ("ForAnyValue:StringEquals", Effect.IMPLICIT_DENY),
        ("ForAnyValue:StringNotEquals", Effect.IMPLICIT_DENY),
        ("ForAllValues:StringEquals", Effect.ALLOW),
    ],
)
def test_absent_key(operator: str, effect: Effect) -> None:
    value = "arn:aws:iam::210987654321:root" if "Arn" in operator else "10.0.0.0/8"
    assert when({operator: {"aws:PrincipalArn": value}}) is effect


def test_if_exists_compares_a_present_key() -> None:
    condition = {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}
    assert when(condition, **{"aws:SourceVpce": "vpce-1"}) is Effect.ALLOW
    assert when(condition, **{"aws:SourceVpce": "vpce-2"}) is Effect.IMPLICIT_DENY
    assert when({"NotIpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}, **{"aws:SourceIp": "10.1.2.3"}) is (
        Effect.IMPLICIT_DENY
    )


def test_null_checks_presence() -> None:
    assert when({"Null": {"aws:SourceVpce": "true"}}) is Effect.ALLOW
    assert when({"Null": {"aws:SourceVpce": "true"}}, **{"aws:SourceVpce": "vpce-1"}) is Effect.IMPLICIT_DENY
    assert when({"Null": {"aws:SourceVpce": False}}, **{"aws:SourceVpce": "vpce-1"}) is Effect.ALLOW
    assert when({"Null": {"aws:SourceVpce": "false"}}) is Effect.IMPLICIT_DENY
    assert when({"Null": {"aws:SourceVpce": "maybe"}}) is Effect.NOT_EVALUATED
    assert when({"NullIfExists": {"aws:SourceVpce": "true"}}) is Effect.NOT_EVALUATED


def test_for_any_value() -> None:
    condition = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-1/r-1/ou-a/*", "o-1/r-1/ou-b/*"]}}
    assert when(condition, **{"aws:PrincipalOrgPaths": ["o-1/r-1/ou-z/", "o-1/r-1/ou-b/x/"]}) is Effect.ALLOW
    assert when(condition, **{"aws:PrincipalOrgPaths": ["o-1/r-1/ou-z/", "o-2/"]}) is Effect.IMPLICIT_DENY
    assert when(condition, **{"aws:PrincipalOrgPaths": []}) is Effect.IMPLICIT_DENY


def test_for_all_values() -> None:
    condition = {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "owner"]}}
    assert when(condition, **{"aws:TagKeys": ["team", "owner"]}) is Effect.ALLOW
    assert when(condition, **{"aws:TagKeys": ["team"]}) is Effect.ALLOW
    assert when(condition, **{"aws:TagKeys": ["team", "cost"]}) is Effect.IMPLICIT_DENY
    assert when(condition, **{"aws:TagKeys": []}) is Effect.ALLOW
    negated = {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}
    assert when(negated, **{"aws:TagKeys": ["team", "owner"]}) is Effect.ALLOW
    assert when(negated, **{"aws:TagKeys": ["team", "secret"]}) is Effect.IMPLICIT_DENY


def test_multivalued_key_without_set_operator_is_not_evaluated() -> None:
    result = run(statement(Condition={"StringEquals": {"aws:TagKeys": "team"}}), **{"aws:TagKeys": ["team", "owner"]})
    assert result.effect is Effect.NOT_EVALUATED
    assert "multivalued" in result.reason
    assert when({"StringEquals": {"aws:TagKeys": "team"}}, **{"aws:TagKeys": ["team"]}) is Effect.ALLOW


# --- what cannot be decided ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operator", ["DateLessThan", "BinaryEquals", "ForSomeValues:StringEquals", "StringMatches", "IfExists"]
)
def test_unknown_operator_is_not_evaluated(operator: str) -> None:
    result = run(statement(Condition={operator: {"aws:SourceVpce": "x"}}), **{"aws:SourceVpce": "x"})
    assert result.effect is Effect.NOT_EVALUATED
    assert operator in result.reason


def test_policy_variable_is_not_evaluated() -> None:
    condition = {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::210987654321:user/${aws:username}"}}
    result = run(statement(Condition=condition), **{"aws:PrincipalArn": "arn:aws:iam::210987654321:user/ann"})
    assert result.effect is Effect.NOT_EVALUATED
    assert "${aws:username}" in result.reason
    assert run(statement(Resource=f"{API}/v1/GET/${{aws:userid}}")).effect is Effect.NOT_EVALUATED
    # another value that matches decides the OR; the 2008 grammar has no variables
    either = {"StringEquals": {"aws:SourceVpce": ["${aws:SourceVpc}", "vpce-1"]}}
    assert when(either, **{"aws:SourceVpce": "vpce-1"}) is Effect.ALLOW
    legacy = {"Version": "2008-10-17", "Statement": [statement(Condition={"StringEquals": {"aws:SourceVpce": "${x}"}})]}
    result = evaluate(legacy, action=INVOKE, resource=ORDERS, principal=None, context={"aws:SourceVpce": "${x}"})
    assert result.effect is Effect.ALLOW


@pytest.mark.parametrize(
    "key", ["execute-api:Stage", "aws:ResourceTag/team", "aws:PrincipalTag/team", "aws:CurrentTime"]
)
def test_absent_key_of_unknown_presence_is_not_evaluated(key: str) -> None:
    result = run(statement(Condition={"StringNotEquals": {key: "x"}}))
    assert result.effect is Effect.NOT_EVALUATED
    assert key in result.reason
    assert when({"StringNotEquals": {key: "x"}}, **{key: "y"}) is Effect.ALLOW  # present: simply compared


def test_malformed_condition_is_not_evaluated() -> None:
    assert when({"StringEquals": ["aws:SourceVpce"]}) is Effect.NOT_EVALUATED
    assert when({"StringEquals": {"aws:SourceVpce": {"nested": "x"}}}, **{"aws:SourceVpce": "x"}) is (
        Effect.NOT_EVALUATED
    )


# --- the dev stack's resource policy ----------------------------------------------------------------------------------

DEV_API = "arn:aws:execute-api:eu-west-1:123456789012"
IAM_ROUTES = [f"{DEV_API}:*/v1/GET/reports/daily", f"{DEV_API}:*/v1/*/admin/*"]
DEV_POLICY: dict[str, Any] = {
    "Statement": [
        {
            "Action": ["execute-api:Invoke"],
            "Effect": "Allow",
            "Principal": "*",
            "Resource": [
                f"{DEV_API}:*/v1/GET/health",
                f"{DEV_API}:*/v1/GET/orders",
                f"{DEV_API}:*/v1/POST/orders",
                f"{DEV_API}:*/v1/GET/orders/*",
                f"{DEV_API}:*/v1/POST/partners/webhook",
                f"{DEV_API}:*/v1/OPTIONS/health",
                f"{DEV_API}:*/v1/OPTIONS/orders",
                f"{DEV_API}:*/v1/OPTIONS/orders/*",
                f"{DEV_API}:*/v1/OPTIONS/reports/daily",
            ],
            "Sid": "AllowInvokeOfRoutes",
        },
        {
            "Action": ["execute-api:Invoke"],
            "Condition": {"StringEquals": {"aws:PrincipalAccount": ["210987654321"]}},
            "Effect": "Allow",
            "Principal": "*",
            "Resource": IAM_ROUTES,
            "Sid": "AllowIamRoutesToAccounts",
        },
        {
            "Action": ["execute-api:Invoke"],
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}},
            "Effect": "Allow",
            "Principal": "*",
            "Resource": IAM_ROUTES,
            "Sid": "AllowIamRoutesToOrganizations",
        },
        {
            "Action": ["execute-api:Invoke"],
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["198.51.100.0/24", "192.0.2.0/25", "2001:db8:1234::/48"]}},
            "Effect": "Deny",
            "Principal": "*",
            "Resource": [f"{DEV_API}:*/*"],
            "Sid": "DenyOutsideSourceCidrs",
        },
    ],
    "Version": "2012-10-17",
}
"""The resource policy `secure-api plan --stack dev` renders (copied from its plan)."""


def dev(route: str, source_ip: str, principal: Principal | None = None, **context: str) -> Evaluation:
    return evaluate(
        DEV_POLICY,
        action=INVOKE,
        resource=f"{DEV_API}:a1b2c3d4e5/v1/{route}",
        principal=principal,
        context={"aws:SourceIp": source_ip, **context},
    )


def test_dev_policy_allows_a_public_route_from_an_allowed_range() -> None:
    result = dev("GET/orders", "198.51.100.4")
    assert (result.effect, result.statement) == (Effect.ALLOW, "AllowInvokeOfRoutes")
    assert dev("GET/orders/42", "2001:db8:1234::9").effect is Effect.ALLOW


def test_dev_policy_denies_a_caller_outside_the_ranges() -> None:
    result = dev("GET/orders", "203.0.113.9")
    assert (result.effect, result.statement) == (Effect.EXPLICIT_DENY, "DenyOutsideSourceCidrs")
    assert "NotIpAddress aws:SourceIp 203.0.113.9 not in [198.51.100.0/24, 192.0.2.0/25, 2001:db8:1234::/48]" in (
        result.reason
    )
    assert dev(
        "GET/reports/daily", "203.0.113.9", ACCOUNT_CALLER, **{"aws:PrincipalAccount": "210987654321"}
    ).effect is (Effect.EXPLICIT_DENY)


def test_dev_policy_allows_the_cors_preflight() -> None:
    for route in ("OPTIONS/orders", "OPTIONS/orders/42", "OPTIONS/reports/daily"):
        result = dev(route, "198.51.100.4")
        assert (result.effect, result.statement) == (Effect.ALLOW, "AllowInvokeOfRoutes")


def test_dev_policy_iam_route() -> None:
    assert dev("GET/reports/daily", "198.51.100.4").effect is Effect.IMPLICIT_DENY
    assert dev("DELETE/admin/users", "198.51.100.4").effect is Effect.IMPLICIT_DENY
    other = Principal(account="111111111111")
    assert dev("GET/reports/daily", "198.51.100.4", other, **{"aws:PrincipalAccount": "111111111111"}).effect is (
        Effect.IMPLICIT_DENY
    )
    result = dev("GET/reports/daily", "198.51.100.4", ACCOUNT_CALLER, **{"aws:PrincipalAccount": "210987654321"})
    assert (result.effect, result.statement) == (Effect.ALLOW, "AllowIamRoutesToAccounts")
    org = dev("POST/admin/users", "192.0.2.1", other, **{"aws:PrincipalOrgID": "o-a1b2c3d4e5"})
    assert (org.effect, org.statement) == (Effect.ALLOW, "AllowIamRoutesToOrganizations")


def test_dev_policy_unknown_route_is_an_implicit_deny() -> None:
    assert dev("DELETE/orders/42", "198.51.100.4").effect is Effect.IMPLICIT_DENY


def test_document_without_version_reads_variables_literally() -> None:
    document = {"Statement": [statement(Resource=f"{API}/v1/GET/${{x}}")]}
    literal = evaluate(document, action=INVOKE, resource=f"{API}/v1/GET/${{x}}", principal=None, context={})
    assert literal.effect is Effect.ALLOW
    assert evaluate(document, action=INVOKE, resource=ORDERS, principal=None, context={}).effect is Effect.IMPLICIT_DENY


def test_allow_reason_names_the_matching_pattern() -> None:
    pattern = f"{API}/v1/GET/orders"
    result = run(statement(sid="Routes", Resource=[f"{API}/v1/POST/orders", pattern]))
    assert result.reason.startswith(f"Routes: {ORDERS} matches Resource {pattern}")
