"""Config error messages in the stack file's words.

Every key of every section is given a value of the wrong kind, and the message at its key path
must say what is allowed with an example, without the validation library's wording or a bare
regular expression. Keys are camelCase only; an unquoted account id gets a hint to quote it.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from secure_api.component.config import ConfigError, parse_config
from secure_api.component.config.stack import StackConfig
from secure_api.plan.offline import StackFileLoader

# Phrases of pydantic's own messages, and what a bare regular expression looks like.
LIBRARY_WORDING = re.compile(
    r"Input should|valid (tuple|list|dictionary|string|integer|number|boolean)|instance of|String should|"
    r"Field required|Extra inputs|should have at (least|most)|after validation|discriminator|Input tag|"
    r"Value error|pattern|\^|\$|\[A-Z|\{0,|\\d"
)
ROUTE = {"path": "/items", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}
NETWORK = {"allowedSourceCidrs": ["203.0.113.0/24"]}


def problems_of(config: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(config)
    return {path.removeprefix("secure-api:"): message for path, message in raised.value.problems}


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        return [m for a in typing.get_args(annotation) for m in _models(a)]
    return []


def _wrong(annotation: Any) -> Any:
    """A value of the wrong kind for `annotation`."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _wrong(args[0])
    if annotation is str:
        return ["not", "text"]
    if annotation in (int, float):
        return "many"
    if annotation is bool:
        return "maybe"
    if typing.get_origin(annotation) is typing.Literal:
        return "NO-SUCH-VALUE"
    return 5  # a number where a list, a mapping or a section belongs


def wrong_values(model: type[BaseModel], prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple, Any]]:
    """(key path, wrong value) for every key of `model`, its entries and nested sections."""
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = (*prefix, key)
        annotation = field.annotation
        yield path, _wrong(annotation)
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin is tuple:
            item = inner[0]
            if _models(item):
                for member in _models(item):
                    yield from wrong_values(member, (*path, 0, *_tag(member)))
            else:
                yield (*path, 0), _wrong(item)
        elif origin is dict:
            value = inner[1]
            if _models(value):
                yield from wrong_values(_models(value)[0], (*path, "SomeName"))
            else:
                yield (*path, "some-key"), _wrong(value)
        else:
            for member in _models(annotation):
                yield from wrong_values(member, (*path, *_tag(member)))


def _tag(model: type[BaseModel]) -> tuple[str, ...]:
    field = model.model_fields.get("type")
    tags = typing.get_args(field.annotation) if field else ()
    return (f"type={tags[0]}",) if len(tags) == 1 else ()


def config_with(path: tuple, value: Any) -> tuple[dict[str, Any], str]:
    """A config holding `value` at `path` (lists hold one entry), and the key path a message names."""
    config: dict[str, Any] = {}
    node: Any = config
    shown = ""
    for index, part in enumerate(path):
        if isinstance(part, str) and part.startswith("type="):
            node["type"] = part.removeprefix("type=")
            continue
        last = index == len(path) - 1
        child: Any = value if last else ([] if isinstance(path[index + 1], int) else {})
        if isinstance(part, int):
            node.append(child)
            shown += f"[{part}]"
        else:
            node[part] = child
            shown += f".{part}" if shown else part
        node = child
    return config, shown


CASES = list(wrong_values(StackConfig))


@pytest.mark.parametrize(("path", "value"), CASES, ids=["/".join(map(str, p)) for p, _ in CASES])
def test_every_key_says_what_it_allows_with_an_example(path: tuple, value: Any) -> None:
    config, shown = config_with(path, value)
    if path[-1] == "type" and str(path[-2]).startswith("type="):
        shown = shown.removesuffix(".type")  # a wrong tag is reported on the section it selects
    problems = problems_of(config)
    assert shown in problems, problems
    message = problems[shown]
    assert "e.g." in message or "allowed here:" in message, message
    assert not LIBRARY_WORDING.search(message), message


BAD_INPUTS = [
    # (config, key path, words the message must contain)
    ({"api": "orders"}, "api", "a mapping with the keys name, physicalNamePrefix, description, stageName"),
    ({"routes": {"path": "/x"}}, "routes", "must be a list of mappings"),
    ({"api": {"name": "orders api"}}, "api.name", "starting with a letter or digit, e.g. orders-api; got 'orders api'"),
    ({"api": {"stageName": "v 1"}}, "api.stageName", "1 to 48 letters"),
    ({"api": {"endpointType": "EDGE"}}, "api.endpointType", "one of REGIONAL, PRIVATE, e.g. REGIONAL; got 'EDGE'"),
    ({"cognito": {"passwordPolicy": {"minimumLength": 8}}}, "cognito.passwordPolicy.minimumLength", "from 12 to 99"),
    ({"cognito": {"domainPrefix": "Orders"}}, "cognito.domainPrefix", "lowercase letters, digits or -"),
    ({"domain": {"domainName": "api.example.com", "basePath": "/v1"}}, "domain.basePath", "no leading or trailing /"),
    ({"domain": {"domainName": "api.example.com", "hostedZoneId": "z1"}}, "domain.hostedZoneId", "Route 53"),
    ({"waf": {"geo": {"mode": "block", "countries": []}}}, "waf.geo.countries", "at least 1 entry"),
    ({"waf": {"rateLimit": 500}}, "waf.rateLimit", "e.g. {limit: 1000, evaluationWindowSeconds: 300, mode: BLOCK}"),
    ({"usagePlans": [{"name": "gold", "throttle": {"rateLimit": 1}}]}, "usagePlans[0].throttle.burstLimit", "required"),
    ({"routes": [{**ROUTE, "integration": {"type": "sqs"}}]}, "routes[0].integration", "one of http, lambda, mock"),
    ({"routes": [{**ROUTE, "integration": {"type": "http"}}]}, "routes[0].integration.url", "e.g. https://"),
    ({"lambdaAuthorizer": {"algorithms": ["HS256"]}}, "lambdaAuthorizer.algorithms[0]", "one of RS256"),
    ({"lambdaAuthorizer": {"identityHeader": "X Token"}}, "lambdaAuthorizer.identityHeader", "HTTP header name"),
]


@pytest.mark.parametrize(("config", "path", "words"), BAD_INPUTS, ids=[case[1] for case in BAD_INPUTS])
def test_representative_bad_inputs_read_in_words(config: dict[str, Any], path: str, words: str) -> None:
    problems = problems_of({"routes": [ROUTE], "network": NETWORK, **config})
    assert words in problems[path]
    for message in problems.values():
        assert not LIBRARY_WORDING.search(message), message


# --- item 13: one spelling of every key, and account ids that must be quoted -----------------------


@pytest.mark.parametrize(
    ("config", "path", "camel"),
    [
        ({"lambda_authorizer": {}}, "lambda_authorizer", "lambdaAuthorizer"),
        ({"api": {"stage_name": "v2"}}, "api.stage_name", "stageName"),
        ({"routes": [{**ROUTE, "api_key_required": True}]}, "routes[0].api_key_required", "apiKeyRequired"),
        ({"waf": {"rate_limit": {"limit": 100}}}, "waf.rate_limit", "rateLimit"),
    ],
)
def test_snake_case_keys_are_refused_naming_the_camel_case_key(config: dict[str, Any], path: str, camel: str) -> None:
    problems = problems_of({"routes": [ROUTE], "network": NETWORK, **config})
    assert problems[path].startswith(f"stack files take camelCase keys only: write {camel} instead of")


def test_with_both_spellings_the_snake_case_one_is_the_error() -> None:
    problems = problems_of({"routes": [ROUTE], "network": NETWORK, "api": {"stageName": "v1", "stage_name": "v2"}})
    assert list(problems) == ["api.stage_name"]


@pytest.mark.parametrize(
    ("written", "read_as", "zeros_gone"),
    [
        ("123456789012", 123456789012, False),  # an int
        ("012345678901", 12345678901.0, True),  # the Pulumi CLI's YAML reader makes it a float (so does the plan's)
        ("012345670123", yaml.load("012345670123", Loader=StackFileLoader), True),  # octal digits only: octal
    ],
)
def test_an_unquoted_account_id_is_told_to_be_quoted(written: str, read_as: float, zeros_gone: bool) -> None:
    assert (len(str(int(read_as))) < len(written)) == zeros_gone
    problems = problems_of({"routes": [ROUTE], "network": {**NETWORK, "allowedAccounts": [read_as]}})
    message = problems["network.allowedAccounts"]
    assert message.startswith(f"YAML read an unquoted account id as the number {int(read_as)}")
    assert "Quote account ids exactly as written" in message
    assert ("leading zeros are gone" in message) == zeros_gone


@pytest.mark.parametrize(
    ("written", "read_as"),
    [("012345678901", 12345678901.0), ("123456789012", 123456789012), ("'012345678901'", "012345678901")],
)
def test_the_plan_reads_unquoted_numbers_as_the_pulumi_cli_does(written: str, read_as: object) -> None:
    value = yaml.load(f"id: {written}", Loader=StackFileLoader)["id"]
    assert (value, type(value)) == (read_as, type(read_as))


def test_quoted_account_ids_are_read_as_written() -> None:
    config = parse_config({"routes": [ROUTE], "network": {**NETWORK, "allowedAccounts": ["012345678901"]}})
    assert config.network.allowed_accounts == ("012345678901",)


def _custom(path: str, **extra: object) -> dict[str, object]:
    return {
        "path": path,
        "method": "GET",
        "auth": "custom",
        "integration": {"type": "http", "url": "https://backend.example.com/x"},
        **extra,
    }


def test_cached_lambda_authorizer_policies_that_would_deny_another_route_are_refused_naming_both() -> None:
    """The issuer-wide cached policy's `Deny GET/orders/*` would cover `GET /orders/public` (fewer requirements)."""
    values = {
        "routes": [
            _custom("/orders/{orderId}", authorizerRequirements={"scopes": ["orders/read"]}),
            _custom("/orders/public"),
        ],
        "lambdaAuthorizer": {
            "issuers": [{"issuer": "https://idp.example.com", "audiences": ["orders"]}],
            "useComponentUserPool": False,
        },
        "network": {"acceptPublicApi": True},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(values)
    problems = dict(caught.value.problems)
    message = problems["secure-api:routes[0].authorizerRequirements"]
    assert "routes[1] (GET /orders/public)" in message
    assert "lambdaAuthorizer.resultTtlSeconds: 0" in message

    values["lambdaAuthorizer"]["resultTtlSeconds"] = 0  # type: ignore[index]
    assert parse_config(values).lambda_authorizer.result_ttl_seconds == 0


def test_waf_country_codes_are_botocores_wafv2_enum() -> None:
    botocore = pytest.importorskip("botocore.session", reason="botocore comes with moto in requirements-dev.txt")
    from secure_api.component.config.waf import ISO_COUNTRY_CODES

    model = botocore.get_session().get_service_model("wafv2")
    assert set(model.shape_for("CountryCode").enum) == ISO_COUNTRY_CODES


def test_header_names_over_wafs_64_characters_are_refused_with_the_limit() -> None:
    route = {"path": "/x", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}
    long_name = "x-" + "a" * 63
    with pytest.raises(ConfigError) as caught:
        parse_config({"routes": [route], "waf": {"redactHeaders": [long_name]}, "network": {"acceptPublicApi": True}})
    (message,) = [m for key, m in caught.value.problems if key.endswith("waf.redactHeaders")]
    assert "at most 64 characters" in message
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                "routes": [route],
                "lambdaAuthorizer": {"identityHeader": "X-" + "A" * 63},
                "network": {"acceptPublicApi": True},
            }
        )
    assert any(key.endswith("lambdaAuthorizer.identityHeader") for key, _ in caught.value.problems)
