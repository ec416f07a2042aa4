"""A problem found in a configuration file, told as ``FILE:LINE: KEY: message``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = ["ConfigFileError", "Diagnostic", "key_name"]


def key_name(path: Sequence[str | int]) -> str:
    """``("clients", 1, "secret_env")`` → ``clients[1].secret_env``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(file)"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: the file, the line, the key (as a dotted path) and what is wrong.

    Line 0 marks a value set by an environment variable, which ``key`` then names.
    """

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        if self.line == 0:  # a value from the environment, not from a line of the file
            return f"{self.key} (environment, for {self.file}): {self.message}"
        return f"{self.file}:{self.line}: {self.key}: {self.message}"


class ConfigFileError(ConfigurationError):
    """A configuration file with problems; ``diagnostics`` lists every one found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        first = str(self.diagnostics[0]) if self.diagnostics else "invalid configuration"
        more = len(self.diagnostics) - 1
        super().__init__(first + (f" (and {more} more: tessera config check)" if more > 0 else ""))
