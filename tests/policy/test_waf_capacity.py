"""Web ACL capacity units, row by row from the AWS WAF developer guide's "WCUs" line of each statement page.

"Web ACL capacity units (WCUs) in AWS WAF": a rule costs its statement's base cost, plus 10 per text
transformation, plus 10 for All query parameters; the JSON body doubles the base cost. Managed rule groups
cost the WCU AWS lists for them ("AWS Managed Rules rule groups list").
"""

from __future__ import annotations

from typing import Any

import pytest
from secure_api_policies.values import UNKNOWN
from secure_api_policies.waf_capacity import MANAGED_RULE_GROUP_WCU, web_acl_capacity

from secure_api.component.config.waf_managed import AWS_MANAGED_RULE_GROUPS

URL = {"priority": 0, "type": "URL_DECODE"}
HTML = {"priority": 1, "type": "HTML_ENTITY_DECODE"}
NONE = {"priority": 0, "type": "NONE"}


def _cost(statement: dict[str, Any]) -> int:
    capacity = web_acl_capacity([{"name": "r", "statement": statement}])
    assert not capacity.unknown, capacity.unknown
    return capacity.total


def _inspect(kind: str, field: dict[str, Any], transformations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {kind: {"fieldToMatch": field, "textTransformations": transformations, **extra}}


@pytest.mark.parametrize(
    ("statement", "wcu"),
    [
        # Size constraint: 1; NONE is no transformation.
        (_inspect("sizeConstraintStatement", {"body": {}}, [NONE], comparisonOperator="GT", size=8192), 1),
        (_inspect("sizeConstraintStatement", {"uriPath": {}}, [URL]), 11),
        (_inspect("sizeConstraintStatement", {"allQueryArguments": {}}, []), 11),
        (_inspect("sizeConstraintStatement", {"jsonBody": {"matchScope": "ALL"}}, []), 2),
        # SQL injection: LOW 20, HIGH 30.
        (_inspect("sqliMatchStatement", {"queryString": {}}, []), 20),
        (_inspect("sqliMatchStatement", {"queryString": {}}, [URL, HTML], sensitivityLevel="LOW"), 40),
        (_inspect("sqliMatchStatement", {"body": {}}, [URL, HTML], sensitivityLevel="HIGH"), 50),
        (_inspect("sqliMatchStatement", {"jsonBody": {"matchScope": "VALUE"}}, [URL], sensitivityLevel="HIGH"), 70),
        # Cross-site scripting: 40.
        (_inspect("xssMatchStatement", {"headers": [{"matchScope": "ALL"}]}, [URL, HTML]), 60),
        (_inspect("xssMatchStatement", {"allQueryArguments": {}}, []), 50),
        # String match: 2 for EXACTLY, STARTS_WITH, ENDS_WITH; 10 for CONTAINS, CONTAINS_WORD.
        (_inspect("byteMatchStatement", {"uriPath": {}}, [], positionalConstraint="EXACTLY"), 2),
        (_inspect("byteMatchStatement", {"uriPath": {}}, [URL], positionalConstraint="STARTS_WITH"), 12),
        (_inspect("byteMatchStatement", {"queryString": {}}, [], positionalConstraint="CONTAINS_WORD"), 10),
        # Regex match 3, regex pattern set 25.
        (_inspect("regexMatchStatement", {"uriPath": {}}, [], regexString="^/a"), 3),
        (_inspect("regexPatternSetReferenceStatement", {"uriPath": {}}, [URL], arn="arn"), 35),
        # IP set 1, +4 with a forwarded IP at position ANY; geo, label, ASN 1.
        ({"ipSetReferenceStatement": {"arn": "arn"}}, 1),
        ({"ipSetReferenceStatement": {"arn": "arn", "ipSetForwardedIpConfig": {"position": "ANY"}}}, 5),
        ({"ipSetReferenceStatement": {"arn": "arn", "ipSetForwardedIpConfig": {"position": "FIRST"}}}, 1),
        ({"geoMatchStatement": {"countryCodes": ["KP"]}}, 1),
        ({"labelMatchStatement": {"key": "k", "scope": "LABEL"}}, 1),
        # Logical statements: the sum of what they nest.
        ({"notStatement": {"statement": {"geoMatchStatement": {"countryCodes": ["DE"]}}}}, 1),
        (
            {
                "orStatement": {
                    "statements": [
                        _inspect("sqliMatchStatement", {"uriPath": {}}, [URL, HTML]),
                        {"andStatement": {"statements": [{"geoMatchStatement": {}}, {"labelMatchStatement": {}}]}},
                    ]
                }
            },
            42,
        ),
        # Rate-based: 2, +30 per custom key, + its scope-down statement.
        ({"rateBasedStatement": {"limit": 100, "aggregateKeyType": "IP"}}, 2),
        (
            {
                "rateBasedStatement": {
                    "aggregateKeyType": "CUSTOM_KEYS",
                    "customKeys": [{"ip": {}}, {"httpMethod": {}}],
                    "scopeDownStatement": _inspect(
                        "byteMatchStatement", {"uriPath": {}}, [URL, HTML], positionalConstraint="STARTS_WITH"
                    ),
                }
            },
            2 + 60 + 22,
        ),
        # Managed rule groups: the listed WCU, + a scope-down statement.
        ({"managedRuleGroupStatement": {"vendorName": "AWS", "name": "AWSManagedRulesCommonRuleSet"}}, 700),
        (
            {
                "managedRuleGroupStatement": {
                    "vendorName": "AWS",
                    "name": "AWSManagedRulesAmazonIpReputationList",
                    "scopeDownStatement": {"notStatement": {"statement": {"geoMatchStatement": {}}}},
                }
            },
            26,
        ),
    ],
)
def test_each_statement_costs_what_aws_documents(statement: dict[str, Any], wcu: int) -> None:
    assert _cost(statement) == wcu


def test_what_has_no_documented_cost_makes_the_total_a_lower_bound() -> None:
    capacity = web_acl_capacity(
        [
            {"name": "rate", "statement": {"rateBasedStatement": {"limit": 100}}},
            {"name": "vendor", "statement": {"managedRuleGroupStatement": {"vendorName": "F5", "name": "Bots"}}},
            {"name": "own", "statement": {"ruleGroupReferenceStatement": {"arn": "arn"}}},
        ]
    )
    assert capacity.total == 2
    assert capacity.describe() == "at least 2 WCU"
    assert capacity.unknown == (
        "vendor: managed rule group F5/Bots (its owner sets its capacity)",
        "own: ruleGroupReferenceStatement (the rule group's own capacity)",
    )
    assert not capacity.pending


def test_a_rule_only_known_after_the_update_is_pending() -> None:
    capacity = web_acl_capacity([{"name": "later", "statement": UNKNOWN}, UNKNOWN])
    assert capacity.pending
    assert [rule.name for rule in capacity.rules] == ["later", "rule 1"]


def test_every_managed_group_the_component_accepts_has_its_documented_capacity() -> None:
    assert set(MANAGED_RULE_GROUP_WCU) == set(AWS_MANAGED_RULE_GROUPS)
