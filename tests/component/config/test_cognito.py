"""Cognito values the service would refuse (or accept wrongly) are caught at plan time, with the key.

Sources: the cognito-idp service model (ClientNameType, DomainType, RedirectUrlType) and the Cognito
API reference (CreateUserPoolClient CallbackURLs, PasswordPolicyType).
"""

from __future__ import annotations

from typing import Any

import pytest

from secure_api.component.config import ConfigError, parse_config
from tests.conftest import Plan

ROUTE = {"path": "/orders", "method": "GET", "integration": {"type": "mock"}}
NETWORK = {"allowedSourceCidrs": ["203.0.113.0/24"]}
SCOPE = "https://orders.example.com/orders.read"
SERVER = {
    "identifier": "https://orders.example.com",
    "name": "orders",
    "scopes": [{"name": "orders.read", "description": "r"}],
}


def with_client(**client: Any) -> dict[str, Any]:
    app = {
        "name": "web",
        "oauthFlows": ["code"],
        "allowedScopes": [SCOPE],
        "callbackUrls": ["https://a.example.com/cb"],
    }
    cognito = {"domainPrefix": "orders-login", "resourceServer": SERVER, "appClients": [{**app, **client}]}
    return {"routes": [ROUTE], "network": NETWORK, "cognito": cognito}


def problems(values: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(values)
    return dict(caught.value.problems)


@pytest.mark.parametrize(
    ("client", "key", "message"),
    [
        ({"name": "web/app"}, "name", "not a Cognito app client name"),
        ({"name": "x" * 129}, "name", "1-128"),
        (
            {"callbackUrls": ["http://localhost.attacker.example/cb"]},
            "callbackUrls",
            "allows http only for http://localhost",
        ),
        ({"callbackUrls": ["http://127.0.0.1:8080/cb"]}, "callbackUrls", "e.g. http://localhost:8080/callback"),
        ({"callbackUrls": ["https://a.example.com/cb#top"]}, "callbackUrls", "fragment"),
        ({"callbackUrls": ["https://user@a.example.com/cb"]}, "callbackUrls", "user information"),
        ({"callbackUrls": ["/relative"]}, "callbackUrls", "absolute https:// URL"),
        ({"callbackUrls": ["https://a.example.com:99999/cb"]}, "callbackUrls", "not a URL"),
        ({"logoutUrls": ["http://app.example.com/bye"]}, "logoutUrls", "must be https://"),
        ({"callbackUrls": [f"https://a.example.com/{i}" for i in range(101)]}, "callbackUrls", "at most 100"),
    ],
)
def test_app_client_values_cognito_would_refuse(client: dict[str, Any], key: str, message: str) -> None:
    found = problems(with_client(**client))
    where = f"secure-api:cognito.appClients[0].{key}"
    assert where in found, found
    assert message in found[where]


@pytest.mark.parametrize(
    "urls", [["http://localhost/cb"], ["http://localhost:3000/cb", "https://app.example.com/cb?x=1"]]
)
def test_localhost_is_the_one_http_exception(urls: list[str]) -> None:
    client = parse_config(with_client(callbackUrls=urls, logoutUrls=urls)).cognito.app_clients[0]
    assert client.callback_urls == tuple(urls)


def test_client_names_take_cognitos_characters() -> None:
    name = "Web app_2 +=,.@-"
    assert parse_config(with_client(name=name)).cognito.app_clients[0].name == name


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("orders-aws-login", "reserved word(s) ['aws']"),
        ("amazonorders", "reserved word(s) ['amazon']"),
        ("my-cognito", "reserved word(s) ['cognito']"),
        ("Orders", "1 to 63 lowercase letters"),
        ("-orders", "not starting or ending with -"),
    ],
)
def test_domain_prefix_cognito_would_refuse(prefix: str, message: str) -> None:
    values = with_client()
    values["cognito"]["domainPrefix"] = prefix
    found = problems(values)
    assert message in found["secure-api:cognito.domainPrefix"]


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_password_history_needs_only_the_essentials_tier(plan: Plan, preview: bool) -> None:
    """Threat protection off (Essentials tier) keeps the password history (Cognito PasswordPolicyType)."""
    values = {
        "routes": [ROUTE],
        "network": NETWORK,
        "cognito": {"tier": "ESSENTIALS", "threatProtection": "OFF", "passwordPolicy": {"passwordHistorySize": 7}},
    }
    pool = plan(values, preview=preview).one("aws:cognito/userPool:UserPool")
    assert pool.inputs["userPoolTier"] == "ESSENTIALS"
    assert "userPoolAddOns" not in pool.inputs
    assert pool.inputs["passwordPolicy"]["passwordHistorySize"] == 7
