"""Redirect URI rules: registration checks and exact matching with the loopback port exception."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from tessera.errors import ConfigurationError

__all__ = ["add_query", "check_registered_uri", "redirect_uri_matches"]

_ANY_PORT = ":*"


def _loopback_parts(uri: str) -> tuple[str, str] | None:
    """For a loopback ``http`` URI, the text before and after its port; else None."""
    if not uri.startswith("http://"):
        return None
    rest = uri[len("http://") :]
    for host in ("127.0.0.1", "localhost", "[::1]"):
        if rest.startswith(host) and rest[len(host) : len(host) + 1] in (":", "/"):
            tail = rest[len(host) :]
            if tail.startswith(":"):
                port, slash, path = tail[1:].partition("/")
                if not slash or not (port == "*" or (port.isascii() and port.isdigit())):
                    return None
                return f"http://{host}", "/" + path
            return f"http://{host}", tail
    return None


def check_registered_uri(uri: str) -> None:
    """Refuse a redirect URI at registration (AS-02): fragments, wildcards, non-loopback http, junk."""
    parts = urlsplit(uri)
    loopback = _loopback_parts(uri)
    if parts.fragment or "#" in uri:
        raise ConfigurationError("a redirect URI must not contain a fragment")
    if parts.username is not None or parts.password is not None or "\\" in uri:
        raise ConfigurationError("a redirect URI must not contain credentials or backslashes")
    if "*" in uri and not (loopback is not None and uri.count("*") == 1 and _ANY_PORT in uri):
        raise ConfigurationError("a redirect URI must not contain a wildcard (loopback ports excepted)")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and loopback is not None:
        return
    raise ConfigurationError("a redirect URI must be https, or http on a loopback address")


def redirect_uri_matches(requested: str, registered: str) -> bool:
    """True when ``requested`` is exactly ``registered``, or differs from a loopback one only in port.

    RFC 8252 §7.3: for ``http://127.0.0.1``, ``http://[::1]`` and ``http://localhost`` the port may
    vary; everything else (scheme, host, path, query) must be byte-identical (AS-01).
    """
    if requested == registered and _ANY_PORT not in registered:
        return True
    want = _loopback_parts(registered)
    if want is None:
        return False
    have = _loopback_parts(requested)
    if have is None or have != want:
        return False
    port_text = requested[len(want[0]) + 1 : len(requested) - len(want[1])]
    if not requested.startswith(want[0] + ":") or not port_text.isascii() or not port_text.isdigit():
        return False
    return len(port_text) <= 5 and 0 < int(port_text) <= 65535 and port_text[0] != "0"


def add_query(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` appended to its query, correctly encoded (AS-22)."""
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"
