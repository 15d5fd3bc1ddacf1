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


class UnusableKeyError(ValueError):
    """A JWK that must not verify our tokens; the message is the reason, e.g. ``"RSA modulus under 2048 bits"``."""


def parse_jwk(jwk: dict[str, Any], allowed: frozenset[str]) -> VerifyKey | None:
    """The key, or None when it must not verify our tokens (wrong use, weak, malformed, unsupported)."""
    try:
        return load_jwk(jwk, allowed)
    except UnusableKeyError:
        return None


def load_jwk(jwk: object, allowed: frozenset[str]) -> VerifyKey:
    """The verification key of one JWK (RFC 7517 section 4, RFC 7518 section 6).

    Raises `UnusableKeyError` naming the reason for a key that is not for signatures, has an algorithm
    outside `allowed`, is weaker than RSA-2048, or is malformed in any member: missing, of the wrong
    JSON type, not base64url, of the wrong length, or an EC point that is not on its curve. One such
    key never stands for the others of its set.
    """
    if not isinstance(jwk, dict):
        raise UnusableKeyError("not a JSON object")
    if jwk.get("use", "sig") != "sig":
        raise UnusableKeyError("use is not sig")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise UnusableKeyError("key_ops does not allow verify")
    alg = jwk.get("alg")
    if alg is not None and (type(alg) is not str or alg not in allowed):
        raise UnusableKeyError("alg is not an allowed algorithm")
    algorithms = allowed if alg is None else frozenset({alg})
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            return _rsa(jwk, algorithms)
        if kty == "EC":
            return _ec(jwk, algorithms)
    except UnusableKeyError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        # cryptography raises ValueError for a point off the curve; b64url_decode for bad base64url.
        raise UnusableKeyError(f"malformed {kty} key: {type(exc).__name__}") from None
    raise UnusableKeyError("kty is not RSA or EC")


def _rsa(jwk: dict[str, Any], allowed: frozenset[str]) -> RsaKey:
    algorithms = allowed & frozenset(_RSA)
    if not algorithms:
        raise UnusableKeyError("no allowed RSA algorithm")
    n, e = _uint(jwk, "n"), _uint(jwk, "e")
    if n.bit_length() < MIN_RSA_BITS:
        raise UnusableKeyError(f"RSA modulus under {MIN_RSA_BITS} bits")
    if e < 3 or e % 2 == 0:
        raise UnusableKeyError("RSA exponent is not an odd number of 3 or more")
    return RsaKey(rsa.RSAPublicNumbers(e, n).public_key(), algorithms, (n.bit_length() + 7) // 8)


def _ec(jwk: dict[str, Any], allowed: frozenset[str]) -> EcKey:
    for alg in sorted(allowed & frozenset(_EC)):
        crv, curve, _, size = _EC[alg]
        if jwk.get("crv") == crv:
            x, y = _coordinate(jwk, "x", size), _coordinate(jwk, "y", size)
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve)
            try:
                return EcKey(numbers.public_key(), alg)
            except ValueError:
                raise UnusableKeyError(f"EC point is not on {crv}") from None
    raise UnusableKeyError("crv is not the curve of an allowed EC algorithm")


def _coordinate(jwk: dict[str, Any], member: str, size: int) -> bytes:
    """RFC 7518 section 6.2.1.2: the full-length octets of one coordinate."""
    value = jwk.get(member)
    if not isinstance(value, str):
        raise UnusableKeyError(f"{member} is missing or not a string")
    raw = b64url_decode(value)
    if len(raw) != size:
        raise UnusableKeyError(f"{member} is {len(raw)} bytes, not {size}")
    return raw


def _uint(jwk: dict[str, Any], member: str) -> int:
    """RFC 7518 section 6.3.1: a base64urlUInt member."""
    value = jwk.get(member)
    if not isinstance(value, str):
        raise UnusableKeyError(f"{member} is missing or not a string")
    return int.from_bytes(b64url_decode(value), "big")
