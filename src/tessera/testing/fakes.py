"""Stand-ins for the replaceable parts: a clock that moves only when told, and a scripted fetcher."""

from __future__ import annotations

from collections.abc import Callable

from ..verify.fetch import FetchResult

__all__ = ["ManualClock", "RecordingFetcher"]


class ManualClock:
    """A clock (seconds, as ``time.monotonic``) that moves only through :meth:`advance`."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class RecordingFetcher:
    """A :class:`~tessera.verify.fetch.Fetcher` answering from one handler; records every URL asked."""

    def __init__(self, handler: Callable[[str], FetchResult]) -> None:
        self.handler = handler
        self.urls: list[str] = []

    def fetch(self, url: str, *, timeout_seconds: float, max_bytes: int) -> FetchResult:
        """Record ``url`` and return the handler's answer."""
        self.urls.append(url)
        return self.handler(url)
