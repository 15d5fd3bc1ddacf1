"""SecureApiArgs (the schema's inputs) and the pydantic config models cannot drift apart.

Walks both trees in parallel: the same camelCase keys, the same optional keys, the same enum values,
and every description states the default the model applies. Then the args shapes the component
accepts: typed snake_case args, enum members, the stack file's camelCase mapping, and what it
refuses (an Output where it must decide what to create, one key given twice).
"""

import enum
import inspect
import re
import types
import typing
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.analyzer import (
    Analyzer,
    is_input,
    is_not_required,
    unwrap_input,
    unwrap_not_required,
)
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from secure_api import SecureApiArgs, args
from secure_api.component.config import ConfigError, StackConfig, parse_config
from secure_api.component.inputs import INPUT_FIELDS, component_inputs

DESCRIPTIONS = Analyzer("secure-api")
# `routes` has a default in the model only so that "at least one route" is one of the listed problems.
REQUIRED_IN_ARGS_ONLY = {"SecureApiArgs.routes"}


def _unwrap(annotation: Any) -> Any:
    while True:
        if is_not_required(annotation):
            annotation = unwrap_not_required(annotation)
        elif is_input(annotation):
            annotation = unwrap_input(annotation)
        else:
            return annotation


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = tuple(a for a in typing.get_args(annotation) if a is not type(None))
        return members[0] if len(members) == 1 else members
    return annotation


def _models(annotation: Any) -> tuple[type[BaseModel], ...]:
    stripped = _strip_optional(annotation)
    candidates = stripped if isinstance(stripped, tuple) else (stripped,)
    return tuple(c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel))


def _compare(typed: Any, model: Any, where: str, seen: set[str], description: str = "") -> None:
    """Assert that an args annotation and a model annotation describe the same values."""
    typed = _strip_optional(_unwrap(typed))
    model = _strip_optional(model)
    if typing.is_typeddict(typed):
        models = _models(model)
        assert models, f"{where}: {typed.__name__} is an object, the model has {model}"
        _compare_objects(typed, models, where, seen)
    elif isinstance(typed, type) and issubclass(typed, enum.Enum):
        assert typing.get_origin(model) is typing.Literal, f"{where}: enum {typed.__name__} against {model}"
        assert {m.value for m in typed} == set(typing.get_args(model)), f"{where}: {typed.__name__} values differ"
    elif typing.get_origin(typed) is list:
        assert typing.get_origin(model) in (tuple, list), f"{where}: a list against {model}"
        items, model_items = typing.get_args(typed)[0], typing.get_args(model)[0]
        if items is str and typing.get_origin(model_items) is typing.Literal:
            # Construct (pulumi 3.272) turns each item of a list of enums into {}: these lists are typed
            # str, and their description names every allowed value instead.
            assert all(value in description for value in typing.get_args(model_items)), f"{where}: values undocumented"
            return
        _compare(items, model_items, f"{where}[]", seen)
    elif typing.get_origin(typed) is dict:
        assert typing.get_origin(model) is dict, f"{where}: a map against {model}"
        _compare(typing.get_args(typed)[1], typing.get_args(model)[1], f"{where}.*", seen)
    else:
        assert typed == model, f"{where}: {typed} against {model}"


def _compare_objects(typed: type, models: tuple[type[BaseModel], ...], where: str, seen: set[str]) -> None:
    seen.add(typed.__name__)
    annotations = inspect.get_annotations(typed)
    fields: dict[str, list[FieldInfo]] = {}
    for model in models:
        for name, field in model.model_fields.items():
            fields.setdefault(field.alias or name, []).append(field)
    assert {camel_case(k) for k in annotations} == set(fields), f"{where}: keys differ"
    for name, annotation in annotations.items():
        key = camel_case(name)
        path = f"{where}.{key}" if where else key
        infos = fields[key]
        # Required only when every variant of a union requires it.
        optional_in_models = not (len(infos) == len(models) and all(f.is_required() for f in infos))
        optional_in_args = name in typed.__optional_keys__
        if f"{typed.__name__}.{name}" not in REQUIRED_IN_ARGS_ONLY:
            assert optional_in_args == optional_in_models, f"{path}: optional in one tree only"
        if len(models) == 1:
            _check_default(typed, name, infos[0], path)
        model_annotation = infos[0].annotation
        if all(typing.get_origin(f.annotation) is typing.Literal for f in infos):
            # A discriminated union's tag: the variants' tags together form the enum.
            model_annotation = typing.Literal[tuple(v for f in infos for v in typing.get_args(f.annotation))]
        _compare(annotation, model_annotation, path, seen, DESCRIPTIONS.get_docstring(typed, name) or "")


def _check_default(typed: type, name: str, field: FieldInfo, path: str) -> None:
    description = DESCRIPTIONS.get_docstring(typed, name)
    assert description, f"{path}: no description"
    if field.is_required() or f"{typed.__name__}.{name}" in REQUIRED_IN_ARGS_ONLY:
        assert "Default:" not in description, f"{path}: required, yet its description states a default"
        return
    assert "Default:" in description, f"{path}: has a default the description does not state"
    default = field.get_default(call_default_factory=True)
    if default == "":
        assert "Default: empty" in description, f"{path}: default is the empty string"
    elif isinstance(default, bool):
        assert f"Default: `{str(default).lower()}`" in description, f"{path}: default is {default}"
    elif isinstance(default, str | int | float):
        assert f"Default: `{default}`" in description, f"{path}: default is {default!r}"
    elif isinstance(default, tuple) and default and all(isinstance(v, str) for v in default):
        stated = re.findall(r"`([^`]+)`", description.split("Default:", 1)[1])
        assert stated == list(default), f"{path}: default is {default}"


def test_args_and_models_have_the_same_keys_types_enums_and_defaults() -> None:
    seen: set[str] = set()
    _compare_objects(SecureApiArgs, (StackConfig,), "", seen)
    declared = {
        n
        for n, v in vars(args).items()
        if typing.is_typeddict(v) and v.__module__ == args.__name__ and n != "TypedDict"
    }
    assert declared == seen, f"args types no model checks: {declared - seen}"


def test_every_enum_member_is_described() -> None:
    for enum_type in (v for v in vars(args).values() if isinstance(v, type) and issubclass(v, enum.Enum)):
        if enum_type.__module__ != args.__name__:
            continue
        assert enum_type.__doc__
        for member in enum_type.__members__:
            assert DESCRIPTIONS.get_docstring(enum_type, member), f"{enum_type.__name__}.{member}"


def test_output_fields_are_the_resource_references() -> None:
    assert {
        "routes[].integration.functionArn",
        "routes[].integration.url",
        "network.vpcEndpointIds[]",
        "network.vpcEndpoint.vpcId",
        "network.vpcEndpoint.subnetIds[]",
        "network.vpcEndpoint.securityGroupIds[]",
        "network.managedEndpointPolicies[]",
        "domain.certificateArn",
        "domain.ownershipVerificationCertificateArn",
        "domain.hostedZoneId",
        "domain.mutualTls.truststorePem",
        "domain.mutualTls.kmsKeyArn",
        "lambdaAuthorizer.issuers[].issuer",
        "lambdaAuthorizer.issuers[].jwksUrl",
    } == INPUT_FIELDS


STACK_FILE_SHAPE: dict[str, Any] = {
    "api": {"name": "orders", "endpointType": "REGIONAL", "tags": {"cost_center": "42"}},
    "routes": [
        {
            "path": "/orders",
            "method": "GET",
            "auth": "cognito",
            "scopes": ["orders.read"],
            "integration": {"type": "lambda", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders"},
        }
    ],
    "cognito": {
        "mfa": "ON",
        "resourceServer": {
            "identifier": "orders",
            "name": "Orders",
            "scopes": [{"name": "orders.read", "description": "r"}],
        },
        # A client that may request the route's scope: without one every call would be 401 (a config error).
        "appClients": [{"name": "reader", "allowedScopes": ["orders/orders.read"]}],
    },
    "lambdaAuthorizer": {"apiKeySha256": {"a" * 64: "partner"}},
    "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
    "waf": {"managedRuleGroups": {"AWSManagedRulesSQLiRuleSet": {"countRules": ["SQLi_BODY"]}}},
    "observability": {"alarms": {"periodSeconds": 300}},
}


def test_typed_snake_case_args_validate_to_the_stack_file_config() -> None:
    typed: SecureApiArgs = {
        "api": {"name": "orders", "endpoint_type": args.EndpointType.REGIONAL, "tags": {"cost_center": "42"}},
        "routes": [
            {
                "path": "/orders",
                "method": args.HttpMethod.GET,
                "auth": args.AuthType.COGNITO,
                "scopes": ["orders.read"],
                "integration": {
                    "type": args.IntegrationType.LAMBDA,
                    "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
                },
            }
        ],
        "cognito": {
            "mfa": args.MfaMode.ON,
            "resource_server": {
                "identifier": "orders",
                "name": "Orders",
                "scopes": [{"name": "orders.read", "description": "r"}],
            },
            "app_clients": [{"name": "reader", "allowed_scopes": ["orders/orders.read"]}],
        },
        # Map keys are data, never renamed: the digest and the rule group name stay as written.
        "lambda_authorizer": {"api_key_sha256": {"a" * 64: "partner"}},
        "network": {"allowed_source_cidrs": ["203.0.113.0/24"]},
        "waf": {"managed_rule_groups": {"AWSManagedRulesSQLiRuleSet": {"count_rules": ["SQLi_BODY"]}}},
        "observability": {"alarms": {"period_seconds": args.AlarmPeriod.SECONDS_300}},
    }
    expected = parse_config(STACK_FILE_SHAPE)
    assert component_inputs(typed).config == expected
    assert component_inputs(STACK_FILE_SHAPE).config == expected
    assert component_inputs(expected).config is expected
    assert expected.api.tags == {"cost_center": "42"}
    assert expected.lambda_authorizer.api_key_sha256 == {"a" * 64: "partner"}


def test_plain_problems_are_listed_together_before_anything_is_registered() -> None:
    bad = {
        "routes": [
            {"path": "/x", "method": "GET", "integration": {"type": "lambda", "function_arn": "not-an-arn"}},
        ],
        "network": {"allowed_source_cidrs": ["203.0.113.0/24"], "vpc_endpoint_ids": ["vpce-nothex"]},
        "api": {"stage_name": "v1", "stageName": "v2"},
        "cognito": {"mfa": pulumi.Output.from_input("ON")},
    }
    with pytest.raises(ConfigError) as raised:
        component_inputs(bad)
    paths = {path for path, _ in raised.value.problems}
    assert {
        "secure-api:routes[0].integration.functionArn",
        "secure-api:network.vpcEndpointIds",
        "secure-api:api.stageName",
        "secure-api:cognito.mfa",
    } <= paths
    message = str(raised.value)
    assert "cannot be an Output" in message
    assert "given twice" in message


def test_a_refused_output_item_keeps_the_other_items_key_paths() -> None:
    routes = [
        pulumi.Output.from_input({"path": "/a", "method": "GET", "integration": {"type": "mock"}}),
        {"path": "no-slash", "method": "GET", "integration": {"type": "mock"}},
    ]
    with pytest.raises(ConfigError) as raised:
        component_inputs({"routes": routes, "network": {"allowedSourceCidrs": ["203.0.113.0/24"]}})
    assert [path for path, _ in raised.value.problems] == ["secure-api:routes[0]", "secure-api:routes[1].path"]
