"""One authorizer per execution environment: authenticate, then allow, deny or refuse.

Missing or invalid credentials raise exactly ``Exception("Unauthorized")`` (API Gateway answers
401); a valid identity without the route's scopes or groups gets an explicit Deny (403). Nothing
a caller sends can make the function fail with another error (which API Gateway turns into 500).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TextIO

from .audit import AuditLog
from .config import Settings, load_settings
from .errors import AuthenticationError
from .events import Identity
from .policy import decide
from .routes import MethodArn, parse_method_arn

UNAUTHORIZED = "Unauthorized"
_ARN_CACHE_SIZE = 256


class Authenticator(Protocol):
    def prefetch(self) -> None: ...

    def authenticate(self, event: Mapping[str, Any]) -> Identity: ...


class Authorizer:
    def __init__(self, settings: Settings, authenticator: Authenticator, log: AuditLog) -> None:
        self._mode = settings.mode
        self._rules = settings.routes
        self._stage_wide = settings.result_ttl_seconds > 0
        self._authenticator = authenticator
        self._log = log
        self._arns: dict[str, MethodArn] = {}

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        log_stream: TextIO | None = None,
    ) -> Authorizer:
        settings = load_settings(env)
        log = AuditLog(log_stream)
        # Each mode imports only its own dependencies (cryptography for JWTs, hashlib for keys).
        if settings.mode != "jwt":
            from .api_keys import ApiKeyAuthenticator

            return cls(settings, ApiKeyAuthenticator(settings), log)
        from .jwt_auth import JwtAuthenticator

        return cls(settings, JwtAuthenticator(settings, clock=clock, monotonic=monotonic, log=log), log)

    def prefetch(self) -> None:
        """Warm what the first request would otherwise wait for (the issuers' key sets)."""
        self._authenticator.prefetch()

    def __call__(self, event: object, context: object = None) -> dict[str, Any]:
        # Outside Lambda (tests, tools) the context is None: getattr's default would raise and catch.
        request_id = None if context is None else getattr(context, "aws_request_id", None)
        try:
            if not isinstance(event, dict):
                raise AuthenticationError("bad_event")
            arn = self._method_arn(event.get("methodArn"))
            identity = self._authenticator.authenticate(event)
            decision = decide(identity, arn, self._rules, stage_wide=self._stage_wide)
        except AuthenticationError as exc:
            self._log.decision("WARN", "unauthorized", exc.reason, mode=self._mode, request_id=request_id)
            raise Exception(UNAUTHORIZED) from None
        except Exception as exc:  # a bug must still fail closed, as a 401 rather than a 500
            self._log.emit(
                {
                    "level": "ERROR",
                    "event": "authorizer_decision",
                    "decision": "unauthorized",
                    "reason": "internal_error",
                    "mode": self._mode,
                    "requestId": None if request_id is None else str(request_id),
                    "error": type(exc).__name__,
                }
            )
            raise Exception(UNAUTHORIZED) from None
        self._log.decision(
            "INFO",
            "allow" if decision.allowed else "deny",
            "ok"
            if decision.allowed
            else "denied_by_cached_policy"
            if decision.denied_by
            else "insufficient_scope_or_group",
            mode=self._mode,
            request_id=request_id,
            principal_id=identity.principal_id,
            route=decision.route.key if decision.route else None,
            method_arn=arn.raw,
        )
        return decision.response

    def _method_arn(self, value: object) -> MethodArn:
        """Parsed ARNs are memoised: a warm environment sees the same few routes again and again."""
        arn = self._arns.get(value) if type(value) is str else None
        if arn is None:
            arn = parse_method_arn(value)
            if len(self._arns) >= _ARN_CACHE_SIZE:
                self._arns.clear()
            self._arns[arn.raw] = arn
        return arn
