"""The whole stack configuration and the checks that span more than one section."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from secure_api_authorizer.routes import cache_conflicts, route_rule

from ..relaxations import tag_problems
from .api import ApiSettings
from .auth import CognitoSettings, LambdaAuthorizerSettings
from .base import ConfigModel
from .cors import CorsSettings
from .network import NetworkSettings
from .observability import ObservabilitySettings
from .routes import Route, route_tree_problems
from .tls import DomainSettings, TlsSettings, tls_problems
from .usage_plans import ApiKey, UsagePlan
from .waf import WafSettings


class StackConfig(ConfigModel):
    """Everything under the `secure-api:` namespace of a stack file."""

    api: ApiSettings = ApiSettings()
    routes: tuple[Route, ...] = ()
    cognito: CognitoSettings = CognitoSettings()
    lambda_authorizer: LambdaAuthorizerSettings = LambdaAuthorizerSettings()
    usage_plans: tuple[UsagePlan, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()
    network: NetworkSettings = NetworkSettings()
    tls: TlsSettings = TlsSettings()
    domain: DomainSettings | None = None
    backend_client_certificate: bool = True
    waf: WafSettings = WafSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    cors: CorsSettings | None = None

    def uses_auth(self, auth: str) -> bool:
        return any(r.auth == auth for r in self.routes)

    @property
    def disables_execute_api_endpoint(self) -> bool:
        """With a REGIONAL custom domain nothing may bypass its TLS policy and mTLS, so the default endpoint is off.
        A private domain has neither mTLS nor another policy: the `{api-id}-{vpce-id}` URLs stay available."""
        return self.domain is not None and self.api.endpoint_type != "PRIVATE"

    @property
    def needs_user_pool(self) -> bool:
        return self.uses_auth("cognito") or (
            self.uses_auth("custom")
            and self.lambda_authorizer.mode == "jwt"
            and self.lambda_authorizer.use_component_user_pool
        )

    def _cache_problems(self) -> list[tuple[str, str]]:
        """Custom-authorizer routes a cached, stage-wide policy cannot keep apart (`cache_conflicts`)."""
        ttl = self.lambda_authorizer.result_ttl_seconds
        custom = [(i, r) for i, r in enumerate(self.routes) if r.auth == "custom"]
        if ttl == 0 or len(custom) < 2:
            return []
        rules = [
            route_rule(
                r.key,
                frozenset(r.authorizer_requirements.scopes) if r.authorizer_requirements else frozenset(),
                frozenset(r.authorizer_requirements.groups) if r.authorizer_requirements else frozenset(),
            )
            for _, r in custom
        ]
        index = {r.key: i for i, r in custom}
        return [
            (
                f"routes[{index[denied]}].authorizerRequirements",
                f"with lambdaAuthorizer.resultTtlSeconds: {ttl}, the cached policy's Deny of {denied} "
                f"also covers routes[{index[covered]}] ({covered}), which needs other requirements: callers "
                "a fresh decision allows there would get 403. Set lambdaAuthorizer.resultTtlSeconds: 0, "
                "or give the routes paths whose ARN patterns do not overlap",
            )
            for denied, covered in cache_conflicts(rules)
        ]

    def _token_problems(self) -> list[tuple[str, str]]:
        """Cognito routes no app client can call: every call would be 401.

        A method without OAuth scopes takes only ID tokens, and one with scopes only access tokens carrying one
        of them (AWS knowledge center, "api-gateway-cognito-401-unauthorized"). An ID token needs a user
        sign-in (the code or implicit flow with `openid`, or a user explicit auth flow); `client_credentials`
        issues access tokens only ("Amazon Cognito user pool app clients"). Without any app client in the
        config there is nothing to contradict: the clients are then made elsewhere (another stack, the console).
        """
        clients = self.cognito.app_clients
        if not self.cognito.enabled or not clients:
            return []
        problems = []
        for index, route in enumerate(self.routes):
            if route.auth != "cognito":
                continue
            where = f"routes[{index}]"
            if not route.scopes:
                if not any(client.issues_id_tokens for client in clients):
                    names = ", ".join(f"{c.name} ({'/'.join(c.oauth_flows) or 'no OAuth flow'})" for c in clients)
                    problems.append(
                        (
                            f"{where}.scopes",
                            f"{route.key} has no scopes, so it takes only ID tokens, and no app client in "
                            f"cognito.appClients obtains one ({names}): every call would be 401; give the route the "
                            "scopes its callers' access tokens carry, or add a client with the code flow and openid",
                        )
                    )
                continue
            wanted = {self.cognito.full_scope(s) for s in route.scopes}
            if not any(wanted & set(client.allowed_scopes) for client in clients):
                problems.append(
                    (
                        f"{where}.scopes",
                        f"{route.key} takes access tokens with one of {sorted(wanted)}, and no app client in "
                        "cognito.appClients may request any of them (allowedScopes): every call would be 401",
                    )
                )
        return problems

    def cross_problems(self) -> list[tuple[str, str]]:
        """(key path, message) for every rule that spans sections; empty when the config is coherent."""
        problems: list[tuple[str, str]] = []
        if not self.routes:
            problems.append(("routes", "at least one route is needed"))
        counts = Counter(r.key for r in self.routes)
        problems.extend(route_tree_problems(self.routes))
        for index, route in enumerate(self.routes):
            where = f"routes[{index}]"
            if counts[route.key] > 1:
                problems.append((where, f"duplicate route {route.key}: each (path, method) may appear once"))
            if route.auth == "cognito" and not self.cognito.enabled:
                problems.append((f"{where}.auth", "auth 'cognito' needs cognito.enabled: true"))
            if route.scopes:
                known = self._known_scopes()
                unknown = sorted({self.cognito.full_scope(s) for s in route.scopes} - known)
                if unknown:
                    problems.append(
                        (f"{where}.scopes", f"unknown scopes {unknown}; declared: {sorted(known) or 'none'}")
                    )
            if route.authorizer_requirements and self.lambda_authorizer.mode != "jwt":
                problems.append(
                    (f"{where}.authorizerRequirements", "need lambdaAuthorizer.mode: jwt (tokens carry them)")
                )
            if route.request_body and route.method in ("GET", "HEAD", "OPTIONS"):
                problems.append((f"{where}.requestBody", f"a {route.method} request has no body to validate"))
            if route.api_key_required and not self.usage_plans:
                problems.append((f"{where}.apiKeyRequired", "needs at least one entry in usagePlans"))
        problems.extend(self._cache_problems())
        problems.extend(self._token_problems())
        if self.needs_user_pool and not self.cognito.enabled:
            problems.append(("lambdaAuthorizer.useComponentUserPool", "needs cognito.enabled: true"))
        if self.api.api_key_source == "AUTHORIZER" and not (
            self.uses_auth("custom") and self.lambda_authorizer.mode == "api_key"
        ):
            problems.append(
                ("api.apiKeySource", "AUTHORIZER needs a route with auth 'custom' and lambdaAuthorizer.mode: api_key")
            )
        problems.extend(_duplicates("usagePlans", self.usage_plans, "plan"))
        plan_ids = {p.stable_id for p in self.usage_plans}
        for index, plan in enumerate(self.usage_plans):
            for t_index, throttle in enumerate(plan.method_throttles):
                if f"{throttle.method} {throttle.path}" not in counts:
                    problems.append(
                        (
                            f"usagePlans[{index}].methodThrottles[{t_index}]",
                            f"no route {throttle.method} {throttle.path}; routes: {sorted(counts)}",
                        )
                    )
        problems.extend(_duplicates("apiKeys", self.api_keys, "API key"))
        for index, key in enumerate(self.api_keys):
            if key.plan not in plan_ids:
                problems.append(
                    (
                        f"apiKeys[{index}].plan",
                        f"unknown plan {key.plan!r}; plan ids (names unless set): {sorted(plan_ids)}",
                    )
                )
        problems.extend((f"waf.{path}", message) for path, message in self.waf.problems())
        if not self.waf.enabled and self.api.endpoint_type == "REGIONAL" and not self.waf.accept_no_waf:
            problems.append(
                (
                    "waf.enabled",
                    "a REGIONAL API is reachable from the internet: set waf.acceptNoWaf: true to run it without WAF",
                )
            )
        problems.extend(self._cors_problems())
        problems.extend(self.network.problems(self.api.endpoint_type, self.uses_auth("iam")))
        problems.extend(tls_problems(self.tls, self.domain, self.api.endpoint_type))
        problems.extend(tag_problems(self))
        return problems

    @property
    def cors_routes(self) -> list[Route]:
        """Routes browsers may call; empty without a `cors` section."""
        return [r for r in self.routes if r.cors] if self.cors else []

    def _cors_problems(self) -> list[tuple[str, str]]:
        if not self.cors:
            return []
        problems = []
        if not self.cors_routes:
            problems.append(("cors", "no route takes part: every route has cors: false"))
        preflight_paths = {r.path for r in self.cors_routes}
        for index, route in enumerate(self.routes):
            if route.method == "OPTIONS" and route.path in preflight_paths:
                problems.append(
                    (
                        f"routes[{index}].method",
                        f"OPTIONS {route.path} is the CORS preflight API Gateway answers itself: remove the route "
                        "or set cors: false on the routes of that path",
                    )
                )
        return problems

    def _known_scopes(self) -> set[str]:
        server = self.cognito.resource_server
        return {f"{server.identifier}/{s.name}" for s in server.scopes} if server else set()


class _Listed(Protocol):
    name: str
    id: str | None

    @property
    def stable_id(self) -> str: ...


def _duplicates(key: str, items: Sequence[_Listed], what: str) -> list[tuple[str, str]]:
    """Two items with one name, or one id (an unset id is the name): each would own the other's resources."""
    problems = []
    names = Counter(item.name for item in items)
    ids = Counter(item.stable_id for item in items)
    for index, item in enumerate(items):
        if names[item.name] > 1:
            problems.append((f"{key}[{index}].name", f"duplicate {what} name {item.name!r}"))
        elif ids[item.stable_id] > 1:
            field = "id" if item.id else "name"
            problems.append((f"{key}[{index}].{field}", f"{item.stable_id!r} is another {what}'s id too"))
    return problems
