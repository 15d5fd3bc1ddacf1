"""Latency of the custom authorizer against its floors and against aws-jwt-verify, its peer.

Run: ``python bench/bench_authorizer.py``. Prints p50/p99 per call for a raw RSA-2048 and a raw
ES256 (P-256) verify (cryptography), PyJWT's decode with a cached key, the Lambda handler end to
end for an RS256 and an ES256 Cognito-shaped access token (TOKEN event to policy, warm key cache,
decision log written to /dev/null), and the API-key path end to end (REQUEST event, SHA-256 digest
match) next to its stdlib floor; then the handler module's cold import time and a full Lambda-style
init (import, config, cryptography, JWKS fetch over loopback).

When `node` and `npm` are on PATH, aws-jwt-verify (``JwtVerifier.verifySync``, cached JWKS, the same
issuer, expiry and client_id checks) verifies the same two tokens in the same run
(`bench/aws_jwt_verify.mjs`; the package is installed once into the cache directory from the npm
registry), and the handler is compared with it.

Targets: handler p50 <= aws-jwt-verify's p50 for RS256 and for ES256; API-key handler p50 <= 2x its
stdlib floor; handler p50 <= 1.6x raw verify; cold import <= 60 ms. Timings, not assertions.

The "stdlib floor" lines are the least any stdlib-parsing handler must do, with no validation at all:
for a JWT split, base64-decode, json.loads, verify, answer; for an API key read the header, hash
it, compare it with the configured digest, answer. They show how much of a ratio is the
interpreter's floor and how much the authorizer's own work.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from json.encoder import encode_basestring_ascii
from pathlib import Path

import cryptography
import jwt
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from secure_api_authorizer import ZIP_PACKAGE  # noqa: E402
from secure_api_authorizer.build import default_cache_dir  # noqa: E402

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bench0001"
CLIENT_ID = "bench-client"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders/42"
ROUNDS, BATCH, WARMUP = 120, 100, 500
IMPORT_RUNS = 9
RATIO_TARGET, IMPORT_TARGET_MS, KEY_RATIO_TARGET = 1.6, 60, 2.0
FRESH_TOKENS = 1000
BENCH_JTI = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
PEER_VERSION = "5.2.1"
"""The aws-jwt-verify release compared with (npm)."""
LAMBDA_INIT = "Lambda-style init (import, config, cryptography, JWKS fetch)"


def main() -> None:
    print(_runtime(), end="\n\n")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with _jwks_server(rsa_key, ec_key) as (jwks_url, jwks):
        env = {
            "AUTH_MODE": "jwt",
            "JWT_ISSUERS": json.dumps([{"issuer": ISSUER, "jwksUrl": jwks_url, "clientIds": [CLIENT_ID]}]),
            "JWT_ALGORITHMS": "RS256,ES256",
            "RESULT_TTL_SECONDS": "300",
        }
        tokens = {"RS256": _cognito_like_token(rsa_key, "RS256"), "ES256": _cognito_like_token(ec_key, "ES256")}
        fresh_tokens = {
            "RS256": [_cognito_like_token(rsa_key, "RS256", jti=str(i)) for i in range(FRESH_TOKENS)],
            "ES256": [_cognito_like_token(ec_key, "ES256", jti=str(i)) for i in range(FRESH_TOKENS)],
        }
        cases = _cases(rsa_key, ec_key, tokens, fresh_tokens, env)
        samples = _interleaved(cases)
        peer = _aws_jwt_verify({alg: [tokens[alg], *fresh_tokens[alg]] for alg in tokens}, jwks, jwks_url)
        verify_p50 = statistics.median(samples["raw RSA-2048 verify"])
        print(f"{'per call (us)':<46}{'p50':>9}{'p99':>9}{'x verify':>10}")
        for name, values in samples.items():
            p50, p99 = statistics.median(values), _percentile(values, 0.99)
            print(f"{name:<46}{p50:>9.1f}{p99:>9.1f}{p50 / verify_p50:>10.2f}")
        for alg, results in (peer or {}).items():
            for kind, label in (("same", ""), ("fresh", ", a new token each")):
                name, result = f"aws-jwt-verify {alg}{label} (node)", results[kind]
                print(f"{name:<46}{result['p50']:>9.1f}{result['p99']:>9.1f}{result['p50'] / verify_p50:>10.2f}")
        imports = _cold_starts(env)
    print()
    for name, label in (("import", f"cold import of {ZIP_PACKAGE}.handler"), ("init", LAMBDA_INIT)):
        median, fastest = imports[name]
        print(f"{label}: median {median:.1f} ms, min {fastest:.1f} ms")
    p50 = {name: statistics.median(values) for name, values in samples.items()}
    print()
    if peer is None:
        print("aws-jwt-verify: not measured (node and npm are not on PATH, or the npm install failed)")
    else:
        for alg in ("RS256", "ES256"):
            same = p50[f"handler end to end {alg}"] / peer[alg]["same"]["p50"]
            fresh = p50[f"handler {alg}, a new token each"] / peer[alg]["fresh"]["p50"]
            print(
                f"target handler {alg} p50 <= aws-jwt-verify's: {_verdict(max(same, fresh) <= 1)} "
                f"(the same token again {same:.2f}x; a new token each call {fresh:.2f}x)"
            )
    key_ratio = p50["handler API key"] / p50["stdlib floor API key"]
    print(
        f"target API-key handler p50 <= {KEY_RATIO_TARGET}x its floor: {_verdict(key_ratio <= KEY_RATIO_TARGET)} "
        f"({key_ratio:.2f}x)"
    )
    ratio = p50["handler end to end RS256"] / verify_p50
    floor = p50["stdlib floor RS256"] / verify_p50
    print(
        f"target handler p50 <= {RATIO_TARGET}x raw verify: {_verdict(ratio <= RATIO_TARGET)} ({ratio:.2f}x; "
        f"the check-free stdlib floor is {floor:.2f}x)"
    )
    print(f"target cold import <= {IMPORT_TARGET_MS} ms: {_verdict(imports['import'][0] <= IMPORT_TARGET_MS)}")


def _runtime() -> str:
    """Ratios depend on the interpreter's build (PGO/LTO or not) as much as on the code."""
    return (
        f"{sys.executable}: Python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{openssl_backend.openssl_version_text()}"
    )


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _fresh_event(token: str) -> dict[str, str]:
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}


def _cases(
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    tokens: dict[str, str],
    fresh_tokens: dict[str, list[str]],
    env: dict[str, str],
) -> dict[str, Callable[[], object]]:
    """Every timed case. The "a new token each" cases cycle through FRESH_TOKENS distinct tokens, as for a
    stream of different callers: the CPU's caches no longer hold the last call's token and claims."""
    from secure_api_authorizer.authorizer import Authorizer

    rsa_public, ec_public = rsa_key.public_key(), ec_key.public_key()
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the decision log, for the whole run
    authorizer = Authorizer.from_env(env, log_stream=devnull)
    events = {
        alg: {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}
        for alg, token in tokens.items()
    }
    for event in events.values():  # builds the key cache
        assert authorizer(event)["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    policy = authorizer(events["RS256"])["policyDocument"]
    rs_input, _, rs_sig = tokens["RS256"].rpartition(".")
    rs_signature = base64.urlsafe_b64decode(rs_sig + "==")
    es_input, _, es_sig = tokens["ES256"].rpartition(".")
    raw = base64.urlsafe_b64decode(es_sig + "==")
    es_signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    es_message = es_input.encode()

    def stdlib_floor() -> dict[str, object]:
        header, payload, signature_b64 = tokens["RS256"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        signed = base64.urlsafe_b64decode(signature_b64 + "==")
        rsa_public.verify(signed, f"{header}.{payload}".encode(), pkcs1, sha256)
        return {"principalId": claims["sub"], "policyDocument": policy}

    key = "k3y-" + "a1b2c3d4" * 5
    digest = hashlib.sha256(key.encode()).digest()
    key_id = digest.hex()[:16]
    key_env = {"AUTH_MODE": "api_key", "API_KEY_SHA256": json.dumps({digest.hex(): None}), "RESULT_TTL_SECONDS": "0"}
    keyed = Authorizer.from_env(key_env, log_stream=devnull)
    key_event = {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"x-api-key": key}}
    assert keyed(key_event)["policyDocument"]["Statement"][0]["Effect"] == "Allow"

    def key_floor() -> dict[str, object]:
        """Read the header, hash, compare, answer with a policy for the method, write one decision line."""
        presented = hashlib.sha256(key_event["headers"]["x-api-key"].encode()).digest()
        if not hmac.compare_digest(presented, digest):
            raise PermissionError
        arn = key_event["methodArn"]
        devnull.write(f'{{"decision":"allow","methodArn":{encode_basestring_ascii(arn)}}}\n')
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}
        return {
            "principalId": f"key:{key_id}",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            "context": {"keyId": key_id},
        }

    fresh = {alg: itertools.cycle([_fresh_event(t) for t in batch]) for alg, batch in fresh_tokens.items()}

    return {
        "raw RSA-2048 verify": lambda: rsa_public.verify(rs_signature, rs_input.encode(), pkcs1, sha256),
        "raw ES256 verify": lambda: ec_public.verify(es_signature, es_message, ec.ECDSA(sha256)),
        "PyJWT decode RS256 (cached key)": lambda: jwt.decode(
            tokens["RS256"], rsa_public, algorithms=["RS256"], issuer=ISSUER, options={"require": ["exp", "iat"]}
        ),
        "stdlib floor RS256": stdlib_floor,
        "handler end to end RS256": lambda: authorizer(events["RS256"]),
        "handler end to end ES256": lambda: authorizer(events["ES256"]),
        "handler RS256, a new token each": lambda: authorizer(next(fresh["RS256"])),
        "handler ES256, a new token each": lambda: authorizer(next(fresh["ES256"])),
        "stdlib floor API key": key_floor,
        "handler API key": lambda: keyed(key_event),
    }


def _aws_jwt_verify(tokens: dict[str, str], jwks: dict[str, object], jwks_url: str) -> dict[str, dict] | None:
    """aws-jwt-verify's p50/p99 on the same tokens (`bench/aws_jwt_verify.mjs`); None without node and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    prefix = default_cache_dir() / "bench-node"
    if not (prefix / "node_modules" / "aws-jwt-verify").is_dir():
        prefix.mkdir(parents=True, exist_ok=True)
        install = [npm, "install", "--silent", "--no-save", "--prefix", str(prefix), f"aws-jwt-verify@{PEER_VERSION}"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            return None
    script = prefix / "aws_jwt_verify.mjs"  # next to its node_modules, where node resolves the import
    shutil.copyfile(ROOT / "bench" / "aws_jwt_verify.mjs", script)
    request = {
        "tokens": tokens,
        "jwks": jwks,
        "issuer": ISSUER,
        "clientId": CLIENT_ID,
        "jwksUri": jwks_url,
        "rounds": ROUNDS,
        "batch": BATCH,
        "warmup": WARMUP * 4,
    }
    run = subprocess.run([node, str(script)], input=json.dumps(request), capture_output=True, text=True, check=False)
    return json.loads(run.stdout) if run.returncode == 0 else None


def _interleaved(cases: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Rounds alternate between cases so that CPU frequency and neighbours hit all of them alike."""
    clock = time.perf_counter_ns
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for call in cases.values():
        for _ in range(WARMUP):
            call()
    for _ in range(ROUNDS):
        for name, call in cases.items():
            values = samples[name]
            for _ in range(BATCH):
                start = clock()
                call()
                values.append((clock() - start) / 1000)
    return samples


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _cold_starts(env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Fresh interpreters importing the package laid out as in the zip (bytecode cached after run 1)."""
    probe = (
        "import time\nstart = time.perf_counter()\n"
        f"import {ZIP_PACKAGE}.handler\n"
        "print((time.perf_counter() - start) * 1000)\n"
    )
    with tempfile.TemporaryDirectory() as layout:
        shutil.copytree(ROOT / "secure_api_authorizer", Path(layout) / ZIP_PACKAGE)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "JWT_", "AWS_LAMBDA"))}
        plain = {**base, "PYTHONPATH": layout}
        lambda_like = {**plain, **env, "AWS_LAMBDA_FUNCTION_NAME": "bench"}
        results = {}
        for name, run_env in (("import", plain), ("init", lambda_like)):
            times = [_probe(probe, run_env) for _ in range(IMPORT_RUNS + 1)][1:]
            results[name] = (statistics.median(times), min(times))
    return results


def _probe(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _cognito_like_token(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, algorithm: str, jti: str = BENCH_JTI
) -> str:
    now = int(time.time())
    claims = {
        "sub": "3f6b2a1e-8c1d-4b7e-9a51-2f0c7d9e6b10",
        "cognito:groups": ["customers"],
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "origin_jti": "8a4e1f0b-6d2c-4b8a-9e3f-1c7d5b9a2e64",
        "event_id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
        "token_use": "access",
        "scope": "orders/read orders/write",
        "auth_time": now,
        "exp": now + 3600,
        "iat": now,
        "jti": jti,
        "username": "bench-user",
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": f"bench-{algorithm.lower()}"})


@contextlib.contextmanager
def _jwks_server(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> Iterator[tuple[str, dict[str, object]]]:
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    jwks = {
        "keys": [
            {**rsa_jwk, "kid": "bench-rs256", "use": "sig", "alg": "RS256"},
            {**ec_jwk, "kid": "bench-es256", "use": "sig", "alg": "ES256"},
        ]
    }
    body = json.dumps(jwks).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", jwks
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
