"""The platform-neutral request and response every adapter translates to and from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

__all__ = ["FORM_MEDIA_TYPE", "Headers", "HttpRequest", "HttpResponse", "MultiMap", "parse_cookies"]

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


class MultiMap(Mapping[str, str]):
    """An immutable multi-map: ``m[name]`` is the first value, :meth:`get_all` every value."""

    __slots__ = ("_index", "_items")
    _fold_case = False

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = tuple(items)
        index: dict[str, list[str]] = {}
        fold = self._fold_case
        for name, value in self._items:
            key = name.lower() if fold else name
            if key in index:
                index[key].append(value)
            else:
                index[key] = [value]
        self._index = index

    def _key(self, name: str) -> str:
        return name.lower() if self._fold_case else name

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in order (empty when absent)."""
        return list(self._index.get(self._key(name), ()))

    def items_all(self) -> tuple[tuple[str, str], ...]:
        """Every (name, value) pair as given, duplicates included."""
        return self._items

    def __getitem__(self, name: str) -> str:
        return self._index[self._key(name)][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self._index)})"


class Headers(MultiMap):
    """HTTP headers: a case-insensitive multi-map (names are compared lower-cased)."""

    __slots__ = ()
    _fold_case = True


def parse_cookies(headers: Iterable[str]) -> MultiMap:
    """Cookies from ``Cookie`` header values, duplicates kept so ambiguity can be rejected."""
    pairs: list[tuple[str, str]] = []
    for header in headers:
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                pairs.append((name, value))
    return MultiMap(pairs)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What the authorization core sees of a request, whatever the platform.

    ``headers`` is case-insensitive and keeps repeated headers; ``query`` keeps repeated
    parameters; ``body`` is only needed for form posts (RFC 6750 §2.2 detection). Cookies are
    read from the ``Cookie`` headers.
    """

    method: str
    path: str
    headers: Headers = field(default_factory=Headers)
    query: MultiMap = field(default_factory=MultiMap)
    body: bytes = b""

    @property
    def cookies(self) -> MultiMap:
        """The request's cookies, duplicates kept."""
        return parse_cookies(self.headers.get_all("cookie"))

    @property
    def body_is_form(self) -> bool:
        """True when the body is ``application/x-www-form-urlencoded``."""
        content_type = self.headers.get("content-type", "")
        return content_type.split(";", 1)[0].strip().lower() == FORM_MEDIA_TYPE

    def form(self) -> MultiMap:
        """The form fields of a form-encoded body (empty for any other body)."""
        if not self.body_is_form or not self.body:
            return MultiMap()
        text = self.body.decode("utf-8", "replace")
        return MultiMap(parse_qsl(text, keep_blank_values=True, max_num_fields=1000))

    @property
    def origin(self) -> str | None:
        """The ``Origin`` header, when the request has exactly one."""
        values = self.headers.get_all("origin")
        return values[0] if len(values) == 1 else None


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
