"""The fenced code blocks of the project's Markdown docs, for tests that keep the docs honest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"

_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[ \t]*\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^(#{1,6}) +(.+?) *$", re.MULTILINE)
_MARK = re.compile(r"<!-- *test: *(?P<mark>[a-z-]+) *-->\s*\Z")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: its language, text, first line, headings and test mark.

    ``heading`` is the nearest heading above the block, ``section`` the nearest of level 1 or 2.

    The mark is an HTML comment standing right before the fence, e.g. ``<!-- test: run -->``;
    it is invisible once the Markdown is rendered.
    """

    doc: str
    lang: str
    code: str
    line: int
    heading: str
    section: str
    mark: str | None

    @property
    def where(self) -> str:
        """``docs/NAME.md:LINE``, for test ids and failure messages."""
        return f"docs/{self.doc}:{self.line}"


def code_blocks(doc: str, lang: str) -> list[CodeBlock]:
    """Every ``lang`` block of ``docs/<doc>``, in order, with the heading it stands under."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    blocks = []
    heading = section = ""
    prose_start = 0
    for fence in _FENCE.finditer(text):
        prose = text[prose_start : fence.start()]
        headings = _HEADING.findall(prose)
        heading = headings[-1][1] if headings else heading
        section = next((title for level, title in reversed(headings) if len(level) <= 2), section)
        prose_start = fence.end()
        if fence["lang"] != lang:
            continue
        mark = _MARK.search(prose)
        blocks.append(
            CodeBlock(
                doc=doc,
                lang=lang,
                code=fence["code"],
                line=text.count("\n", 0, fence.start()) + 2,
                heading=heading,
                section=section,
                mark=mark["mark"] if mark else None,
            )
        )
    return blocks


def heading_anchors(doc: str) -> set[str]:
    """The anchors GitHub gives the headings of ``docs/<doc>`` (code blocks left out)."""
    prose = _FENCE.sub("", (DOCS / doc).read_text(encoding="utf-8"))
    return {
        re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        for _, title in _HEADING.findall(prose)
    }
