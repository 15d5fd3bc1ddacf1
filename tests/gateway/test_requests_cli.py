"""`secure-api requests`: the dev stack's example cases, expectations, JSON output and bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secure_api.plan.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "requests" / "dev.yaml"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["requests", "--cwd", str(REPO), "--stack", "dev", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_readme_example_file_holds_on_the_dev_stack(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--format", "json", str(EXAMPLE))
    document = json.loads(out)
    assert code == 0, out
    assert document["error"] is None
    cases = {c["name"]: c for c in document["cases"]}
    assert len(cases) >= 15
    assert all(c["ok"] is True for c in cases.values()), [c for c in cases.values() if not c["ok"]]
    assert set(next(iter(cases.values()))) >= {"name", "status", "layer", "reason", "headers", "ok"}
    # The CORS class of bug: the preflight passes the resource policy and answers with the app's origin.
    preflight = cases["browser preflight from the single-page app"]
    assert preflight["status"] == 200
    assert preflight["headers"]["Access-Control-Allow-Origin"] == "https://app.example.com"
    blocked = cases["an allowed address that is also in waf.blockedIps (WAF runs first and wins)"]
    assert (blocked["status"], blocked["layer"]) == (403, "waf")
    assert "block-ipv4" in blocked["reason"]
    outside = cases["health check from outside the allowed networks"]
    assert "DenyOutsideSourceCidrs" in outside["reason"]
    # What passed without being judged offline is listed, never hidden behind a 200.
    assert any(
        "AWSManagedRulesCommonRuleSet" in n for n in cases["health check from an allowed network"]["notEvaluated"]
    )
    assert json.loads(cases["health check from an allowed network"]["accessLog"])["status"] == "200"


def test_a_failed_expectation_exits_1_and_says_what_differs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: expects the wrong thing\n"
        "  request: {method: GET, path: /v1/health, via: domain, sourceIp: 192.0.2.200}\n"
        "  expect: {status: 200, layer: integration, headers: {Vary: null}}\n"
        "- name: no expectation\n"
        "  request: {method: GET, path: /v1/health, via: domain, sourceIp: 198.51.100.20}\n"
    )
    code, out, _ = _run(capsys, str(cases))
    assert code == 1
    assert "FAIL expects the wrong thing: 403 [resource-policy]" in out
    assert "expected: status 403, expected 200" in out
    assert "expected: layer resource-policy, expected integration" in out
    code, out, _ = _run(capsys, "--format", "json", str(cases))
    document = json.loads(out)
    assert [c["ok"] for c in document["cases"]] == [False, None]


def test_an_invalid_case_file_exits_2_naming_every_key_at_fault(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: bad\n"
        "  request:\n"
        "    method: FETCH\n"
        "    path: /v1/health\n"
        "    sourceIp: not-an-address\n"
        "    caller: {iam: {account: '12'}, cognito: {client: web}}\n"
        "  expect: {layer: firewall}\n"
    )
    code, out, err = _run(capsys, "--format", "json", str(cases))
    assert code == 2
    for key in ("[0].request.method", "[0].request.sourceIp", "[0].request.caller", "[0].expect.layer"):
        assert key in err, (key, err)
    assert json.loads(out) == {"cases": [], "error": {"message": err.removeprefix("error: ").strip(), "exitCode": 2}}


def test_a_name_the_stack_lacks_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(
        json.dumps(
            [
                {
                    "name": "unknown key",
                    "request": {
                        "method": "POST",
                        "path": "/v1/partners/webhook",
                        "via": "domain",
                        "sourceIp": "198.51.100.20",
                        "apiKey": "partner-unknown",
                        "headers": {"x-partner-signature": "s", "Authorization": "Bearer aaa.bbb.ccc"},
                        "caller": {"lambdaAuthorizer": {"effect": "Allow"}},
                    },
                }
            ]
        )
    )
    code, _, err = _run(capsys, str(cases))
    assert code == 2
    assert "case 'unknown key'" in err
    assert "partner-unknown" in err
    assert "secure-api-key-partner-acme" in err


def test_repeat_counts_every_copy_against_the_throttle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The dev stage allows 200 requests/s with a burst of 400: 400 at once pass, the 401st is throttled."""
    cases = tmp_path / "cases.yaml"
    request = "{method: GET, path: /v1/health, via: domain, sourceIp: 198.51.100.30}"
    cases.write_text(
        f"- {{name: burst, at: 0, repeat: 400, request: {request}, expect: {{status: 200}}}}\n"
        f"- {{name: one more, at: 0, request: {request}, expect: {{status: 429, layer: throttle}}}}\n"
        f"- {{name: a second later, at: 1, request: {request}, expect: {{status: 200}}}}\n"
    )
    code, out, _ = _run(capsys, str(cases))
    assert code == 0, out


def test_stated_policy_documents_are_evaluated(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`caller.iam.identityPolicy` is evaluated: on the dev stack's AWS_IAM route the resource policy is
    silent, so the caller's own policy decides (table A, same account)."""
    invoke = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*"}
    allow = {"Statement": [invoke]}
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "execute-api:*", "Resource": "*"}]}
    other = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    cases = tmp_path / "cases.json"
    request = {"method": "GET", "path": "/v1/admin/users", "via": "domain", "sourceIp": "198.51.100.20"}
    cases.write_text(
        json.dumps(
            [
                {
                    "name": "own policy denies",
                    "request": {**request, "caller": {"iam": {"account": "123456789012", "identityPolicy": deny}}},
                    "expect": {"status": 403},
                },
                {
                    "name": "own policy allows",
                    "request": {**request, "caller": {"iam": {"account": "123456789012", "identityPolicy": allow}}},
                    "expect": {"status": 200},
                },
                {
                    "name": "own policy is silent",
                    "request": {**request, "caller": {"iam": {"account": "123456789012", "identityPolicy": other}}},
                    "expect": {"status": 403},
                },
            ]
        )
    )
    code, out, _ = _run(capsys, "--format", "json", str(cases))
    found = {c["name"]: c for c in json.loads(out)["cases"]}
    assert code == 0, out
    assert "IAM policy deny" in found["own policy denies"]["reason"]
    assert "IAM policy neither" in found["own policy is silent"]["reason"]
