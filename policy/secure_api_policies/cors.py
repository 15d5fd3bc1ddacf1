"""CORS layer: which origins a REST API's own answers let browsers read.

`Access-Control-Allow-Origin` is set by gateway responses (in an OpenAPI body or as
`aws.apigateway.Response` resources) and by integration responses. A fixed `'*'` lets any site
read the answer; a mapping from a request header (`method.request.header.Origin`) echoes any
site's origin, which is the same. With `Access-Control-Allow-Credentials: 'true'` that hands the
signed-in user's answers to any site (browsers refuse a literal `*` with credentials, but not an
echo). Source: the Fetch standard's CORS protocol, https://fetch.spec.whatwg.org/#http-cors-protocol.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import tokens as t
from .graph import StackView, label
from .model import Config, Outcome, ResourceCheck, StackCheck, Undecided, Violation
from .openapi import cors_answers, has_authorizers
from .values import UNKNOWN, parse_document, peek, plain

ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"


def _header(parameters: Mapping[str, Any], name: str) -> Any:
    """The value mapped to header `name` (any `*.header.` prefix, any case), or None."""
    for key, value in parameters.items():
        if str(key).lower().endswith(f".header.{name}"):
            return value
    return None


def any_origin(parameters: Mapping[str, Any]) -> bool:
    """`'*'`, or an origin copied from the request (not a quoted literal), which admits any site."""
    origin = _header(parameters, ALLOW_ORIGIN)
    if not isinstance(origin, str):
        return False
    text = origin.strip()
    return text.strip("'").strip() == "*" or not (text.startswith("'") and text.endswith("'"))


def with_credentials(parameters: Mapping[str, Any]) -> bool:
    value = _header(parameters, ALLOW_CREDENTIALS)
    return isinstance(value, str) and value.strip().strip("'").strip().lower() == "true"


def _describe(parameters: Mapping[str, Any]) -> str:
    origin = str(_header(parameters, ALLOW_ORIGIN)).strip()
    return "Access-Control-Allow-Origin '*'" if origin.strip("'") == "*" else f"an echoed origin ({origin})"


def _credential_problems(answers: Iterator[tuple[str, Mapping[str, Any]]]) -> Iterator[Outcome]:
    for where, parameters in answers:
        if any_origin(parameters) and with_credentials(parameters):
            yield Violation(f"{where} sends {_describe(parameters)} with Access-Control-Allow-Credentials: true")


def body_credentials(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    yield from _credential_problems(cors_answers(parse_document(props.get("body"))))


def response_credentials(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """An `aws.apigateway.Response`; reading an unknown header value makes the rule undecided."""
    parameters = props.get("responseParameters") or {}
    yield from _credential_problems(iter([(f"gateway response {props.get('responseType')}", parameters)]))


def _authorized_apis(view: StackView) -> tuple[set[str], bool]:
    """URNs of REST APIs that have an authorizer (in their body or as a resource); False if one is undecided."""
    urns = set()
    decided = True
    for api in view.of_type(t.REST_API):
        body = peek(api.props, "body")
        if body is UNKNOWN:
            decided = False
        elif has_authorizers(parse_document(body)):
            urns.add(api.urn)
    for authorizer in view.of_type(t.AUTHORIZER):
        link = view.link(authorizer, "restApi", {t.REST_API}, keys=("id",))
        decided = decided and link.decided
        urns.update(api.urn for api in link.targets)
    return urns, decided


def wildcard_with_authorizers(view: StackView, _config: Config) -> Iterator[Outcome]:
    """Answers any site may read, on an API whose callers authenticate."""
    authorized, decided = _authorized_apis(view)
    for api in view.of_type(t.REST_API):
        body = peek(api.props, "body")
        if body is UNKNOWN:
            yield Undecided(f"{label(api)}: its OpenAPI body is unknown")
            continue
        wild = [where for where, parameters in cors_answers(parse_document(body)) if any_origin(parameters)]
        if wild and api.urn in authorized:
            yield Violation(f"API {api.name} has authorizers but lets any origin read: {', '.join(wild)}", api.urn)
    for response in view.of_type(t.GATEWAY_RESPONSE):
        parameters = plain(peek(response.props, "responseParameters"))
        if parameters is UNKNOWN or (isinstance(parameters, Mapping) and _header(parameters, ALLOW_ORIGIN) is UNKNOWN):
            yield Undecided(f"{label(response)}: its Access-Control-Allow-Origin is unknown")
            continue
        if not isinstance(parameters, Mapping) or not any_origin(parameters):
            continue
        link = view.link(response, "restApiId", {t.REST_API}, keys=("id",))
        if not (link.decided and decided):
            yield Undecided(f"{label(response)}: whether its API has authorizers is unknown")
        elif any(api.urn in authorized for api in link.targets):
            yield Violation(
                f"gateway response {response.name} lets any origin read an API that has authorizers", response.urn
            )


CHECKS = {
    "cors-credentials-exact-origin": ResourceCheck(
        {t.REST_API: body_credentials, t.GATEWAY_RESPONSE: response_credentials}
    ),
    "cors-no-wildcard-with-authorizers": StackCheck(
        frozenset({t.REST_API, t.GATEWAY_RESPONSE, t.AUTHORIZER}), wildcard_with_authorizers
    ),
}
