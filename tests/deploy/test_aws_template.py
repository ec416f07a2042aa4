"""deploy/aws/template.yaml: valid SAM (cfn-lint), least-privilege IAM, and what the handler needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "aws" / "template.yaml"
OWN = {"StoreTable", "MasterKeySecret", "ProviderLogGroup"}


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.fail("cfn-lint is missing: it comes with moto[server] in the dev extra")
    return subprocess.run([binary, str(path)], capture_output=True, text=True, check=False)


def _template(text: str | None = None) -> dict[str, Any]:
    from cfnlint.decode.cfn_yaml import loads

    loaded: dict[str, Any] = loads(TEMPLATE.read_text() if text is None else text)
    return loaded


def test_the_sam_template_passes_cfn_lint_and_a_broken_one_does_not(tmp_path: Path) -> None:
    passed = _cfn_lint(TEMPLATE)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        TEMPLATE.read_text().replace("Resource: !GetAtt StoreTable.Arn", "Resource: !GetAtt StoreTabel.Arn")
    )
    assert _cfn_lint(broken).returncode != 0


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in template["Resources"].values():
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            props = resource["Properties"]
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
            if "PolicyDocument" in props:
                documents.append(props["PolicyDocument"])
            for document in documents:
                found.extend(document["Statement"])
    return found


def _names_own_resource(resource: Any) -> bool:
    """A Ref or GetAtt ... .Arn of one of the stack's own table, secret or log group."""
    if isinstance(resource, dict) and set(resource) == {"Ref"}:
        return resource["Ref"] in OWN
    if isinstance(resource, dict) and set(resource) == {"Fn::GetAtt"}:
        target = resource["Fn::GetAtt"]
        name, attribute = target if isinstance(target, list) else target.split(".", 1)
        return name in OWN and attribute == "Arn"
    return False


def least_privilege_problems(template: dict[str, Any]) -> list[str]:
    """Every way the template's IAM goes past the function's own table, secret and log group."""
    problems: list[str] = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        serverless = resource["Type"] == "AWS::Serverless::Function"
        if serverless and ("Role" not in props or "Policies" in props):
            problems.append("the function must use the template's own role, not SAM policies")
        if props.get("ManagedPolicyArns"):
            problems.append("a managed policy grants what the template does not name")
    for statement in _statements(template):
        if "Principal" in statement:
            continue  # the trust policy
        if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
            problems.append(f"statement {statement.get('Sid')}: only plain Allow statements")
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action:
                problems.append(f"wildcard action {action}")
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            if not _names_own_resource(resource):
                problems.append(
                    f"statement {statement.get('Sid')}: resource {resource!r} is not the stack's own"
                )
    return problems


def test_the_function_may_touch_only_its_own_table_secret_and_logs() -> None:
    assert least_privilege_problems(_template()) == []
    text = TEMPLATE.read_text()
    widened = [
        text.replace("- dynamodb:Query", "- dynamodb:*"),
        text.replace("Resource: !GetAtt StoreTable.Arn", 'Resource: "*"'),
        text.replace(
            "Resource: !Ref MasterKeySecret",
            'Resource: !Sub "arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"',
        ),
        text.replace(
            "      Role: !GetAtt ProviderRole.Arn",
            "      Role: !GetAtt ProviderRole.Arn\n      Policies: [AWSLambdaBasicExecutionRole]",
        ),
    ]
    for template in widened:
        assert template != text
        assert least_privilege_problems(_template(template)) != []


def _store_operations() -> set[str]:
    """The DynamoDB calls the store makes while serving (migrate is an operator's job)."""
    operations: set[str] = set()
    for path in (ROOT / "src" / "tessera" / "store").glob("dynamodb*.py"):
        if path.name == "dynamodb_schema.py":
            continue
        source = path.read_text()
        operations.update(re.findall(r"_db\.([a-z_]+)\(", source))
        operations.update(
            f"transact_{kind.lower()}"
            for kind in re.findall(r'"(Put|Update|Delete|ConditionCheck)":', source)
        )
    return operations


_IAM_ACTION = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "get_paginator": "dynamodb:Scan",  # admin listings, and the phone lookup until it has an item
    "transact_put": "dynamodb:PutItem",
    "transact_update": "dynamodb:UpdateItem",
    "transact_delete": "dynamodb:DeleteItem",
    "transact_conditioncheck": "dynamodb:ConditionCheckItem",
    "transact_write_items": "dynamodb:PutItem",
}


def test_the_role_grants_every_dynamodb_call_the_store_makes() -> None:
    operations = _store_operations()
    assert {"get_item", "query", "transact_write_items"} <= operations
    unknown = operations - set(_IAM_ACTION)
    assert not unknown, f"map these store calls to IAM actions: {unknown}"
    granted = {
        action
        for statement in _statements(_template())
        if "Principal" not in statement
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert {_IAM_ACTION[op] for op in operations} <= granted
    assert "secretsmanager:GetSecretValue" in granted


def test_the_function_is_the_mangum_handler_wired_to_its_table_and_secret() -> None:
    template = _template()
    function = template["Resources"]["ProviderFunction"]["Properties"]
    assert function["Handler"] == "tessera.issue.hosting.lambda_handler.handler"
    variables = function["Environment"]["Variables"]
    assert variables["TESSERA_MASTER_KEY_SECRET"] == {"Ref": "MasterKeySecret"}
    assert "${StoreTable}" in variables["TESSERA_STORE"]["Fn::Sub"]
    assert {e["Type"] for e in function["Events"].values()} == {"HttpApi", "Schedule"}
    schedule = next(e for e in function["Events"].values() if e["Type"] == "Schedule")
    assert schedule["Properties"]["Input"] == '{"tessera": "send-mail"}'
    logs = template["Resources"]["ProviderLogGroup"]["Properties"]
    assert logs["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert logs["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}-provider"}
    assert function["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-provider"}
    table = template["Resources"]["StoreTable"]["Properties"]
    from tessera.store.dynamodb_schema import TABLE_DEFINITION

    assert table["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
