"""Request validation, the integration's answer, gateway responses and the access-log line.

Sources (API Gateway developer guide): "Request validation for REST APIs" (400 BAD_REQUEST_BODY /
BAD_REQUEST_PARAMETERS; the model for the request's content type, else `$default`; JSON Schema
draft 4), "Mock integrations", "Gateway responses for REST APIs" (a type without its own
customization takes DEFAULT_4XX's or DEFAULT_5XX's headers and template with its own status),
"Mapping template variables" and "Variables for access logging" (`$context.*`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import airspeed
import jsonschema

from .operations import default_status
from .request import Request, Result
from .resources import Api, GatewayResponse, Operation, Stage

if TYPE_CHECKING:
    from .pipeline import _Target

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


def gateway_response(api: Api, response_type: str, status: int | None = None) -> GatewayResponse:
    """The gateway response API Gateway sends for `response_type`, with inherited DEFAULT_4XX/5XX headers."""
    code = status or default_status(response_type)
    own = api.gateway_responses.get(response_type)
    if own is not None:
        return GatewayResponse(status or own.status, own.headers, own.template)
    inherited = api.gateway_responses.get("DEFAULT_5XX" if code >= 500 else "DEFAULT_4XX")
    return GatewayResponse(code, inherited.headers if inherited else {}, inherited.template if inherited else "")


def error(
    api: Api,
    response_type: str,
    layer: str,
    reason: str,
    operation: Operation | None = None,
    *,
    status: int | None = None,
    notes: Sequence[str] = (),
    approximations: Sequence[str] = (),
    log_line: Callable[[Result], str] | None = None,
) -> Result:
    """A request stopped by API Gateway: the gateway response of `response_type`, its headers included."""
    response = gateway_response(api, response_type, status)
    return Result(
        status=response.status,
        layer=layer,
        reason=f"{reason} ({response_type} {response.status})",
        headers=dict(response.headers),
        body=response.template,
        operation=operation.key if operation else "",
        not_evaluated=tuple(notes),
        approximations=tuple(approximations),
        log_line=log_line,
    )


def validate(api: Api, operation: Operation, request: Request, params: Mapping[str, str]) -> tuple[str, str] | None:
    """(response type, reason) when the method's request validator refuses the request, else None."""
    if operation.validate_parameters:
        missing = [
            f"{kind} {name}"
            for kind, name in operation.required_parameters
            if (kind == "header" and request.header(name) is None)
            or (kind == "querystring" and name not in request.query)
            or (kind == "path" and not params.get(re.sub(r"\W", "_", name.strip("{}+"))))
        ]
        if missing:
            return "BAD_REQUEST_PARAMETERS", f"{operation.key} requires {', '.join(missing)}"
    if operation.validate_body and operation.models:
        content_type = (request.header("content-type") or "application/json").split(";")[0].strip().lower()
        model = content_type if content_type in operation.models else "$default"
        schema = operation.models.get(model)
        if schema:
            key = (operation.key, model, request.body)
            if key not in api.body_verdicts:
                if len(api.body_verdicts) > BODY_VERDICTS:
                    api.body_verdicts.clear()
                api.body_verdicts[key] = _body_problem(api, operation, model, schema, request.body)
            problem = api.body_verdicts[key]
            if problem is not None:
                return "BAD_REQUEST_BODY", f"{operation.key}: {problem} (the model for {content_type})"
    return None


BODY_VERDICTS = 10_000
"""Bodies whose verdict an API remembers per (operation, model) before it starts over."""


def _body_problem(api: Api, operation: Operation, model: str, schema: Mapping[str, Any], body: bytes) -> str | None:
    """Why `body` fails the model (JSON Schema draft 4, `#/components/schemas/...` refs resolved), else None."""
    try:
        document = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "the body is not JSON"
    validator = api.validators.get((operation.key, model))
    if validator is None:
        root = {**schema, "components": {"schemas": api.schemas}}
        validator = api.validators[(operation.key, model)] = jsonschema.Draft4Validator(root)
    failure = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if failure is None:
        return None
    return f"{'/'.join(str(p) for p in failure.absolute_path) or 'the body'}: {failure.message}"


class _Input:
    """`$input` of a mapping template."""

    def __init__(self, request: Request, params: Mapping[str, str]) -> None:
        self._request = request
        self._params = {"header": dict(request.headers), "querystring": dict(request.query), "path": dict(params)}

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        return next((group[name] for group in self._params.values() if name in group), "")

    @property
    def body(self) -> str:
        return self._request.body.decode(errors="replace")


def respond(operation: Operation, request: Request, request_id: str, params: Mapping[str, str] | None = None) -> Result:
    """The integration's answer: a mock's configured response, or a stand-in 200 naming the backend."""
    spec = operation.integration
    kind = spec.get("type", "mock")
    if kind != "mock":
        return Result(
            status=200,
            layer="integration",
            reason=f"{kind} integration {spec.get('uri') or ''} "
            "(a stand-in 200: the backend is not called offline)".replace("  ", " "),
            operation=operation.key,
        )
    responses = spec.get("responses") or {}
    chosen = responses.get("default") or next(iter(responses.values()), {})
    status = int(chosen.get("statusCode") or 200)
    headers = {
        key.removeprefix("method.response.header."): value[1:-1]
        for key, value in (chosen.get("responseParameters") or {}).items()
        if key.startswith("method.response.header.") and value[:1] == value[-1:] == "'"
    }
    template = (chosen.get("responseTemplates") or {}).get("application/json", "")
    context: dict[str, Any] = {"requestId": request_id, "responseOverride": {"header": {}}}
    body = (
        airspeed.Template(template).merge({"input": _Input(request, params or {}), "context": context})
        if template
        else ""
    )
    headers.update(context["responseOverride"]["header"])
    return Result(
        status=status,
        layer="integration",
        reason=f"mock integration of {operation.key} answers {status}",
        headers=headers,
        body=body,
        operation=operation.key,
    )


def access_log(stage: Stage, request: Request, target: _Target, request_id: str, result: Result) -> str:
    """The stage's access-log line for this request: `$context.*` variables replaced, unknown ones `-`."""
    if not stage.access_log_format:
        return ""
    error_type = re.search(r"\(([A-Z_0-9]+) \d+\)$", result.reason)
    values = {
        "requestId": request_id,
        "extendedRequestId": request_id,
        "stage": stage.name,
        "httpMethod": request.method.upper(),
        "path": request.path.split("?")[0],
        "resourcePath": result.operation.split(" ", 1)[1] if result.operation else "-",
        "status": str(result.status),
        "domainName": target.host,
        "protocol": "HTTP/1.1",
        "identity.sourceIp": request.source_ip,
        "identity.userAgent": request.header("user-agent") or "-",
        "error.responseType": error_type[1] if error_type else "-",
        "error.message": result.reason if result.status >= 400 else "-",
        "responseLength": str(len(result.body)),
        "waf.status": "403" if result.layer == "waf" else "-",
        "wafResponseCode": "WAF_BLOCK" if result.layer == "waf" else "WAF_ALLOW" if stage.web_acl else "-",
    }

    segments, quoted = _log_template(stage.access_log_format)
    parts = []
    for literal, variable in segments:
        parts.append(literal)
        if variable is not None:
            found = values.get(variable, "-")
            parts.append(json.dumps(found)[1:-1] if quoted and _ESCAPED.search(found) else found)
    return "".join(parts)


_ESCAPED = re.compile(r'["\\\x00-\x1f]')


@lru_cache(maxsize=64)
def _log_template(text: str) -> tuple[tuple[tuple[str, str | None], ...], bool]:
    """An access-log format split into (literal, variable) pieces, and whether it is JSON (values escaped)."""
    pieces: list[tuple[str, str | None]] = []
    start = 0
    for found in _VARIABLE.finditer(text):
        pieces.append((text[start : found.start()], found[1]))
        start = found.end()
    pieces.append((text[start:], None))
    return tuple(pieces), text.lstrip().startswith("{")
