"""The line of each key in a TOML text, which :mod:`tomllib` does not report.

A small scanner that knows just enough TOML to find where keys are assigned: table headers
(``[a.b]``, ``[[a]]``, with quoted and spaced keys), dotted keys, and the values it must step
over without reading keys in them (multi-line strings and arrays, inline tables, comments).
Paths are tuples of keys and array-of-tables indexes, as the parsed document nests them:
``("clients", 1, "secret_env")`` is the ``secret_env`` of the second ``[[clients]]``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["KeyLines", "Path", "key_lines"]

Path = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class KeyLines:
    """Line numbers (1-based) of the keys and table headers of one TOML text."""

    def __init__(self, lines: dict[Path, int]) -> None:
        self._lines = lines

    def line(self, path: Sequence[str | int]) -> int:
        """The line of ``path``, else of its nearest enclosing key or table; 1 when none is known."""
        probe = tuple(path)
        while probe:
            if probe in self._lines:
                return self._lines[probe]
            probe = probe[:-1]
        return 1


def _read_key(text: str, start: int) -> tuple[list[str], int]:
    """Parse a (dotted, possibly quoted) key at ``start``; returns its parts and the index after it."""
    parts: list[str] = []
    i = start
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] in "\"'":
            quote = text[i]
            j = i + 1
            chars: list[str] = []
            while j < len(text) and text[j] != quote:
                if quote == '"' and text[j] == "\\" and j + 1 < len(text):
                    chars.append(text[j + 1])
                    j += 2
                    continue
                chars.append(text[j])
                j += 1
            parts.append("".join(chars))
            i = j + 1
        else:
            j = i
            while j < len(text) and text[j] in _BARE:
                j += 1
            if j == i:
                return parts, i
            parts.append(text[i:j])
            i = j
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, i


class _Scanner:
    """Walks the text once, tracking strings and brackets so that only real keys are recorded."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.arrays: dict[Path, int] = {}
        self.table: Path = ()

    def _advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self.pos < len(self.text) and self.text[self.pos] == "\n":
                self.line += 1
            self.pos += 1

    def _peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def _skip_line_rest(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] != "\n":
            self.pos += 1

    def _skip_string(self) -> None:
        quote = self._peek()
        if self._peek(3) == quote * 3:
            self._advance(3)
            while self.pos < len(self.text) and self._peek(3) != quote * 3:
                self._advance(2 if quote == '"' and self._peek() == "\\" else 1)
            self._advance(3)
            while self._peek() == quote:  # up to two quotes may end the content
                self._advance()
            return
        self._advance()
        while self.pos < len(self.text) and self._peek() not in (quote, "\n"):
            self._advance(2 if quote == '"' and self._peek() == "\\" else 1)
        self._advance()

    def _skip_value(self) -> None:
        """Step over one value, which may span lines (arrays, multi-line strings)."""
        depth = 0
        while self.pos < len(self.text):
            char = self._peek()
            if char in "\"'":
                self._skip_string()
            elif char == "#":
                self._skip_line_rest()
            elif char in "[{":
                depth += 1
                self._advance()
            elif char in "]}":
                depth -= 1
                self._advance()
            elif char == "\n" and depth <= 0:
                return
            else:
                self._advance()

    def _resolve(self, parts: Sequence[str]) -> list[str | int]:
        resolved: list[str | int] = []
        for part in parts:
            resolved.append(part)
            count = self.arrays.get(tuple(resolved))
            if count:
                resolved.append(count - 1)
        return resolved

    def _header(self) -> None:
        double = self._peek(2) == "[["
        self._advance(2 if double else 1)
        parts, end = _read_key(self.text, self.pos)
        self.pos = end
        if not parts:
            self._skip_line_rest()
            return
        if double:
            prefix = self._resolve(parts[:-1])
            key = (*prefix, parts[-1])
            self.arrays[key] = self.arrays.get(key, 0) + 1
            self.table = (*key, self.arrays[key] - 1)
            self.lines.setdefault(key, self.line)
        else:
            self.table = tuple(self._resolve(parts))
        self.lines[self.table] = self.line
        self._skip_line_rest()

    def run(self) -> dict[Path, int]:
        while self.pos < len(self.text):
            char = self._peek()
            if char in " \t\r\n":
                self._advance()
            elif char == "#":
                self._skip_line_rest()
            elif char == "[":
                self._header()
            else:
                parts, end = _read_key(self.text, self.pos)
                if not parts:
                    self._skip_line_rest()
                    continue
                path = (*self.table, *parts)
                for depth in range(len(self.table) + 1, len(path) + 1):
                    self.lines.setdefault(path[:depth], self.line)
                self.lines[path] = self.line
                self.pos = end
                if self._peek() == "=":
                    self._advance()
                self._skip_value()
        return self.lines


def key_lines(text: str) -> KeyLines:
    """Where every key and table of ``text`` is (the text is expected to be valid TOML)."""
    return KeyLines(_Scanner(text).run())
