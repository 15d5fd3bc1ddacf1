"""Cognito layer: the user pool behind the authorizer resists credential attacks and deletion."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .model import Config, Outcome, ResourceCheck, Violation

_CHARACTER_CLASSES = (
    ("requireLowercase", "lowercase"),
    ("requireUppercase", "uppercase"),
    ("requireNumbers", "numbers"),
    ("requireSymbols", "symbols"),
)
# Without a passwordPolicy block Cognito applies these; inside one, an omitted flag is false.
_COGNITO_DEFAULT_POLICY = {
    "minimumLength": 8,
    "requireLowercase": True,
    "requireUppercase": True,
    "requireNumbers": True,
    "requireSymbols": True,
    "temporaryPasswordValidityDays": 7,
}
PASSWORD_FLOWS = frozenset(
    {"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}
)


def password_policy(props: Mapping[str, Any], config: Config) -> Iterator[Outcome]:
    policy = props.get("passwordPolicy") or _COGNITO_DEFAULT_POLICY
    problems = []
    length = policy.get("minimumLength", 8)
    if length < config["minimumLength"]:
        problems.append(f"minimum length {length:g} is below {config['minimumLength']:g}")
    missing = [label for key, label in _CHARACTER_CLASSES if policy.get(key) is not True]
    if missing:
        problems.append(f"does not require {', '.join(missing)}")
    validity = policy.get("temporaryPasswordValidityDays", 7)
    if validity > config["maxTemporaryPasswordDays"]:
        problems.append(f"temporary passwords live {validity:g} days")
    if problems:
        yield Violation("password policy " + "; ".join(problems))


def mfa_required(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    mode = str(props.get("mfaConfiguration", "OFF")).upper()
    if mode != "ON":
        yield Violation(f"MFA is {mode}, so a stolen password alone signs a user in")


def deletion_protection(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    if str(props.get("deletionProtection", "INACTIVE")).upper() != "ACTIVE":
        yield Violation("deletion protection is off: one delete removes every user and the authorizer's issuer")


def threat_protection(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """Only the PLUS tier offers threat protection; there it must enforce, not just audit."""
    if str(props.get("userPoolTier", "ESSENTIALS")).upper() != "PLUS":
        return
    add_ons = props.get("userPoolAddOns") or {}
    mode = str(add_ons.get("advancedSecurityMode", "OFF")).upper()
    if mode != "ENFORCED":
        yield Violation(f"PLUS-tier pool has threat protection {mode}, not ENFORCED")


def client_password_flows(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    flows = sorted(PASSWORD_FLOWS.intersection(props.get("explicitAuthFlows") or ()))
    if flows:
        yield Violation(f"app client allows plain-password auth flows {', '.join(flows)}")


def client_implicit_flow(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    if "implicit" in (props.get("allowedOauthFlows") or ()):
        yield Violation("app client allows the OAuth implicit flow (tokens in the redirect URL)")


def client_token_revocation(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    if props.get("enableTokenRevocation", True) is False:
        yield Violation("token revocation is disabled: refresh tokens cannot be revoked")


CHECKS = {
    "cognito-password-policy": ResourceCheck({t.USER_POOL: password_policy}),
    "cognito-mfa": ResourceCheck({t.USER_POOL: mfa_required}),
    "cognito-deletion-protection": ResourceCheck({t.USER_POOL: deletion_protection}),
    "cognito-threat-protection": ResourceCheck({t.USER_POOL: threat_protection}),
    "cognito-client-no-password-flows": ResourceCheck({t.USER_POOL_CLIENT: client_password_flows}),
    "cognito-client-no-implicit-flow": ResourceCheck({t.USER_POOL_CLIENT: client_implicit_flow}),
    "cognito-client-token-revocation": ResourceCheck({t.USER_POOL_CLIENT: client_token_revocation}),
}
