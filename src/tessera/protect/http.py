"""The platform-neutral request and response every adapter translates to and from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload
from urllib.parse import parse_qsl

__all__ = [
    "FORM_MEDIA_TYPE",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "MultiMap",
    "parse_cookies",
    "parse_query",
]

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
_Default = TypeVar("_Default")


class MultiMap(Mapping[str, str]):
    """An immutable multi-map: ``m[name]`` is the first value, :meth:`get_all` every value."""

    # The first value of each name in one dict, the values of repeated names in another: the
    # usual request, with no name repeated, is then a single dict copy to build.
    __slots__ = ("_first", "_items", "_repeated")
    _fold_case = False

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: tuple[tuple[str, str], ...] | None = tuple(items)
        first: dict[str, str] = {}
        repeated: dict[str, list[str]] = {}
        fold = self._fold_case
        for name, value in self._items:
            key = name.lower() if fold else name
            if key not in first:
                first[key] = value
            elif key in repeated:
                repeated[key].append(value)
            else:
                repeated[key] = [first[key], value]
        self._first = first
        self._repeated = repeated

    def _key(self, name: str) -> str:
        return name

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in order (empty when absent)."""
        key = name.lower() if self._fold_case else name
        repeated = self._repeated.get(key) if self._repeated else None
        if repeated is not None:
            return list(repeated)
        value = self._first.get(key)
        return [] if value is None else [value]

    def items_all(self) -> tuple[tuple[str, str], ...]:
        """Every (name, value) pair as given, duplicates included."""
        if self._items is None:
            self._items = tuple(self._first.items())
        return self._items

    @overload
    def get(self, name: str, /) -> str | None: ...

    @overload
    def get(self, name: str, /, default: str | _Default) -> str | _Default: ...

    def get(self, name: str, /, default: Any = None) -> Any:
        """The first value of ``name``, or ``default`` when absent."""
        return self._first.get(self._key(name), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name.lower() if self._fold_case else name) in self._first

    def __getitem__(self, name: str) -> str:
        return self._first[self._key(name)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self._first)})"


class Headers(MultiMap):
    """HTTP headers: a case-insensitive multi-map (names are compared lower-cased)."""

    __slots__ = ()
    _fold_case = True

    @classmethod
    def from_lowercase(cls, headers: Mapping[str, str]) -> Headers:
        """Headers from single values whose names are all lower-case already.

        The caller has checked that (API Gateway payload 2.0 delivers headers so); this skips
        the per-header work of the general constructor.
        """
        made = cls.__new__(cls)
        made._items = None
        made._first = dict(headers)
        made._repeated = _NO_REPEATS
        return made

    def _key(self, name: str) -> str:
        return name.lower()


_NO_REPEATS: dict[str, list[str]] = {}
EMPTY_QUERY = MultiMap()


def parse_query(query: str) -> MultiMap:
    """The parameters of a query string (``a=1&a=2``), percent-decoded, blanks kept."""
    return MultiMap(parse_qsl(query, keep_blank_values=True)) if query else EMPTY_QUERY


def parse_cookies(headers: Iterable[str]) -> MultiMap:
    """Cookies from ``Cookie`` header values, duplicates kept so ambiguity can be rejected."""
    pairs: list[tuple[str, str]] = []
    for header in headers:
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                pairs.append((name, value))
    return MultiMap(pairs)


_NO_HEADERS = Headers()


class HttpRequest:
    """What the authorization core sees of a request, whatever the platform.

    ``headers`` is case-insensitive and keeps repeated headers; ``query`` keeps repeated
    parameters; ``body`` is only needed for form posts (RFC 6750 §2.2 detection). Cookies are
    read from the ``Cookie`` headers. Immutable: every attribute is read-only.
    """

    # A plain class rather than a frozen dataclass: adapters build one per invocation, and a
    # frozen dataclass's __init__ costs about four times as much.
    __slots__ = ("_body", "_headers", "_method", "_path", "_query")

    def __init__(
        self,
        method: str,
        path: str,
        headers: Headers = _NO_HEADERS,
        query: MultiMap = EMPTY_QUERY,
        body: bytes = b"",
    ) -> None:
        self._method = method
        self._path = path
        self._headers = headers
        self._query = query
        self._body = body

    @property
    def method(self) -> str:
        """The HTTP method, as the platform gave it."""
        return self._method

    @property
    def path(self) -> str:
        """The request path, without the query string."""
        return self._path

    @property
    def headers(self) -> Headers:
        """The request headers."""
        return self._headers

    @property
    def query(self) -> MultiMap:
        """The query parameters."""
        return self._query

    @property
    def body(self) -> bytes:
        """The body bytes (adapters fill it in for form posts only)."""
        return self._body

    @property
    def cookies(self) -> MultiMap:
        """The request's cookies, duplicates kept."""
        return parse_cookies(self._headers.get_all("cookie"))

    @property
    def body_is_form(self) -> bool:
        """True when the body is ``application/x-www-form-urlencoded``."""
        content_type = self._headers.get("content-type", "")
        return content_type.split(";", 1)[0].strip().lower() == FORM_MEDIA_TYPE

    def form(self) -> MultiMap:
        """The form fields of a form-encoded body (empty for any other body)."""
        if not self.body_is_form or not self._body:
            return MultiMap()
        text = self._body.decode("utf-8", "replace")
        return MultiMap(parse_qsl(text, keep_blank_values=True, max_num_fields=1000))

    @property
    def origin(self) -> str | None:
        """The ``Origin`` header, when the request has exactly one."""
        values = self._headers.get_all("origin")
        return values[0] if len(values) == 1 else None

    def _fields(self) -> tuple[str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], bytes]:
        return self._method, self._path, self._headers.items_all(), self._query.items_all(), self._body

    def __eq__(self, other: object) -> bool:
        if type(other) is not HttpRequest:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HttpRequest(method={self._method!r}, path={self._path!r}, headers={self._headers!r})"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A response to hand back through an adapter: status, headers (in order) and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def with_headers(self, extra: Iterable[tuple[str, str]]) -> HttpResponse:
        """A copy with ``extra`` headers appended."""
        return HttpResponse(self.status, (*self.headers, *extra), self.body)
