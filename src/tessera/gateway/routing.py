"""Route keys and path patterns as API Gateway matches them: ``GET /items/{id}``, ``ANY /{proxy+}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from ..errors import ConfigurationError

__all__ = ["PathPattern", "RouteKey"]

_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$")
_METHODS = frozenset({"ANY", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class PathPattern:
    """A resource path such as ``/items/{id}`` or ``/files/{proxy+}`` (greedy, last segment only)."""

    template: str
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, template: str) -> PathPattern:
        """Parse and check a template; raises ConfigurationError when it is malformed."""
        if not template.startswith("/"):
            raise ConfigurationError(f"a route path must start with '/': {template!r}")
        segments = tuple(s for s in template.split("/")[1:] if s != "")
        for index, segment in enumerate(segments):
            if "{" in segment or "}" in segment:
                found = _PARAM.match(segment)
                if found is None:
                    raise ConfigurationError(f"malformed path parameter in {template!r}")
                if found.group(2) and index != len(segments) - 1:
                    raise ConfigurationError(f"a greedy parameter must be the last segment: {template!r}")
        return cls("/" + "/".join(segments), segments)

    @property
    def rank(self) -> tuple[int, int, int]:
        """Sort key, most specific first: no greedy tail, more literal segments, more segments."""
        literals = sum(1 for s in self.segments if not s.startswith("{"))
        greedy = 1 if self.segments and self.segments[-1].endswith("+}") else 0
        return (greedy, -literals, -len(self.segments))

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when ``path`` matches, else None."""
        parts = path.split("/")[1:]
        if parts and parts[-1] == "":
            parts = parts[:-1]
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            found = _PARAM.match(segment)
            if found is not None and found.group(2):
                rest = parts[index:]
                if not rest or any(p == "" for p in rest):
                    return None
                params[found.group(1)] = unquote("/".join(rest))
                return params
            if index >= len(parts):
                return None
            if found is not None:
                if parts[index] == "":
                    return None
                params[found.group(1)] = unquote(parts[index])
            elif parts[index] != segment:
                return None
        return params if len(parts) == len(self.segments) else None


@dataclass(frozen=True)
class RouteKey:
    """An HTTP API style route key: a method (or ``ANY``) and a path pattern, or ``$default``."""

    method: str
    path: PathPattern | None

    @classmethod
    def parse(cls, text: str) -> RouteKey:
        """Parse ``"GET /items/{id}"``, ``"ANY /{proxy+}"`` or ``"$default"``."""
        if text.strip() == "$default":
            return cls("ANY", None)
        method, _, path = text.strip().partition(" ")
        method = method.upper()
        if method not in _METHODS or not path.strip():
            raise ConfigurationError(f"a route is 'METHOD /path' or '$default': {text!r}")
        return cls(method, PathPattern.parse(path.strip()))

    @property
    def text(self) -> str:
        """The route key as API Gateway spells it in ``routeKey``."""
        return "$default" if self.path is None else f"{self.method} {self.path.template}"

    @property
    def resource(self) -> str:
        """The REST API resource path (``resource``/``resourcePath`` in a v1 event)."""
        return "/{proxy+}" if self.path is None else self.path.template

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves ``method path``, else None."""
        if self.method not in ("ANY", method.upper()):
            return None
        if self.path is None:
            return {}
        return self.path.match(path)

    @property
    def rank(self) -> tuple[int, tuple[int, int, int], int]:
        """Sort key, most specific first (API Gateway's order: exact, parameters, greedy, $default)."""
        if self.path is None:
            return (1, (0, 0, 0), 0)
        return (0, self.path.rank, 1 if self.method == "ANY" else 0)
