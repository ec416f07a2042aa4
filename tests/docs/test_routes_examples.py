"""The routes files shown in the docs load with the loaders that read real ones.

docs/protect.md and docs/gateway.md show ROUTES_FILE examples; each is written to a file (as
TOML, and as the equivalent JSON) and loaded by ``tessera.protect.routes.load_routes`` and by
the gateway's ``load_gateway_config``, which refuse unknown keys. A documented key the code
does not know fails here.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tessera import ConfigurationError
from tessera.gateway.config import load_gateway_config
from tessera.protect.routes import load_routes

from .markdown import CodeBlock, code_blocks

ROUTES_EXAMPLES = [
    block
    for doc in ("protect.md", "gateway.md")
    for block in code_blocks(doc, "toml")
    if "[[routes]]" in block.code
]


def test_both_docs_show_a_routes_file() -> None:
    assert {block.doc for block in ROUTES_EXAMPLES} == {"protect.md", "gateway.md"}


@pytest.mark.parametrize("suffix", [".toml", ".json"])
@pytest.mark.parametrize("block", ROUTES_EXAMPLES, ids=lambda block: block.where)
def test_documented_routes_file_loads(block: CodeBlock, suffix: str, tmp_path: Path) -> None:
    document = tomllib.loads(block.code)
    routes_file = tmp_path / f"routes{suffix}"
    routes_file.write_text(block.code if suffix == ".toml" else json.dumps(document))

    rules = load_routes(routes_file)
    config = load_gateway_config(routes_file)

    documented = {f"{rule['method']} {rule['path']}" for rule in document["routes"]}
    assert {route.route_key for route in rules.routes} == documented
    served = {route.key.text: route for route in config.routes}
    assert documented <= set(served)
    default_version = document.get("gateway", {}).get("payload_version", "1.0")
    for key in documented:
        assert served[key].payload_version == default_version


def test_a_misspelt_gateway_key_is_refused(tmp_path: Path) -> None:
    block = next(b for b in ROUTES_EXAMPLES if b.doc == "protect.md")
    misspelt = tmp_path / "routes.toml"
    misspelt.write_text(block.code.replace("payload_version", "payload"))

    with pytest.raises(ConfigurationError, match="payload"):
        load_gateway_config(misspelt)
