"""The access matrix: every route of every stage, asked by the standard callers, through the whole model.

Callers (a row is skipped where the stack gives it no meaning, e.g. no network restriction means no
"outside" address):

- `outside`: anonymous, from an address outside the networks the resource policy allows;
- `no-credentials`: from inside, with no token, signature or key (intended on a public route);
- `<client>+scopes` / `<client>-scopes`: each app client the route's Cognito or Lambda authorizer
  trusts, with the route's scopes and with only its other scopes;
- `id-token` / `access-token`: the token type the route does not take;
- `expired`: an expired token of a client the route takes;
- `authorizer-allows` / `authorizer-denies`: a Lambda authorizer that is not the component's (its code
  is not here) answering Allow and Deny, as a request case would state it;
- `api-key`: on a keyed route without an authorizer, a key of a plan listing this stage (intended);
- `no-api-key` / `other-plan-key`: no key, and a key of a plan that does not list this stage;
- `preflight-allowed` / `preflight-other-origin`: a CORS preflight from a listed origin and another one;
- `oversized`: a body over API Gateway's 10 MB (the WAF's body-size rule stops it first where there is one);
- `over-rate`: the intended call, sent one more time at once than the tightest throttle's burst.

Each cell is judged: a caller the layered model must stop who gets a 2xx is a **violation** (a
mandatory finding, raw programs included); an intended caller who is stopped is a **defect**. A 400
of request validation counts as "got in": bodies are `{}`, and what is judged is access.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .authorizers import issuable
from .pipeline import PAYLOAD_LIMIT_BYTES, Gateway
from .request import CognitoCaller, IamCaller, LambdaAnswer, Request, Result
from .resources import Api, AppClient, GatewayStack, Operation, Stage

OTHER_ORIGIN = "https://other-origin.example"


@dataclass(frozen=True)
class Cell:
    route: str
    """`<api>/<stage> <METHOD> <path>`."""
    caller: str
    intended: bool
    """True: the config means to let this caller in; False: the layered model must stop it."""
    result: Result
    verdict: str
    """`ok`, `violation` (got in, must be stopped), `defect` (intended, stopped) or `not-evaluated`."""
    api_urn: str = ""
    """The URN of the planned `RestApi` the route belongs to."""


@dataclass
class Matrix:
    cells: list[Cell] = field(default_factory=list)

    @property
    def violations(self) -> list[Cell]:
        return [c for c in self.cells if c.verdict == "violation"]

    @property
    def defects(self) -> list[Cell]:
        return [c for c in self.cells if c.verdict == "defect"]


def _networks(api: Api) -> tuple[list[str], str]:
    """The CIDRs the resource policy admits, and the condition key they are on (SourceIp or VpcSourceIp)."""
    statements = (api.policy or {}).get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        conditions = statement.get("Condition") or {}
        for operator, keys in conditions.items():
            wanted = "NotIpAddress" if statement.get("Effect") == "Deny" else "IpAddress"
            if operator != wanted:
                continue
            for key, values in keys.items():
                if key.lower() in ("aws:sourceip", "aws:vpcsourceip"):
                    return ([values] if isinstance(values, str) else list(values)), key
    return [], ""


def _vpc_endpoint(api: Api, stack: GatewayStack) -> str:
    text = str(api.policy or "")
    found = re.findall(r"vpce-[0-9a-f]+", text)
    return (found or list(api.vpc_endpoint_ids) or list(stack.vpc_endpoints) or ["vpce-0123456789abcdef0"])[0]


def _blocked(stack: GatewayStack, address: str) -> bool:
    ip = ipaddress.ip_address(address)
    networks = (ipaddress.ip_network(c, strict=False) for addresses in stack.ip_sets.values() for c in addresses)
    return any(ip.version == network.version and ip in network for network in networks)


def _inside(stack: GatewayStack, cidrs: list[str]) -> str:
    """An address the resource policy admits and no WAF IP set blocks (IPv4 preferred)."""
    for cidr in sorted(cidrs, key=lambda c: ":" in c):
        network = ipaddress.ip_network(cidr, strict=False)
        for host in _hosts(network):
            if not _blocked(stack, str(host)):
                return str(host)
    return "192.0.2.10"


def _hosts(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Iterator[Any]:
    for index, host in enumerate(network.hosts() if network.num_addresses > 2 else iter(network)):
        if index > 64:
            return
        yield host


def _outside(stack: GatewayStack, cidrs: list[str]) -> str:
    networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    for candidate in ("198.18.0.1", "100.64.0.1", "192.0.2.200", "203.0.113.250"):
        ip = ipaddress.ip_address(candidate)
        if not any(ip in n for n in networks if n.version == 4) and not _blocked(stack, candidate):
            return candidate
    return "198.18.0.1"


def _origins(api: Api, operation: Operation) -> list[str]:
    """The origins the path's preflight answers for: its fixed Allow-Origin, or those its template echoes."""
    preflight = next((o for o in api.operations if o.method == "OPTIONS" and o.path == operation.path), None)
    if preflight is None or preflight.integration.get("type") != "mock":
        return []
    chosen = (preflight.integration.get("responses") or {}).get("default") or {}
    fixed = (chosen.get("responseParameters") or {}).get("method.response.header.Access-Control-Allow-Origin", "")
    template = (chosen.get("responseTemplates") or {}).get("application/json", "")
    return re.findall(r"\$origin == '([^']+)'", template) or ([fixed.strip("'")] if fixed else [])


def _clients(stack: GatewayStack, operation: Operation) -> list[AppClient]:
    """The app clients whose tokens the route's authorizer trusts, by name (the matrix is the same every run)."""
    return sorted(_trusted_clients(stack, operation), key=lambda c: (c.name, c.id))


def _trusted_clients(stack: GatewayStack, operation: Operation) -> list[AppClient]:
    authorizer = operation.authorizer
    if authorizer is None:
        return []
    if authorizer.type == "COGNITO_USER_POOLS":
        pools = [p for p in stack.user_pools if p.arn in authorizer.provider_arns]
        return [c for p in pools for c in p.clients]
    function = stack.functions.get(authorizer.function_arn)
    if function is None or not function.component_authorizer:
        return []
    trusted = str(function.environment.get("JWT_ISSUERS", ""))
    return [c for p in stack.user_pools if p.issuer in trusted for c in p.clients if c.id in trusted]


def _route_scopes(stack: GatewayStack, operation: Operation) -> tuple[str, ...]:
    if operation.authorization == "COGNITO_USER_POOLS":
        return operation.scopes
    function = stack.functions.get(operation.authorizer.function_arn) if operation.authorizer else None
    if function is None:
        return ()
    rules = json.loads(function.environment.get("ROUTE_REQUIREMENTS", "{}") or "{}")
    rule = rules.get(operation.key) or {}
    return tuple(rule.get("scopes") or ())


def _key_names(stack: GatewayStack, api: Api, stage: Stage) -> tuple[str | None, str | None]:
    """A key of a plan listing this stage, and a key of none that does."""
    listing = {
        k.name
        for p in stack.usage_plans
        for k in p.keys
        if any(a == api.id and s == stage.name for a, s, _ in p.stages)
    }
    other = next((k.name for k in stack.keys if k.name not in listing), None)
    return (sorted(listing)[0] if listing else None), other


def _throttle_burst(stack: GatewayStack, api: Api, stage: Stage, operation: Operation, key: str | None) -> int | None:
    bursts = []
    if stage.throttle is not None:
        bursts.append(stage.throttle.burst)
    if key is not None and operation.api_key_required:
        for plan in stack.usage_plans:
            if any(k.name == key for k in plan.keys):
                for a, s, throttles in plan.stages:
                    if a == api.id and s == stage.name:
                        specific = throttles.get(f"{operation.path}/{operation.method}")
                        chosen = specific or plan.throttle
                        if chosen is not None:
                            bursts.append(chosen.burst)
    return min(bursts) if bursts else None


@dataclass
class _Asker:
    """Sends one cell's request through the gateway, from a fresh state: no counter or cache carries over."""

    gateway: Gateway
    matrix: Matrix
    route: str = ""
    api: Api | None = None

    def __call__(self, caller: str, request: Request, wanted: bool, repeat: int = 1) -> None:
        assert self.api is not None
        self.gateway.reset()
        reachable = _via_reachable(self.gateway.stack, self.api, request)
        result = self.gateway.evaluate(reachable, copies=repeat)
        verdict = _verdict(result, wanted, caller)
        self.matrix.cells.append(Cell(self.route, caller, wanted, result, verdict, self.api.resource.urn))


def build(gateway: Gateway) -> Matrix:
    """Ask every route of every stage the standard callers; judge each answer (see the module docstring)."""
    ask = _Asker(gateway, Matrix())
    for stage in gateway.stack.stages:
        for operation in stage.api.operations:
            if operation.method == "OPTIONS" and operation.integration.get("type") == "mock":
                continue
            ask.route, ask.api = f"{stage.api.name}/{stage.name} {operation.key}", stage.api
            _route_rows(ask, stage, operation)
    return ask.matrix


def _route_rows(ask: _Asker, stage: Stage, operation: Operation) -> None:
    stack, api = ask.gateway.stack, stage.api
    cidrs, _ = _networks(api)
    good_key, other_key = _key_names(stack, api, stage)
    method = "GET" if operation.method == "ANY" else operation.method
    base = Request(
        method=method,
        path="/" + stage.name + re.sub(r"\{[^}]+\}", "x1", operation.path),
        via="execute-api",
        source_ip=_inside(stack, cidrs) if cidrs else "198.18.0.1",
        vpc_endpoint=_vpc_endpoint(api, stack) if api.endpoint_type == "PRIVATE" else "",
        host=api.id,
        headers=_headers(operation),
        body=b"{}" if method in ("POST", "PUT", "PATCH") else b"",
        api_key=good_key or other_key or "",  # without a key of a plan listing the stage, the config still means one
    )
    intended = _intended(stack, operation)
    if cidrs:
        ask("outside", replace(base, source_ip=_outside(stack, cidrs), caller=intended), False)
    if operation.authorization != "NONE" or operation.api_key_required:
        ask("no-credentials", replace(base, caller=None, api_key=""), False)
    else:  # a public route: anyone inside the allowed networks is meant to get in
        ask("no-credentials", replace(base, caller=None, api_key=""), True)
    _token_rows(stack, operation, base, ask)
    if operation.authorization == "AWS_IAM":
        ask("iam-same-account", replace(base, caller=IamCaller(stack.account)), True)
    if isinstance(intended, LambdaAnswer):
        ask("authorizer-allows", replace(base, caller=intended), True)
        ask("authorizer-denies", replace(base, caller=LambdaAnswer("Deny")), False)
    if operation.api_key_required:
        if operation.authorization == "NONE":
            ask("api-key", replace(base, caller=None), True)
        ask("no-api-key", replace(base, caller=intended, api_key=""), False)
        if other_key is not None:
            ask("other-plan-key", replace(base, caller=intended, api_key=other_key), False)
    origins = _origins(api, operation)
    if origins:
        preflight = replace(
            base,
            method="OPTIONS",
            caller=None,
            api_key="",
            body=b"",
            headers={
                "Origin": origins[0],
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        ask("preflight-allowed", preflight, True)
        ask("preflight-other-origin", replace(preflight, headers={**preflight.headers, "Origin": OTHER_ORIGIN}), False)
    if method in ("POST", "PUT", "PATCH"):
        ask("oversized", replace(base, caller=intended, body=b"x" * (PAYLOAD_LIMIT_BYTES + 1)), False)
    burst = _throttle_burst(stack, api, stage, operation, good_key)
    if burst is not None and (intended is not None or operation.authorization == "NONE"):
        ask("over-rate", replace(base, caller=intended), False, repeat=burst + 1)


def _headers(operation: Operation) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    for kind, name in operation.required_parameters:
        if kind == "header":
            headers[name] = "model-value"
    return headers


def _via_reachable(stack: GatewayStack, api: Api, request: Request) -> Request:
    """Through the custom domain when the default endpoint is off (as a client must call it)."""
    if not api.disable_execute_api_endpoint:
        return request
    for domain in stack.domains:
        for base, mapping in domain.mappings.items():
            if mapping.api_id == api.id:
                stage_prefix = "/" + mapping.stage
                rest = request.path[len(stage_prefix) :] if request.path.startswith(stage_prefix) else request.path
                path = f"/{base}{rest}" if base not in ("", "(none)") else rest or "/"
                return replace(request, via="domain", host=domain.name, path=path)
    return request


def _intended(stack: GatewayStack, operation: Operation) -> CognitoCaller | IamCaller | LambdaAnswer | None:
    """The caller the config means to let in: a client with the route's scopes, a same-account signer, an
    Allow of a Lambda authorizer whose code is not the component's, or nobody."""
    if operation.authorization == "AWS_IAM":
        return IamCaller(stack.account)
    if operation.authorization == "CUSTOM" and operation.authorizer is not None:
        function = stack.functions.get(operation.authorizer.function_arn)
        if function is None or not function.component_authorizer:
            return LambdaAnswer("Allow")
    scopes = _route_scopes(stack, operation)
    for client in _clients(stack, operation):
        if scopes:
            granted = tuple(s for s in scopes if s in client.scopes)
            if granted and not issuable(client, "access", granted)[1]:
                return CognitoCaller(client.name, "access", granted)
        elif operation.authorization == "COGNITO_USER_POOLS" and not issuable(client, "id", None)[1]:
            return CognitoCaller(client.name, "id")
        elif operation.authorization == "CUSTOM" and not issuable(client, "access", None)[1]:
            return CognitoCaller(client.name, "access")
    return None


def _token_rows(stack: GatewayStack, operation: Operation, base: Request, ask: _Asker) -> None:
    if operation.authorization not in ("COGNITO_USER_POOLS", "CUSTOM"):
        return
    scopes = _route_scopes(stack, operation)
    for client in _clients(stack, operation):
        granted = tuple(s for s in scopes if s in client.scopes)
        if scopes:
            if granted and not issuable(client, "access", granted)[1]:
                ask(f"{client.name}+scopes", replace(base, caller=CognitoCaller(client.name, "access", granted)), True)
            others, _ = issuable(client, "access", None)
            rest = tuple(s for s in others if s not in scopes and s not in ("openid", "email", "profile", "phone"))
            if rest:
                ask(f"{client.name}-scopes", replace(base, caller=CognitoCaller(client.name, "access", rest)), False)
        elif operation.authorization == "COGNITO_USER_POOLS" and not issuable(client, "id", None)[1]:
            ask(f"{client.name}+id", replace(base, caller=CognitoCaller(client.name, "id")), True)
    intended = _intended(stack, operation)
    if isinstance(intended, CognitoCaller):
        wrong = "id" if intended.token_use == "access" else "access"
        client = next((c for c in _clients(stack, operation) if not issuable(c, wrong, None)[1]), None)
        if client is not None and operation.authorization == "COGNITO_USER_POOLS":
            ask(f"{wrong}-token", replace(base, caller=CognitoCaller(client.name, wrong)), False)
        ask(
            "expired",
            replace(base, caller=CognitoCaller(intended.client, intended.token_use, intended.scopes, expired=True)),
            False,
        )


def _verdict(result: Result, intended: bool, caller: str) -> str:
    if result.status == 0 and result.reason.startswith("not evaluated"):
        return "not-evaluated"
    # A 400 of request validation got past every access layer: the matrix judges access, and its bodies are
    # `{}`, not the route's model.
    passed = 200 <= result.status < 300 or (result.layer == "validation" and result.status == 400)
    allowed = {k.lower(): v for k, v in result.headers.items()}.get("access-control-allow-origin")
    if caller == "preflight-other-origin":
        passed = passed and allowed in (OTHER_ORIGIN, "*")
    if caller == "preflight-allowed":
        passed = passed and bool(allowed)
    if intended:
        return "ok" if passed else "defect"
    return "violation" if passed else "ok"


def render_text(matrix: Matrix) -> str:
    """A compact table: one line per route, `caller=status` cells; `!` marks a violation, `?` a defect."""
    lines = [
        "Access matrix (status per standard caller; ! must be stopped but got in, ? intended but stopped, "
        "n/e not evaluated offline):"
    ]
    routes: dict[str, list[Cell]] = {}
    for cell in matrix.cells:
        routes.setdefault(cell.route, []).append(cell)
    width = max((len(r) for r in routes), default=0)
    for route, cells in routes.items():
        marks = {"violation": "!", "defect": "?", "not-evaluated": "~"}
        row = " ".join(f"{c.caller}={_shown(c)}{marks.get(c.verdict, '')}" for c in cells)
        lines.append(f"  {route.ljust(width)}  {row}")
    for cell in matrix.violations:
        lines.append(f"  violation: {cell.route}: {cell.caller} gets {cell.result.status}: {cell.result.reason}")
    for cell in matrix.defects:
        lines.append(
            f"  defect: {cell.route}: {cell.caller} is stopped ({cell.result.status}, {cell.result.layer}): "
            f"{cell.result.reason}"
        )
    return "\n".join(lines)


def _shown(cell: Cell) -> str:
    """The cell's status; a preflight answered without this origin in Access-Control-Allow-Origin says so,
    and a cell the model could not judge offline shows `n/e`."""
    if cell.verdict == "not-evaluated":
        return "n/e"
    if cell.caller.startswith("preflight") and cell.result.status == 200:
        allowed = {k.lower(): v for k, v in cell.result.headers.items()}.get("access-control-allow-origin")
        if cell.caller == "preflight-other-origin" and allowed not in (OTHER_ORIGIN, "*"):
            return "200/no-cors"
    return str(cell.result.status)


def to_json(matrix: Matrix) -> list[dict[str, Any]]:
    """One object per cell: route, caller, intended, status, layer, reason, headers, verdict, notEvaluated."""
    return [
        {
            "route": c.route,
            "caller": c.caller,
            "intended": c.intended,
            "status": c.result.status,
            "layer": c.result.layer,
            "reason": c.result.reason,
            "headers": dict(c.result.headers),
            "verdict": c.verdict,
            "notEvaluated": list(c.result.not_evaluated),
        }
        for c in matrix.cells
    ]


SARIF_TOOL = "secure-api-access-matrix"
SARIF_RULES = (
    {
        "id": "access-matrix-violation",
        "name": "AccessMatrixViolation",
        "shortDescription": {"text": "A caller the layered model must stop gets in"},
        "fullDescription": {
            "text": "Evaluated through every layer of the planned stack (WAF, resource policy, authorizer, API key, "
            "throttle), a standard caller that must be stopped (from outside the allowed networks, without "
            "credentials, with a wrong or expired token, without a key) gets a 2xx."
        },
        "help": {"text": "Close the layer named in the result: the resource policy, the authorizer or the usage plan."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "access-matrix"], "security-severity": "8.0"},
    },
    {
        "id": "access-matrix-defect",
        "name": "AccessMatrixDefect",
        "shortDescription": {"text": "A caller the config means to let in is stopped"},
        "fullDescription": {
            "text": "Evaluated through every layer of the planned stack, a caller the configuration intends to admit "
            "(an app client with the route's scopes, a preflight from a listed origin, a key of the route's plan) "
            "is refused by another layer."
        },
        "help": {"text": "Make the layers agree: the layer named in the result stops what another one admits."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["access-matrix"]},
    },
)


def to_sarif_run(matrix: Matrix, locate: Callable[[Cell], tuple[str, int]], version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 `run` of the matrix's violations (`error`) and defects (`warning`).

    `locate` gives each cell's file (relative to the repository root) and 1-based line. Fingerprints
    are stable per route and caller, so code scanning tracks a finding across pushes. Spec:
    https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
    """
    results = []
    for cell in matrix.cells:
        if cell.verdict not in ("violation", "defect"):
            continue
        index = 0 if cell.verdict == "violation" else 1
        rule = SARIF_RULES[index]
        uri, line = locate(cell)
        fingerprint = hashlib.sha256(f"{cell.route}|{cell.caller}".encode()).hexdigest()[:32]
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}
        }
        if cell.api_urn:
            location["logicalLocations"] = [
                {"name": cell.route, "fullyQualifiedName": cell.api_urn, "kind": "resource"}
            ]
        results.append(
            {
                "ruleId": rule["id"],
                "ruleIndex": index,
                "kind": "fail",
                "level": rule["defaultConfiguration"]["level"],
                "message": {
                    "text": f"{cell.route}, caller {cell.caller}: {cell.result.status} [{cell.result.layer}] "
                    f"{cell.result.reason}"
                },
                "locations": [location],
                "partialFingerprints": {"secureApiAccessMatrix/v1": fingerprint},
                "properties": {"caller": cell.caller, "intended": cell.intended, "status": cell.result.status},
            }
        )
    return {
        "tool": {"driver": {"name": SARIF_TOOL, "version": version, "rules": list(SARIF_RULES)}},
        "results": results,
    }
