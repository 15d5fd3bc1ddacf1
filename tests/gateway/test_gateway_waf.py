"""The offline WAF evaluator over the dev stack's real web ACL and over small hand-built ACLs."""

from __future__ import annotations

from typing import Any

import pytest

from secure_api.gateway.waf import RateCounter, WafRequest, evaluate
from secure_api.plan.offline import plan_stack
from tests.conftest import REPO


@pytest.fixture(scope="module")
def dev_acl() -> tuple[dict[str, Any], dict[str, list[str]]]:
    result = plan_stack("dev", preview=False, project_dir=REPO)
    acl = result.one("aws:wafv2/webAcl:WebAcl").inputs
    ip_sets = {r.outputs["arn"]: list(r.inputs["addresses"]) for r in result.of_type("aws:wafv2/ipSet:IpSet")}
    assert len(ip_sets) == 2
    return acl, ip_sets


def req(**kw: Any) -> WafRequest:
    base: dict[str, Any] = {
        "method": "GET",
        "uri_path": "/v1/orders",
        "query_string": "",
        "headers": {},
        "body": b"",
        "source_ip": "192.0.2.10",
        "country": "DE",
    }
    return WafRequest(**{**base, **kw})


def test_blocked_ipv4_and_ipv6(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    v4 = evaluate(acl, req(source_ip="203.0.113.9"), ip_sets=ip_sets)
    assert (v4.action, v4.rule, v4.status) == ("BLOCK", "block-ipv4", 403)
    assert "203.0.113.9 in IP set orders-api-dev-v1-blocklist-ipv4" in v4.reason
    v6 = evaluate(acl, req(source_ip="2001:db8:dead::1"), ip_sets=ip_sets)
    assert (v6.action, v6.rule) == ("BLOCK", "block-ipv6")


def test_geo_block(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    out = evaluate(acl, req(country="KP"), ip_sets=ip_sets)
    assert (out.action, out.rule) == ("BLOCK", "geo-block")


def test_clean_request_allowed_with_managed_groups_unevaluated(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    out = evaluate(acl, req(), ip_sets=ip_sets)
    assert (out.action, out.rule, out.status) == ("ALLOW", "", 200)
    assert "AWSManagedRulesAmazonIpReputationList: not evaluated offline" in out.not_evaluated
    assert any(n.startswith("AWSManagedRulesCommonRuleSet") for n in out.not_evaluated)


def test_rate_limit_and_window(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    rates = RateCounter()
    # /v2 path so only the global 1000/300 s rule counts
    outs = [evaluate(acl, req(uri_path="/v2/x"), ip_sets=ip_sets, rates=rates, now=i * 0.2) for i in range(1001)]
    assert all(o.action == "ALLOW" for o in outs[:1000])
    assert (outs[1000].action, outs[1000].rule) == ("BLOCK", "rate-limit")
    later = evaluate(acl, req(uri_path="/v2/x"), ip_sets=ip_sets, rates=rates, now=200.0 + 301)
    assert later.action == "ALLOW"


def test_orders_rate_rule_counts_only_orders(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    rates = RateCounter()
    for i in range(300):
        assert evaluate(acl, req(uri_path="/v1/other"), ip_sets=ip_sets, rates=rates, now=i * 0.1).action == "ALLOW"
    outs = [evaluate(acl, req(), ip_sets=ip_sets, rates=rates, now=30 + i * 0.1) for i in range(201)]
    assert all(o.action == "ALLOW" for o in outs[:200])
    assert (outs[200].action, outs[200].rule) == ("BLOCK", "rate-limit-orders")


def test_sqli_query_blocked_as_approximation(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    out = evaluate(acl, req(query_string="id=1%27%20OR%20%271%27%3D%271"), ip_sets=ip_sets)
    assert (out.action, out.rule) == ("BLOCK", "sql-injection")
    assert any("sqliMatchStatement" in a for a in out.approximations)


def test_large_body_blocked_by_body_size(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    out = evaluate(acl, req(method="POST", body=b"a" * 20 * 1024), ip_sets=ip_sets)
    assert (out.action, out.rule) == ("BLOCK", "body-size")


def test_log4j_header_blocked(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    out = evaluate(acl, req(headers={"User-Agent": "${jndi:ldap://x/a}"}), ip_sets=ip_sets)
    assert (out.action, out.rule) == ("BLOCK", "AWSManagedRulesKnownBadInputsRuleSet")
    assert "awswaf:managed:aws:known-bad-inputs:Log4JRCE_HEADER" in out.labels


def test_count_mode_group_and_override_never_block() -> None:
    acl = {
        "defaultAction": {"allow": {}},
        "rules": [
            {
                "name": "crs",
                "priority": 0,
                "overrideAction": {"none": {}},
                "statement": {
                    "managedRuleGroupStatement": {
                        "vendorName": "AWS",
                        "name": "AWSManagedRulesCommonRuleSet",
                        "ruleActionOverrides": [{"name": "SizeRestrictions_QUERYSTRING", "actionToUse": {"count": {}}}],
                    }
                },
            },
            {
                "name": "kbi",
                "priority": 1,
                "overrideAction": {"count": {}},
                "statement": {
                    "managedRuleGroupStatement": {"vendorName": "AWS", "name": "AWSManagedRulesKnownBadInputsRuleSet"}
                },
            },
        ],
    }
    out = evaluate(acl, req(query_string="q=" + "a" * 3000 + "${jndi:x}"), ip_sets={})
    assert out.action == "ALLOW"
    assert out.counted == (
        "AWSManagedRulesCommonRuleSet:SizeRestrictions_QUERYSTRING",
        "AWSManagedRulesKnownBadInputsRuleSet:Log4JRCE_QUERYSTRING",
    )
    blocked = evaluate(acl, req(body=b"x" * 9000), ip_sets={})
    assert (blocked.action, blocked.rule) == ("BLOCK", "crs")


def test_priority_count_labels_and_default_block() -> None:
    geo = {"geoMatchStatement": {"countryCodes": ["FR"]}}
    acl = {
        "defaultAction": {"block": {"customResponse": {"responseCode": 451}}},
        "rules": [
            {
                "name": "later-allow",
                "priority": 5,
                "action": {"allow": {}},
                "statement": {"labelMatchStatement": {"scope": "LABEL", "key": "team:fr"}},
            },
            {
                "name": "first-count",
                "priority": 1,
                "action": {"count": {}},
                "statement": geo,
                "ruleLabels": [{"name": "team:fr"}],
            },
            {
                "name": "mid-block",
                "priority": 3,
                "action": {"block": {"customResponse": {"responseCode": 429}}},
                "statement": {
                    "notStatement": {
                        "statement": {
                            "byteMatchStatement": {
                                "fieldToMatch": {"singleHeader": {"name": "x-ok"}},
                                "positionalConstraint": "EXACTLY",
                                "searchString": "yes",
                                "textTransformations": [{"type": "LOWERCASE", "priority": 0}],
                            }
                        }
                    }
                },
            },
        ],
    }
    ok = evaluate(acl, req(country="FR", headers={"X-OK": "YES"}), ip_sets={})
    assert (ok.action, ok.rule, ok.counted) == ("ALLOW", "later-allow", ("first-count",))
    assert "team:fr" in ok.labels
    mid = evaluate(acl, req(country="FR"), ip_sets={})
    assert (mid.action, mid.rule, mid.status) == ("BLOCK", "mid-block", 429)
    dflt = evaluate(acl, req(country="DE", headers={"x-ok": "yes"}), ip_sets={})
    assert (dflt.action, dflt.rule, dflt.status) == ("BLOCK", "", 451)


def test_unknown_statement_passes_with_note() -> None:
    acl = {
        "defaultAction": {"allow": {}},
        "rules": [{"name": "asn", "priority": 0, "action": {"block": {}}, "statement": {"asnMatchStatement": {}}}],
    }
    out = evaluate(acl, req(), ip_sets={})
    assert out.action == "ALLOW"
    assert out.not_evaluated == ("asn: asnMatchStatement not evaluated offline",)


def test_body_inspection_limit_from_association_config(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    # The dev body-size rule blocks bodies over 16,384 bytes: API Gateway forwards 16 KB by default, so
    # the size constraint sees the whole of a 16 KB body and a bigger one is oversize (MATCH).
    sixteen_kb = req(method="POST", body=b"a" * 16 * 1024)
    assert evaluate(acl, sixteen_kb, ip_sets=ip_sets).rule != "body-size"
    assert evaluate(acl, req(method="POST", body=b"a" * (16 * 1024 + 1)), ip_sets=ip_sets).rule == "body-size"
    small = {
        **acl,
        "rules": [
            {
                **r,
                "statement": {
                    "sizeConstraintStatement": {**r["statement"]["sizeConstraintStatement"], "size": 40 * 1024}
                },
            }
            if r["name"] == "body-size"
            else r
            for r in acl["rules"]
        ],
    }
    forty_kb = req(method="POST", body=b"a" * 40 * 1024)
    assert evaluate(small, forty_kb, ip_sets=ip_sets).rule == "body-size"  # over 16 KB inspected: oversize MATCH
    association = {"requestBodies": [{"apiGateway": {"defaultSizeInspectionLimit": "KB_64"}}]}
    raised = {**small, "associationConfig": association}
    assert evaluate(raised, forty_kb, ip_sets=ip_sets).rule != "body-size"


def test_xss_and_linux_group_in_count_mode(dev_acl: Any) -> None:
    acl, ip_sets = dev_acl
    xss = evaluate(acl, req(query_string="q=%3Cscript%3Ealert(1)%3C/script%3E"), ip_sets=ip_sets)
    assert (xss.action, xss.rule) == ("BLOCK", "cross-site-scripting")
    lfi = evaluate(acl, req(query_string="file=/etc/passwd"), ip_sets=ip_sets)
    assert lfi.action == "ALLOW"
    assert "AWSManagedRulesLinuxRuleSet: not evaluated offline" in lfi.not_evaluated


@pytest.fixture(scope="module")
def minimal_acl() -> dict[str, Any]:
    return plan_stack("minimal", preview=False, project_dir=REPO).one("aws:wafv2/webAcl:WebAcl").inputs


@pytest.mark.parametrize(
    ("body", "group", "rule"),
    [
        (b"name=x%27%20OR%20%271%27%3D%271", "AWSManagedRulesSQLiRuleSet", "SQLi_BODY"),
        (b'{"note": "<script>alert(1)</script>"}', "AWSManagedRulesCommonRuleSet", "CrossSiteScripting_BODY"),
    ],
)
def test_the_default_acl_leaves_body_injection_to_the_managed_rule_that_blocks_it(
    minimal_acl: dict[str, Any], body: bytes, group: str, rule: str
) -> None:
    out = evaluate(minimal_acl, req(method="POST", body=body), ip_sets={})
    assert (out.action, out.rule) == ("BLOCK", group)
    assert f"{group}:{rule}" in out.reason
    assert any(rule in a for a in out.approximations)
    counted = {
        **minimal_acl,
        "rules": [{**r, "overrideAction": {"count": {}}} if r["name"] == group else r for r in minimal_acl["rules"]],
    }
    # Counting the group lets the body through: the component then puts the body back into its own rule.
    later = evaluate(counted, req(method="POST", body=body), ip_sets={})
    assert later.action == "ALLOW"
    assert f"{group}:{rule}" in later.counted
