"""What `pulumi up` would do to a stack: each resource's create, update, replace or delete, as `pulumi preview` says.

The plan's resources are compared with the resources of a `pulumi stack export` (deployment version 3):

- a planned resource the state lacks is created; a state resource the plan lacks is deleted;
- a planned resource whose inputs differ from the state's is updated in place, or replaced when a
  differing input is one the provider cannot change in place (`replacements.yaml`: the ForceNew inputs
  of terraform-provider-aws, which pulumi-aws bridges, each type cited to its source file);
- a planned resource with `aliases` takes over the state resource of an alias (a moved URN);
- `ignoreChanges` inputs are not compared, and an input the state recorded as a provider default
  (`__defaults`, an auto-name) counts as unchanged when the program leaves it out;
- a replaced or created resource has a new id and outputs after the update (and an updated S3 object a
  new version): a resource whose input depends on one (`propertyDependencies`) sees that input change
  too, in registration order.

The mock runtime is seeded with the state's ids and outputs (`seed_from_state`), so an unchanged config
plans the values the stack holds and every resource is `same`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import pulumi
import yaml
from pulumi.output import Unknown
from pulumi.runtime import rpc

from .harness import PlannedResource, PlanResult, Seed

T = TypeVar("T")

Op = Literal["create", "update", "replace", "delete", "same"]

STATEFUL_TYPES: dict[str, str] = {
    "aws:cognito/userPool:UserPool": "its users and their passwords",
    "aws:cognito/userPoolClient:UserPoolClient": "its client id (and secret) that apps are configured with",
    "aws:cloudwatch/logGroup:LogGroup": "its log events",
    "aws:s3/bucket:Bucket": "its objects (the mTLS truststore versions)",
    "aws:apigateway/apiKey:ApiKey": "its key value that a partner sends",
    "aws:apigateway/usagePlan:UsagePlan": "its quota counters",
    "aws:kms/key:Key": "the key that encrypts the log groups",
    "aws:sns/topic:Topic": "its subscriptions (e-mail ones must be confirmed again)",
    "aws:sns/topicSubscription:TopicSubscription": "its confirmation",
    "aws:apigateway/domainName:DomainName": "its regional domain name, which DNS points at",
    "aws:acm/certificate:Certificate": "its validation",
    "aws:iam/policy:Policy": "its ARN, which principals outside the stack attach (attach the new one and detach "
    "the old, or deleting it fails)",
}
"""Types whose replacement or deletion loses something beyond configuration, and what."""


LIST_ITEM_TYPES = frozenset(
    {"aws:apigateway/apiKey:ApiKey", "aws:apigateway/usagePlan:UsagePlan", "aws:cognito/userPoolClient:UserPoolClient"}
)
"""What `apiKeys[]`, `usagePlans[]` and `cognito.appClients[]` create: each item's `id` names its resources."""

KEPT_BY = {
    ("aws:iam/policy:Policy", "name"): "api.name",
    ("aws:iam/policy:Policy", "description"): "api.name",
    ("aws:cognito/userPool:UserPool", "name"): "api.name",
    ("aws:cognito/resourceServer:ResourceServer", "name"): "cognito.resourceServer.name",
    ("aws:s3/bucket:Bucket", "bucketPrefix"): "api.name",
}
"""The config key behind each input the component ignores changes to."""

NEW_OUTPUTS_ON_UPDATE = frozenset({"aws:s3/bucketObjectv2:BucketObjectv2"})
"""Types an in-place update gives new outputs that dependents read (an S3 object's `versionId`, which the
mTLS domain pins as `truststoreVersion`): an input that depends on an updated one of these changes too."""


@cache
def replacement_rules() -> dict[str, frozenset[str]]:
    """Pulumi type token -> the inputs whose change replaces the resource (`replaceOn` and the inputs whose
    `nested` attributes do), from `replacements.yaml`; its `source` and `conditional` entries document them."""
    document = yaml.safe_load(resources.files(__package__).joinpath("replacements.yaml").read_text())
    return {
        token: frozenset(entry.get("replaceOn") or ()) | frozenset(entry.get("nested") or {})
        for token, entry in document["resources"].items()
    }


@dataclass(frozen=True)
class Change:
    """One resource's fate: `forced_by` names the inputs that force a replacement (or changed, for an update)."""

    urn: str
    type: str
    name: str
    op: Op
    forced_by: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    protected: bool = False
    kept: tuple[tuple[str, Any], ...] = ()
    """(input, the state's value) of `ignoreChanges` inputs the program now sets otherwise: AWS cannot change
    them in place, so the resource keeps them rather than being replaced."""
    retained: bool = False
    """`retainOnDelete`: a deletion (or the old half of a replacement) leaves the resource in AWS."""
    modelled: bool = True
    """The type is in `replacements.yaml`; otherwise an update may really be a replacement."""

    @property
    def stateful(self) -> str | None:
        """What a replacement or deletion loses, for the types in `STATEFUL_TYPES`."""
        return STATEFUL_TYPES.get(self.type)

    @property
    def matters(self) -> bool:
        """A protected or stateful resource that is replaced or deleted."""
        return self.op in ("replace", "delete") and (self.protected or self.stateful is not None)

    def advice(self, renamed: bool = False) -> str:
        """The command or config change that makes this change safe, for `matters` changes ('' otherwise).

        `renamed`: the same type is created beside this deletion under a new name (a list item renamed
        without its `id`)."""
        if not self.matters:
            return ""
        if self.op == "delete":
            if renamed:
                return "a renamed list item? set its `id` to its old name and the rename is an update in place"
            if self.retained:
                unprotect = f"; `pulumi state unprotect '{self.urn}'` lets the update go on" if self.protected else ""
                return f"it stays in AWS (retainOnDelete) and leaves the stack{unprotect}"
            force = " --force" if self.protected else ""
            return f"to keep it in AWS, `pulumi state delete{force} '{self.urn}'` before `pulumi up`"
        keep = f"keep {', '.join(self.forced_by)} as the state has it"
        old = "the old one stays in AWS (retainOnDelete)" if self.retained else "the old one is deleted"
        if self.protected:
            return f"{keep}; to replace it, `pulumi state unprotect '{self.urn}'` ({old})"
        return f"{keep}; otherwise {old}"

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "op": self.op,
            "forcedBy": list(self.forced_by),
            "protected": self.protected,
        }


def state_key(resource: Mapping[str, Any]) -> tuple[str, str]:
    """(type, logical name) of a state resource: how the mock runtime, which sees no parents, finds it."""
    return str(resource.get("type", "")), str(resource.get("urn", "")).rsplit("::", 1)[-1]


def urn_key(urn: str) -> tuple[str, str]:
    """(type chain, logical name) of a URN, whatever its project and stack: `urn:pulumi:<stack>::<project>::
    <parent types>$<type>::<name>`. The root stack's type, which the mock runtime puts first, is left out."""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].removeprefix("pulumi:pulumi:Stack$"), parts[-1]


def seed_from_state(
    state: Iterable[Mapping[str, Any]], renewed: Iterable[tuple[str, str]] = ()
) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(type, name) -> (id, outputs) of the state's custom resources, for the mock runtime; not for the `renewed`
    URN keys (`urn_key`), whose id and outputs the update replaces. A secret the export encrypted (`ciphertext`,
    no `value`) is seeded as a secret placeholder: the program only passes it on."""
    skip = set(renewed)
    return {
        state_key(resource): (str(resource.get("id", "")), _decipherable(dict(resource.get("outputs") or {})))
        for resource in state
        if resource.get("custom") and resource.get("id") and urn_key(str(resource.get("urn", ""))) not in skip
    }


def against_state(
    state: list[Mapping[str, Any]], run: Callable[[Seed], T], result_of: Callable[[T], PlanResult]
) -> tuple[T, list[Change]]:
    """Plan with `run(seed)` seeded from `state`, then again without the ids and outputs of what the update
    creates or replaces (it gets new ones, as `pulumi preview` leaves them unknown): the plan and its changes."""
    planned = run(seed_from_state(state))
    changes = diff(state, result_of(planned))
    renewed = renewed_keys(changes)
    if renewed:
        planned = run(seed_from_state(state, renewed))
        changes = diff(state, result_of(planned))
    return planned, changes


def renewed_keys(changes: Iterable[Change]) -> set[tuple[str, str]]:
    """The URN keys of the resources the update creates or replaces (new ids and outputs)."""
    return {urn_key(c.urn) for c in changes if c.op in ("create", "replace")}


def _decipherable(value: Any) -> Any:
    if _secret(value) and "value" not in value:
        return {rpc._special_sig_key: rpc._special_secret_sig, "value": "[secret]"}
    if isinstance(value, Mapping):
        return {key: _decipherable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decipherable(item) for item in value]
    return value


def diff(state: Iterable[Mapping[str, Any]], plan: PlanResult) -> list[Change]:
    """Every custom resource of `state` and `plan` with what `pulumi up` would do to it; see the module."""
    rules = replacement_rules()
    before = {
        urn_key(str(r.get("urn", ""))): r
        for r in state
        if r.get("custom") and not str(r.get("type", "")).startswith("pulumi:")
    }
    renewed: set[str] = set()
    changes = []
    for resource in plan.custom_resources():
        old = before.pop(urn_key(resource.urn), None)
        for alias in resource.aliases if old is None else ():
            old = before.pop(urn_key(alias), None)
            if old is not None:
                break
        if old is None:
            renewed.add(resource.urn)
            changes.append(Change(resource.urn, resource.type, resource.name, "create", protected=resource.protect))
            continue
        changed = _changed_inputs(old, resource, renewed)
        kept = _kept_inputs(old, resource)
        replacing = rules.get(resource.type)
        modelled = replacing is not None
        forced = tuple(key for key in changed if key in (replacing or ()))
        op: Op = "replace" if forced else "update" if changed else "same"
        if op == "replace" or (op == "update" and resource.type in NEW_OUTPUTS_ON_UPDATE):
            renewed.add(resource.urn)
        protected = bool(old.get("protect")) or resource.protect
        retained = bool(old.get("retainOnDelete")) or resource.retain_on_delete
        changes.append(
            Change(resource.urn, resource.type, resource.name, op, forced, changed, protected, kept, retained, modelled)
        )
    for old in before.values():
        kind, name = state_key(old)
        protected, retained = bool(old.get("protect")), bool(old.get("retainOnDelete"))
        changes.append(Change(str(old.get("urn")), kind, name, "delete", protected=protected, retained=retained))
    return changes


def ordered(changes: Iterable[Change]) -> list[Change]:
    """Protected and stateful replacements and deletions first, then the rest by op, type and name."""
    rank = {"replace": 0, "delete": 1, "create": 2, "update": 3, "same": 4}
    return sorted(changes, key=lambda c: (not c.matters, rank[c.op], c.type, c.name))


def _changed_inputs(old: Mapping[str, Any], new: PlannedResource, renewed: set[str]) -> tuple[str, ...]:
    before = dict(old.get("inputs") or {})
    defaults = set(before.get("__defaults") or ())
    ignored = {path.split(".")[0].split("[")[0] for path in new.ignore_changes}
    keys = {k for k in (*before, *new.inputs) if not k.startswith("__") and k not in ignored}
    changed = []
    for key in sorted(keys):
        if any(urn in renewed for urn in new.property_dependencies.get(key, ())):
            changed.append(key)
        elif key not in new.inputs:
            if key not in defaults:
                changed.append(key)
        elif not _same(before.get(key), new.inputs[key]):
            changed.append(key)
    return tuple(changed)


def _kept_inputs(old: Mapping[str, Any], new: PlannedResource) -> tuple[tuple[str, Any], ...]:
    before = old.get("inputs") or {}
    return tuple(
        (key, before[key])
        for key in new.ignore_changes
        if key in before and key in new.inputs and not _same(before[key], new.inputs[key])
    )


def _same(old: Any, new: Any) -> bool:
    """Equal as the provider compares them: JSON documents parsed, numbers by value, secrets not compared,
    assets and archives by path, text or the SHA-256 of the file the state recorded (`hash`)."""
    if isinstance(new, Unknown) or _secret(old) or _secret(new):
        return True
    if isinstance(new, pulumi.Asset | pulumi.Archive):
        return _same_asset(old, new)
    if isinstance(old, str) and isinstance(new, str):
        return old == new or (_json(old) is not None and _json(old) == _json(new))
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new
    if isinstance(old, int | float) and isinstance(new, int | float):
        return math.isclose(old, new)
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = set(old) | set(new)
        return all(_same(old.get(k), new.get(k)) for k in keys if not str(k).startswith("__"))
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    return bool(old in (None, [], {}) and new in (None, [], {})) or old == new


def _same_asset(old: Any, new: pulumi.Asset | pulumi.Archive) -> bool:
    if not isinstance(old, Mapping):
        return False
    path = getattr(new, "path", None)
    if isinstance(new, pulumi.StringAsset):
        return old.get("text") == new.text
    if path is not None and old.get("hash"):  # the engine's hash of the content, whatever the machine's path
        try:
            return hashlib.sha256(Path(path).read_bytes()).hexdigest() == old["hash"]
        except OSError:
            return False
    if path is not None and old.get("path") is not None:
        return str(old["path"]) == str(path)
    return False


def _secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _json(text: str) -> Any:
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def render_changes(changes: list[Change]) -> list[str]:
    """The text section: a count per op, then every change but `same`, the ones that lose state first."""
    counts = {op: sum(1 for c in changes if c.op == op) for op in ("create", "update", "replace", "delete", "same")}
    lines = ["Changes against the state (as `pulumi up` would apply them)"]
    lines.append("  " + ", ".join(f"{n} to {op}" if op != "same" else f"{n} unchanged" for op, n in counts.items()))
    created = {c.type for c in changes if c.op == "create"}
    for change in ordered(c for c in changes if c.op != "same" or c.kept):
        marks = [mark for mark, on in (("protected", change.protected), ("stateful", change.stateful)) if on]
        why = f" (forced by {', '.join(change.forced_by)})" if change.forced_by else ""
        if change.op == "update" and change.changed:
            why = f" ({', '.join(change.changed)})" + ("" if change.modelled else " (replacement not modelled)")
        lines.append(
            f"  {'!' if change.matters else ' '} {change.op:<7} {change.type} {change.name}{why}"
            + (f"  [{', '.join(marks)}]" if marks else "")
        )
        if change.matters:
            loses = f"loses {change.stateful}; " if change.stateful else ""
            renamed = change.op == "delete" and change.type in LIST_ITEM_TYPES and change.type in created
            lines.append(f"      {loses}{change.advice(renamed)}")
        for key, value in change.kept:
            lines.append(
                f"      keeps {key} {value!r}: AWS cannot change it in place, and the config's new value "
                f"({KEPT_BY.get((change.type, key), 'the config')}) only labels it"
            )
    return lines
