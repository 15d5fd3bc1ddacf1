"""Network layer: who may call the API at all, decided by its resource policy.

A REGIONAL or EDGE REST API without any resource policy (no `policy` argument, no
`x-amazon-apigateway-policy` in its body, no `RestApiPolicy` attached) takes calls from any
address, like an open `Allow` does: only its methods' authorization then decides who gets in
(API Gateway developer guide, "How API Gateway resource policies affect authorization workflow";
a resource policy is optional for edge-optimized and Regional APIs and required for private ones,
"Create and attach an API Gateway resource policy to an API").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from . import tokens as t
from .apis import body_extension, endpoint_types
from .graph import StackView, label
from .iam import full_access_allows, open_allows, restricted_to_vpc
from .model import Config, Outcome, ResourceCheck, StackCheck, Undecided, Violation, each_resource, on_resource
from .values import UNKNOWN, parse_document, peek


def _open_allow_violations(document: Any, where: str) -> Iterator[Outcome]:
    if document is UNKNOWN:
        yield Undecided(f"{where} is unknown during preview")
        return
    for statement in open_allows(document):
        sid = statement.get("Sid")
        name = f"statement {sid!r}" if sid else "a statement"
        yield Violation(f"{where}: {name} allows Principal * with no source condition")


def rest_api_open_allow(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    yield from _open_allow_violations(parse_document(props.get("policy")), "policy")
    yield from _open_allow_violations(body_extension(props, "x-amazon-apigateway-policy"), "body policy")


def api_policy_open_allow(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    yield from _open_allow_violations(parse_document(props.get("policy")), "policy")


def _policies_by_api(view: StackView) -> tuple[dict[str, list[Any]], list[str]]:
    """Documents of the `RestApiPolicy` resources per API URN, and the ones whose API is unresolved."""
    documents: dict[str, list[Any]] = {}
    unresolved = []
    for resource in view.of_type(t.REST_API_POLICY):
        link = view.link(resource, "restApiId", {t.REST_API}, keys=("id",))
        if not link.decided:
            unresolved.append(label(resource))
        for api in link.targets:
            documents.setdefault(api.urn, []).append(parse_document(peek(resource.props, "policy")))
    return documents, unresolved


NO_POLICY = "no resource policy: the API takes calls from any address"


def _no_policy(api: PolicyResource, attached: list[Any], unresolved: list[str]) -> Iterator[Outcome]:
    """A REGIONAL or EDGE API with no resource policy at all. An unknown policy or body is
    reported undecided by `rest_api_open_allow`; a RestApiPolicy whose API is unresolved, here."""
    own = (parse_document(peek(api.props, "policy")), body_extension(api.props, "x-amazon-apigateway-policy"))
    if attached or any(document is not None for document in own):
        return
    if unresolved:
        yield Undecided(f"{label(api)}: no own resource policy, and {', '.join(unresolved)} may be attached to it")
        return
    types = endpoint_types(api.props)
    if types is UNKNOWN:
        yield Undecided(f"{label(api)}: no resource policy, and the endpoint type is unknown")
    elif "PRIVATE" not in types:  # a PRIVATE API without a policy is `private-api-vpce-policy`'s finding
        yield Violation(NO_POLICY)


def no_open_allow(view: StackView, config: Config) -> Iterator[Outcome]:
    """Open Allows in every API's and RestApiPolicy's document, and APIs with no policy at all."""
    yield from each_resource({t.REST_API: rest_api_open_allow, t.REST_API_POLICY: api_policy_open_allow}, view, config)
    attached, unresolved = _policies_by_api(view)
    for api in view.of_type(t.REST_API):
        yield from on_resource(api, _no_policy(api, attached.get(api.urn, []), unresolved))


def private_api_vpce(view: StackView, _config: Config) -> Iterator[Outcome]:
    attached, unresolved = _policies_by_api(view)
    for api in view.of_type(t.REST_API):
        types = endpoint_types(api.props)
        if types is UNKNOWN:
            yield Undecided(f"{label(api)}: endpoint type is unknown")
            continue
        if "PRIVATE" not in types:
            continue
        documents = [
            parse_document(peek(api.props, "policy")),
            body_extension(api.props, "x-amazon-apigateway-policy"),
            *attached.get(api.urn, []),
        ]
        if any(document is not UNKNOWN and restricted_to_vpc(document) for document in documents):
            continue
        if any(document is UNKNOWN for document in documents) or unresolved:
            yield Undecided(f"{label(api)}: a resource policy is unknown ({', '.join(unresolved) or 'preview'})")
        elif any(document for document in documents):
            yield Violation("PRIVATE API's resource policy is not conditioned on aws:SourceVpce/aws:SourceVpc", api.urn)
        else:
            yield Violation("PRIVATE API has no resource policy, so no VPC endpoint restriction", api.urn)


def execute_api_private_dns(props: Mapping[str, Any], _config: Config) -> Iterator[Outcome]:
    """An interface endpoint for `com.amazonaws.<region>.execute-api` with private DNS on.

    With it on, the VPC cannot reach public (edge-optimized and Regional) APIs at their default
    `*.execute-api` names (developer guide, "Private REST APIs in API Gateway"). The pack sees the flag,
    not what the VPC calls, so this is a recommendation. pulumi-aws's `privateDnsEnabled` defaults to false.
    """
    kind = _is_execute_api_interface(props)
    if kind is None:
        yield Undecided("the endpoint's service or type is unknown")
        return
    if not kind:
        return
    service, dns = str(peek(props, "serviceName")), peek(props, "privateDnsEnabled")
    if dns is UNKNOWN:
        yield Undecided("privateDnsEnabled is unknown")
    elif dns is True:
        region = service.split(".")[-2] if service.count(".") >= 3 else "<region>"
        yield Violation(
            f"private DNS on: in its VPC every *.execute-api.{region}.amazonaws.com name resolves to this "
            "endpoint, so that VPC can no longer call public (REGIONAL or EDGE) APIs by their default names; "
            "the plan cannot see whether it does"
        )


def _is_execute_api_interface(props: Mapping[str, Any]) -> bool | None:
    """Whether the endpoint is an interface endpoint for execute-api; None while that is unknown."""
    service, kind = peek(props, "serviceName"), peek(props, "vpcEndpointType")
    if service is UNKNOWN or kind is UNKNOWN:
        return None
    return isinstance(service, str) and service.endswith(".execute-api") and kind == "Interface"


def execute_api_endpoint_policy(view: StackView, _config: Config) -> Iterator[Outcome]:
    """Each execute-api interface endpoint the program creates needs an endpoint policy that does not let
    anyone invoke any API: AWS's default one allows full access ("Control access to VPC endpoints using
    endpoint policies", AWS PrivateLink guide), so any principal in the VPC reaches any API of any account.
    The policy is the endpoint's own `policy`, or a `VpcEndpointPolicy` on it (which replaces it)."""
    attached: dict[str, list[Any]] = {}
    unresolved = []
    for resource in view.of_type(t.VPC_ENDPOINT_POLICY):
        link = view.link(resource, "vpcEndpointId", {t.VPC_ENDPOINT}, keys=("id",))
        if not link.decided:
            unresolved.append(label(resource))
        for endpoint in link.targets:
            attached.setdefault(endpoint.urn, []).append(parse_document(peek(resource.props, "policy")))
    for endpoint in view.of_type(t.VPC_ENDPOINT):
        kind = _is_execute_api_interface(endpoint.props)
        if kind is None:
            yield Undecided(f"{label(endpoint)}: the endpoint's service or type is unknown", endpoint.urn)
            continue
        if not kind:
            continue
        documents = attached.get(endpoint.urn) or [parse_document(peek(endpoint.props, "policy"))]
        if any(document is UNKNOWN for document in documents):
            yield Undecided(f"{label(endpoint)}: its endpoint policy is unknown during preview", endpoint.urn)
        elif not any(documents) and unresolved:
            yield Undecided(
                f"{label(endpoint)}: {', '.join(unresolved)} may set its policy (the endpoint id is unknown)",
                endpoint.urn,
            )
        elif not any(documents):
            yield Violation(
                "no endpoint policy: AWS's default allows full access, so any principal in the VPC can invoke any "
                "API of any account through it",
                endpoint.urn,
            )
        else:
            for document in documents:
                for statement in full_access_allows(document):
                    sid = statement.get("Sid")
                    name = f"statement {sid!r}" if sid else "a statement"
                    yield Violation(
                        f"endpoint policy: {name} lets anyone invoke any API (Principal *, every API, no condition)",
                        endpoint.urn,
                    )


CHECKS = {
    "resource-policy-no-open-allow": StackCheck(frozenset({t.REST_API, t.REST_API_POLICY}), no_open_allow),
    "private-api-vpce-policy": StackCheck(frozenset({t.REST_API, t.REST_API_POLICY}), private_api_vpce),
    "execute-api-endpoint-private-dns": ResourceCheck({t.VPC_ENDPOINT: execute_api_private_dns}),
    "execute-api-endpoint-policy": StackCheck(
        frozenset({t.VPC_ENDPOINT, t.VPC_ENDPOINT_POLICY}), execute_api_endpoint_policy
    ),
}
