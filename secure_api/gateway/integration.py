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
from collections.abc import Mapping, Sequence
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
        schema = operation.models.get(content_type, operation.models.get("$default"))
        if schema:
            try:
                document = json.loads(request.body or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError):
                return "BAD_REQUEST_BODY", f"{operation.key}: the body is not JSON"
            root = {**schema, "components": {"schemas": api.schemas}}
            failure = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(root).iter_errors(document))
            if failure is not None:
                where = "/".join(str(p) for p in failure.absolute_path) or "the body"
                return "BAD_REQUEST_BODY", f"{operation.key}: {where}: {failure.message} (the model for {content_type})"
    return None


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


def access_log(stage: Stage, request: Request, target: _Target, result: Result, request_id: str) -> str:
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

    def value(match: re.Match[str]) -> str:
        found = values.get(match[1], "-")
        return json.dumps(found)[1:-1] if stage.access_log_format.lstrip().startswith("{") else found

    return _VARIABLE.sub(value, stage.access_log_format)
