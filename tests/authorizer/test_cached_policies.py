"""With result caching, the cached policy allows exactly what a fresh decision allows, on every route.

API Gateway reuses one authorizer response per identity source for every method of the stage until
the TTL ends, and in IAM an explicit Deny cannot be overridden by an Allow. So route tables where one
route's Deny pattern covers another route with other requirements are refused when caching is on,
and for every table that is accepted, cached and fresh decisions agree (a property test over random
tables and identities, seeded so a failure repeats).
"""

from __future__ import annotations

import json
import random

import pytest

from secure_api_authorizer.config import ConfigError, load_settings
from secure_api_authorizer.events import Identity
from secure_api_authorizer.policy import decide
from secure_api_authorizer.routes import cache_conflicts, parse_method_arn, parse_routes
from tests.authorizer.support import Factory, Forge, JwksServer, jwt_env, token_event

API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod"
OVERLAPPING = {"GET /orders/{id}": {"scopes": ["orders/read"]}, "GET /orders/public": {"scopes": ["public"]}}


def test_overlapping_requirements_are_refused_when_caching_is_on_and_named(jwks: JwksServer) -> None:
    with pytest.raises(ConfigError, match=r"'GET /orders/\{id\}' covers 'GET /orders/public'") as raised:
        load_settings(jwt_env(jwks.url, ROUTE_REQUIREMENTS=OVERLAPPING, RESULT_TTL_SECONDS="300"))
    assert "RESULT_TTL_SECONDS=0" in str(raised.value)
    assert load_settings(jwt_env(jwks.url, ROUTE_REQUIREMENTS=OVERLAPPING, RESULT_TTL_SECONDS="0")).routes


@pytest.mark.parametrize(
    ("table", "conflicts"),
    [
        ({"GET /a/{id}": {"scopes": ["x"]}, "GET /a/b": {"scopes": ["y"]}}, [("GET /a/{id}", "GET /a/b")]),
        ({"GET /a/{id}": {"scopes": ["x"]}, "GET /a/{id}/c": {"scopes": ["y"]}}, [("GET /a/{id}", "GET /a/{id}/c")]),
        ({"ANY /a/{p+}": {"scopes": ["x"]}, "POST /a/b": {"scopes": ["y"]}}, [("ANY /a/{p+}", "POST /a/b")]),
        ({"GET /a/{id}": {"scopes": ["x"]}, "POST /a/{id}": {"scopes": ["y"]}}, []),  # methods apart
        ({"GET /a/{id}": {"scopes": ["x"]}, "GET /a/b": {"scopes": ["x"]}}, []),  # same requirements
        ({"GET /a/b": {"scopes": ["x"]}, "GET /a/c": {"scopes": ["y"]}}, []),
    ],
)
def test_conflicts_are_the_pairs_iam_patterns_cannot_separate(
    table: dict[str, dict[str, list[str]]], conflicts: list[tuple[str, str]]
) -> None:
    assert cache_conflicts(parse_routes(table)) == conflicts


def test_a_route_without_requirements_covered_by_a_deny_is_logged_as_denied(
    make_harness: Factory, jwks: JwksServer, forge: Forge
) -> None:
    rules = {"GET /orders/{id}": {"scopes": ["orders/read"]}}
    harness = make_harness(jwt_env(jwks.url, ROUTE_REQUIREMENTS=rules, RESULT_TTL_SECONDS="300"))
    token = forge.token(forge.claims(scope="other"))
    harness(token_event(token, f"{API}/GET/orders/42/items"))  # no rule: fresh decision allows

    record = harness.records()[-1]
    assert (record["decision"], record["reason"]) == ("deny", "denied_by_cached_policy")


SEGMENTS = ["a", "b", "{id}", "{p+}"]
NAMES = ["s1", "s2", "s3"]


def _random_table(rng: random.Random) -> dict[str, dict[str, list[str]]]:
    table: dict[str, dict[str, list[str]]] = {}
    for _ in range(rng.randint(1, 5)):
        depth = rng.randint(0, 3)
        parts = [rng.choice(SEGMENTS[:3]) for _ in range(depth)]
        if parts and rng.random() < 0.2:
            parts[-1] = "{p+}"
        path = "/" + "/".join(parts)
        method = rng.choice(["GET", "POST", "ANY"])
        table[f"{method} {path}"] = {"scopes": rng.sample(NAMES, rng.randint(1, 2))}
    return table


def _requests(table: dict[str, dict[str, list[str]]]) -> list[str]:
    lines = []
    for key in table:
        method, path = key.split(" ", 1)
        concrete = "/".join("v" if seg.startswith("{") else seg for seg in path.strip("/").split("/") if seg)
        for verb in (["GET", "POST"] if method == "ANY" else [method]):
            lines.append(f"{verb}/{concrete}")
            lines.append(f"{verb}/{concrete}/deeper")
    return lines


def test_cached_and_fresh_decisions_agree_on_every_route_of_every_accepted_table() -> None:
    rng = random.Random(20261207)
    accepted = 0
    for _ in range(400):
        table = _random_table(rng)
        try:
            rules = parse_routes(json.loads(json.dumps(table)))
        except Exception:
            continue  # e.g. a greedy segment in the middle: the authorizer refuses that table anyway
        if cache_conflicts(rules):
            continue
        accepted += 1
        for _ in range(5):
            scopes = frozenset(rng.sample(NAMES, rng.randint(0, 3)))
            identity = Identity("p", {}, scopes, frozenset())
            for line in _requests(table):
                arn = parse_method_arn(f"{API}/{line}")
                fresh = decide(identity, arn, rules, stage_wide=False)
                cached = decide(identity, arn, rules, stage_wide=True)
                routed = fresh.route is not None
                # Every request a listed route serves gets the same answer cached as fresh.
                if routed:
                    assert cached.allowed == fresh.allowed, (table, sorted(scopes), line)
    assert accepted > 100
