"""`secure-api plan` as a user runs it: in their own project folder, on their own program, as a PR gate."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from secure_api_policies import RULES

from secure_api.plan.cli import EXIT_BAD_INPUT, EXIT_BAD_POLICY_CONFIG, EXIT_MANDATORY_VIOLATIONS, main
from secure_api.plan.offline import StackFileLoader

REPO = Path(__file__).resolve().parents[2]
POLICY_TESTS = REPO / "tests" / "policy"
SARIF_SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
NETWORK = {"allowedSourceCidrs": ["203.0.113.0/24"]}


def sarif_valid(text: str) -> dict[str, Any]:
    document = json.loads(text)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    return document


def project(folder: Path, name: str, program: str, config: dict[str, Any], stack: str = "dev") -> Path:
    """A Pulumi project in `folder`: Pulumi.yaml, Pulumi.<stack>.yaml and __main__.py."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (folder / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    (folder / "__main__.py").write_text(textwrap.dedent(program))
    return folder


RAW_INSECURE = """\
    import pulumi
    import pulumi_aws as aws

    api = aws.apigateway.RestApi("shop", name="shop")
    items = aws.apigateway.Resource("items", rest_api=api.id, parent_id=api.root_resource_id, path_part="items")
    get = aws.apigateway.Method(
        "get-items", rest_api=api.id, resource_id=items.id, http_method="GET", authorization="NONE"
    )
    backend = aws.apigateway.Integration(
        "get-items", rest_api=api.id, resource_id=items.id, http_method=get.http_method,
        type="HTTP_PROXY", integration_http_method="GET", uri="https://shop.internal.example.com/items",
    )
    deployment = aws.apigateway.Deployment("shop", rest_api=api.id, opts=pulumi.ResourceOptions(depends_on=[backend]))
    stage = aws.apigateway.Stage("prod", rest_api=api.id, deployment=deployment.id, stage_name="prod")
    pulumi.export("url", stage.invoke_url)
"""
RAW_SECURE = f"""\
    import sys
    sys.path.insert(0, {str(POLICY_TESTS)!r})
    from policy_programs import secure_program

    secure_program()
"""
COMPONENT_PROGRAM = """\
    from secure_api.component.program import main

    main()
"""


@pytest.fixture
def raw_insecure(tmp_path: Path) -> Path:
    return project(tmp_path / "shop", "shop", RAW_INSECURE, {"aws:region": "eu-west-1"})


def test_raw_program_in_its_own_folder_is_judged_from_there(raw_insecure: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "secure_api", "plan", "--update"],
        capture_output=True,
        text=True,
        cwd=raw_insecure,
        check=False,
    )
    assert done.returncode == EXIT_MANDATORY_VIOLATIONS, done.stderr
    out = done.stdout
    assert "Offline plan for stack 'dev' of project 'shop' (update mode" in out
    assert "region eu-west-1 (from aws:region in Pulumi.dev.yaml)" in out
    assert "+ aws:apigateway/method:Method" in out
    assert "get-items" in out
    for rule, resource in (
        ("api-route-authorizer", "get-items"),
        ("stage-access-logs", "prod"),
        ("waf-stage-association", "prod"),
        ("stage-execution-logging", "prod"),
    ):
        assert f"[mandatory] {rule}  {resource} (" in out
    assert "Traceback" not in done.stderr


def test_raw_program_findings_point_at_the_line_that_built_the_resource(
    raw_insecure: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--cwd", str(raw_insecure), "--format", "sarif"]) == EXIT_MANDATORY_VIOLATIONS
    sarif = sarif_valid(capsys.readouterr().out)
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    where = results["api-route-authorizer"]["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"].endswith("__main__.py")
    program_lines = (raw_insecure / "__main__.py").read_text().splitlines()
    assert program_lines[where["region"]["startLine"] - 1].startswith("get = aws.apigateway.Method(")
    assert results["api-route-authorizer"]["kind"] == "fail"
    assert "Fix: Give the operation a `security` requirement" in results["api-route-authorizer"]["message"]["text"]


@pytest.mark.parametrize("mode", [[], ["--update"]])
def test_secure_raw_program_exits_zero(tmp_path: Path, mode: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, "secure-shop", RAW_SECURE, {"aws:region": "us-west-2"})
    assert main(["plan", "--cwd", str(folder), *mode]) == 0
    out = capsys.readouterr().out
    assert "0 mandatory" in out
    assert ("undecided (unknown until the update)" in out) is (not mode)


def test_component_under_another_project_uses_that_projects_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {
        "aws:region": "eu-central-1",
        "secure-api:routes": [
            {
                "path": "/payments",
                "method": "POST",
                "auth": "iam",
                "integration": {"type": "http", "url": "https://pay.internal.example.com/payments"},
            }
        ],
        "secure-api:network": NETWORK,
    }
    folder = project(tmp_path / "payments", "payments", COMPONENT_PROGRAM, config)
    assert main(["plan", "--cwd", str(folder), "--update"]) == 0
    out = capsys.readouterr().out
    assert "of project 'payments'" in out
    assert "payments-api" in out
    assert "secure-api-" not in out.split("Routes")[0]
    assert "/aws/apigateway/payments-dev/v1/access" in out  # <component>-<stack>: no other stack shares it
    assert ".execute-api.eu-central-1.amazonaws.com/v1" in out


def test_dev_plan_prints_layers_and_routes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev", "--cwd", str(REPO)]) == 0
    out = capsys.readouterr().out
    assert "Offline plan for stack 'dev' of project 'secure-api' (preview mode" in out
    for layer in ("[auth]", "[api]", "[usage plans]"):
        assert layer in out
    assert "+ aws:cognito/userPool:UserPool" in out
    route_lines = [line.split() for line in out.splitlines() if line.startswith("  /")]
    assert route_lines[2][:7] == ["/orders", "POST", "cognito", "orders.write", "yes", "https", "proxy"]
    assert route_lines[0] == ["/health", "GET", "none", "-", "no", "mock", "200"]
    undecided = out.split("Undecided (unknown until the update")[1]
    assert "[mandatory] api-route-authorizer" in undecided  # the rule's own level, not relabelled advisory
    assert "CRITICAL" not in out.split("Policy pack")[1]  # undecided findings are not violations


def test_update_plan_prints_outputs_and_protected_log_groups(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev", "--update", "--cwd", str(REPO)]) == 0
    out = capsys.readouterr().out
    outputs = out.split("Stack outputs")[1].split("\n\n")[0]
    assert "restApiId" in outputs
    assert "[secret]" in outputs  # API key values stay hidden
    groups = out.split("Protected log groups (physical names)")[1].split("\n\n")[0]
    assert "/aws/apigateway/orders-api-dev/v1/access  (secure-api-access-logs)" in groups
    assert "undecided" not in out


def test_invalid_config_exits_2_with_the_key_and_no_traceback(tmp_path: Path) -> None:
    shutil.copy(REPO / "Pulumi.yaml", tmp_path)
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    text = (REPO / "Pulumi.dev.yaml").read_text().replace("resultTtlSeconds: 300", "resultTtlSeconds: 7200")
    (tmp_path / "Pulumi.broken.yaml").write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "secure_api", "plan", "--stack", "broken", "--cwd", str(tmp_path), "--format", "sarif"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == EXIT_BAD_INPUT
    assert "secure-api:lambdaAuthorizer.resultTtlSeconds" in done.stderr
    assert "Traceback" not in done.stderr
    sarif = sarif_valid(done.stdout)  # an upload step still gets a valid document
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["exitCode"] == EXIT_BAD_INPUT
    assert "resultTtlSeconds" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert sarif["runs"][0]["results"] == []


def test_json_on_a_bad_stack_is_a_document_with_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "nope", "--cwd", str(REPO), "--format", "json"]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["findings"] == []
    assert document["error"]["exitCode"] == EXIT_BAD_INPUT
    assert "no stack file Pulumi.nope.yaml" in document["error"]["message"]
    assert "dev, minimal, private" in captured.err


def test_a_program_that_raises_is_a_bad_program_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path, "broken", "import pulumi\n\nraise KeyError('bucket')\n", {"aws:region": "eu-west-1"})
    assert main(["plan", "--cwd", str(folder)]) == EXIT_BAD_INPUT
    assert "the program failed at __main__.py:3: KeyError: 'bucket'" in capsys.readouterr().err


def test_no_pulumi_project_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--cwd", str(tmp_path)]) == EXIT_BAD_INPUT
    assert "no Pulumi.yaml in" in capsys.readouterr().err


def _component_stack(tmp_path: Path, config: dict[str, Any], name: str = "dev") -> Path:
    return project(tmp_path / "infra", "payments", COMPONENT_PROGRAM, config, stack=name)


def test_turning_a_control_off_points_code_scanning_at_the_config_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)
    stack["config"]["secure-api:waf"] = {"enabled": False, "acceptNoWaf": True}
    folder = _component_stack(tmp_path, stack["config"], name="nowaf")
    shutil.copytree(REPO / "examples", folder / "examples")  # the truststore, relative to the project
    (tmp_path / ".git").mkdir()  # the repository root: artifact URIs are relative to it
    refuse = tmp_path / "refuse.json"
    refuse.write_text(json.dumps({"waf-stage-association": {"allowExceptions": False}}))
    plan = ["plan", "--stack", "nowaf", "--update", "--cwd", str(folder), "--format", "sarif"]
    lines = (folder / "Pulumi.nowaf.yaml").read_text().splitlines()

    assert main([*plan, "--policy-config", str(refuse)]) == 1  # the acknowledgement refused: a violation
    sarif = sarif_valid(capsys.readouterr().out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "waf-stage-association"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "infra/Pulumi.nowaf.yaml"
    assert lines[where["region"]["startLine"] - 1].strip() == "enabled: false"
    assert "set `secure-api:waf.enabled` in Pulumi.nowaf.yaml" in result["message"]["text"]
    assert result["level"] == "error"
    assert "suppressions" not in result

    assert main(plan) == 0  # acknowledged (waf.acceptNoWaf): an accepted exception, suppressed in code scanning
    sarif = sarif_valid(capsys.readouterr().out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "waf-stage-association"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "infra/Pulumi.nowaf.yaml"
    assert lines[where["region"]["startLine"] - 1].strip() == "enabled: false"
    assert result["properties"]["state"] == "accepted"
    (suppression,) = result["suppressions"]
    assert (suppression["kind"], suppression["status"]) == ("external", "accepted")
    assert suppression["justification"].startswith("waf.acceptNoWaf: no web ACL")


def test_sarif_states_undecided_findings_as_open(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--stack", "dev", "--cwd", str(REPO), "--format", "sarif"]) == 0
    sarif = sarif_valid(capsys.readouterr().out)
    results = sarif["runs"][0]["results"]
    undecided = [r for r in results if r["properties"]["state"] == "undecided"]
    assert undecided, "the dev stack's preview has undecided findings (its OpenAPI body embeds the user pool's ARN)"
    levels = {meta.id: meta.enforcement.value for meta in RULES}
    for result in undecided:
        assert (result["kind"], result["level"]) == ("open", "none")
        assert result["properties"]["enforcementLevel"] == levels[result["ruleId"]]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.dev.yaml"
    # The decided findings, both advisory: the dev stack leaves out the anonymous-IP list, and its web ACL
    # (the Linux group, SQL injection at HIGH) uses 1,735 WCU, over the 1,500 its base price covers.
    decided = [(r["ruleId"], r["kind"], r["level"], r["properties"]["state"]) for r in results if r not in undecided]
    assert sorted(decided) == [
        ("waf-capacity", "fail", "warning", "violation"),
        ("waf-reputation-lists", "fail", "warning", "violation"),
    ]
    (capacity,) = [r for r in results if r["ruleId"] == "waf-capacity"]
    assert "uses 1735 WCU, over 1500 (largest: AWSManagedRulesCommonRuleSet 700," in capacity["message"]["text"]


def test_a_body_without_new_arns_is_decided_at_preview(capsys: pytest.CaptureFixture[str]) -> None:
    """The private stack's body (IAM routes, resource policy in the `execute-api:/` form) is known at preview."""
    assert main(["plan", "--stack", "private", "--cwd", str(REPO), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"] == {
        "mandatory": 0,
        "advisory": 1,  # waf-reputation-lists: the stack leaves out the anonymous-IP list
        "undecided": 0,
        "accepted": 0,
    }


def test_sarif_piped_into_head_ends_quietly() -> None:
    done = subprocess.run(
        f"{sys.executable} -m secure_api plan --stack dev --format sarif | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.stdout == "{\n"
    assert "Traceback" not in done.stderr
    assert "BrokenPipe" not in done.stderr


# --- the stack file as the CLI reads it


def test_duplicate_top_level_key_is_refused_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _component_stack(tmp_path, {"aws:region": "eu-west-1"})
    (folder / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  secure-api:network:\n"
        "    allowedSourceCidrs: [203.0.113.0/24]\n"
        "  secure-api:routes: []\n"
        "  secure-api:network:\n"
        "    vpcEndpointIds: [vpce-0a1b2c3d4e5f67890]\n"
    )
    assert main(["plan", "--cwd", str(folder)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "Pulumi.dev.yaml line 6: duplicate key 'secure-api:network' (first at line 3)" in err


@pytest.mark.parametrize("key", ["payments:routes", "routes"])
def test_component_keys_outside_the_namespace_say_where_they_belong(
    tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = [{"path": "/p", "method": "GET", "auth": "iam", "integration": {"type": "mock"}}]
    folder = _component_stack(tmp_path, {"aws:region": "eu-west-1", key: routes, "secure-api:network": NETWORK})
    assert main(["plan", "--cwd", str(folder)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"found `{key}` (Pulumi.dev.yaml line 3" in err
    assert "reads only the `secure-api:` namespace; write `secure-api:<key>`" in err


def test_region_typo_is_refused_with_suggestions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, "shop", RAW_INSECURE, {"aws:region": "eu-west-01"})
    assert main(["plan", "--cwd", str(folder)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "aws:region in Pulumi.dev.yaml (line 2): 'eu-west-01' is not an AWS region known to pulumi-aws" in err
    assert "did you mean eu-west-1" in err


def test_missing_region_is_reported_not_assumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    folder = project(tmp_path, "shop", RAW_INSECURE, {})
    assert main(["plan", "--cwd", str(folder)]) == EXIT_BAD_INPUT
    assert "no AWS region: Pulumi.dev.yaml has no `aws:region`" in capsys.readouterr().err
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    assert main(["plan", "--cwd", str(folder)]) == EXIT_MANDATORY_VIOLATIONS
    assert "region ap-southeast-2 (from AWS_REGION)" in capsys.readouterr().out


# --- the policy config: every mistake has its own exit status and names what is allowed


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '{"log-group-retention": {"minRetentionDays": "400"}}',
            'log-group-retention.minRetentionDays: "400" must be an integer',
        ),
        (
            '{"log-group-retention": {"minRetentionDays": -30}}',
            "log-group-retention.minRetentionDays: -30 is below the minimum 1",
        ),
        (
            '{"authorizer-cache-scope": {"maxTtlSeconds": 7200}}',
            "authorizer-cache-scope.maxTtlSeconds: 7200 is above the maximum 3600",
        ),
        ('{"no-such-rule": "disabled"}', "no-such-rule: no such rule; known rules: all, api-route-authorizer,"),
        (
            '{"log-group-retention": {"days": 1}}',
            "log-group-retention.days: no such property; valid: enforcementLevel, minRetentionDays",
        ),
        (
            '{"cognito-mfa": "sometimes"}',
            'cognito-mfa.enforcementLevel: "sometimes" is not one of advisory, disabled, mandatory, remediate',
        ),
        (
            '{"cognito-mfa": 3}',
            "cognito-mfa: must be an enforcement level (advisory, disabled, mandatory, remediate) or an object",
        ),
        (
            "log-group-retention:\n  minRetentionDays: 400\n",
            "is not JSON (line 1: Expecting value); expected a JSON object of rule ids",
        ),
        ('["all"]', "must be a JSON object of rule ids"),
        (
            '{"all": {"enforcementLevel": "advisory", "colour": "red"}}',
            "all.colour: no such property; valid: enforcementLevel, allowExceptions",
        ),
        ('{"all": {"allowExceptions": "no"}}', 'all.allowExceptions: "no" must be a boolean'),
        ('{"cognito-mfa": {"allowExceptions": 1}}', "cognito-mfa.allowExceptions: 1 must be a boolean"),
    ],
)
def test_bad_policy_config_exits_3_naming_what_is_wrong(
    tmp_path: Path, content: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy-config.json"
    path.write_text(content)
    code = main(["plan", "--stack", "dev", "--cwd", str(REPO), "--policy-config", str(path), "--format", "sarif"])
    captured = capsys.readouterr()
    assert code == EXIT_BAD_POLICY_CONFIG
    assert expected in captured.err
    assert "Traceback" not in captured.err
    sarif = sarif_valid(captured.out)
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == EXIT_BAD_POLICY_CONFIG


def test_policy_config_levels_reach_the_verdict(tmp_path: Path, raw_insecure: Path) -> None:
    path = tmp_path / "advisory.json"
    path.write_text('{"all": "advisory"}')
    assert main(["plan", "--cwd", str(raw_insecure), "--policy-config", str(path), "--format", "json"]) == 0


def test_version_and_both_entry_points() -> None:
    from secure_api import __version__

    for command in (["secure-api"], [sys.executable, "-m", "secure_api"]):
        executable = shutil.which(command[0], path=str(Path(sys.executable).parent)) or command[0]
        done = subprocess.run([executable, *command[1:], "--version"], capture_output=True, text=True, check=False)
        assert done.stdout.strip() == f"secure-api {__version__}"


@pytest.mark.parametrize("stack", ["dev", "private"])
def test_preview_and_update_agree_on_violations(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = {}
    for mode in ([], ["--update"]):
        code = main(["plan", "--stack", stack, "--cwd", str(REPO), "--format", "json", *mode])
        document = json.loads(capsys.readouterr().out)
        violations = {(f["rule"], f["resource_name"]) for f in document["findings"] if f["state"] == "violation"}
        verdicts[bool(mode)] = (code, violations, document["summary"]["undecided"])
    assert verdicts[False][:2] == verdicts[True][:2]
    assert verdicts[True][2] == 0  # nothing is unknown after the update


def test_progress_line_while_the_authorizer_package_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from secure_api_authorizer.build import default_cache_dir

    cache = tmp_path / "cache"
    shutil.copytree(default_cache_dir() / "deps", cache / "secure-api" / "deps")  # wheels cached, zip not built
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert main(["plan", "--stack", "dev", "--cwd", str(REPO), "--no-policy"]) == 0
    captured = capsys.readouterr()
    assert "building the authorizer's Lambda package (arm64, Python 3.13)" in captured.err
    assert "building" not in captured.out
    assert main(["plan", "--stack", "dev", "--cwd", str(REPO), "--no-policy"]) == 0
    assert "building" not in capsys.readouterr().err  # reused from the cache


def test_truststore_path_is_relative_to_the_users_project(tmp_path: Path) -> None:
    from secure_api.plan.offline import plan_stack

    stack = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)
    mutual_tls = stack["config"]["secure-api:domain"]["mutualTls"]
    pem = (REPO / mutual_tls["truststorePath"]).read_text()
    mutual_tls["truststorePath"] = "certs/partners-ca.pem"
    folder = _component_stack(tmp_path, stack["config"])
    shutil.copytree(REPO / "examples" / "schemas", folder / "examples" / "schemas")  # the dev stack's schemaFile
    (folder / "certs").mkdir()
    (folder / "certs" / "partners-ca.pem").write_text(pem)
    result = plan_stack("dev", preview=True, project_dir=folder)
    assert result.one("aws:s3/bucketObjectv2:BucketObjectv2").inputs["content"] == pem


def test_bare_keys_and_secrets_reach_the_program_like_the_cli_hands_them_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = """\
        import pulumi
        import pulumi_aws as aws

        config = pulumi.Config()
        aws.cloudwatch.LogGroup("audit", name=config.require("logGroup"), retention_in_days=config.require_int("days"))
        pulumi.export("password", config.require_secret("dbPassword"))
    """
    stack = {"aws:region": "eu-west-1", "logGroup": "/audit/shop", "days": 400, "dbPassword": {"secure": "AAABAx=="}}
    folder = project(tmp_path, "shop", program, stack)
    assert main(["plan", "--cwd", str(folder), "--update", "--no-policy"]) == 0
    out = capsys.readouterr().out
    assert "+ aws:cloudwatch/logGroup:LogGroup" in out
    assert "password  [secret]" in out  # encrypted values cannot be read offline; they stay secret


def test_turning_a_control_off_is_an_accepted_exception_unless_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = yaml.load((REPO / "Pulumi.dev.yaml").read_text(), Loader=StackFileLoader)
    stack["config"]["secure-api:waf"] = {"enabled": False, "acceptNoWaf": True}
    shutil.copy(REPO / "Pulumi.yaml", tmp_path)
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    (tmp_path / "Pulumi.nowaf.yaml").write_text(yaml.safe_dump(stack))
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    refuse = tmp_path / "refuse.json"
    refuse.write_text(json.dumps({"waf-stage-association": {"allowExceptions": False}}))
    plan = ["plan", "--stack", "nowaf", "--update", "--cwd", str(tmp_path)]

    accepted, accepted_out = main(plan), capsys.readouterr().out
    refused, refused_out = main([*plan, "--policy-config", str(refuse)]), capsys.readouterr().out

    assert accepted == 0
    assert "! WAF is off (waf.enabled: false): the REGIONAL API has no web ACL" in accepted_out
    assert "[accepted] waf-stage-association  secure-api-stage" in accepted_out
    assert "reason: waf.acceptNoWaf: no web ACL" in accepted_out
    assert refused == 1
    assert "[mandatory] waf-stage-association  secure-api-stage" in refused_out


def test_schema_files_and_truststore_resolve_when_planned_from_another_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--cwd`: the program and the layer summaries read the stack's files relative to its project."""
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "--stack", "dev", "--cwd", str(REPO), "--no-policy"]) == 0
    out = capsys.readouterr().out
    assert "request validation: 2 body model(s)" in out  # examples/schemas/create-order.json was read
    assert "mTLS truststore of 1 certificate(s)" in out  # examples/truststore/dev-ca.pem was read


def test_every_rule_names_the_config_keys_that_fix_it() -> None:
    """A finding on a SecureApi resource points code scanning at a config key, for every rule of the pack."""
    from secure_api.plan.locations import RULE_CONFIG

    assert set(RULE_CONFIG) == {meta.id for meta in RULES}


ARGS_IN_CODE = """\
    import json

    import pulumi_aws as aws

    from secure_api import SecureApi

    role = aws.iam.Role(
        "orders-handler",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
                ],
            }
        ),
    )
    api = SecureApi(
        "orders",
        {
            "routes": [
                {
                    "path": "/orders",
                    "method": "GET",
                    "auth": "iam",
                    "integration": {"type": "http", "url": "https://orders.internal.example.com/orders"},
                }
            ],
            "network": {"allowed_source_cidrs": ["203.0.113.0/24"]},
            "waf": {"enabled": False, "accept_no_waf": True},
        },
    )
"""


def test_args_in_code_point_code_scanning_at_the_secure_api_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path / "orders", "orders", ARGS_IN_CODE, {"aws:region": "eu-west-1"})
    (tmp_path / ".git").mkdir()
    refuse = tmp_path / "refuse.json"
    refuse.write_text(json.dumps({"waf-stage-association": {"allowExceptions": False}}))
    plan = ["plan", "--cwd", str(folder), "--format", "sarif", "--policy-config", str(refuse)]
    assert main(plan) == EXIT_MANDATORY_VIOLATIONS
    sarif = sarif_valid(capsys.readouterr().out)
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "waf-stage-association"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "orders/__main__.py"
    lines = (folder / "__main__.py").read_text().splitlines()
    line = where["region"]["startLine"]
    assert lines[line - 1] == "api = SecureApi("
    assert (
        f"set `waf.enabled` in the args of SecureApi 'orders' at orders/__main__.py:{line}"
        in (result["message"]["text"])
    )
    assert "Pulumi.dev.yaml" not in result["message"]["text"]


def test_args_in_code_fix_names_the_snake_case_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, "orders", ARGS_IN_CODE, {"aws:region": "eu-west-1"})
    refuse = tmp_path / "refuse.json"
    refuse.write_text(json.dumps({"log-group-retention": {"minRetentionDays": 3653}}))
    assert main(["plan", "--cwd", str(folder), "--format", "json", "--policy-config", str(refuse)]) == 1
    document = json.loads(capsys.readouterr().out)
    text = json.dumps(document)
    assert "`observability.logRetentionDays` (`observability.log_retention_days` in SecureApiArgs)" in text


def test_args_in_code_plan_shows_the_components_layers_and_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path, "orders", ARGS_IN_CODE, {"aws:region": "eu-west-1"})
    assert main(["plan", "--cwd", str(folder), "--no-policy"]) == 0
    out = capsys.readouterr().out
    assert "[auth] 1 resource(s) - route auth: iam; IAM invoke policy for the iam routes" in out
    assert "/orders  GET     iam" in out.split("Routes")[1]
    program = out.split("[program] ")[1]
    assert program.startswith("1 resource(s) - 1 Role")
    assert "orders-handler" in program
    assert "orders-handler" not in out.split("[program] ")[0]


def test_each_secure_api_of_a_program_gets_its_own_layers_and_routes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = ARGS_IN_CODE.replace('"orders",\n', '"billing",\n').replace("/orders", "/invoices")
    program = ARGS_IN_CODE + second[second.index("\n    api = SecureApi(") :].replace("api = ", "billing = ")
    folder = project(tmp_path, "shop", program, {"aws:region": "eu-west-1"})
    assert main(["plan", "--cwd", str(folder), "--no-policy"]) == 0
    out = capsys.readouterr().out
    orders, billing = out.split("SecureApi 'orders'")[1].split("SecureApi 'billing'")
    assert "+ aws:apigateway/restApi:RestApi                          orders-api" in orders
    assert "/orders  GET" in orders.split("Routes")[1]
    assert "billing-api" not in orders
    billing, own = billing.split("[program] ")
    assert "+ aws:apigateway/restApi:RestApi                          billing-api" in billing
    assert "/invoices  GET" in billing.split("Routes")[1]
    assert own.startswith("1 resource(s) - 1 Role")


RAW_OPEN_BEHIND_A_RANGE = """\
    import json
    import pulumi
    import pulumi_aws as aws

    api = aws.apigateway.RestApi("shop", name="shop")
    statement = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    office = {**statement, "Sid": "OfficeOnly", "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}}
    aws.apigateway.RestApiPolicy(
        "shop", rest_api_id=api.id,
        policy=json.dumps({"Version": "2012-10-17", "Statement": [office, {**statement, "Sid": "Everyone"}]}),
    )
    items = aws.apigateway.Resource("items", rest_api=api.id, parent_id=api.root_resource_id, path_part="items")
    get = aws.apigateway.Method(
        "get-items", rest_api=api.id, resource_id=items.id, http_method="GET", authorization="NONE"
    )
    mock = aws.apigateway.Integration(
        "get-items", rest_api=api.id, resource_id=items.id, http_method=get.http_method, type="MOCK",
        request_templates={"application/json": '{"statusCode": 200}'},
    )
    deployment = aws.apigateway.Deployment("shop", rest_api=api.id, opts=pulumi.ResourceOptions(depends_on=[mock]))
    aws.apigateway.Stage("prod", rest_api=api.id, deployment=deployment.id, stage_name="prod")
"""


def test_access_matrix_violations_are_sarif_results_at_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path / "shop", "shop", RAW_OPEN_BEHIND_A_RANGE, {"aws:region": "eu-west-1"})
    assert main(["plan", "--cwd", str(folder), "--format", "sarif"]) == EXIT_MANDATORY_VIOLATIONS
    sarif = sarif_valid(capsys.readouterr().out)
    matrix_run = next(r for r in sarif["runs"] if r["tool"]["driver"]["name"] == "secure-api-access-matrix")
    (result,) = [r for r in matrix_run["results"] if r["ruleId"] == "access-matrix-violation"]
    assert result["level"] == "error"
    assert "caller outside: 200" in result["message"]["text"]
    assert "Everyone" in result["message"]["text"]
    where = result["locations"][0]["physicalLocation"]
    lines = (folder / "__main__.py").read_text().splitlines()
    assert lines[where["region"]["startLine"] - 1].startswith('api = aws.apigateway.RestApi("shop"')


def test_a_clean_matrix_adds_an_empty_sarif_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--cwd", str(REPO), "--stack", "minimal", "--format", "sarif"]) == 0
    sarif = sarif_valid(capsys.readouterr().out)
    assert [r["tool"]["driver"]["name"] for r in sarif["runs"]][1:] == ["secure-api-access-matrix"]
    assert sarif["runs"][1]["results"] == []
