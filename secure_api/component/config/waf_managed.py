"""The AWS managed rule groups WAF offers, and the rules of those whose rules AWS documents.

Source: AWS WAF developer guide, "AWS Managed Rules rule groups list" (baseline, use-case, IP
reputation, Bot Control, fraud control and anti-DDoS pages) and its changelog. `None` means the
group's rules are not checked here: Bot Control's rule set depends on its inspection level and
changes often. A group AWS adds later is unknown until it is listed here.
"""

from __future__ import annotations

import difflib

BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
SQLI_RULE_SET = "AWSManagedRulesSQLiRuleSet"

AWS_MANAGED_RULE_GROUPS: dict[str, frozenset[str] | None] = {
    # Baseline
    COMMON_RULE_SET: frozenset(
        {
            "NoUserAgent_HEADER",
            "UserAgent_BadBots_HEADER",
            "SizeRestrictions_QUERYSTRING",
            "SizeRestrictions_Cookie_HEADER",
            "SizeRestrictions_BODY",
            "SizeRestrictions_URIPATH",
            "EC2MetaDataSSRF_BODY",
            "EC2MetaDataSSRF_COOKIE",
            "EC2MetaDataSSRF_URIPATH",
            "EC2MetaDataSSRF_QUERYARGUMENTS",
            "GenericLFI_QUERYARGUMENTS",
            "GenericLFI_URIPATH",
            "GenericLFI_BODY",
            "RestrictedExtensions_URIPATH",
            "RestrictedExtensions_QUERYARGUMENTS",
            "GenericRFI_QUERYARGUMENTS",
            "GenericRFI_BODY",
            "GenericRFI_URIPATH",
            "CrossSiteScripting_COOKIE",
            "CrossSiteScripting_QUERYARGUMENTS",
            "CrossSiteScripting_BODY",
            "CrossSiteScripting_URIPATH",
        }
    ),
    "AWSManagedRulesAdminProtectionRuleSet": frozenset({"AdminProtection_URIPATH"}),
    "AWSManagedRulesKnownBadInputsRuleSet": frozenset(
        {
            "JavaDeserializationRCE_HEADER",
            "JavaDeserializationRCE_BODY",
            "JavaDeserializationRCE_URIPATH",
            "JavaDeserializationRCE_QUERYSTRING",
            "Host_localhost_HEADER",
            "PROPFIND_METHOD",
            "ExploitablePaths_URIPATH",
            "Log4JRCE_HEADER",
            "Log4JRCE_QUERYSTRING",
            "Log4JRCE_BODY",
            "Log4JRCE_URIPATH",
        }
    ),
    # Use case
    SQLI_RULE_SET: frozenset(
        {
            "SQLi_QUERYARGUMENTS",
            "SQLiExtendedPatterns_QUERYARGUMENTS",
            "SQLi_BODY",
            "SQLiExtendedPatterns_BODY",
            "SQLi_COOKIE",
        }
    ),
    "AWSManagedRulesLinuxRuleSet": frozenset({"LFI_URIPATH", "LFI_QUERYSTRING", "LFI_HEADER"}),
    "AWSManagedRulesUnixRuleSet": frozenset(
        {"UNIXShellCommandsVariables_QUERYARGUMENTS", "UNIXShellCommandsVariables_BODY"}
    ),
    "AWSManagedRulesWindowsRuleSet": frozenset(
        {
            "WindowsShellCommands_COOKIE",
            "WindowsShellCommands_QUERYARGUMENTS",
            "WindowsShellCommands_BODY",
            "PowerShellCommands_COOKIE",
            "PowerShellCommands_QUERYARGUMENTS",
            "PowerShellCommands_BODY",
        }
    ),
    "AWSManagedRulesPHPRuleSet": frozenset(
        {
            "PHPHighRiskMethodsVariables_HEADER",
            "PHPHighRiskMethodsVariables_QUERYSTRING",
            "PHPHighRiskMethodsVariables_BODY",
        }
    ),
    "AWSManagedRulesWordPressRuleSet": frozenset(
        {"WordPressExploitableCommands_QUERYSTRING", "WordPressExploitablePaths_URIPATH"}
    ),
    # IP reputation
    "AWSManagedRulesAmazonIpReputationList": frozenset(
        {"AWSManagedIPReputationList", "AWSManagedReconnaissanceList", "AWSManagedIPDDoSList"}
    ),
    "AWSManagedRulesAnonymousIpList": frozenset({"AnonymousIPList", "HostingProviderIPList"}),
    # Bot Control, fraud control, anti-DDoS: they need a ManagedRuleGroupConfig.
    BOT_CONTROL: None,
    "AWSManagedRulesATPRuleSet": None,
    "AWSManagedRulesACFPRuleSet": None,
    "AWSManagedRulesAntiDDoSRuleSet": None,
}

# Groups whose ManagedRuleGroupConfig describes the application (login or sign-up page, request and
# response fields, challenge exemptions); WAF refuses the web ACL without it. Not configurable here.
NEEDS_APPLICATION_CONFIG = {
    "AWSManagedRulesATPRuleSet": "account takeover prevention needs the login path and the username/password "
    "fields of its requests (AWSManagedRulesATPRuleSet config)",
    "AWSManagedRulesACFPRuleSet": "account creation fraud prevention needs the registration and account creation "
    "paths and the fields of its requests (AWSManagedRulesACFPRuleSet config)",
    "AWSManagedRulesAntiDDoSRuleSet": "anti-DDoS needs its client-side challenge configuration "
    "(AWSManagedRulesAntiDDoSRuleSet config)",
}


def managed_group_problems(
    name: str, count_rules: tuple[str, ...], inspection_level: str | None
) -> list[tuple[str, str]]:
    """(key path below `managedRuleGroups.<name>`, message): '' is the group itself."""
    if name not in AWS_MANAGED_RULE_GROUPS:
        close = difflib.get_close_matches(name, AWS_MANAGED_RULE_GROUPS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return [("", f"not an AWS managed rule group: {hint}known: {', '.join(sorted(AWS_MANAGED_RULE_GROUPS))}")]
    if name in NEEDS_APPLICATION_CONFIG:
        return [
            (
                "",
                f"{NEEDS_APPLICATION_CONFIG[name]}, which this component does not set and without which WAF refuses "
                "the web ACL; remove the group",
            )
        ]
    problems: list[tuple[str, str]] = []
    if inspection_level is not None and name != BOT_CONTROL:
        problems.append(("inspectionLevel", f"only {BOT_CONTROL} has an inspection level"))
    rules = AWS_MANAGED_RULE_GROUPS[name]
    unknown = [rule for rule in count_rules if rules is not None and rule not in rules]
    if unknown:
        problems.append(("countRules", f"{name} has no rules {unknown}; its rules: {', '.join(sorted(rules or ()))}"))
    return problems
