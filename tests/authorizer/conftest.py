"""Fixtures for the authorizer tests: keys, a local JWKS server, and moto's Cognito on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.authorizer.support import (
    CognitoPool,
    Factory,
    FakeClock,
    Forge,
    Harness,
    JwksServer,
    Keys,
    jwt_env,
    public_jwk,
)

MOTO_REGION = "us-east-1"
PASSWORD = "Corr3ct-Horse-Battery!"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "network: needs PyPI (CI has it); deselect with -m 'not network'")


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        primary=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rotated=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        attacker=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        weak=rsa.generate_private_key(public_exponent=65537, key_size=1024),
        ec256=ec.generate_private_key(ec.SECP256R1()),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks(keys: Keys) -> Iterator[JwksServer]:
    """Serves the primary key (kid local-1), a 1024-bit key (kid weak) and a P-256 key (kid ec-1)."""
    server = JwksServer()
    server.serve(
        public_jwk(keys.primary, "local-1", alg="RS256"),
        public_jwk(keys.weak, "weak", alg="RS256"),
        public_jwk(keys.ec256, "ec-1", alg="ES256"),
    )
    yield server
    server.stop()


@pytest.fixture
def forge(keys: Keys, clock: FakeClock) -> Forge:
    return Forge(keys.primary, clock)


@pytest.fixture
def make_harness(clock: FakeClock) -> Factory:
    def build(env: dict[str, str]) -> Harness:
        return Harness(env, clock)

    return build


@pytest.fixture
def harness(make_harness: Factory, jwks: JwksServer) -> Harness:
    """JWT mode for the local issuer, RS256 only, caching on (stage-wide policies)."""
    built = make_harness(jwt_env(jwks.url))
    built.authorizer.prefetch()
    return built


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto_server from this interpreter's environment, on a free loopback port, for the session."""
    port = _free_port()
    script = Path(sys.executable).with_name("moto_server")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    process = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                direct.open(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {endpoint}")
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def cognito(moto_endpoint: str) -> CognitoPool:
    """A user pool with two app clients and a user in group 'admins', and that user's real tokens."""
    client = boto3.client(
        "cognito-idp",
        region_name=MOTO_REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool_id = client.create_user_pool(PoolName="authorizer-tests")["UserPool"]["Id"]
    flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client_ids = [
        client.create_user_pool_client(UserPoolId=pool_id, ClientName=name, ExplicitAuthFlows=flows)["UserPoolClient"][
            "ClientId"
        ]
        for name in ("app", "other")
    ]
    client.admin_create_user(UserPoolId=pool_id, Username="alice", MessageAction="SUPPRESS")
    client.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    client.create_group(UserPoolId=pool_id, GroupName="admins")
    client.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="admins")
    result = client.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_ids[0],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    # The issuer moto writes into its tokens: a real Cognito URL, while the keys come from moto.
    issuer = _unverified_claims(result["AccessToken"])["iss"]
    assert issuer == f"https://cognito-idp.{MOTO_REGION}.amazonaws.com/{pool_id}"
    return CognitoPool(
        endpoint=moto_endpoint,
        pool_id=pool_id,
        client_id=client_ids[0],
        other_client_id=client_ids[1],
        issuer=issuer,
        jwks_url=f"{moto_endpoint}/{pool_id}/.well-known/jwks.json",
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
    )


def _unverified_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
