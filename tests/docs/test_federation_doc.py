"""docs/federation.md: every ``[[upstreams]]`` example is a valid entry, and every preset has a section."""

from __future__ import annotations

import tomllib

import pytest

from tessera.issue.signin.federation import PRESETS, upstreams_from_config

from .markdown import CodeBlock, code_blocks

BLOCKS = code_blocks("federation.md", "toml")


@pytest.mark.parametrize("block", BLOCKS, ids=[f"line {b.line}" for b in BLOCKS])
def test_each_example_is_a_valid_upstream(block: CodeBlock) -> None:
    entries = tomllib.loads(block.code)["upstreams"]
    assert upstreams_from_config(entries)


def test_every_preset_has_an_example() -> None:
    shown = {entry.get("preset") for b in BLOCKS for entry in tomllib.loads(b.code)["upstreams"]}
    assert set(PRESETS) <= shown
