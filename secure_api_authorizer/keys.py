"""Verification keys from a JWKS: strong, signature-only, each bound to the algorithms it may verify."""

from __future__ import annotations

from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .jose import b64url_decode

MIN_RSA_BITS = 2048
_SHA = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
_RSA: dict[str, tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]] = {
    **{f"RS{bits}": (padding.PKCS1v15(), sha) for bits, sha in _SHA.items()},
    # RFC 7518 3.5: the PSS salt is as long as the hash output.
    **{f"PS{bits}": (padding.PSS(padding.MGF1(sha), sha.digest_size), sha) for bits, sha in _SHA.items()},
}
# alg -> (JWK crv, curve, hash, coordinate length in bytes)
_EC: dict[str, tuple[str, ec.EllipticCurve, hashes.HashAlgorithm, int]] = {
    "ES256": ("P-256", ec.SECP256R1(), _SHA["256"], 32),
    "ES384": ("P-384", ec.SECP384R1(), _SHA["384"], 48),
    "ES512": ("P-521", ec.SECP521R1(), _SHA["512"], 66),
}
ALGORITHMS = frozenset(_RSA) | frozenset(_EC)


class RsaKey(NamedTuple):
    key: rsa.RSAPublicKey
    algorithms: frozenset[str]
    signature_bytes: int

    def verify(self, alg: str, signing_input: bytes, signature: bytes) -> bool:
        if alg not in self.algorithms or len(signature) != self.signature_bytes:
            return False
        pad, sha = _RSA[alg]
        try:
            self.key.verify(signature, signing_input, pad, sha)
        except InvalidSignature:
            return False
        return True


class EcKey(NamedTuple):
    key: ec.EllipticCurvePublicKey
    alg: str

    @property
    def algorithms(self) -> frozenset[str]:
        return frozenset({self.alg})

    def verify(self, alg: str, signing_input: bytes, signature: bytes) -> bool:
        _, _, sha, size = _EC[self.alg]
        if alg != self.alg or len(signature) != 2 * size:
            return False
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        try:
            self.key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(sha))
        except InvalidSignature:
            return False
        return True


VerifyKey = RsaKey | EcKey


def parse_jwk(jwk: dict[str, Any], allowed: frozenset[str]) -> VerifyKey | None:
    """The key, or None when it must not verify our tokens (wrong use, weak, unsupported)."""
    if jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    alg = jwk.get("alg")
    if alg is not None and (type(alg) is not str or alg not in allowed):
        return None
    try:
        if jwk.get("kty") == "RSA":
            return _rsa(jwk, allowed if alg is None else frozenset({alg}))
        if jwk.get("kty") == "EC":
            return _ec(jwk, allowed if alg is None else frozenset({alg}))
    except (TypeError, ValueError):
        return None
    return None


def _rsa(jwk: dict[str, Any], allowed: frozenset[str]) -> RsaKey | None:
    algorithms = allowed & frozenset(_RSA)
    n, e = _uint(jwk["n"]), _uint(jwk["e"])
    if not algorithms or n.bit_length() < MIN_RSA_BITS or e < 3 or e % 2 == 0:
        return None
    return RsaKey(rsa.RSAPublicNumbers(e, n).public_key(), algorithms, (n.bit_length() + 7) // 8)


def _ec(jwk: dict[str, Any], allowed: frozenset[str]) -> EcKey | None:
    for alg in sorted(allowed & frozenset(_EC)):
        crv, curve, _, size = _EC[alg]
        if jwk.get("crv") == crv:
            x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
            if len(x) != size or len(y) != size:
                return None
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve)
            return EcKey(numbers.public_key(), alg)
    return None


def _uint(value: object) -> int:
    if not isinstance(value, str):
        raise TypeError("JWK integers are base64url strings")
    return int.from_bytes(b64url_decode(value), "big")
