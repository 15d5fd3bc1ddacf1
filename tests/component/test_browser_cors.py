"""A real browser decides: headless Chromium calls answers built from the OpenAPI document's CORS headers.

A small server on 127.0.0.1 plays API Gateway with exactly the headers the document declares for
the preflight, for the 401 gateway response and for a mock integration's response. A page served
from another origin (`http://localhost:<port>`; localhost and 127.0.0.1 are different origins)
calls it with `fetch`, with and without credentials, and posts back what it could read.
Without a `chromium` binary the test is skipped with that reason, never passed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import airspeed
import pytest

from secure_api.component.config import parse_config
from secure_api.component.openapi import ApiReferences, build_openapi

REFS = ApiReferences(region="eu-west-1", partition="aws", user_pool_arn="arn:pool", authorizer_function_arn="arn:fn")
# From the workplace's notes on running Chromium headless without network side effects.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
REPORT_TIMEOUT_SECONDS = 60
PROBES = ("mock", "unauthorized", "mock-credentials", "unauthorized-credentials")

PAGE = """<!doctype html>
<title>CORS probe</title>
<script>
const api = "%(api)s";
const post = {
  method: "POST",
  headers: {"Authorization": "Bearer not-a-token", "Content-Type": "application/json", "Idempotency-Key": "k1"},
  body: JSON.stringify({items: [], currency: "EUR"}),
};
async function probe(name, url, init) {
  try {
    const response = await fetch(url, init);
    return {name, read: true, status: response.status, body: await response.text()};
  } catch (error) {
    return {name, read: false, error: String(error)};
  }
}
(async () => {
  const results = [
    await probe("mock", api + "/health", {}),
    await probe("unauthorized", api + "/orders", post),
    await probe("mock-credentials", api + "/health", {credentials: "include"}),
    await probe("unauthorized-credentials", api + "/orders", {...post, credentials: "include"}),
  ];
  await fetch("/report", {method: "POST", body: JSON.stringify(results)});
})();
</script>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no chromium on PATH: install Debian's `chromium` package (.ci/run does: apt-get install chromium)")
    return found


def fixed(parameters: dict[str, str], prefix: str) -> dict[str, str]:
    """Header mappings of the document as sent; every CORS value the component writes is a fixed `'value'`."""
    headers = {}
    for key, value in parameters.items():
        assert value[:1] == value[-1:] == "'", f"{key}: the emulator serves fixed values only, got {value}"
        headers[key.removeprefix(f"{prefix}.header.")] = value[1:-1]
    return headers


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def render(template: str, request_headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A mapping template as API Gateway runs it: (body, headers set through `$context.responseOverride`)."""

    class Input:
        def params(self) -> dict[str, dict[str, str]]:
            return {"header": request_headers, "path": {}, "querystring": {}}

    context: dict[str, Any] = {"requestId": "test-request-id", "responseOverride": {"header": {}}}
    body = airspeed.Template(template).merge({"input": Input(), "context": context})
    return body, context["responseOverride"]["header"]


def api_answer(document: dict[str, Any], method: str, path: str, request_headers: dict[str, str]) -> Answer:
    """What API Gateway sends for this document: preflight, mock integration, or a gateway response."""
    item = document["paths"].get(path)
    operation = item.get(method.lower()) if item else None
    gateway = document["x-amazon-apigateway-gateway-responses"]
    if operation is None:
        response = gateway["MISSING_AUTHENTICATION_TOKEN"]
    elif operation["security"]:  # a Cognito route: the token is not valid, so the authorizer answers 401
        response = gateway["UNAUTHORIZED"]
    else:
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "mock"
        answer = integration["responses"]["default"]
        body, overrides = render(answer.get("responseTemplates", {}).get("application/json", ""), request_headers)
        headers = fixed(answer.get("responseParameters", {}), "method.response")
        declared = operation["responses"][answer["statusCode"]].get("headers", {})
        assert set(overrides) <= set(declared), "API Gateway sets only headers the method response declares"
        return Answer(int(answer["statusCode"]), {**headers, **overrides}, body)
    body = response["responseTemplates"]["application/json"].replace("$context.requestId", "test-request-id")
    return Answer(int(response["statusCode"]), fixed(response["responseParameters"], "gatewayresponse"), body)


@dataclass
class Exchange:
    """What the API server received and what the page reported."""

    page: str = ""
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    reports: list[list[dict[str, Any]]] = field(default_factory=list)
    reported: threading.Event = field(default_factory=threading.Event)


def _api_server(document: dict[str, Any], exchange: Exchange) -> ThreadingHTTPServer:
    class Api(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            exchange.requests.append((self.command, self.path, self.headers.get("Origin")))
            answer = api_answer(document, self.command, self.path, dict(self.headers.items()))
            payload = answer.body.encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_OPTIONS = _answer  # noqa: N815 - http.server's method names

        def log_message(self, *_args: Any) -> None:
            return

    return ThreadingHTTPServer(("127.0.0.1", 0), Api)


def _page_server(exchange: Exchange) -> ThreadingHTTPServer:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            payload = exchange.page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            exchange.reports.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            exchange.reported.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    return ThreadingHTTPServer(("127.0.0.1", 0), Page)


@pytest.fixture
def servers() -> Iterator[tuple[ThreadingHTTPServer, ThreadingHTTPServer, Exchange]]:
    """The API, the allowed app's page and another site's page, each on its own port."""
    exchange = Exchange()
    started = [_page_server(exchange), _page_server(exchange)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in started]
    for thread in threads:
        thread.start()
    yield started[0], started[1], exchange  # the API server starts once the document is known
    for server in started:
        server.shutdown()
        server.server_close()


def _document(origins: list[str], credentials: bool) -> dict[str, Any]:
    config = {
        "routes": [
            {
                "path": "/health",
                "method": "GET",
                "auth": "none",
                "allowUnauthenticated": True,
                "integration": {"type": "mock", "responseBody": '{"status": "ok"}'},
            },
            {
                "path": "/orders",
                "method": "POST",
                "auth": "cognito",
                "requiredHeaders": ["Idempotency-Key"],
                "integration": {"type": "http", "url": "https://orders.internal.example.com/orders"},
            },
        ],
        "network": {"allowedSourceCidrs": ["203.0.113.0/24"]},
        "cors": {"allowOrigins": origins, "allowLocalhost": True, "allowCredentials": credentials},
    }
    return build_openapi(parse_config(config), REFS)


def _browse(binary: str, url: str, exchange: Exchange, profile: Path) -> list[dict[str, Any]]:
    exchange.reported.clear()
    before = len(exchange.reports)
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        reported = exchange.reported.wait(REPORT_TIMEOUT_SECONDS)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, stderr = process.communicate()
    assert reported, f"the page never reported; chromium said: {stderr.decode(errors='replace')[-2000:]}"
    (results,) = exchange.reports[before:]
    return results


@dataclass
class Visits:
    """What each page could read (by probe name) and the requests the API received from it."""

    app: dict[str, dict[str, Any]]
    app_requests: list[tuple[str, str, str | None]]
    other: dict[str, dict[str, Any]]
    other_requests: list[tuple[str, str, str | None]]


def _visit(document: dict[str, Any], app_origin: str, other_origin: str, exchange: Exchange, tmp: Path) -> Visits:
    """Serve `document`'s answers, then load the page from the app's origin and from the other one."""
    binary = chromium()
    api = _api_server(document, exchange)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        exchange.page = PAGE % {"api": f"http://127.0.0.1:{api.server_address[1]}"}
        app = {r["name"]: r for r in _browse(binary, f"{app_origin}/", exchange, tmp / "app")}
        app_requests = list(exchange.requests)
        exchange.requests.clear()
        other = {r["name"]: r for r in _browse(binary, f"{other_origin}/", exchange, tmp / "other")}
        return Visits(app, app_requests, other, list(exchange.requests))
    finally:
        api.shutdown()
        api.server_close()


def _assert_blocked(visits: Visits, other_origin: str) -> None:
    """Another site learns nothing: every call fails as a network error, and the preflight stops the POST."""
    assert set(visits.other) == set(PROBES)
    for name, result in visits.other.items():
        assert result["read"] is False, (name, result)
        assert "Failed to fetch" in result["error"]
    assert ("OPTIONS", "/orders", other_origin) in visits.other_requests
    assert not [r for r in visits.other_requests if r[0] == "POST"]


@pytest.mark.parametrize("credentials", [False, True], ids=["no-credentials", "credentials"])
def test_browser_reads_only_what_the_document_allows(
    servers: tuple[ThreadingHTTPServer, ThreadingHTTPServer, Exchange], credentials: bool, tmp_path: Path
) -> None:
    app_server, other_server, exchange = servers
    app_origin = f"http://localhost:{app_server.server_address[1]}"
    other_origin = f"http://localhost:{other_server.server_address[1]}"
    visits = _visit(_document([app_origin], credentials), app_origin, other_origin, exchange, tmp_path)
    allowed = visits.app

    # The allowed app reads the mock's answer and the authorizer's 401 (after a preflight).
    assert allowed["mock"]["read"], allowed["mock"]
    assert allowed["mock"]["status"] == 200
    assert json.loads(allowed["mock"]["body"]) == {"status": "ok"}
    assert allowed["unauthorized"]["read"], allowed["unauthorized"]
    assert allowed["unauthorized"]["status"] == 401
    assert json.loads(allowed["unauthorized"]["body"])["message"] == "Unauthorized"
    assert ("OPTIONS", "/orders", app_origin) in visits.app_requests
    assert ("POST", "/orders", app_origin) in visits.app_requests
    # With credentials the answers must say so, or the browser keeps them from the page.
    for probe in ("mock-credentials", "unauthorized-credentials"):
        assert allowed[probe]["read"] is credentials, allowed[probe]
    if credentials:
        assert allowed["unauthorized-credentials"]["status"] == 401

    _assert_blocked(visits, other_origin)


def test_several_origins_preflight_and_mocks_echo_a_listed_origin_gateway_errors_do_not(
    servers: tuple[ThreadingHTTPServer, ThreadingHTTPServer, Exchange], tmp_path: Path
) -> None:
    """The documented limit, as a browser sees it: the app listed second gets through preflights and
    mock answers (the template echoes its origin), but gateway responses name only the first origin."""
    app_server, other_server, exchange = servers
    app_origin = f"http://localhost:{app_server.server_address[1]}"
    other_origin = f"http://localhost:{other_server.server_address[1]}"
    document = _document(["https://app.example.com", app_origin], credentials=True)
    visits = _visit(document, app_origin, other_origin, exchange, tmp_path)

    assert visits.app["mock"]["read"], visits.app["mock"]
    assert visits.app["mock-credentials"]["read"], visits.app["mock-credentials"]
    # The preflight let the POST through; its 401 is a gateway response naming https://app.example.com.
    assert ("POST", "/orders", app_origin) in visits.app_requests
    assert visits.app["unauthorized"]["read"] is False
    assert visits.app["unauthorized-credentials"]["read"] is False

    _assert_blocked(visits, other_origin)
