"""Network protection (README layer "3. Network"): who may reach the API, expressed as its resource policy."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from secure_api_policies.iam import covers_every_address

from .base import ConfigModel, is_pending, is_placeholder

IpAddressType = Literal["ipv4", "dualstack"]

_VPC_ENDPOINT_ID = re.compile(r"^vpce-[0-9a-f]{8,17}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")

# Ranges a caller on the internet never has: on a REGIONAL API `aws:SourceIp` is the public address.
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def _never_public(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return any(network.version == block.version and network.subnet_of(block) for block in _NEVER_PUBLIC)  # type: ignore[arg-type]


class VpcEndpointSettings(ConfigModel):
    """An interface VPC endpoint for `com.amazonaws.<region>.execute-api` that the component creates and manages.

    - `vpcId`, `subnetIds` (one per Availability Zone), `securityGroupIds`: where it lives and who may
      reach it (the groups must allow HTTPS, TCP 443, from the callers); ids like `vpc-…`, `subnet-…`,
      `sg-…`, or Outputs.
    - `privateDnsEnabled`: off by default. With it on, every `*.execute-api.<region>.amazonaws.com` name
      in the VPC resolves to this endpoint, so the VPC can no longer call public (REGIONAL or EDGE) APIs by
      their default names (developer guide, "Private REST APIs in API Gateway"); clients call the stack
      output `vpcEndpointUrls` instead.

    Its endpoint policy is the component's least-privilege one (see `managedEndpointPolicies`).
    """

    vpc_id: str = Field(examples=["vpc-0123456789abcdef0"])
    subnet_ids: tuple[str, ...] = Field(min_length=1, examples=[["subnet-0123456789abcdef0"]])
    security_group_ids: tuple[str, ...] = Field(min_length=1, examples=[["sg-0123456789abcdef0"]])
    private_dns_enabled: bool = False

    @field_validator("vpc_id")
    @classmethod
    def _valid_vpc(cls, vpc_id: str, info: ValidationInfo) -> str:
        if not is_pending(vpc_id, info):
            _matching((vpc_id,), _VPC_ID, "a VPC id (vpc- and 8 to 17 hex digits)", "vpc-0123456789abcdef0")
        return vpc_id

    @field_validator("subnet_ids")
    @classmethod
    def _valid_subnets(cls, ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        plain = tuple(i for i in ids if not is_pending(i, info))
        _matching(plain, _SUBNET_ID, "a subnet id (subnet- and 8 to 17 hex digits)", "subnet-0123456789abcdef0")
        return ids

    @field_validator("security_group_ids")
    @classmethod
    def _valid_groups(cls, ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        plain = tuple(i for i in ids if not is_pending(i, info))
        _matching(plain, _SECURITY_GROUP_ID, "a security group id (sg- and 8 to 17 hex digits)", "sg-0123456789abcdef0")
        return ids


class NetworkSettings(ConfigModel):
    """A REGIONAL API states who may call it; a PRIVATE API must name its VPC endpoints.

    - `allowedSourceCidrs`: IPv4/IPv6 ranges; callers from anywhere else are denied. A REGIONAL API
      needs them or `acceptPublicApi: true`; ranges that together cover every address are refused.
    - `acceptPublicApi`: a REGIONAL API takes calls from any address (an accepted exception of the
      pack's `resource-policy-no-open-allow`, warned in every plan).
    - `vpcEndpointIds`: interface endpoints of a PRIVATE API; associated with the API and the only
      sources its policy accepts (`aws:SourceVpce`). Their endpoint policies are not managed here
      (warned in the plan) unless listed in `managedEndpointPolicies`.
    - `vpcEndpoint`: an interface endpoint the component creates (`VpcEndpointSettings`); it joins
      `vpcEndpointIds` everywhere they are used.
    - `managedEndpointPolicies`: those of `vpcEndpointIds` whose endpoint policy the component sets,
      replacing the one they have: execute-api:Invoke on this API's stage (and its private custom
      domain) only; signed callers of this account and `allowedAccounts` only. List only endpoints
      no other API is called through.
    - `allowedAccounts` / `allowedOrganizations`: SigV4 callers of other accounts or organisations
      allowed on the `iam` routes (other routes' callers are not AWS principals).
    - `ipAddressType`: `ipv4` or `dualstack` (default: ipv4 for REGIONAL, dualstack for PRIVATE,
      the only type AWS offers private APIs).
    """

    allowed_source_cidrs: tuple[str, ...] = Field(default=(), examples=[["203.0.113.0/24", "2001:db8::/48"]])
    accept_public_api: bool = False
    vpc_endpoint_ids: tuple[str, ...] = Field(default=(), examples=[["vpce-0123456789abcdef0"]])
    vpc_endpoint: VpcEndpointSettings | None = None
    managed_endpoint_policies: tuple[str, ...] = Field(default=(), examples=[["vpce-0123456789abcdef0"]])
    allowed_accounts: tuple[str, ...] = Field(default=(), examples=[["012345678901"]])
    allowed_organizations: tuple[str, ...] = Field(default=(), examples=[["o-a1b2c3d4e5"]])
    ip_address_type: IpAddressType | None = None

    @field_validator("allowed_source_cidrs")
    @classmethod
    def _valid_cidrs(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        normalized: list[str] = []
        for cidr in cidrs:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as error:
                hint = ""
                if "has host bits set" in str(error):
                    hint = f"; did you mean {ipaddress.ip_network(cidr, strict=False)}?"
                raise ValueError(
                    f"{cidr!r} is not an IPv4 or IPv6 CIDR range like 203.0.113.0/24 ({error}){hint}"
                ) from None
            if str(network) in normalized:
                raise ValueError(f"{cidr!r} is listed twice")
            normalized.append(str(network))
        if covers_every_address(normalized):
            family = "IPv4" if covers_every_address(n for n in normalized if ":" not in n) else "IPv6"
            raise ValueError(
                f"{normalized} cover every {family} address, which restricts nobody: list the networks that "
                "may call the API, or remove allowedSourceCidrs and set network.acceptPublicApi: true for a "
                "public API"
            )
        return tuple(normalized)

    @field_validator("vpc_endpoint_ids")
    @classmethod
    def _valid_endpoints(cls, ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        _matching(
            tuple(i for i in ids if not is_pending(i, info)),
            _VPC_ENDPOINT_ID,
            "an interface VPC endpoint id (vpce- and 8 to 17 hex digits)",
            "vpce-0123456789abcdef0",
        )
        return ids

    @field_validator("managed_endpoint_policies")
    @classmethod
    def _valid_managed(cls, ids: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        _matching(
            tuple(i for i in ids if not is_pending(i, info)),
            _VPC_ENDPOINT_ID,
            "an interface VPC endpoint id (vpce- and 8 to 17 hex digits)",
            "vpce-0123456789abcdef0",
        )
        return ids

    @field_validator("allowed_accounts", mode="before")
    @classmethod
    def _quoted_accounts(cls, ids: Any) -> Any:
        """An unquoted account id is a YAML number: its leading zeros are lost, or it is read as octal."""
        for value in ids if isinstance(ids, list | tuple) else ():
            if isinstance(value, int | float) and not isinstance(value, bool):
                digits = str(int(value)) if float(value).is_integer() else str(value)
                lost = " (its leading zeros are gone)" if len(digits) < 12 else ""
                raise ValueError(
                    f"YAML read an unquoted account id as the number {digits}{lost}; an id with leading zeros can "
                    "even be read as an octal number. Quote account ids exactly as written, e.g. allowedAccounts: "
                    '["012345678901"]'
                )
        return ids

    @field_validator("allowed_accounts")
    @classmethod
    def _valid_accounts(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        return _matching(ids, _ACCOUNT_ID, "a 12-digit AWS account id", "012345678901")

    @field_validator("allowed_organizations")
    @classmethod
    def _valid_organizations(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        return _matching(
            ids,
            _ORGANIZATION_ID,
            "an AWS Organizations id (o- and 10 to 32 lowercase letters or digits)",
            "o-a1b2c3d4e5",
        )

    def ip_address_type_for(self, endpoint_type: str) -> IpAddressType:
        return self.ip_address_type or ("dualstack" if endpoint_type == "PRIVATE" else "ipv4")

    @property
    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(cidr) for cidr in self.allowed_source_cidrs]

    def problems(self, endpoint_type: str, has_iam_routes: bool) -> list[tuple[str, str]]:
        """Settings that are valid alone but would lock every caller out (or do nothing) on this API."""
        problems: list[tuple[str, str]] = []
        private = endpoint_type == "PRIVATE"
        if private and not self.vpc_endpoint_ids and self.vpc_endpoint is None:
            problems.append(
                (
                    "network.vpcEndpointIds",
                    "a PRIVATE API needs at least one interface VPC endpoint: list its id, or set network.vpcEndpoint "
                    "for one the component creates; without an aws:SourceVpce policy any execute-api endpoint, in "
                    "any account, can reach it",
                )
            )
        if not private:
            for key, given in (
                ("network.vpcEndpointIds", bool(self.vpc_endpoint_ids)),
                ("network.vpcEndpoint", self.vpc_endpoint is not None),
            ):
                if given:
                    problems.append(
                        (
                            key,
                            "only a PRIVATE API is reached through VPC endpoints; on a REGIONAL API aws:SourceVpce "
                            "is never set, so this policy would deny every caller (set api.endpointType: PRIVATE)",
                        )
                    )
        listed = set(self.vpc_endpoint_ids)
        for index, endpoint in enumerate(self.managed_endpoint_policies):
            if endpoint not in listed and not is_placeholder(endpoint):
                problems.append(
                    (
                        f"network.managedEndpointPolicies[{index}]",
                        f"{endpoint} is not in network.vpcEndpointIds: the component sets the policy only of "
                        "endpoints the API is reached through",
                    )
                )
        if not private and not self.allowed_source_cidrs and not self.accept_public_api:
            problems.append(
                (
                    "network.allowedSourceCidrs",
                    "a REGIONAL API needs the networks that may call it: add network.allowedSourceCidrs "
                    '(e.g. ["203.0.113.0/24"]), or set network.acceptPublicApi: true to take calls from any address',
                )
            )
        if self.accept_public_api and (private or self.allowed_source_cidrs):
            problems.append(
                (
                    "network.acceptPublicApi",
                    "only for a REGIONAL API without allowedSourceCidrs (a PRIVATE API is never public)"
                    if private
                    else "contradicts network.allowedSourceCidrs: keep the ranges or accept a public API, not both",
                )
            )
        if private and self.ip_address_type == "ipv4":
            problems.append(("network.ipAddressType", "PRIVATE APIs only support dualstack"))
        if not private:
            for cidr in (str(n) for n in self.networks if _never_public(n)):
                problems.append(
                    (
                        "network.allowedSourceCidrs",
                        f"{cidr} is a private range: a REGIONAL API sees the caller's public address, so it "
                        "never matches (callers inside a VPC need api.endpointType: PRIVATE)",
                    )
                )
        if (
            self.networks
            and all(n.version == 6 for n in self.networks)
            and self.ip_address_type_for(endpoint_type) == "ipv4"
        ):
            problems.append(
                (
                    "network.allowedSourceCidrs",
                    "only IPv6 ranges on an ipv4 endpoint would deny every caller: add IPv4 ranges or set "
                    "network.ipAddressType: dualstack",
                )
            )
        if (self.allowed_accounts or self.allowed_organizations) and not has_iam_routes:
            key = "network.allowedAccounts" if self.allowed_accounts else "network.allowedOrganizations"
            problems.append((key, "applies to routes with auth 'iam' (SigV4 callers) and no route uses it"))
        return problems


def _matching(values: tuple[str, ...], pattern: re.Pattern[str], what: str, example: str) -> tuple[str, ...]:
    for value in values:
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}, e.g. {example}")
    if len(set(values)) != len(values):
        raise ValueError(f"duplicates in {list(values)}")
    return values
