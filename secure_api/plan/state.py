"""Compare a plan with the stack's current state: which protected resources a config no longer contains.

The component cannot see the stack's state, so turning a layer off (`observability.kmsEncryption`,
`waf.enabled`, `domain.mutualTls`, the last `custom` or `cognito` route) plans the deletion of a
protected resource, and a real `pulumi up` then stops halfway at it. Given the output of
`pulumi stack export`, the offline plan names each such resource, its URN (for
`pulumi state unprotect`) and the config key that dropped it. A protected log group whose fixed
name changes (`api.physicalNamePrefix`, `api.stageName`) would be replaced, which protection refuses the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.output import Unknown
from secure_api_policies.tokens import LOG_GROUP, REST_API_POLICY, USER_POOL

from ..component.resource import TYPE_TOKEN
from .harness import PlanResult

# What in the config asks for each protected resource, by the role in its name (`<component>-<role>`).
CONFIG_KEY_OF_ROLE = {
    "logs-key": "observability.kmsEncryption",
    "waf-logs": "waf.enabled",
    "truststore": "domain.mutualTls",
    "authorizer-logs": "routes (a route with auth: custom)",
    "users": "routes (a route with auth: cognito) and cognito.enabled",
}


class StateFileError(ValueError):
    """The file is not the JSON `pulumi stack export` writes."""


@dataclass(frozen=True)
class ProtectedChange:
    """A protected resource of the state that the planned config would delete or replace."""

    urn: str
    type: str
    name: str
    reason: str

    @property
    def message(self) -> str:
        return (
            f"{self.type} {self.name} is protected and {self.reason}: `pulumi up` would stop at it; "
            f"run `pulumi state unprotect '{self.urn}'` first if that is intended (README: Turning a layer off)"
        )


def load_state(path: Path) -> list[dict[str, Any]]:
    """The resources of a `pulumi stack export` file (deployment version 3)."""
    try:
        document = json.loads(path.read_text())
        resources = document["deployment"].get("resources") or []
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise StateFileError(f"{path} is not the output of `pulumi stack export` ({error})") from None
    if not isinstance(resources, list):
        raise StateFileError(f"{path}: deployment.resources is not a list")
    return resources


def protected_changes(state: list[dict[str, Any]], plan: PlanResult) -> list[ProtectedChange]:
    """Protected resources of `state` that `plan` drops, or whose fixed log group name it changes."""
    planned = {(r.type, r.name): r for r in plan.resources}
    changes = []
    for resource in state:
        if not resource.get("protect") or not resource.get("custom", True):
            continue
        urn = str(resource.get("urn", ""))
        kind = str(resource.get("type", ""))
        name = urn.rsplit("::", 1)[-1]
        now = planned.get((kind, name))
        if now is None:
            key = next((k for role, k in CONFIG_KEY_OF_ROLE.items() if name.endswith(f"-{role}")), "the config")
            changes.append(ProtectedChange(urn, kind, name, f"is no longer in the config ({key})"))
        elif kind == LOG_GROUP:
            old = (resource.get("inputs") or {}).get("name")
            new = now.inputs.get("name")
            if old and isinstance(new, str) and not isinstance(new, Unknown) and old != new:
                changes.append(
                    ProtectedChange(urn, kind, name, f"would be replaced: its name changes from {old} to {new}")
                )
    return changes


def retired_resource_warnings(state: list[dict[str, Any]]) -> list[str]:
    """Resources an older secure-api kept in the state whose deletion would undo what replaced them.

    0.1.0 applied the resource policy as a separate `RestApiPolicy`; since 0.2.0 the OpenAPI document carries
    it. Deleting that resource (which `pulumi up` does once the program no longer has it) clears the
    API's policy the new body has just applied, so it must leave the state without a delete.
    """
    return [
        f"{resource.get('urn')} is the separate resource policy of secure-api 0.1.0, which the OpenAPI body now "
        f"carries: run `pulumi state delete '{resource.get('urn')}'` before `pulumi up`, or deleting it clears "
        "the API's policy (README: secure-api:network)"
        for resource in state
        if resource.get("type") == REST_API_POLICY and f"{TYPE_TOKEN}$" in str(resource.get("urn", ""))
    ]


def mfa_upgrade_warnings(state: list[dict[str, Any]], plan: PlanResult) -> list[str]:
    """A user pool of the state whose MFA the plan turns ON (`cognito.mfa`, the default) from OPTIONAL or OFF.

    Cognito then requires a second factor at every sign-in: "only users who have set up an MFA factor can
    sign in" (Cognito API reference, SetUserPoolMfaConfig); the others must register one first ("Adding MFA
    to a user pool", Amazon Cognito developer guide). The state's `outputs` (else `inputs`) say what the
    pool has now; no `mfaConfiguration` there is Cognito's default, OFF.
    """
    planned = {(r.type, r.name): r for r in plan.resources}
    warnings = []
    for resource in state:
        urn = str(resource.get("urn", ""))
        now = planned.get((USER_POOL, urn.rsplit("::", 1)[-1])) if resource.get("type") == USER_POOL else None
        before = str((resource.get("outputs") or resource.get("inputs") or {}).get("mfaConfiguration") or "OFF")
        if now is not None and now.inputs.get("mfaConfiguration") == "ON" and before != "ON":
            warnings.append(
                f"cognito.mfa: {urn.rsplit('::', 1)[-1]} goes from MFA {before} to ON: only users who have set up "
                "an MFA factor can sign in, the others must register one first. To keep it optional, set "
                "cognito.mfa: OPTIONAL (an accepted exception of cognito-mfa, warned in every plan)"
            )
    return warnings
