"""Test doubles for the authorizer: a clock, a local JWKS server and a token forge.

Everything listens on 127.0.0.1 only. The forge signs with real keys but lets a test break any
part of a token (header, payload bytes, signature), which no JWT library would do for us.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from secure_api_authorizer.authorizer import Authorizer

ISSUER = "https://issuer.test.example/tenant-1"
CLIENT_ID = "app-client-1"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42"
STAGE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*/*"
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class FakeClock:
    """Wall clock and monotonic clock in one, moved only by the test."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    """A JSON value (or raw JSON text, for documents json.dumps cannot produce) as base64url."""
    text = value if isinstance(value, str) else json.dumps(value)
    return b64url(text.encode())


def public_jwk(key: SigningKey, kid: str, **extra: Any) -> dict[str, Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        size = (numbers.n.bit_length() + 7) // 8
        jwk = {"kty": "RSA", "n": b64url(numbers.n.to_bytes(size, "big")), "e": b64url(numbers.e.to_bytes(3, "big"))}
    else:
        point = public.public_numbers()
        size = (public.curve.key_size + 7) // 8
        jwk = {
            "kty": "EC",
            "crv": {256: "P-256", 384: "P-384", 521: "P-521"}[public.curve.key_size],
            "x": b64url(point.x.to_bytes(size, "big")),
            "y": b64url(point.y.to_bytes(size, "big")),
        }
    return {**jwk, "kid": kid, "use": "sig", **extra}


def sign(signing_input: bytes, key: SigningKey | bytes | None, alg: str) -> bytes:
    """Signs as ``alg`` says, whatever the key: forging means pairing them wrongly on purpose."""
    sha = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}.get(alg[2:], hashes.SHA256())
    if alg.lower() == "none" or key is None:
        return b""
    if alg.startswith("HS"):
        assert isinstance(key, bytes)
        return hmac.new(key, signing_input, getattr(hashlib, f"sha{alg[2:]}")).digest()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(sha)))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    assert isinstance(key, rsa.RSAPrivateKey)
    if alg.startswith("PS"):
        return key.sign(signing_input, padding.PSS(padding.MGF1(sha), sha.digest_size), sha)
    return key.sign(signing_input, padding.PKCS1v15(), sha)


class Forge:
    """Tokens for the local issuer, valid by default; every part can be overridden."""

    def __init__(self, key: SigningKey, clock: FakeClock) -> None:
        self.key = key
        self.clock = clock

    def claims(self, *, drop: tuple[str, ...] = (), **overrides: Any) -> dict[str, Any]:
        now = int(self.clock())
        claims = {
            "iss": ISSUER,
            "sub": "user-123",
            "client_id": CLIENT_ID,
            "token_use": "access",
            "scope": "orders/read",
            "username": "alice",
            "cognito:groups": ["customers"],
            "iat": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if name not in drop}

    def token(
        self,
        claims: dict[str, Any] | str | None = None,
        *,
        header: dict[str, Any] | str | None = None,
        key: SigningKey | bytes | str | None = "default",
        alg: str = "RS256",
        kid: str = "local-1",
    ) -> str:
        header = {"alg": alg, "kid": kid} if header is None else header
        signing_input = f"{segment(header)}.{segment(self.claims() if claims is None else claims)}"
        signer = self.key if key == "default" else key
        assert not isinstance(signer, str)
        return f"{signing_input}.{b64url(sign(signing_input.encode(), signer, alg))}"


def token_event(token: str, method_arn: str = METHOD_ARN, *, scheme: str = "Bearer ") -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": f"{scheme}{token}", "methodArn": method_arn}


def request_event(headers: dict[str, str], method_arn: str = METHOD_ARN, **extra: Any) -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": method_arn, "headers": headers, **extra}


def jwt_env(jwks_url: str, **overrides: Any) -> dict[str, str]:
    issuer = {"issuer": ISSUER, "jwksUrl": jwks_url, "clientIds": [CLIENT_ID], "tokenUse": "access"}
    env = {"AUTH_MODE": "jwt", "JWT_ISSUERS": json.dumps([issuer]), "JWKS_MIN_REFETCH_SECONDS": "10"}
    env.update({name: value if isinstance(value, str) else json.dumps(value) for name, value in overrides.items()})
    return env


class CapturedLog(io.StringIO):
    """The audit stream, also kept line by line so the last record is cheap to read."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.append(text)
        return super().write(text)


class Harness:
    """An Authorizer built from an environment, with its decision log captured."""

    def __init__(self, env: dict[str, str], clock: FakeClock) -> None:
        self.log = CapturedLog()
        self.authorizer = Authorizer.from_env(env, clock=clock, monotonic=clock, log_stream=self.log)

    def __call__(self, event: object) -> dict[str, Any]:
        return self.authorizer(event, None)

    def records(self, event: str = "authorizer_decision") -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in self.log.lines]
        return [record for record in parsed if record["event"] == event]

    def last_reason(self) -> str:
        """Every call ends with its decision line, after any key-set refresh it caused."""
        return json.loads(self.log.lines[-1])["reason"]

    def outcome(self, event: object) -> str:
        """``allow`` or ``deny``, or the reason class of an exact ``Unauthorized`` (else it propagates)."""
        try:
            self(event)
        except Exception as raised:
            if type(raised) is not Exception or raised.args != ("Unauthorized",):
                raise
            return self.last_reason()
        return json.loads(self.log.lines[-1])["decision"]

    def unauthorized(self, event: object) -> str:
        """Asserts exactly ``Exception("Unauthorized")`` and returns the logged reason class."""
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the exact type is checked below
            self(event)
        assert type(raised.value) is Exception
        assert raised.value.args == ("Unauthorized",)
        assert raised.value.__cause__ is None
        return self.last_reason()


def effects(response: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["Effect"], s["Resource"]) for s in response["policyDocument"]["Statement"]]


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose answer, status and liveness each test controls."""

    def __init__(self) -> None:
        self.body = b'{"keys": []}'
        self.status = 200
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        self.hits = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/.well-known/jwks.json"

    def serve(self, *jwks: dict[str, Any]) -> None:
        self.body = json.dumps({"keys": list(jwks)}).encode()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                state.hits += 1
                time.sleep(state.delay)
                self.send_response(state.status)
                for name, value in {"Content-Type": "application/json", **state.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)

            def log_message(self, *_args: object) -> None:
                pass

        return Handler


Factory = Callable[..., Harness]


@dataclass(frozen=True)
class Keys:
    primary: rsa.RSAPrivateKey
    rotated: rsa.RSAPrivateKey
    attacker: rsa.RSAPrivateKey
    weak: rsa.RSAPrivateKey
    ec256: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CognitoPool:
    endpoint: str
    pool_id: str
    client_id: str
    other_client_id: str
    issuer: str
    jwks_url: str
    access_token: str
    id_token: str

    def issuer_config(self, **overrides: Any) -> dict[str, Any]:
        base = {"issuer": self.issuer, "jwksUrl": self.jwks_url, "clientIds": [self.client_id]}
        return {**base, **overrides}
