"""An API's operations and gateway responses, from its OpenAPI body or its classic resources.

The body's API Gateway extensions ("Working with API Gateway extensions to OpenAPI"):
`x-amazon-apigateway-integration`, `-authorizer`, `-authtype`, `-any-method`, `-request-validator(s)`,
`-gateway-responses`; `securitySchemes` name the authorizers and `security` picks them per method.
Classic resources: `Resource` (path parts under the API's root resource), `Method`, `Integration`,
`Authorizer`, `RequestValidator`, `Model`, linked by the ids the update-mode plan holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from secure_api_policies import tokens as t

from ..plan.harness import PlannedResource
from .resources import Api, Authorizer, GatewayResponse, Operation

MODEL = "aws:apigateway/model:Model"
REQUEST_VALIDATOR = "aws:apigateway/requestValidator:RequestValidator"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_ANY = "x-amazon-apigateway-any-method"


def parse_json(value: Any) -> Any:
    """A JSON text input as its value (None when it is not JSON); other values unchanged."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def header_values(parameters: Mapping[str, str], prefix: str) -> dict[str, str]:
    """`{prefix}Name: "'value'"` -> `{Name: value}`; mapped (non-literal) values are left out."""
    return {
        key[len(prefix) :]: value[1:-1]
        for key, value in parameters.items()
        if key.startswith(prefix) and isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'"
    }


_DEFAULT_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 500,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}


def default_status(response_type: str) -> int:
    """The status of a gateway response type ("Gateway response types for API Gateway")."""
    return _DEFAULT_STATUS.get(response_type, 400 if response_type.endswith("4XX") else 500)


def body_responses(body: Mapping[str, Any]) -> dict[str, GatewayResponse]:
    found = {}
    for kind, spec in (body.get("x-amazon-apigateway-gateway-responses") or {}).items():
        found[kind] = GatewayResponse(
            int(spec.get("statusCode") or default_status(kind)),
            header_values(spec.get("responseParameters") or {}, "gatewayresponse.header."),
            (spec.get("responseTemplates") or {}).get("application/json", ""),
        )
    return found


def _body_authorizers(body: Mapping[str, Any]) -> dict[str, Authorizer | str]:
    """Security scheme name -> Authorizer, or the auth type (`AWS_IAM`, `API_KEY`) it stands for."""
    schemes = (body.get("components") or {}).get("securitySchemes") or body.get("securityDefinitions") or {}
    found: dict[str, Authorizer | str] = {}
    for name, scheme in schemes.items():
        auth_type = str(scheme.get("x-amazon-apigateway-authtype") or "").lower()
        spec = scheme.get("x-amazon-apigateway-authorizer") or {}
        header = str(scheme.get("name") or "Authorization").lower()
        if auth_type == "awssigv4":
            found[name] = "AWS_IAM"
        elif spec:
            kind = str(spec.get("type") or "token").upper()
            uri = str(spec.get("authorizerUri") or "")
            identity = str(spec.get("identitySource") or "")
            headers = tuple(
                part.strip().removeprefix("method.request.header.").lower()
                for part in identity.split(",")
                if part.strip().startswith("method.request.header.")
            ) or (header,)
            found[name] = Authorizer(
                name=name,
                type="COGNITO_USER_POOLS" if kind == "COGNITO_USER_POOLS" else kind,
                identity_sources=headers,
                provider_arns=tuple(spec.get("providerARNs") or ()),
                function_arn=_function_of_uri(uri),
                ttl_seconds=int(spec.get("authorizerResultTtlInSeconds", 300)),
                validation_expression=str(spec.get("identityValidationExpression") or ""),
            )
        elif scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            found[name] = "API_KEY"
    return found


def _function_of_uri(uri: str) -> str:
    """`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations` -> the ARN."""
    match = re.search(r"/functions/(arn:[^/]+)/invocations", uri)
    return match[1] if match else ""


def body_operations(body: Mapping[str, Any], source: str) -> list[Operation]:
    schemes = _body_authorizers(body)
    validators = body.get("x-amazon-apigateway-request-validators") or {}
    default_validator = body.get("x-amazon-apigateway-request-validator")
    operations = []
    for path, item in (body.get("paths") or {}).items():
        shared = item.get("parameters") or []
        for verb, spec in item.items():
            if verb not in _METHODS and verb != _ANY:
                continue
            method = "ANY" if verb == _ANY else verb.upper()
            requirements = spec.get("security", body.get("security") or [])
            authorization, authorizer, scopes, keyed = "NONE", None, (), False
            for requirement in requirements[:1]:
                for name, listed in requirement.items():
                    kind = schemes.get(name)
                    if kind == "API_KEY":
                        keyed = True
                    elif kind == "AWS_IAM":
                        authorization = "AWS_IAM"
                    elif isinstance(kind, Authorizer):
                        authorizer = kind
                        authorization = "COGNITO_USER_POOLS" if kind.type == "COGNITO_USER_POOLS" else "CUSTOM"
                        scopes = tuple(listed or ())
            validator = validators.get(spec.get("x-amazon-apigateway-request-validator", default_validator)) or {}
            content = (spec.get("requestBody") or {}).get("content") or {}
            parameters = [*shared, *(spec.get("parameters") or [])]
            operations.append(
                Operation(
                    method=method,
                    path=path,
                    authorization=authorization,
                    authorizer=authorizer,
                    scopes=scopes,
                    api_key_required=keyed,
                    validate_body=bool(validator.get("validateRequestBody")),
                    validate_parameters=bool(validator.get("validateRequestParameters")),
                    models={kind: media.get("schema") or {} for kind, media in content.items()},
                    required_parameters=tuple(
                        ({"query": "querystring"}.get(p.get("in"), p.get("in")), str(p.get("name")))
                        for p in parameters
                        if p.get("required") and p.get("in") in ("header", "query", "path")
                    ),
                    integration=_integration(spec.get("x-amazon-apigateway-integration") or {}),
                    source=f"the OpenAPI body of {source}",
                )
            )
    return operations


def _integration(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": str(spec.get("type") or "mock").lower(),
        "uri": str(spec.get("uri") or ""),
        "requestTemplates": spec.get("requestTemplates") or {},
        "responses": spec.get("responses") or {},
    }


def classic_operations(api: Api, by_type: dict[str, list[PlannedResource]]) -> list[Operation]:
    """Operations of `Resource`/`Method`/`Integration` resources (a raw program without a body)."""
    resources = {r.outputs["id"]: r for r in by_type.get(t.RESOURCE, []) if r.inputs.get("restApi") == api.id}
    root = api.resource.outputs.get("rootResourceId")

    def path_of(resource_id: str) -> str:
        parts = []
        while resource_id in resources:
            resource = resources[resource_id]
            parts.append(str(resource.inputs.get("pathPart")))
            resource_id = str(resource.inputs.get("parentId"))
        return "/" + "/".join(reversed(parts)) if resource_id == root or not parts else "/?" + "/".join(parts)

    authorizers = {
        r.outputs["id"]: Authorizer(
            name=str(r.inputs.get("name") or r.name),
            type=str(r.inputs.get("type") or "TOKEN").upper(),
            identity_sources=tuple(
                part.strip().removeprefix("method.request.header.").lower()
                for part in str(r.inputs.get("identitySource") or "method.request.header.Authorization").split(",")
            ),
            provider_arns=tuple(r.inputs.get("providerArns") or ()),
            function_arn=_function_of_uri(str(r.inputs.get("authorizerUri") or "")),
            ttl_seconds=int(r.inputs.get("authorizerResultTtlInSeconds", 300)),
            validation_expression=str(r.inputs.get("identityValidationExpression") or ""),
        )
        for r in by_type.get(t.AUTHORIZER, [])
        if r.inputs.get("restApi") == api.id
    }
    validators = {
        r.outputs["id"]: r.inputs for r in by_type.get(REQUEST_VALIDATOR, []) if r.inputs.get("restApi") == api.id
    }
    models = {
        str(r.inputs.get("name")): parse_json(r.inputs.get("schema")) or {}
        for r in by_type.get(MODEL, [])
        if r.inputs.get("restApi") == api.id
    }
    integrations = {
        (i.inputs.get("resourceId"), str(i.inputs.get("httpMethod")).upper()): i
        for i in by_type.get(t.INTEGRATION, [])
        if i.inputs.get("restApi") == api.id
    }
    operations = []
    for method in by_type.get(t.METHOD, []):
        ins = method.inputs
        if ins.get("restApi") != api.id:
            continue
        verb = str(ins.get("httpMethod")).upper()
        integration = integrations.get((ins.get("resourceId"), verb))
        validator = validators.get(ins.get("requestValidatorId")) or {}
        required = tuple(
            (kind, name)
            for key, flag in (ins.get("requestParameters") or {}).items()
            if flag and (m := re.fullmatch(r"method\.request\.(header|querystring|path)\.(.+)", key))
            for kind, name in [(m[1], m[2])]
        )
        operations.append(
            Operation(
                method=verb,
                path=path_of(str(ins.get("resourceId"))),
                authorization=str(ins.get("authorization") or "NONE").upper(),
                authorizer=authorizers.get(ins.get("authorizerId")),
                scopes=tuple(ins.get("authorizationScopes") or ()),
                api_key_required=bool(ins.get("apiKeyRequired")),
                validate_body=bool(validator.get("validateRequestBody")),
                validate_parameters=bool(validator.get("validateRequestParameters")),
                models={kind: models.get(name, {}) for kind, name in (ins.get("requestModels") or {}).items()},
                required_parameters=required,
                integration=_integration(
                    {
                        "type": (integration.inputs.get("type") if integration else None) or "mock",
                        "uri": integration.inputs.get("uri") if integration else "",
                        "requestTemplates": integration.inputs.get("requestTemplates") if integration else {},
                    }
                )
                if integration
                else {"type": "none", "uri": "", "requestTemplates": {}, "responses": {}},
                source=f"Method {method.name}",
            )
        )
    return operations
