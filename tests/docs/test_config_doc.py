"""docs/config.md: its example file passes ``tessera config check``; its table names every override."""

from __future__ import annotations

from pathlib import Path

from tessera.config.environment import OVERRIDES
from tessera.config.schema import SECTIONS, parse_config

from .markdown import code_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_the_example_file_is_valid() -> None:
    block, *_ = code_blocks("config.md", "toml")
    config, problems = parse_config(block.code, "docs/config.md")
    assert problems == [] and config is not None
    assert [c.id for c in config.clients] == ["orders-service", "orders-web"]


def test_the_templates_example_uses_known_keys() -> None:
    _, block = code_blocks("config.md", "toml")
    config, problems = parse_config(block.code, "docs/config.md")
    assert problems == [] and config is not None
    assert (config.provider.logo, config.provider.templates) == ("brand/logo.svg", "brand/templates")


def test_every_environment_override_is_in_the_table() -> None:
    text = DOC.read_text()
    for variable in (*OVERRIDES, "TESSERA_CONFIG"):
        assert f"| `{variable}` |" in text, variable


def test_every_section_is_in_the_table() -> None:
    text = DOC.read_text()
    for name, section in SECTIONS.items():
        assert (f"`[[{name}]]`" if section.array else f"`[{name}]`") in text, name
