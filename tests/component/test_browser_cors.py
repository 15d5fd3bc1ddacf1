"""A real browser decides: headless Chromium calls a local server that answers with the request model's decision.

The server on 127.0.0.1 plays API Gateway: each request the browser sends is evaluated by
`secure_api.gateway` over the planned stack (update mode) — WAF, resource policy, authorizer, API key,
validation, mock integration and gateway responses, CORS included — and the model's status, headers
and body are sent back. A page served from another origin (`http://localhost:<port>`; localhost and
127.0.0.1 are different origins) calls it with `fetch`, with and without credentials, and posts back
what it could read. So a resource policy that denies preflights, a gateway response without CORS
headers or a mock that does not echo the origin fails here, in a real browser.
Without a `chromium` binary the test is skipped with that reason, never passed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from secure_api.gateway.pipeline import Gateway
from secure_api.gateway.request import Request
from secure_api.gateway.resources import GatewayStack
from secure_api.gateway.stack import load
from secure_api.plan.harness import PlanResult

ALLOWED_ADDRESS = "203.0.113.10"
"""The browser's address as the model sees it: inside `network.allowedSourceCidrs` of the test config."""
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


@dataclass
class Exchange:
    """What the API server received and what the page reported."""

    page: str = ""
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    reports: list[list[dict[str, Any]]] = field(default_factory=list)
    reported: threading.Event = field(default_factory=threading.Event)
    results: list[tuple[str, str, int, str]] = field(default_factory=list)
    """What the model decided per request: (method, path, status, layer)."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _api_server(gateway: Gateway, stage: str, exchange: Exchange) -> ThreadingHTTPServer:
    class Api(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            exchange.requests.append((self.command, self.path, self.headers.get("Origin")))
            request = Request(
                self.command,
                f"/{stage}{self.path}",
                via="stage",
                source_ip=ALLOWED_ADDRESS,
                headers=dict(self.headers.items()),
                body=body,
            )
            with exchange.lock:  # the model keeps per-stage state (rate counters, authorizer cache)
                result = gateway.evaluate(request)
            exchange.results.append((self.command, self.path, result.status, result.layer))
            payload = result.body.encode()
            self.send_response(result.status)
            for name, value in result.headers.items():
                if name.lower() not in ("content-length", "content-type"):
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


def _config(origins: list[str], credentials: bool) -> dict[str, Any]:
    return {
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


Planner = Callable[[list[str], bool], GatewayStack]


@pytest.fixture
def planned(plan: Callable[..., PlanResult]) -> Planner:
    """Plans the test config (update mode) and loads a fresh model of it."""

    def run(origins: list[str], credentials: bool) -> GatewayStack:
        return load(plan(_config(origins, credentials), preview=False).resources)

    return run


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


def _visit(stack: GatewayStack, app_origin: str, other_origin: str, exchange: Exchange, tmp: Path) -> Visits:
    """Serve the model's answers for `stack`, then load the page from the app's origin and from the other one."""
    binary = chromium()
    (stage,) = stack.stages
    gateway = Gateway(stack)
    api = _api_server(gateway, stage.name, exchange)
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
        gateway.close()


def _assert_blocked(visits: Visits, other_origin: str) -> None:
    """Another site learns nothing: every call fails as a network error, and the preflight stops the POST."""
    assert set(visits.other) == set(PROBES)
    for name, result in visits.other.items():
        assert result["read"] is False, (name, result)
        assert "Failed to fetch" in result["error"]
    assert ("OPTIONS", "/orders", other_origin) in visits.other_requests
    assert not [r for r in visits.other_requests if r[0] == "POST"]


@pytest.mark.parametrize("credentials", [False, True], ids=["no-credentials", "credentials"])
def test_browser_reads_only_what_the_model_allows(
    servers: tuple[ThreadingHTTPServer, ThreadingHTTPServer, Exchange],
    planned: Planner,
    credentials: bool,
    tmp_path: Path,
) -> None:
    app_server, other_server, exchange = servers
    app_origin = f"http://localhost:{app_server.server_address[1]}"
    other_origin = f"http://localhost:{other_server.server_address[1]}"
    visits = _visit(planned([app_origin], credentials), app_origin, other_origin, exchange, tmp_path)
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
    # The model decided each answer: the preflight passed the resource policy, the bad token met Cognito.
    assert ("OPTIONS", "/orders", 200, "integration") in exchange.results
    assert ("POST", "/orders", 401, "authorizer") in exchange.results
    # With credentials the answers must say so, or the browser keeps them from the page.
    for probe in ("mock-credentials", "unauthorized-credentials"):
        assert allowed[probe]["read"] is credentials, allowed[probe]
    if credentials:
        assert allowed["unauthorized-credentials"]["status"] == 401

    _assert_blocked(visits, other_origin)


def test_a_resource_policy_that_denies_preflights_breaks_the_browser_call(
    servers: tuple[ThreadingHTTPServer, ThreadingHTTPServer, Exchange], planned: Planner, tmp_path: Path
) -> None:
    """The regression of the request-model issue: the policy's Allow without the OPTIONS methods.

    API Gateway evaluates the preflight's mock method against the resource policy alone, so it gets 403
    without CORS headers and the browser never sends the POST ("How API Gateway resource policies
    affect authorization workflow", API Gateway developer guide).
    """
    app_server, other_server, exchange = servers
    app_origin = f"http://localhost:{app_server.server_address[1]}"
    other_origin = f"http://localhost:{other_server.server_address[1]}"
    stack = planned([app_origin], False)
    (api,) = stack.apis
    assert api.policy is not None
    dropped = 0
    for statement in api.policy["Statement"]:
        if statement["Effect"] == "Allow" and isinstance(statement["Resource"], list):
            kept = [r for r in statement["Resource"] if "/OPTIONS/" not in r]
            dropped += len(statement["Resource"]) - len(kept)
            statement["Resource"] = kept
    assert dropped, "the planned policy allows the preflights"
    visits = _visit(stack, app_origin, other_origin, exchange, tmp_path)

    assert visits.app["mock"]["read"], visits.app["mock"]  # a simple GET needs no preflight
    assert visits.app["unauthorized"]["read"] is False
    assert "Failed to fetch" in visits.app["unauthorized"]["error"]
    assert ("OPTIONS", "/orders", 403, "resource-policy") in exchange.results
    assert not [r for r in visits.app_requests if r[0] == "POST"]


def test_several_origins_preflight_and_mocks_echo_a_listed_origin_gateway_errors_do_not(
    servers: tuple[ThreadingHTTPServer, ThreadingHTTPServer, Exchange], planned: Planner, tmp_path: Path
) -> None:
    """The documented limit, as a browser sees it: the app listed second gets through preflights and
    mock answers (the template echoes its origin), but gateway responses name only the first origin."""
    app_server, other_server, exchange = servers
    app_origin = f"http://localhost:{app_server.server_address[1]}"
    other_origin = f"http://localhost:{other_server.server_address[1]}"
    stack = planned(["https://app.example.com", app_origin], True)
    visits = _visit(stack, app_origin, other_origin, exchange, tmp_path)

    assert visits.app["mock"]["read"], visits.app["mock"]
    assert visits.app["mock-credentials"]["read"], visits.app["mock-credentials"]
    # The preflight let the POST through; its 401 is a gateway response naming https://app.example.com.
    assert ("POST", "/orders", app_origin) in visits.app_requests
    assert visits.app["unauthorized"]["read"] is False
    assert visits.app["unauthorized-credentials"]["read"] is False

    _assert_blocked(visits, other_origin)
