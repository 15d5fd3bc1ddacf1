"""API key / shared-header authentication against SHA-256 digests, in constant time.

Only digests are configured, so the function's environment never holds a usable key. Keys must
be high-entropy random values: an unsalted fast hash protects those, not passwords.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from .config import Settings
from .errors import AuthenticationError
from .events import Identity, credential

KEY_ID_HEX_CHARS = 16


class ApiKeyAuthenticator:
    def __init__(self, settings: Settings) -> None:
        # (digest, usage identifier key, key id): the id, a digest prefix, is worked out once.
        self._keys = tuple((digest, usage, digest.hex()[:KEY_ID_HEX_CHARS]) for digest, usage in settings.api_keys)
        self._header = settings.identity_header
        self._meter = settings.return_usage_identifier

    def prefetch(self) -> None:
        """Nothing to warm: the digests come with the configuration."""

    def authenticate(self, event: Mapping[str, Any]) -> Identity:
        presented = hashlib.sha256(credential(event, self._header).encode("utf-8", "surrogatepass")).digest()
        match: tuple[bytes, str | None, str] | None = None
        # Every digest is compared, without early exit, so timing does not reveal which one matched.
        for entry in self._keys:
            if hmac.compare_digest(presented, entry[0]):
                match = entry
        if match is None:
            raise AuthenticationError("invalid_key")
        _, usage, key_id = match
        return Identity(
            principal_id=f"key:{key_id}",
            context={"keyId": key_id},
            usage_identifier_key=usage if self._meter else None,
        )
