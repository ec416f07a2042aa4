"""The Python snippets of docs/protect.md: every one compiles, and the runnable ones run.

A block marked ``<!-- test: setup -->`` defines ``verifier`` and ``token`` from an offline
LocalIssuer; a block marked ``<!-- test: run -->`` runs after it and after the runnable blocks
above it in the same ``##`` section (which is how a reader meets them). Their ``assert``
lines are the checks. Every platform issue 3 names has a section with a snippet.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .markdown import DOCS, CodeBlock, code_blocks, heading_anchors

SNIPPETS = code_blocks("protect.md", "python")
SETUP = [block for block in SNIPPETS if block.mark == "setup"]
RUNNABLE = [block for block in SNIPPETS if block.mark == "run"]

# platform -> the heading of its section in docs/protect.md
PLATFORM_SECTIONS = {
    "API Gateway REST (payload 1.0)": "API Gateway REST API (payload 1.0)",
    "API Gateway HTTP API (payload 2.0)": "API Gateway HTTP API (payload 2.0)",
    "Application Load Balancer": "Application Load Balancer",
    "Lambda Function URLs": "Lambda Function URLs",
    "Lambda@Edge": "Lambda@Edge (CloudFront viewer-request)",
    "Lambda TOKEN authorizer": "REST API `TOKEN` authorizer",
    "Lambda REQUEST authorizer": "REST API `REQUEST` authorizer",
    "HTTP API authorizer": "HTTP API authorizer (payload 2.0)",
    "Azure Functions": "Azure Functions",
    "Google Cloud Functions": "Google Cloud Functions (functions-framework)",
    "Starlette": "Starlette",
    "FastAPI": "FastAPI",
    "Mangum": "FastAPI (or any ASGI app) on Lambda through Mangum",
    "Flask": "Flask",
    "Django": "Django",
    "Google Cloud IAP": "Google Cloud IAP",
    "Easy Auth": "Azure App Service / Functions Easy Auth",
    "ESPv2": "Cloud Endpoints (ESPv2)",
}
# platforms whose snippet cannot run in this process, and where it is exercised instead
NOT_RUN_HERE = {
    "Django": "tests/protect/test_django.py (Django settings are configured once per process)",
}


@pytest.mark.parametrize("block", SNIPPETS, ids=lambda block: block.where)
def test_snippet_compiles(block: CodeBlock) -> None:
    compile(block.code, block.where, "exec")


def _run(block: CodeBlock, namespace: dict[str, Any]) -> None:
    exec(compile(block.code, block.where, "exec"), namespace)  # noqa: S102 - the project's own docs


@pytest.fixture
def lambda_event_loop() -> Iterator[None]:
    """An event loop set as Lambda's main thread has one (Mangum uses it), closed afterwards."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.where)
def test_runnable_snippet_runs(block: CodeBlock, lambda_event_loop: None) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_snippet"}
    for earlier in [*SETUP, *RUNNABLE[: RUNNABLE.index(block)]]:
        if earlier.mark == "setup" or earlier.section == block.section:
            _run(earlier, namespace)

    _run(block, namespace)


def test_there_is_one_setup_snippet_and_it_defines_the_verifier_and_a_token() -> None:
    assert len(SETUP) == 1
    namespace: dict[str, Any] = {}
    _run(SETUP[0], namespace)
    assert namespace["verifier"].verify(namespace["token"]).subject == "user-123"


@pytest.mark.parametrize(("platform", "heading"), sorted(PLATFORM_SECTIONS.items()))
def test_every_platform_has_a_section_with_a_snippet(platform: str, heading: str) -> None:
    blocks = [block for block in SNIPPETS if block.heading == heading]

    assert blocks, f"docs/protect.md has no snippet under '{heading}' for {platform}"
    runs = any(block.mark == "run" for block in blocks)
    assert runs is (platform not in NOT_RUN_HERE)


def test_links_to_protect_sections_point_at_headings() -> None:
    anchors = heading_anchors("protect.md")
    linked = {
        (doc.name, anchor)
        for doc in [*DOCS.glob("*.md"), DOCS.parent / "README.md"]
        for anchor in re.findall(r"protect\.md#([\w-]+)", doc.read_text(encoding="utf-8"))
    }

    assert linked, "no document links to a docs/protect.md section"
    assert {(name, anchor) for name, anchor in linked if anchor not in anchors} == set()
