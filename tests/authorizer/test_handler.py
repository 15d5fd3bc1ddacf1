"""The Lambda entry point: the HANDLER string, init-time prefetch, failing closed, cheap imports."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secure_api_authorizer import HANDLER, ZIP_PACKAGE, handler
from secure_api_authorizer.errors import ConfigError
from tests.authorizer.support import Factory, Forge, JwksServer, jwt_env, token_event

SOURCE = Path(handler.__file__).parent


@pytest.fixture
def zip_layout(tmp_path: Path) -> Path:
    """The function's package as the Lambda runtime sees it: alone, under its zip name."""
    shutil.copytree(SOURCE, tmp_path / ZIP_PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.fixture
def fresh_handler(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler module with no authorizer built yet, reading a test-controlled environment."""
    monkeypatch.setattr(handler, "_authorizer", None)
    for name in list(os.environ):
        if name.startswith(("AUTH_", "JWT_", "JWKS_", "API_KEY", "ROUTE_", "RESULT_", "IDENTITY_", "RETURN_")):
            monkeypatch.delenv(name)
    return handler


def run_python(code: str, env: dict[str, str]) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "JWT_", "AWS_LAMBDA"))}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout


def test_handler_string_names_the_entry_point_in_the_zip_layout() -> None:
    module, _, function = HANDLER.rpartition(".")

    assert module == f"{ZIP_PACKAGE}.handler"
    assert callable(getattr(importlib.import_module(module.replace(ZIP_PACKAGE, "secure_api_authorizer")), function))


def test_handler_builds_the_authorizer_from_the_environment_once(
    fresh_handler: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUTH_MODE", "api_key")
    monkeypatch.setenv("API_KEY_SHA256", json.dumps({hashlib.sha256(b"s3cret-key").hexdigest(): None}))
    event = token_event("s3cret-key", scheme="")
    context = type("Context", (), {"aws_request_id": "req-1"})()

    first = fresh_handler.handler(event, context)
    built = fresh_handler._authorizer
    fresh_handler.handler(event, context)

    assert first["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert fresh_handler._authorizer is built
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["decision"], line["requestId"]) for line in lines] == [("allow", "req-1")] * 2


def test_misconfiguration_fails_loudly_rather_than_denying(fresh_handler: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_MODE", "jwt")

    with pytest.raises(ConfigError, match="JWT_ISSUERS"):
        fresh_handler.handler(token_event("x"), None)


def test_an_unexpected_error_still_fails_closed_as_unauthorized(
    make_harness: Factory, jwks: JwksServer, forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = make_harness(jwt_env(jwks.url))

    def broken(_event: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(harness.authorizer._authenticator, "authenticate", broken)

    assert harness.unauthorized(token_event(forge.token())) == "internal_error"
    assert harness.records()[-1]["error"] == "KeyError"


def test_lambda_init_fetches_the_key_set_before_the_first_request(jwks: JwksServer, zip_layout: Path) -> None:
    env = {**jwt_env(jwks.url), "AWS_LAMBDA_FUNCTION_NAME": "authorizer", "PYTHONPATH": str(zip_layout)}

    output = run_python(f"import {ZIP_PACKAGE}.handler", env)

    assert jwks.hits == 1
    assert json.loads(output)["event"] == "jwks_refresh"


def test_importing_the_handler_loads_neither_cryptography_nor_http_client(zip_layout: Path) -> None:
    """Cold starts pay for OpenSSL bindings only in JWT mode, and for HTTP only at key fetches."""
    code = (
        "import sys\n"
        f"import {ZIP_PACKAGE}.handler\n"
        "print(sorted(m for m in ('cryptography', 'http.client', 'dataclasses', 'jwt') if m in sys.modules))\n"
    )

    assert run_python(code, {"PYTHONPATH": str(zip_layout)}).strip() == "[]"
