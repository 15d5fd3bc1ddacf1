"""Request cases for `secure-api requests`: a YAML or JSON list, checked against a JSON Schema.

Shape of one case (camelCase, as in stack files):

    - name: anonymous caller from outside
      at: 12.5                 # optional: seconds on the model's clock (default: one second after the last case)
      repeat: 3                # optional: send it this many times at once; the last answer is checked
      request:
        method: GET
        path: /v1/orders       # what the client sends to the host `via` names
        via: domain            # domain | stage | execute-api (default stage)
        host: orders.example.com   # optional: which domain or API, when the stack has several
        sourceIp: 203.0.113.9
        vpcEndpoint: vpce-0123456789abcdef0
        country: DE
        headers: {Origin: https://app.example.com}
        query: {limit: "10"}
        body: {items: []}      # a string, or JSON written as YAML; or bodyFile: path (relative to this file)
        clientCertificate: valid   # none | valid | expired | untrusted (the certificate's state, stated)
        # clientCertificateFile: client.pem   # or a real PEM chain (leaf first), verified against the truststore
        apiKey: partner-acme   # a configured key's name, or `invalid`
        caller:                # one of:
          cognito: {client: web, tokenUse: access, scopes: [...], expired: false}
          # iam: {account: "123456789012", identityPolicyAllows: true, arn: ..., organization: o-...,
          #       identityPolicy: {Statement: [...]}}  # evaluated instead of identityPolicyAllows
          # lambdaAuthorizer: {effect: Allow, context: {...}, policy: {...}}  # policy: the returned document
      expect: {status: 403, layer: resource-policy, headers: {Access-Control-Allow-Origin: https://app.example.com}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .request import LAYERS, CognitoCaller, IamCaller, LambdaAnswer, Request, Result

_STRINGS = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
_POLICY = {
    "type": "object",
    "required": ["Statement"],
    "properties": {"Version": {"type": "string"}, "Statement": {"type": ["array", "object"]}},
}
"""An IAM policy document (IAM User Guide, "IAM JSON policy element reference")."""
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name", "request"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "at": {"type": "number", "minimum": 0},
            "repeat": {"type": "integer", "minimum": 1, "maximum": 100_000},
            "request": {
                "type": "object",
                "required": ["method", "path"],
                "additionalProperties": False,
                "properties": {
                    "method": {"enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]},
                    "path": {"type": "string", "pattern": "^/"},
                    "via": {"enum": ["domain", "stage", "execute-api"]},
                    "host": {"type": "string"},
                    "sourceIp": {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
                    "vpcEndpoint": {"type": "string", "pattern": "^vpce-[0-9a-f]+$"},
                    "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "headers": _STRINGS,
                    "query": _STRINGS,
                    "body": {},
                    "bodyFile": {"type": "string"},
                    "clientCertificate": {"enum": ["none", "valid", "expired", "untrusted"]},
                    "clientCertificateFile": {"type": "string", "minLength": 1},
                    "apiKey": {"type": "string", "minLength": 1},
                    "caller": {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": 1,
                        "additionalProperties": False,
                        "properties": {
                            "cognito": {
                                "type": "object",
                                "required": ["client"],
                                "additionalProperties": False,
                                "properties": {
                                    "client": {"type": "string"},
                                    "tokenUse": {"enum": ["access", "id"]},
                                    "scopes": {"type": "array", "items": {"type": "string"}},
                                    "expired": {"type": "boolean"},
                                },
                            },
                            "iam": {
                                "type": "object",
                                "required": ["account"],
                                "additionalProperties": False,
                                "properties": {
                                    "account": {"type": "string", "pattern": "^[0-9]{12}$"},
                                    "identityPolicyAllows": {"type": "boolean"},
                                    "arn": {"type": "string", "pattern": "^arn:"},
                                    "organization": {"type": "string", "pattern": "^o-[a-z0-9]{10,32}$"},
                                    "identityPolicy": _POLICY,
                                },
                            },
                            "lambdaAuthorizer": {
                                "type": "object",
                                "required": ["effect"],
                                "additionalProperties": False,
                                "properties": {
                                    "effect": {"enum": ["Allow", "Deny", "Unauthorized"]},
                                    "context": _STRINGS,
                                    "policy": _POLICY,
                                },
                            },
                        },
                    },
                },
                "allOf": [
                    {"not": {"required": ["body", "bodyFile"]}},
                    {"not": {"required": ["clientCertificate", "clientCertificateFile"]}},
                ],
            },
            "expect": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "status": {"type": "integer", "minimum": 0, "maximum": 599},
                    "layer": {"enum": list(LAYERS)},
                    "headers": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                },
            },
        },
    },
}


class CaseFileError(Exception):
    """The case file cannot be used; the message names the file and the key at fault."""


@dataclass(frozen=True)
class Expect:
    status: int | None = None
    layer: str | None = None
    headers: dict[str, str | None] = field(default_factory=dict)
    """Header -> value; None means the header must be absent."""


@dataclass(frozen=True)
class Case:
    name: str
    request: Request
    at: float | None = None
    repeat: int = 1
    expect: Expect | None = None


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "the document"


def load_cases(path: Path) -> list[Case]:
    """The cases of `path` (YAML or JSON); CaseFileError naming every key at fault."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise CaseFileError(f"cannot read the case file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise CaseFileError(f"{path} is not YAML or JSON: {error}") from None
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"  {_key_path(e)}: {_message(e)}" for e in errors]
        raise CaseFileError(f"{path}: {len(errors)} problem(s):\n" + "\n".join(lines))
    names = [case["name"] for case in document]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise CaseFileError(f"{path}: case names must be unique; repeated: {', '.join(duplicates)}")
    return [_case(item, path.parent) for item in document]


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "not":
        first, second = error.validator_value["required"]
        return f"give {first} or {second}, not both"
    if error.validator == "additionalProperties":
        return f"{error.message}; allowed: {', '.join(sorted(error.schema.get('properties', {})))}"
    return error.message


def _certificate(spec: dict[str, Any], folder: Path) -> str:
    if "clientCertificateFile" not in spec:
        return ""
    file = folder / spec["clientCertificateFile"]
    try:
        return file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) else "not PEM text"
        raise CaseFileError(f"request.clientCertificateFile {spec['clientCertificateFile']}: {file}: {why}") from None


def _body(spec: dict[str, Any], folder: Path) -> bytes:
    if "bodyFile" in spec:
        file = folder / spec["bodyFile"]
        try:
            return file.read_bytes()
        except OSError as error:
            raise CaseFileError(f"request.bodyFile {spec['bodyFile']}: cannot read {file}: {error.strerror}") from None
    body = spec.get("body")
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def _case(item: dict[str, Any], folder: Path) -> Case:
    spec = item["request"]
    caller_spec = spec.get("caller") or {}
    caller = None
    if "cognito" in caller_spec:
        c = caller_spec["cognito"]
        caller = CognitoCaller(
            c["client"],
            c.get("tokenUse", "access"),
            tuple(c["scopes"]) if "scopes" in c else None,
            bool(c.get("expired", False)),
        )
    elif "iam" in caller_spec:
        c = caller_spec["iam"]
        caller = IamCaller(
            c["account"],
            c.get("identityPolicyAllows", True),
            c.get("arn", ""),
            c.get("organization", ""),
            json.dumps(c["identityPolicy"]) if "identityPolicy" in c else "",
        )
    elif "lambdaAuthorizer" in caller_spec:
        c = caller_spec["lambdaAuthorizer"]
        caller = LambdaAnswer(c["effect"], {k: str(v) for k, v in (c.get("context") or {}).items()}, c.get("policy"))
    request = Request(
        method=spec["method"],
        path=spec["path"],
        via=spec.get("via", "stage"),
        host=spec.get("host", ""),
        source_ip=spec.get("sourceIp", Request.source_ip),
        vpc_endpoint=spec.get("vpcEndpoint", ""),
        country=spec.get("country"),
        headers={k: str(v) for k, v in (spec.get("headers") or {}).items()},
        query={k: str(v) for k, v in (spec.get("query") or {}).items()},
        body=_body(spec, folder),
        client_certificate=spec.get("clientCertificate", "valid"),
        client_certificate_pem=_certificate(spec, folder),
        caller=caller,
        api_key=spec.get("apiKey", ""),
    )
    expect = item.get("expect")
    return Case(
        name=item["name"],
        request=request,
        at=item.get("at"),
        repeat=item.get("repeat", 1),
        expect=Expect(expect.get("status"), expect.get("layer"), dict(expect.get("headers") or {})) if expect else None,
    )


def mismatches(expect: Expect | None, result: Result) -> list[str]:
    """What differs from the expectation (empty: it holds)."""
    if expect is None:
        return []
    found = []
    if expect.status is not None and result.status != expect.status:
        found.append(f"status {result.status}, expected {expect.status}")
    if expect.layer is not None and result.layer != expect.layer:
        found.append(f"layer {result.layer}, expected {expect.layer}")
    lowered = {k.lower(): v for k, v in result.headers.items()}
    for header, value in expect.headers.items():
        got = lowered.get(header.lower())
        if got != value:
            found.append(f"header {header}: {got!r}, expected {value!r}")
    return found
