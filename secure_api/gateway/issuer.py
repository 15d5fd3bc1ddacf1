"""A local stand-in for a Cognito user pool's token endpoint: RS256 tokens and a JWKS served on 127.0.0.1.

Tokens carry the claims Cognito puts in access and ID tokens ("Understanding user pool JSON web
tokens (JWTs)", Amazon Cognito developer guide): access tokens `client_id`, `scope` (space separated),
`token_use: access` and no `aud`; ID tokens `aud` (the client id) and `token_use: id`. The JWKS is
served over HTTP on a loopback port, so the component's Lambda authorizer fetches it with its own code.

The signing key is a throwaway RSA-2048 key that signs only these local tokens. It is generated once
and kept in the cache directory (`<cache>/model-issuer-key.pem`, mode 0600, next to the authorizer
packages), since generating it costs ~60 ms of every `secure-api plan`. Loading it skips
cryptography's RSA key validation (a primality check of ~30 ms), as its documentation allows for a key
from a trusted source: this file is one this module wrote, in the user's own cache, readable by them only.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from secure_api_authorizer.build import default_cache_dir

from .resources import AppClient

KID = "secure-api-local-issuer"
LIFETIME_SECONDS = 3600


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signing_key() -> rsa.RSAPrivateKey:
    """The cached local signing key; a new one (written atomically) when there is none or it is unreadable."""
    path = default_cache_dir() / "model-issuer-key.pem"
    with contextlib.suppress(OSError, ValueError, TypeError):
        key = serialization.load_pem_private_key(path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True)
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048:
            return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with contextlib.suppress(OSError):  # a read-only cache only costs the next run a new key
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".model-issuer-key-")
        with os.fdopen(handle, "wb") as stream:
            stream.write(pem)
        os.replace(temporary, path)
    return key


class LocalIssuer:
    """Signs tokens for any issuer URL with one key, and serves that key as `http://127.0.0.1:<port>/jwks.json`."""

    def __init__(self) -> None:
        self._key = _signing_key()
        numbers = self._key.public_key().public_numbers()
        self._jwks = json.dumps(
            {
                "keys": [
                    {"kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig", "n": _b64(numbers.n), "e": _b64(numbers.e)}
                ]
            }
        ).encode()
        self._server: ThreadingHTTPServer | None = None
        self._issued: dict[tuple[str, str, str, tuple[str, ...], bool], tuple[float, str]] = {}

    @property
    def jwks_url(self) -> str:
        """Starts the JWKS server on first use; `close` stops it."""
        if self._server is None:
            document = self._jwks

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self) -> None:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(document)))
                    self.end_headers()
                    self.wfile.write(document)

                def log_message(self, *_: Any) -> None:
                    return

            self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/jwks.json"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def token(
        self,
        issuer: str,
        client: AppClient,
        token_use: str,
        scopes: tuple[str, ...],
        *,
        expired: bool = False,
        now: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed JWT as Cognito would issue it to `client`; `expired` puts `exp` an hour in the past.

        Without `now` or `extra`, a token issued for the same request in the last half of its lifetime
        is reused, as a client reuses its token until it nears expiry (and signing costs ~1 ms).
        """
        if now is None and extra is None:
            key = (issuer, client.id, token_use, scopes, expired)
            reused = self._issued.get(key)
            if reused is not None and time.time() - reused[0] < LIFETIME_SECONDS / 2:
                return reused[1]
            token = self.token(issuer, client, token_use, scopes, expired=expired, now=time.time(), extra={})
            self._issued[key] = (time.time(), token)
            return token
        issued = int(time.time() if now is None else now) - (2 * LIFETIME_SECONDS if expired else 0)
        claims: dict[str, Any] = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer}/{client.id}")),
            "iss": issuer,
            "token_use": token_use,
            "auth_time": issued,
            "iat": issued,
            "exp": issued + LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
        }
        if token_use == "access":
            claims.update({"client_id": client.id, "scope": " ".join(scopes), "version": 2})
            if "client_credentials" not in client.oauth_flows or client.explicit_auth_flows:
                claims["username"] = "local-user"
        else:
            claims.update({"aud": client.id, "cognito:username": "local-user", "email": "user@example.com"})
        claims.update(extra or {})
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KID})
