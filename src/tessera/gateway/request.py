"""The HTTP request as the gateway received it, before it becomes an API Gateway event."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

__all__ = ["IncomingRequest", "is_text_content_type"]

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "application/yaml",
    }
)


def is_text_content_type(content_type: str | None) -> bool:
    """Whether a body of this type travels as text (else base64, ``isBase64Encoded: true``)."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


@dataclass(frozen=True)
class IncomingRequest:
    """One HTTP request: method, raw target (path and query), headers in arrival order, body bytes."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def path(self) -> str:
        """The path, without the query string."""
        return self.target.split("?", 1)[0] or "/"

    @property
    def raw_query(self) -> str:
        """The query string as sent, without the ``?``."""
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @property
    def query(self) -> list[tuple[str, str]]:
        """The decoded query parameters in order, repeated names kept."""
        return parse_qsl(self.raw_query, keep_blank_values=True)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def header(self, name: str) -> str | None:
        """The values of header ``name`` joined with commas, or None when absent."""
        values = self.header_values(name)
        return ",".join(values) if values else None

    @property
    def cookies(self) -> list[str]:
        """The ``name=value`` pairs of every Cookie header, in order (the v2 ``cookies`` array)."""
        pairs: list[str] = []
        for value in self.header_values("cookie"):
            pairs.extend(p.strip() for p in value.split(";") if p.strip())
        return pairs

    @property
    def user_agent(self) -> str:
        """The User-Agent header, or an empty string."""
        return self.header("user-agent") or ""
