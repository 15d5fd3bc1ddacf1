"""The redeploy fingerprint: one hash of everything a REST API deployment snapshots.

API Gateway serves a deployment, not the live API: a changed body, policy or authorizer is
invisible until a new Deployment is made. Hashing those inputs into the Deployment's
`triggers` replaces it exactly when needed, and never otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def redeploy_fingerprint(parts: Mapping[str, object]) -> str:
    canonical = json.dumps(dict(parts), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
