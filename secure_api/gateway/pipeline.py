"""What API Gateway REST does to one request, step by step, over the planned stack (`stack.GatewayStack`).

The order is AWS's (developer guide: "How API Gateway resource policies affect authorization
workflow", "Configuring mutual TLS authentication for a REST API", "Disable the default endpoint for
REST APIs", "Use AWS WAF to protect your REST APIs in API Gateway", "Usage plans and API keys for
REST APIs", "Request validation for REST APIs", "Gateway responses for REST APIs"):

1. entry: custom domain and base path mapping, mutual TLS, the default endpoint, private APIs (a domain
   name access association, the VPC endpoint's policy, a private domain's own policy);
2. the stage's AWS WAF web ACL;
3. the resource policy together with the method's authentication type (`authorization.py`);
4. the authorizer (Cognito, Lambda) inside step 3, as the outcome tables have it;
5. API key and usage plan, throttles and quotas;
6. request validation;
7. the integration, or the gateway response of the error, with its headers (CORS included);
8. the stage's access-log line.

`Gateway` keeps what AWS keeps between requests: rate-based WAF counters, token buckets, quotas
and the Lambda authorizer's result cache. Its clock is the `now` each call passes (seconds).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

from cryptography import x509
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from . import authorization, iam, integration, limits, waf
from .authorizers import ComponentAuthorizer, UnknownNameError
from .issuer import LocalIssuer
from .request import IamCaller, Request, Result
from .resources import Api, Domain, GatewayStack, Operation, Stage

PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024
"""API Gateway REST's payload limit ("Amazon API Gateway quotas": 10 MB), answered with 413."""


@dataclass
class _Target:
    api: Api
    stage: Stage
    resource_path: str
    """The path after the stage (or base path): `/orders/42`."""
    domain: Domain | None
    host: str


@dataclass
class Gateway:
    """The planned stack, with the state AWS keeps between requests. `close()` stops the local JWKS server."""

    stack: GatewayStack
    issuer: LocalIssuer = field(default_factory=LocalIssuer)
    rates: waf.RateCounter = field(default_factory=waf.RateCounter)
    buckets: limits.Buckets = field(default_factory=limits.Buckets)
    authorizer_cache: dict[tuple[str, str], tuple[float, Any]] = field(default_factory=dict)
    _functions: dict[str, ComponentAuthorizer] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)
    _waf_memo: dict[Any, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Stop the local issuer's JWKS server."""
        self.issuer.close()

    def reset(self) -> None:
        """Forget what AWS keeps between requests: WAF rate counters, throttles, quotas, authorizer cache."""
        self.rates = waf.RateCounter()
        self.buckets = limits.Buckets()
        self.authorizer_cache.clear()

    def component_authorizer(self, function_arn: str) -> ComponentAuthorizer | None:
        function = self.stack.functions.get(function_arn)
        if function is None or not function.component_authorizer:
            return None
        if function_arn not in self._functions:
            self._functions[function_arn] = ComponentAuthorizer(function, self.issuer)
        return self._functions[function_arn]

    def evaluate(self, request: Request, *, now: float = 0.0, copies: int = 1) -> Result:
        """The answer AWS would give `request` at time `now` (seconds).

        `copies` identical requests arrive at that instant, and the answer is the last one's: WAF
        rate-based rules, throttles and quotas count every copy. Raises UnknownNameError for a name
        (API key, app client, host) the stack lacks.
        """
        request_id = f"model-{next(self._ids):06d}"
        target, stopped = self._entry(request)
        if stopped is not None:
            return stopped
        assert target is not None
        return self._through(request, target, now, request_id, copies)

    def _through(self, request: Request, target: _Target, now: float, request_id: str, copies: int) -> Result:
        api, stage = target.api, target.stage
        notes: list[str] = []
        approximations: list[str] = []
        log_line = partial(integration.access_log, stage, request, target, request_id)
        stop = partial(integration.error, api, notes=notes, approximations=approximations, log_line=log_line)
        method_arn = (
            f"arn:aws:execute-api:{self.stack.region}:{self.stack.account}:{api.id}/{stage.name}/"
            f"{request.method.upper()}{target.resource_path}"
        )
        # The endpoint judges the call before API Gateway does; then a private domain's own policy.
        if (refused := self._endpoint_policy(request, target, method_arn)) is not None:
            return refused
        if target.domain is not None and (refused := _domain_policy(target.domain, request)) is not None:
            return refused
        if stage.web_acl is not None:
            outcome = waf.evaluate(
                stage.web_acl,
                waf.WafRequest(
                    method=request.method.upper(),
                    uri_path=request.path.split("?")[0],
                    query_string="&".join(f"{k}={v}" for k, v in request.query.items()),
                    headers=request.headers,
                    body=request.body,
                    source_ip=request.source_ip,
                    country=request.country,
                ),
                ip_sets=self.stack.ip_sets,
                rates=self.rates,
                now=now,
                copies=copies,
                memo=self._waf_memo,
            )
            notes += [f"WAF {stage.web_acl_name}: {n}" for n in outcome.not_evaluated]
            approximations += [f"WAF {stage.web_acl_name}: {a}" for a in outcome.approximations]
            if outcome.action != "ALLOW":
                return stop(
                    "WAF_FILTERED", "waf", f"web ACL {stage.web_acl_name}: {outcome.reason}", status=outcome.status
                )
        operation, params = match(api, request.method, target.resource_path)
        if operation is None:
            return stop(
                "MISSING_AUTHENTICATION_TOKEN",
                "entry",
                f"API {api.name}: no method {request.method.upper()} on a resource matching {target.resource_path}",
            )
        decision = authorization.decide(self, request, target.api, operation, method_arn, now)
        notes += decision.not_evaluated
        if not decision.decided:  # no answer is claimed: status 0, and what was not judged is listed
            return Result(
                0, decision.layer, decision.reason, operation=operation.key, not_evaluated=(*notes, decision.reason)
            )
        if decision.status != 200:
            return stop(decision.response_type, decision.layer, decision.reason, operation)
        keyed = limits.check(self.stack, self.buckets, request, api, stage, operation, decision.usage_key, now, copies)
        if keyed is not None:
            response_type, layer, reason = keyed
            return stop(response_type, layer, reason, operation)
        if len(request.body) > PAYLOAD_LIMIT_BYTES:
            return stop(
                "REQUEST_TOO_LARGE",
                "validation",
                f"the body is {len(request.body)} bytes; API Gateway takes at most 10 MB",
                operation,
            )
        invalid = integration.validate(api, operation, request, params)
        if invalid is not None:
            response_type, reason = invalid
            return stop(response_type, "validation", reason, operation)
        answer = integration.respond(operation, request, request_id, params)
        return replace(
            answer,
            not_evaluated=tuple(notes),
            approximations=tuple(approximations),
            reason=f"{decision.reason}; {answer.reason}",
            log_line=log_line,
        )

    def _endpoint_policy(self, request: Request, target: _Target, method_arn: str) -> Result | None:
        """The VPC endpoint's own policy, which the endpoint evaluates before API Gateway sees the call ("Control
        access to VPC endpoints using endpoint policies", AWS PrivateLink guide): it must allow execute-api:Invoke
        on the method, and through a private custom domain on the domain too. Only endpoints the stack sets a
        policy on are judged (an endpoint's default policy allows everything). None: the endpoint lets it through.
        """
        policy = self.stack.endpoint_policies.get(request.vpc_endpoint) if request.vpc_endpoint else None
        if policy is None:
            return None
        caller = request.caller
        principal = (
            iam.Principal(account=caller.account, arn=caller.principal_arn) if isinstance(caller, IamCaller) else None
        )
        resources = [method_arn]
        if target.domain is not None and target.domain.endpoint_type == "PRIVATE":
            resources.insert(0, target.domain.invoke_arn)
        where = f"the endpoint policy of {request.vpc_endpoint}"
        for resource in resources:
            evaluation = iam.evaluate(
                policy,
                action=authorization.INVOKE,
                resource=resource,
                principal=principal,
                context=authorization.context_keys(request),
            )
            if evaluation.effect is iam.Effect.NOT_EVALUATED:
                reason = f"not evaluated offline: {where}: {evaluation.reason}"
                return Result(0, "entry", reason, not_evaluated=(reason,))
            if evaluation.effect is not iam.Effect.ALLOW:
                verdict = "denies" if evaluation.effect is iam.Effect.EXPLICIT_DENY else "has no Allow for"
                by = f" by {evaluation.statement}" if evaluation.statement else ""
                detail = f": {evaluation.reason}" if evaluation.reason else ""
                return _refused(403, f"{where} {verdict} {resource}{by}{detail}")
        return None

    def _entry(self, request: Request) -> tuple[_Target | None, Result | None]:
        """Which API and stage the request reaches, or the answer that stops it before WAF."""
        path, _, _ = request.path.partition("?")
        if request.via == "domain":
            return self._domain_entry(request, path)
        if request.via not in ("stage", "execute-api"):
            raise UnknownNameError(f"via must be domain, stage or execute-api, got {request.via!r}")
        segments = [s for s in path.split("/") if s]
        stage_name = segments[0] if segments else ""
        candidates = [a for a in self.stack.apis if not request.host or request.host in (a.id, a.name)]
        if not candidates:
            raise UnknownNameError(
                f"no API {request.host!r} (the stack has: {', '.join(a.name for a in self.stack.apis) or 'none'})"
            )
        for api in candidates:
            stage = self.stack.stage(api, stage_name)
            if stage is None:
                continue
            host = f"{api.id}.execute-api.{self.stack.region}.amazonaws.com"
            target = _Target(api, stage, "/" + "/".join(segments[1:]), None, host)
            if api.endpoint_type == "PRIVATE" and not request.vpc_endpoint:
                return None, _refused(
                    0,
                    f"API {api.name} is PRIVATE: its execute-api name resolves only inside a "
                    "VPC, through an interface VPC endpoint (set vpcEndpoint)",
                )
            if api.disable_execute_api_endpoint:
                return None, integration.error(
                    api,
                    "ACCESS_DENIED",
                    "entry",
                    f"API {api.name} disables its default execute-api endpoint: callers use the custom domain",
                    status=403,
                )
            return target, None
        stages = ", ".join(s.name for s in self.stack.stages if s.api in candidates)
        return None, _refused(
            403,
            f"no stage {stage_name!r} (stages: {stages or 'none'}): the path through the "
            "execute-api host starts with the stage name",
            layer="entry",
        )

    def _domain_entry(self, request: Request, path: str) -> tuple[_Target | None, Result | None]:
        domains = [d for d in self.stack.domains if not request.host or d.name == request.host]
        if len(domains) != 1:
            names = ", ".join(d.name for d in self.stack.domains) or "none"
            raise UnknownNameError(
                f"via domain needs {'a host naming one of' if domains else 'a custom domain; the stack has'}: {names}"
            )
        domain = domains[0]
        if domain.truststore_uri:
            refused = _client_certificate(domain, request.client_certificate, request.client_certificate_pem)
            if refused is not None:
                return None, refused
        if domain.endpoint_type == "PRIVATE" and (
            not request.vpc_endpoint or request.vpc_endpoint not in domain.access_vpc_endpoints
        ):
            return None, _refused(
                0,
                f"private custom domain {domain.name} is reached only through a VPC endpoint "
                "with a domain name access association",
            )
        inner = path.lstrip("/")
        for base in sorted(domain.mappings, key=len, reverse=True):
            if base in ("", "(none)") or inner == base or inner.startswith(base + "/"):
                mapping = domain.mappings[base]
                api = self.stack.api(mapping.api_id)
                stage = self.stack.stage(api, mapping.stage) if api else None
                if api is None or stage is None:
                    return None, _refused(
                        403,
                        f"{domain.name}: the mapping of base path {base!r} names API "
                        f"{mapping.api_id} stage {mapping.stage!r}, which the stack does not have",
                    )
                rest = inner[len(base) :] if base not in ("", "(none)") else inner
                return _Target(api, stage, "/" + rest.strip("/"), domain, domain.name), None
        return None, _refused(
            403,
            f"{domain.name}: no base path mapping matches {path} "
            f"(mappings: {', '.join(sorted(domain.mappings)) or 'none'})",
        )


MAX_CHAIN_DEPTH = 4
"""Certificates in a client chain API Gateway accepts, leaf included ("Configuring mutual TLS authentication for
a REST API": the truststore's certificates "can have a maximum chain length of four")."""


def _client_certificate(domain: Domain, state: str, pem: str) -> Result | None:
    """Mutual TLS ("Configuring mutual TLS authentication for a REST API"): no certificate fails the handshake;
    one that does not chain to the truststore, or has expired, gets 403.

    `pem` (leaf first, then intermediates) is verified for real against the truststore bundle: signatures,
    validity now, and a chain of at most `MAX_CHAIN_DEPTH` certificates (`cryptography.x509.verification`,
    RFC 5280 path validation). Without it, `state` says what the certificate is: none, valid, expired, untrusted.
    """
    if pem:
        return _verified(domain, pem)
    if state == "valid":
        return None
    if state == "none":
        return _refused(0, f"{domain.name} requires a client certificate (mutual TLS): the TLS handshake fails")
    if state in ("expired", "untrusted"):
        why = "has expired" if state == "expired" else f"does not chain to the truststore {domain.truststore_uri}"
        return _refused(403, f"{domain.name}: the client certificate {why} (mutual TLS)")
    raise UnknownNameError(f"clientCertificate must be none, valid, expired or untrusted, got {state!r}")


def _verified(domain: Domain, pem: str) -> Result | None:
    try:
        chain = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as error:
        raise UnknownNameError(f"clientCertificateFile is not a PEM certificate chain: {error}") from None
    if not domain.truststore_pem:
        return _refused(
            403, f"{domain.name}: its truststore {domain.truststore_uri} is not in the stack to verify against"
        )
    store = Store(x509.load_pem_x509_certificates(domain.truststore_pem.encode()))
    leaf, intermediates = chain[0], chain[1:]
    if leaf.not_valid_after_utc < datetime.now(UTC):
        return _refused(
            403, f"{domain.name}: the client certificate {leaf.subject.rfc4514_string()} has expired (mutual TLS)"
        )
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(datetime.now(UTC))
        .max_chain_depth(MAX_CHAIN_DEPTH - 2)  # intermediates between the leaf and the trust anchor
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as error:
        return _refused(
            403,
            f"{domain.name}: the client certificate {leaf.subject.rfc4514_string()} does not verify against the "
            f"truststore {domain.truststore_uri}: {error} (mutual TLS)",
        )
    return None


def _domain_policy(domain: Domain, request: Request) -> Result | None:
    """A private custom domain's own `policy` for execute-api: which VPC endpoints (and callers) may invoke it,
    before the mapped API's resource policy is asked (developer guide, "Tasks of API providers and API
    consumers for custom domain names for private APIs"). An explicit Deny, or no Allow, refuses with 403;
    a condition the model cannot judge answers status 0, "not evaluated". None: the domain lets it through,
    or it is not PRIVATE (a regional domain has no such policy).
    """
    if domain.endpoint_type != "PRIVATE":
        return None
    if domain.policy is None:
        return _refused(403, f"private custom domain {domain.name} has no policy: nothing may invoke it")
    caller = request.caller
    principal = (
        iam.Principal(account=caller.account, arn=caller.principal_arn) if isinstance(caller, IamCaller) else None
    )
    evaluation = iam.evaluate(
        domain.policy,
        action=authorization.INVOKE,
        resource=domain.invoke_arn,
        principal=principal,
        context=authorization.context_keys(request),
    )
    where = f"the policy of private custom domain {domain.name}"
    if evaluation.effect is iam.Effect.NOT_EVALUATED:
        reason = f"not evaluated offline: {where}: {evaluation.reason}"
        return Result(0, "entry", reason, not_evaluated=(reason,))
    if evaluation.effect is iam.Effect.ALLOW:
        return None
    verdict = "denies" if evaluation.effect is iam.Effect.EXPLICIT_DENY else "has no Allow for this caller"
    by = f" by {evaluation.statement}" if evaluation.statement else ""
    detail = f": {evaluation.reason}" if evaluation.reason else ""
    return _refused(403, f"{where} {verdict}{by}{detail}")


def _refused(status: int, reason: str, layer: str = "entry") -> Result:
    return Result(status=status, layer=layer, reason=reason)


def _group(segment: str) -> str:
    """`{orderId}` / `{proxy+}` as a regex group name (`orderId`, `proxy`)."""
    return re.sub(r"\W", "_", segment.strip("{}+"))


@lru_cache(maxsize=1024)
def _pattern(path: str) -> tuple[re.Pattern[str], int]:
    """A resource path as a regex and its specificity (literal segments beat `{param}`, which beats `{proxy+}`)."""
    parts, score = [], 0
    for segment in [s for s in path.split("/") if s]:
        if segment.endswith("+}"):
            parts.append(f"(?P<{_group(segment)}>.+)")
        elif segment.startswith("{"):
            parts.append(f"(?P<{_group(segment)}>[^/]+)")
            score += 1
        else:
            parts.append(re.escape(segment))
            score += 2
    return re.compile("/" + "/".join(parts) + ("/?" if parts else "")), score


def match(api: Api, method: str, resource_path: str) -> tuple[Operation | None, Mapping[str, str]]:
    """The operation API Gateway routes to: the most specific resource, then the method, else ANY."""
    best: tuple[int, int, Operation, dict[str, str]] | None = None
    verb = method.upper()
    for operation in api.operations:
        if operation.method not in (verb, "ANY"):
            continue
        pattern, score = _pattern(operation.path)
        found = pattern.fullmatch(resource_path if resource_path != "" else "/")
        if found is None:
            continue
        rank = (score, 1 if operation.method == verb else 0)
        if best is None or rank > best[:2]:
            best = (*rank, operation, found.groupdict())
    return (best[2], best[3]) if best else (None, {})
