"""deploy/aws/dynamodb-table.yaml: valid CloudFormation (cfn-lint), and the table migrate creates."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tessera.store.dynamodb_schema import TABLE_DEFINITION

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "dynamodb-table.yaml"


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.fail("cfn-lint is missing: it comes with moto[server] in the dev extra")
    return subprocess.run([binary, str(path)], capture_output=True, text=True, check=False)


def test_the_table_template_passes_cfn_lint_and_a_broken_one_does_not(tmp_path: Path) -> None:
    passed = _cfn_lint(TEMPLATE)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("KeyType: RANGE", "KeyType: SIDEWAYS"))
    assert _cfn_lint(broken).returncode != 0


def test_the_template_describes_the_table_migrate_creates() -> None:
    from cfnlint.decode.cfn_yaml import loads

    template: dict[str, Any] = loads(TEMPLATE.read_text())
    table = template["Resources"]["StoreTable"]["Properties"]
    assert table["AttributeDefinitions"] == TABLE_DEFINITION["AttributeDefinitions"]
    assert table["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert table["BillingMode"] == TABLE_DEFINITION["BillingMode"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
