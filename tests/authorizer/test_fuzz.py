"""Seeded fuzzing: whatever a caller sends, the answer is a policy or exactly ``Unauthorized``.

``internal_error`` would mean some input reached an unexpected exception (a 500 without the
catch-all), so it must never be the logged reason.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.authorizer.support import Forge, Harness, request_event, token_event

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \t\n\u00e9\x00"
ODD_VALUES: list[Any] = [None, True, 0, -1, 2**70, 1.5, 1e308, "", "x", [], ["a"], {}, {"a": 1}, [[[]]]]


def mutate(token: str, rng: random.Random) -> str:
    chars = list(token)
    for _ in range(rng.randint(1, 3)):
        position = rng.randrange(len(chars))
        operation = rng.choice(("replace", "insert", "delete", "truncate", "swap"))
        if operation == "replace":
            chars[position] = rng.choice(ALPHABET)
        elif operation == "insert":
            chars.insert(position, rng.choice(ALPHABET))
        elif operation == "delete" and len(chars) > 1:
            del chars[position]
        elif operation == "truncate":
            chars = chars[: max(1, position)]
        elif operation == "swap" and position + 1 < len(chars):
            chars[position], chars[position + 1] = chars[position + 1], chars[position]
    return "".join(chars)


def test_mutated_tokens_never_reach_an_unexpected_error(harness: Harness, forge: Forge) -> None:
    rng = random.Random(20240601)
    token = forge.token()

    for _ in range(1500):
        candidate = mutate(token, rng)
        if candidate == token:
            continue
        # Canonical base64url gives every byte string one spelling: no mutation may pass.
        assert harness.outcome(token_event(candidate)) not in ("allow", "deny", "internal_error"), candidate


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "iss", "sub", "client_id", "token_use", "scope", "aud"])
def test_every_claim_with_every_json_type_is_handled(harness: Harness, forge: Forge, claim: str) -> None:
    for value in ODD_VALUES:
        assert harness.outcome(token_event(forge.token(forge.claims(**{claim: value})))) != "internal_error"


@pytest.mark.parametrize(
    "event",
    [
        {"type": "REQUEST", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x", "headers": None},
        {"type": "REQUEST", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x", "headers": ["authorization"]},
        {"type": "REQUEST", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x", "headers": {1: "x", None: "y"}},
        {
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x",
            "multiValueHeaders": {"Authorization": "x"},
        },
        {"type": "REQUEST", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x", "multiValueHeaders": [1, 2]},
        {"type": ["TOKEN"], "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x"},
        {"type": "TOKEN", "methodArn": ["arn"], "authorizationToken": "Bearer x"},
        {"type": "TOKEN", "methodArn": "arn:aws:execute-api:r:1:a/s/GET/x", "authorizationToken": {"a": 1}},
    ],
)
def test_odd_event_shapes_are_unauthorized(harness: Harness, event: dict[str, Any]) -> None:
    assert harness.unauthorized(event) != "internal_error"


def test_request_event_with_a_valid_bearer_header_is_allowed(harness: Harness, forge: Forge) -> None:
    response = harness(request_event({"Authorization": f"Bearer {forge.token()}"}))

    assert response["principalId"] == "user-123"
