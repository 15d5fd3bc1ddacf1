"""The Lambda authorizer's result cache: a policy cached for one method is reused for the next within the TTL.

"Use API Gateway Lambda authorizers" (API Gateway developer guide): with caching on, API Gateway keys
the returned policy by the identity source and reuses it, for every method, until the TTL ends; a
policy naming only the first method's ARN then denies the second (403) though a fresh call would allow it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.request import LambdaAnswer, Request
from secure_api.gateway.stack import load
from secure_api.plan.offline import plan_stack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """The dev stack with a second route behind the same Lambda authorizer (TTL 300 s)."""
    stack = load(plan_stack("dev", preview=False, project_dir=REPO).resources)
    api = stack.apis[0]
    webhook = next(o for o in api.operations if o.key == "POST /partners/webhook")
    api.operations.append(dataclasses.replace(webhook, path="/partners/status", api_key_required=False))
    found = Gateway(stack)
    yield found
    found.close()


def _call(
    gateway: Gateway, path: str, now: float, answer: LambdaAnswer, token: str = "aaa.bbb.ccc"
) -> tuple[int, str, str]:
    request = Request(
        "POST",
        f"/v1{path}",
        via="domain",
        source_ip="198.51.100.20",
        headers={"Authorization": f"Bearer {token}", "x-partner-signature": "s", "Content-Type": "application/json"},
        body=b'{"event": "order.shipped", "orderId": "42"}',
        api_key="partner-acme",
        caller=answer,
    )
    result = gateway.evaluate(request, now=now)
    return result.status, result.layer, result.reason


def test_a_policy_cached_for_one_method_denies_the_next_until_the_ttl_ends(gateway: Gateway) -> None:
    allow = LambdaAnswer("Allow")
    assert _call(gateway, "/partners/webhook", 0.0, allow)[0] == 200
    status, layer, reason = _call(gateway, "/partners/status", 10.0, allow)
    assert (status, layer) == (403, "authorizer")
    assert "cached for another method" in reason
    assert _call(gateway, "/partners/status", 301.0, allow)[0] == 200  # past resultTtlSeconds: invoked afresh


def test_the_cache_is_keyed_by_the_identity_source(gateway: Gateway) -> None:
    """The same token within the TTL is not sent to the function again; another token is."""
    assert _call(gateway, "/partners/webhook", 0.0, LambdaAnswer("Allow"))[0] == 200
    assert _call(gateway, "/partners/webhook", 1.0, LambdaAnswer("Deny"))[0] == 200  # cached: the answer is not asked
    status, layer, _ = _call(gateway, "/partners/webhook", 2.0, LambdaAnswer("Deny"), token="ddd.eee.fff")
    assert (status, layer) == (403, "authorizer")
