"""WAF settings (README layer "4. WAF"): rate limits, injection rules, geo and IP blocking, managed rule groups.

Every protection is on by default. Loosening one is a visible, typed setting (COUNT mode, a group
with `enabled: false`, `enabled: false` for the whole ACL), and the plan warns about each.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any, Literal

from pydantic import Field, field_validator

from .base import ConfigModel, check_retention_days
from .waf_managed import managed_group_problems

# AWS lowered the rate-based rule minimum from 100 to 10 requests per evaluation window.
AWS_MIN_RATE_LIMIT = 10
AWS_MAX_RATE_LIMIT = 2_000_000_000
# One IP set holds at most 10,000 CIDRs.
AWS_MAX_IP_SET_ADDRESSES = 10_000

KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"
# The Log4Shell (CVE-2021-44228) rules of the known-bad-inputs group, as AWS documents them.
LOG4J_RULES = ("Log4JRCE_HEADER", "Log4JRCE_QUERYSTRING", "Log4JRCE_BODY", "Log4JRCE_URIPATH")
# The pack's `waf-reputation-lists` (advisory) recommends these; they block by caller address.
REPUTATION_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList")
# In evaluation order: the cheap IP reputation list first, then the inspecting groups. Common and
# KnownBadInputs are the pack's mandatory baseline, SQLi backs our own SQL injection rule. The
# anonymous-IP list is not a default: its HostingProviderIPList blocks callers hosted outside AWS
# (a partner's webhook sender, a service in another cloud); add it under managedRuleGroups.
BASELINE_MANAGED_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    KNOWN_BAD_INPUTS,
    "AWSManagedRulesSQLiRuleSet",
)
# Headers that carry credentials; WAF logs never keep them.
ALWAYS_REDACTED_HEADERS = ("authorization", "cookie", "x-api-key")
# A WAF SingleHeader name (what a redacted field names) is 1-64 characters (botocore wafv2 FieldToMatchData).
MAX_HEADER_NAME = 64
# A logging configuration redacts at most 100 fields (WAF API LoggingConfiguration.RedactedFields);
# one is kept for the Lambda authorizer's identity header.
MAX_REDACT_HEADERS = 100 - len(ALWAYS_REDACTED_HEADERS) - 1

# SizeRestrictions_BODY of AWSManagedRulesCommonRuleSet blocks bodies over 8 KB; the same default here.
DEFAULT_MAX_BODY_BYTES = 8_192
# WAF sees at most the first 16 KB of an API Gateway request body by default (without a paid
# AssociationConfig increase); a larger limit could never be measured.
API_GATEWAY_BODY_INSPECTION_LIMIT = 16_384

# ISO 3166-1 alpha-2 plus XK (Kosovo, user-assigned): the codes WAF's geo match statement takes, equal to
# botocore's wafv2 `CountryCode` enum (tested).
_ISO_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    XK YT ZA ZM ZW
"""
ISO_COUNTRY_CODES = frozenset(_ISO_COUNTRY_CODES.split())

RuleMode = Literal["BLOCK", "COUNT"]
_NAME = r"^[A-Za-z0-9_-]{1,64}$"
_HEADER = re.compile(r"^[a-z0-9-]{1,64}$")


def _check_rate_limit(limit: int) -> int:
    if not AWS_MIN_RATE_LIMIT <= limit <= AWS_MAX_RATE_LIMIT:
        raise ValueError(
            f"AWS WAF accepts rate limits from {AWS_MIN_RATE_LIMIT} to {AWS_MAX_RATE_LIMIT:,} requests "
            f"per evaluation window, got {limit}"
        )
    return limit


class RateLimit(ConfigModel):
    """Requests one client IP may send per evaluation window before WAF blocks it."""

    limit: int = 1_000
    evaluation_window_seconds: Literal[60, 120, 300, 600] = 300
    mode: RuleMode = "BLOCK"

    _limit = field_validator("limit")(_check_rate_limit)


class PathRateLimit(RateLimit):
    """A tighter per-IP limit for one part of the API (a scope-down on the URI path), e.g. a login route.

    `pathPrefix` is matched against the path WAF sees: on the default execute-api endpoint that
    includes the stage (`/v1/login`), behind a custom domain it is the domain's path.
    """

    name: str = Field(pattern=_NAME, description="1 to 64 letters, digits, - or _", examples=["login"])
    path_prefix: str = Field(
        pattern=r"^/[A-Za-z0-9._~/{}+-]{0,199}$",
        description="a URI path starting with / of up to 200 letters, digits and . _ ~ / { } + -",
        examples=["/v1/login"],
    )


class BodySizeLimit(ConfigModel):
    """Requests whose body is larger than `maxBytes` are refused by WAF before they reach a backend.

    A body larger than WAF inspects (16 KB, API Gateway's default, which this component keeps) counts as over the limit.
    """

    max_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1, le=API_GATEWAY_BODY_INSPECTION_LIMIT)
    mode: RuleMode = "BLOCK"


class ManagedRuleGroup(ConfigModel):
    """One AWS managed rule group; COUNT mode watches without blocking (for a staged rollout)."""

    enabled: bool = True
    mode: RuleMode = "BLOCK"
    version: str | None = Field(default=None, examples=["Version_1.12"])
    count_rules: tuple[str, ...] = Field(default=(), examples=[["SizeRestrictions_BODY"]])
    """Rules of the group overridden to COUNT, for known false positives (e.g. SizeRestrictions_BODY)."""
    inspection_level: Literal["COMMON", "TARGETED"] | None = None
    """Bot Control only (default COMMON): TARGETED adds the rules against sophisticated bots."""


class GeoRestriction(ConfigModel):
    """`allow`: only these countries may call; `block`: these countries may not."""

    mode: Literal["allow", "block"]
    countries: tuple[str, ...] = Field(min_length=1, examples=[["KP", "IR"]])

    @field_validator("countries")
    @classmethod
    def _iso_codes(cls, countries: tuple[str, ...]) -> tuple[str, ...]:
        codes = tuple(c.upper() for c in countries)
        unknown = [c for c in codes if c not in ISO_COUNTRY_CODES]
        if unknown:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {unknown}")
        if len(set(codes)) != len(codes):
            raise ValueError(f"duplicate country codes in {list(codes)}")
        return codes


class WafSettings(ConfigModel):
    """The regional web ACL in front of the stage."""

    enabled: bool = True
    accept_no_waf: bool = False
    """Needed with `enabled: false` on a REGIONAL (internet-facing) API."""
    rate_limit: RateLimit = RateLimit()
    path_rate_limits: tuple[PathRateLimit, ...] = ()
    sql_injection: RuleMode = "BLOCK"
    sql_injection_sensitivity: Literal["LOW", "HIGH"] = "LOW"
    cross_site_scripting: RuleMode = "BLOCK"
    body_size_limit: BodySizeLimit = BodySizeLimit()
    geo: GeoRestriction | None = None
    blocked_ips: tuple[str, ...] = Field(default=(), examples=[["203.0.113.7", "2001:db8:dead::/48"]])
    managed_rule_groups: dict[str, ManagedRuleGroup] = Field(
        default_factory=lambda: {name: ManagedRuleGroup() for name in BASELINE_MANAGED_GROUPS}
    )
    """Merged over the baseline groups: name a baseline group to change it, any other to add it."""
    log_retention_days: int = 365
    redact_headers: tuple[str, ...] = Field(default=(), examples=[["x-partner-signature"]])
    """Headers kept out of WAF logs besides authorization, cookie and x-api-key (lowercase)."""

    _retention = field_validator("log_retention_days")(check_retention_days)

    @field_validator("managed_rule_groups", mode="before")
    @classmethod
    def _over_baseline(cls, groups: Any) -> Any:
        if not isinstance(groups, dict):
            return groups
        return {**{name: {} for name in BASELINE_MANAGED_GROUPS}, **groups}

    @field_validator("managed_rule_groups")
    @classmethod
    def _group_names(cls, groups: dict[str, ManagedRuleGroup]) -> dict[str, ManagedRuleGroup]:
        bad = [name for name in groups if not re.match(r"^[A-Za-z0-9_-]{1,128}$", name)]
        if bad:
            raise ValueError(f"not managed rule group names: {bad}")
        return groups

    @field_validator("blocked_ips")
    @classmethod
    def _cidrs(cls, addresses: tuple[str, ...]) -> tuple[str, ...]:
        networks = []
        for address in addresses:
            try:
                network = ipaddress.ip_network(address, strict=True)
            except ValueError as error:
                raise ValueError(f"{address!r} is not an IP address or CIDR block: {error}") from None
            if network.prefixlen == 0:
                raise ValueError(f"{address!r} would block every address; WAF rejects /0")
            networks.append(str(network))
        if len(set(networks)) != len(networks):
            raise ValueError("duplicate entries in blockedIps")
        return tuple(networks)

    @field_validator("redact_headers")
    @classmethod
    def _lowercase_headers(cls, headers: tuple[str, ...]) -> tuple[str, ...]:
        long = [h for h in headers if len(h) > MAX_HEADER_NAME]
        if long:
            raise ValueError(f"header names are at most {MAX_HEADER_NAME} characters (WAF FieldToMatchData): {long}")
        bad = [h for h in headers if not _HEADER.match(h)]
        if bad:
            raise ValueError(f"header names must be lowercase (as WAF matches them): {bad}")
        return headers

    def problems(self) -> list[tuple[str, str]]:
        """(key path below `waf`, message) for rules that span several WAF keys."""
        problems: list[tuple[str, str]] = []
        known_bad = self.managed_rule_groups[KNOWN_BAD_INPUTS]
        where = f"managedRuleGroups.{KNOWN_BAD_INPUTS}"
        if known_bad.enabled and known_bad.mode == "COUNT":
            problems.append(
                (
                    f"{where}.mode",
                    "COUNT would stop blocking Log4Shell (CVE-2021-44228); keep BLOCK and list the group's "
                    "noisy rules in countRules",
                )
            )
        log4j = sorted(set(known_bad.count_rules) & set(LOG4J_RULES))
        if log4j:
            problems.append((f"{where}.countRules", f"the Log4Shell rules {log4j} always block"))
        for name, group in self.managed_rule_groups.items():
            for key, message in managed_group_problems(name, group.count_rules, group.inspection_level):
                problems.append((f"managedRuleGroups.{name}" + (f".{key}" if key else ""), message))
        counts = Counter(p.name for p in self.path_rate_limits)
        for index, limit in enumerate(self.path_rate_limits):
            if counts[limit.name] > 1:
                problems.append((f"pathRateLimits[{index}].name", f"duplicate name {limit.name!r}"))
        if len(self.redact_headers) > MAX_REDACT_HEADERS:
            problems.append(
                (
                    "redactHeaders",
                    f"{len(self.redact_headers)} headers; WAF redacts at most 100 fields per ACL, so at most "
                    f"{MAX_REDACT_HEADERS} besides {', '.join(ALWAYS_REDACTED_HEADERS)} and the authorizer's header",
                )
            )
        for version in (4, 6):
            count = len(self.blocked_networks(version))
            if count > AWS_MAX_IP_SET_ADDRESSES:
                problems.append(
                    ("blockedIps", f"{count} IPv{version} entries; one IP set holds {AWS_MAX_IP_SET_ADDRESSES}")
                )
        return problems

    def blocked_networks(self, version: Literal[4, 6]) -> list[str]:
        return [a for a in self.blocked_ips if ipaddress.ip_network(a).version == version]

    @property
    def disabled_baseline_groups(self) -> list[str]:
        return [n for n in BASELINE_MANAGED_GROUPS if not self.managed_rule_groups[n].enabled]
