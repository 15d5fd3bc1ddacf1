"""The WAF layer on the mock runtime: the web ACL's rules, its IP sets, logging and stage association.

The dev stack switches every WAF feature on. Plans run in preview (unknown outputs, as in
`pulumi preview`) and update mode; assertions read recorded inputs and dependency edges.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown
from secure_api_policies.waf_capacity import INCLUDED_WCU, web_acl_capacity

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.config.waf import BASELINE_MANAGED_GROUPS, LOG4J_RULES
from secure_api.component.layers.waf import redacted_headers
from secure_api.plan.harness import PlannedResource, PlanResult
from secure_api.plan.offline import load_stack_config
from secure_api.plan.report import render_plan
from tests.conftest import Plan

ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
IP_SET = "aws:wafv2/ipSet:IpSet"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def rules_of(result: PlanResult) -> dict[str, dict[str, Any]]:
    return {rule["name"]: rule for rule in result.one(ACL).inputs["rules"]}


def named(result: PlanResult, type_: str, role: str) -> PlannedResource:
    (match,) = [r for r in result.of_type(type_) if r.name == f"secure-api-{role}"]
    return match


def problems_of(config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    return dict(raised.value.problems)


def test_regional_acl_with_metrics_and_samples_on_every_rule(dev_plan: PlanResult) -> None:
    acl = dev_plan.one(ACL)
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["name"] == "orders-api-dev-v1"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    visibility = {"cloudwatchMetricsEnabled": True, "sampledRequestsEnabled": True}
    assert acl.inputs["visibilityConfig"] == {**visibility, "metricName": "orders-api-dev-v1"}
    rules = acl.inputs["rules"]
    assert [r["priority"] for r in rules] == list(range(len(rules)))
    for rule in rules:
        assert rule["visibilityConfig"] == {**visibility, "metricName": rule["name"]}
        assert ("action" in rule) != ("overrideAction" in rule), rule["name"]
    assert [r["name"] for r in rules] == [
        "block-ipv4",
        "block-ipv6",
        "geo-block",
        "rate-limit",
        "rate-limit-orders",
        "body-size",
        *BASELINE_MANAGED_GROUPS,
        "AWSManagedRulesLinuxRuleSet",
        "sql-injection",
        "cross-site-scripting",
    ]


def test_association_targets_the_stage_arn_and_waits_for_the_stage(dev_plan: PlanResult) -> None:
    stage = dev_plan.one("aws:apigateway/stage:Stage")
    acl = dev_plan.one(ACL)
    association = dev_plan.one(ASSOCIATION)
    assert stage.urn in association.property_dependencies["resourceArn"]
    assert acl.urn in association.property_dependencies["webAclArn"]
    if dev_plan.preview:
        assert isinstance(association.inputs["resourceArn"], Unknown)
    else:
        api_id = dev_plan.one("aws:apigateway/restApi:RestApi").outputs["id"]
        assert association.inputs["resourceArn"] == f"arn:aws:apigateway:eu-west-1::/restapis/{api_id}/stages/v1"


def test_rate_limits_per_ip_with_a_path_scope_down(dev_plan: PlanResult) -> None:
    rules = rules_of(dev_plan)
    overall = rules["rate-limit"]
    assert overall["action"] == {"block": {}}
    assert overall["statement"]["rateBasedStatement"] == {
        "aggregateKeyType": "IP",
        "limit": 1000,
        "evaluationWindowSec": 300,
    }
    scoped = rules["rate-limit-orders"]["statement"]["rateBasedStatement"]
    assert (scoped["limit"], scoped["evaluationWindowSec"]) == (200, 60)
    byte_match = scoped["scopeDownStatement"]["byteMatchStatement"]
    assert byte_match["fieldToMatch"] == {"uriPath": {}}
    assert byte_match["positionalConstraint"] == "STARTS_WITH"
    assert byte_match["searchString"] == "/v1/orders"
    assert [t["type"] for t in byte_match["textTransformations"]] == ["URL_DECODE", "NORMALIZE_PATH"]


@pytest.mark.parametrize(
    ("rule", "match"), [("sql-injection", "sqliMatchStatement"), ("cross-site-scripting", "xssMatchStatement")]
)
def test_injection_rules_inspect_query_body_uri_and_headers(dev_plan: PlanResult, rule: str, match: str) -> None:
    inspected = rules_of(dev_plan)[rule]
    assert inspected["action"] == {"block": {}}
    statements = [s[match] for s in inspected["statement"]["orStatement"]["statements"]]
    fields = {key for s in statements for key in s["fieldToMatch"]}
    # Dev inspects SQL injection at HIGH, which the SQLi group's SQLi_BODY (LOW) does not cover; the body's
    # cross-site scripting is the common rule set's CrossSiteScripting_BODY, which dev leaves blocking.
    assert fields == (
        {"queryString", "body", "uriPath", "headers"}
        if rule == "sql-injection"
        else {"queryString", "uriPath", "headers"}
    )
    for statement in statements:
        transformations = sorted(statement["textTransformations"], key=lambda t: t["priority"])
        assert [t["type"] for t in transformations] == ["URL_DECODE", "HTML_ENTITY_DECODE"]
        if match == "sqliMatchStatement":
            assert statement["sensitivityLevel"] == "HIGH"
    (headers,) = next(s["fieldToMatch"]["headers"] for s in statements if "headers" in s["fieldToMatch"])
    assert headers["matchScope"] == "ALL"
    # Every redacted header, or a match would log its value in the rule's match details.
    assert headers["matchPattern"] == {
        "excludedHeaders": ["authorization", "cookie", "x-api-key", "x-partner-signature"]
    }


def test_oversized_bodies_are_blocked_before_the_managed_groups(dev_plan: PlanResult) -> None:
    rules = rules_of(dev_plan)
    names = list(rules)
    assert names.index("body-size") < names.index("AWSManagedRulesCommonRuleSet")
    assert rules["body-size"]["action"] == {"block": {}}
    assert rules["body-size"]["statement"]["sizeConstraintStatement"] == {
        "comparisonOperator": "GT",
        "size": 16384,  # Pulumi.dev.yaml: waf.bodySizeLimit.maxBytes
        # A body WAF cannot see whole counts as oversized, so no size escapes the rule.
        "fieldToMatch": {"body": {"oversizeHandling": "MATCH"}},
        "textTransformations": [{"priority": 0, "type": "NONE"}],
    }


def test_body_size_in_count_mode_is_warned(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["waf"]["bodySizeLimit"] = {"mode": "COUNT"}
    result = plan(dev_config, preview=True)
    assert rules_of(result)["body-size"]["action"] == {"count": {}}
    assert "WAF bodySizeLimit is in COUNT mode: matches are counted and logged, not blocked" in result.warnings


def test_geo_block_list_and_allow_list(dev_plan: PlanResult, dev_config: dict[str, Any], plan: Plan) -> None:
    block = rules_of(dev_plan)["geo-block"]
    assert block["action"] == {"block": {}}
    assert block["statement"] == {"geoMatchStatement": {"countryCodes": ["KP", "IR", "SY", "CU"]}}
    dev_config["waf"]["geo"] = {"mode": "allow", "countries": ["de", "AT", "CH"]}
    allow = rules_of(plan(dev_config, preview=dev_plan.preview))["geo-allow"]
    assert allow["action"] == {"block": {}}  # everything that is NOT from an allowed country
    assert allow["statement"] == {
        "notStatement": {"statement": {"geoMatchStatement": {"countryCodes": ["DE", "AT", "CH"]}}}
    }


def test_ip_blocklists_are_one_ip_set_per_address_family(dev_plan: PlanResult) -> None:
    sets = {s.inputs["ipAddressVersion"]: s for s in dev_plan.of_type(IP_SET)}
    assert set(sets) == {"IPV4", "IPV6"}
    assert sets["IPV4"].inputs["addresses"] == ["203.0.113.0/24", "198.51.100.7/32"]
    assert sets["IPV6"].inputs["addresses"] == ["2001:db8:dead::/48"]
    assert all(s.inputs["scope"] == "REGIONAL" for s in sets.values())
    acl = dev_plan.one(ACL)
    assert {s.urn for s in sets.values()} <= set(acl.property_dependencies["rules"])
    rules = rules_of(dev_plan)
    for version in ("ipv4", "ipv6"):
        assert rules[f"block-{version}"]["action"] == {"block": {}}
        assert "ipSetReferenceStatement" in rules[f"block-{version}"]["statement"]


def test_no_blocklist_no_ip_sets(dev_config: dict[str, Any], plan: Plan) -> None:
    del dev_config["waf"]["blockedIps"]
    result = plan(dev_config, preview=True)
    assert not result.of_type(IP_SET)
    assert not [name for name in rules_of(result) if name.startswith("block-")]


def test_managed_groups_overridable_with_count_rollout_and_log4j_blocking(dev_plan: PlanResult) -> None:
    rules = rules_of(dev_plan)
    for name in (*BASELINE_MANAGED_GROUPS, "AWSManagedRulesLinuxRuleSet"):
        statement = rules[name]["statement"]["managedRuleGroupStatement"]
        assert (statement["vendorName"], statement["name"]) == ("AWS", name)
        expected = {"count": {}} if name == "AWSManagedRulesLinuxRuleSet" else {"none": {}}
        assert rules[name]["overrideAction"] == expected, name
    known_bad = rules["AWSManagedRulesKnownBadInputsRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert {o["name"]: o["actionToUse"] for o in known_bad["ruleActionOverrides"]} == {
        rule: {"block": {}} for rule in LOG4J_RULES
    }
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert common["ruleActionOverrides"] == [{"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_bot_control_gets_its_required_inspection_level(dev_config: dict[str, Any], plan: Plan, preview: bool) -> None:
    """WAF refuses a Bot Control group without its ManagedRuleGroupConfig."""
    groups = dev_config["waf"]["managedRuleGroups"]
    groups["AWSManagedRulesBotControlRuleSet"] = {"mode": "COUNT"}
    rules = rules_of(plan(dev_config, preview=preview))
    bot = rules["AWSManagedRulesBotControlRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert bot["managedRuleGroupConfigs"] == [{"awsManagedRulesBotControlRuleSet": {"inspectionLevel": "COMMON"}}]
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert "managedRuleGroupConfigs" not in common
    groups["AWSManagedRulesBotControlRuleSet"]["inspectionLevel"] = "TARGETED"
    bot = rules_of(plan(dev_config, preview=preview))["AWSManagedRulesBotControlRuleSet"]
    configs = bot["statement"]["managedRuleGroupStatement"]["managedRuleGroupConfigs"]
    assert configs == [{"awsManagedRulesBotControlRuleSet": {"inspectionLevel": "TARGETED"}}]


def test_relaxations_are_warned_about(dev_plan: PlanResult) -> None:
    assert any("AWSManagedRulesLinuxRuleSet is in COUNT mode" in w for w in dev_plan.warnings)
    assert any("SizeRestrictions_BODY" in w for w in dev_plan.warnings)


def test_disabling_a_baseline_group_drops_it_and_warns(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["waf"]["managedRuleGroups"] = {"AWSManagedRulesSQLiRuleSet": {"enabled": False}}
    result = plan(dev_config, preview=True)
    rules = rules_of(result)
    assert "AWSManagedRulesSQLiRuleSet" not in rules
    assert set(BASELINE_MANAGED_GROUPS) - {"AWSManagedRulesSQLiRuleSet"} <= set(rules)
    assert any("AWSManagedRulesSQLiRuleSet is disabled" in w for w in result.warnings)


def test_logs_go_to_a_protected_encrypted_aws_waf_logs_group_with_credentials_redacted(dev_plan: PlanResult) -> None:
    log_group = named(dev_plan, LOG_GROUP, "waf-logs")
    assert log_group.inputs["name"] == "aws-waf-logs-orders-api-dev-v1"
    assert log_group.inputs["retentionInDays"] == 365
    assert log_group.inputs["deletionProtectionEnabled"] is True
    assert log_group.protect
    assert log_group.retain_on_delete
    key = dev_plan.one("aws:kms/key:Key")
    assert key.urn in log_group.property_dependencies["kmsKeyId"]
    logging = dev_plan.one(LOGGING)
    assert log_group.urn in logging.property_dependencies["logDestinationConfigs"]
    assert dev_plan.one(ACL).urn in logging.property_dependencies["resourceArn"]
    redacted = [field["singleHeader"]["name"] for field in logging.inputs["redactedFields"]]
    assert redacted == ["authorization", "cookie", "x-api-key", "x-partner-signature"]


def test_the_custom_authorizer_identity_header_is_redacted_too(dev_config: dict[str, Any]) -> None:
    dev_config["lambdaAuthorizer"]["identityHeader"] = "X-Partner-Token"
    dev_config["routes"].append({"path": "/hook", "method": "POST", "auth": "custom", "integration": {"type": "mock"}})
    assert redacted_headers(parse_config(dev_config)) == [
        "authorization",
        "cookie",
        "x-api-key",
        "x-partner-signature",
        "x-partner-token",
    ]


def test_defaults_when_the_stack_says_nothing_about_waf(dev_config: dict[str, Any], plan: Plan) -> None:
    del dev_config["waf"]
    result = plan(dev_config, preview=True)
    rules = rules_of(result)
    assert list(rules) == [
        "rate-limit",
        "body-size",
        *BASELINE_MANAGED_GROUPS,
        "sql-injection",
        "cross-site-scripting",
    ]
    assert rules["body-size"]["statement"]["sizeConstraintStatement"]["size"] == 8192
    assert rules["rate-limit"]["statement"]["rateBasedStatement"]["limit"] == 1000
    assert rules["rate-limit"]["statement"]["rateBasedStatement"]["evaluationWindowSec"] == 300
    assert all(rules[g]["overrideAction"] == {"none": {}} for g in BASELINE_MANAGED_GROUPS)
    assert (
        rules["sql-injection"]["statement"]["orStatement"]["statements"][0]["sqliMatchStatement"]["sensitivityLevel"]
        == "LOW"
    )
    assert not [w for w in result.warnings if "WAF" in w]


def test_turning_waf_off_needs_acknowledgement_on_a_regional_api(dev_config: dict[str, Any], plan: Plan) -> None:
    dev_config["waf"] = {"enabled": False}
    problems = problems_of(dev_config)
    assert "acceptNoWaf" in problems["secure-api:waf.enabled"]
    dev_config["waf"]["acceptNoWaf"] = True
    result = plan(dev_config, preview=True)
    assert not [r for r in result.resources if r.type.startswith("aws:wafv2/")]
    assert not [r for r in result.of_type(LOG_GROUP) if "waf" in r.name]
    assert not [a for a in result.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "waf" in a.name]
    assert any("WAF is off" in w for w in result.warnings)


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_private_api_gets_the_web_acl_too(plan: Plan, preview: bool) -> None:
    result = plan(load_stack_config("private"), preview=preview, stack="private")
    assert result.one("aws:apigateway/restApi:RestApi").inputs["endpointConfiguration"]["types"] == "PRIVATE"
    association = result.one(ASSOCIATION)
    assert result.one("aws:apigateway/stage:Stage").urn in association.property_dependencies["resourceArn"]
    assert rules_of(result)["rate-limit"]["statement"]["rateBasedStatement"]["limit"] == 2000


def test_a_private_api_may_turn_waf_off_without_acknowledgement(plan: Plan) -> None:
    config = load_stack_config("private")
    config["waf"] = {"enabled": False}
    result = plan(config, preview=True, stack="private")
    assert not [r for r in result.resources if r.type.startswith("aws:wafv2/")]
    assert "WAF is off (waf.enabled: false): the PRIVATE API has no web ACL" in result.warnings


BAD_INPUTS = [
    pytest.param({"rateLimit": {"limit": 9}}, "waf.rateLimit.limit", "from 10", id="rate-below-aws-minimum"),
    pytest.param(
        {"pathRateLimits": [{"name": "login", "pathPrefix": "/v1/login", "limit": 5}]},
        "waf.pathRateLimits[0].limit",
        "from 10",
        id="path-rate-below-aws-minimum",
    ),
    pytest.param(
        {"rateLimit": {"evaluationWindowSeconds": 30}}, "waf.rateLimit.evaluationWindowSeconds", "60", id="window"
    ),
    pytest.param(
        {"pathRateLimits": [{"name": "x", "pathPrefix": "login", "limit": 100}]},
        "waf.pathRateLimits[0].pathPrefix",
        "a URI path starting with /",
        id="relative-path-prefix",
    ),
    pytest.param(
        {
            "pathRateLimits": [
                {"name": "a", "pathPrefix": "/a", "limit": 100},
                {"name": "a", "pathPrefix": "/b", "limit": 100},
            ]
        },
        "waf.pathRateLimits[1].name",
        "duplicate",
        id="duplicate-path-limit",
    ),
    pytest.param({"geo": {"mode": "block", "countries": ["XX"]}}, "waf.geo.countries", "ISO 3166", id="country"),
    pytest.param(
        {"geo": {"mode": "block", "countries": ["US", "us"]}}, "waf.geo.countries", "duplicate", id="dup-country"
    ),
    pytest.param({"geo": {"mode": "deny", "countries": ["US"]}}, "waf.geo.mode", "allow", id="geo-mode"),
    pytest.param({"blockedIps": ["10.0.0.5/8"]}, "waf.blockedIps", "host bits", id="cidr-host-bits"),
    pytest.param({"blockedIps": ["::/0"]}, "waf.blockedIps", "/0", id="block-everything"),
    pytest.param({"blockedIps": ["not-an-ip"]}, "waf.blockedIps", "not an IP", id="not-an-ip"),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesKnownBadInputsRuleSet": {"mode": "COUNT"}}},
        "waf.managedRuleGroups.AWSManagedRulesKnownBadInputsRuleSet.mode",
        "Log4Shell",
        id="known-bad-inputs-count",
    ),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesKnownBadInputsRuleSet": {"countRules": ["Log4JRCE_BODY"]}}},
        "waf.managedRuleGroups.AWSManagedRulesKnownBadInputsRuleSet.countRules",
        "always block",
        id="log4j-count-rule",
    ),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesCommonRuleSett": {"enabled": False}}},
        "waf.managedRuleGroups.AWSManagedRulesCommonRuleSett",
        "not an AWS managed rule group: did you mean AWSManagedRulesCommonRuleSet?",
        id="group-name-typo",
    ),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesATPRuleSet": {}}},
        "waf.managedRuleGroups.AWSManagedRulesATPRuleSet",
        "needs the login path",
        id="atp-needs-config",
    ),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesACFPRuleSet": {}}},
        "waf.managedRuleGroups.AWSManagedRulesACFPRuleSet",
        "WAF refuses the web ACL",
        id="acfp-needs-config",
    ),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesAntiDDoSRuleSet": {"mode": "COUNT"}}},
        "waf.managedRuleGroups.AWSManagedRulesAntiDDoSRuleSet",
        "client-side challenge",
        id="anti-ddos-needs-config",
    ),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesCommonRuleSet": {"countRules": ["SizeRestriction_BODY"]}}},
        "waf.managedRuleGroups.AWSManagedRulesCommonRuleSet.countRules",
        "has no rules ['SizeRestriction_BODY']; its rules: CrossSiteScripting_BODY",
        id="count-rule-typo",
    ),
    pytest.param(
        {"managedRuleGroups": {"AWSManagedRulesSQLiRuleSet": {"inspectionLevel": "TARGETED"}}},
        "waf.managedRuleGroups.AWSManagedRulesSQLiRuleSet.inspectionLevel",
        "only AWSManagedRulesBotControlRuleSet",
        id="inspection-level-elsewhere",
    ),
    pytest.param({"redactHeaders": ["X-Secret"]}, "waf.redactHeaders", "lowercase", id="redact-uppercase"),
    pytest.param({"logRetentionDays": 100}, "waf.logRetentionDays", "must be one of", id="retention"),
    pytest.param({"rateLimt": {"limit": 100}}, "waf.rateLimt", "unknown key", id="typo"),
    pytest.param({"bodySizeLimit": {"maxBytes": 0}}, "waf.bodySizeLimit.maxBytes", "from 1 to 16,384", id="body-zero"),
    pytest.param(
        {"bodySizeLimit": {"maxBytes": 20_000}},
        "waf.bodySizeLimit.maxBytes",
        "from 1 to 16,384",
        id="body-past-inspection",
    ),
]


@pytest.mark.parametrize(("waf", "path", "message"), BAD_INPUTS)
def test_bad_waf_settings_fail_with_the_key_named(
    waf: dict[str, Any], path: str, message: str, dev_config: dict[str, Any]
) -> None:
    dev_config["waf"].update(waf)
    problems = problems_of(dev_config)
    assert f"secure-api:{path}" in problems, problems
    assert message in problems[f"secure-api:{path}"]


def test_plan_summary_names_the_waf_controls(dev_plan: PlanResult, dev_config: dict[str, Any]) -> None:
    report = render_plan("dev", parse_config(dev_config), dev_plan)
    (line,) = [line for line in report.splitlines() if line.startswith("[waf]")]
    assert "6 resource(s)" in line
    assert "rate limit 1000/300s per IP, /v1/orders* 200/60s" in line
    assert "LinuxRuleSet (COUNT)" in line
    assert "geo block-list KP, IR, SY, CU" in line
    assert "IP blocklist 2 IPv4 / 1 IPv6" in line
    assert "secure-api-waf-logs" in report.split("[waf]")[1].split("[observability]")[0]


def test_web_acl_arn_is_a_stack_output(dev_plans: dict[str, PlanResult]) -> None:
    result = dev_plans["update"]
    outputs = result.outputs[result.one("secure-api:index:SecureApi").urn]
    acl = result.one(ACL)
    prefix = f"arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/{acl.inputs['name']}/"
    assert outputs["webAclArn"] == f"{prefix}{acl.outputs['id']}"


def _inspected_fields(result: PlanResult, rule: str, match: str) -> list[str]:
    return [
        key
        for s in rules_of(result)[rule]["statement"]["orStatement"]["statements"]
        for key in s[match]["fieldToMatch"]
    ]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_default_web_acl_fits_the_capacity_its_base_price_covers(
    dev_config: dict[str, Any], plan: Plan, preview: bool
) -> None:
    """1,528 WCU before: 25 + 700 + 200 + 200 (groups) + 2 (rate) + 1 (size) + 4 x (20 + 2 x 10) (SQLi)
    + 4 x (40 + 2 x 10) (XSS). The body is now inspected once, by SQLi_BODY and CrossSiteScripting_BODY."""
    del dev_config["waf"]
    result = plan(dev_config, preview=preview)
    capacity = web_acl_capacity(result.one(ACL).inputs["rules"])
    assert not capacity.unknown
    assert capacity.total == 1528 - (20 + 20) - (40 + 20) <= INCLUDED_WCU
    if not preview:  # the mock reports what WAF would: the web ACL's capacity
        assert result.one(ACL).outputs["capacity"] == capacity.total
    assert f"{capacity.total} WCU (the base price covers 1500)" in render_plan("minimal", None, result)
    assert _inspected_fields(result, "sql-injection", "sqliMatchStatement") == ["queryString", "uriPath", "headers"]
    assert _inspected_fields(result, "cross-site-scripting", "xssMatchStatement") == [
        "queryString",
        "uriPath",
        "headers",
    ]


@pytest.mark.parametrize(
    ("groups", "sensitivity", "sqli_body", "xss_body"),
    [
        ({}, "LOW", False, False),
        ({}, "HIGH", True, False),
        ({"AWSManagedRulesSQLiRuleSet": {"countRules": ["SQLi_BODY"]}}, "LOW", True, False),
        ({"AWSManagedRulesSQLiRuleSet": {"mode": "COUNT"}}, "LOW", True, False),
        ({"AWSManagedRulesSQLiRuleSet": {"enabled": False}}, "LOW", True, False),
        ({"AWSManagedRulesCommonRuleSet": {"countRules": ["CrossSiteScripting_BODY"]}}, "LOW", False, True),
        ({"AWSManagedRulesCommonRuleSet": {"mode": "COUNT"}}, "LOW", False, True),
        ({"AWSManagedRulesCommonRuleSet": {"countRules": ["SizeRestrictions_BODY"]}}, "LOW", False, False),
    ],
)
def test_our_rules_take_the_body_back_whenever_the_managed_rule_does_not_block_it(
    dev_config: dict[str, Any], plan: Plan, groups: dict[str, Any], sensitivity: str, sqli_body: bool, xss_body: bool
) -> None:
    dev_config["waf"] = {"managedRuleGroups": groups, "sqlInjectionSensitivity": sensitivity}
    result = plan(dev_config, preview=True)
    assert ("body" in _inspected_fields(result, "sql-injection", "sqliMatchStatement")) is sqli_body
    assert ("body" in _inspected_fields(result, "cross-site-scripting", "xssMatchStatement")) is xss_body
