"""Remote JWKS: the cached, rate-limited key source for one issuer, shared process-wide.

How :class:`RemoteKeySet` behaves (after panva/jose ``remote.ts``, aws-jwt-verify's penalty box
and parsed-key cache):

- fresh keys and a known ``kid``: no I/O at all;
- an unknown ``kid``: at most one refetch per cooldown, and concurrent misses (threads and
  asyncio tasks alike) share one request; inside the cooldown the answer is ``unknown_key``;
- keys live for the response's ``Cache-Control`` max-age, clamped to configured bounds; the
  first lookup after that refetches, so a key removed from the JWKS stops verifying;
- when a refetch fails, the last good keys keep verifying for ``stale_if_error_seconds``
  (with a logged warning), then lookups fail closed with ``keys_unavailable``;
- keys are parsed once per fetch, and a failed signature never touches the cache.

:func:`remote_jwks` hands out one shared instance per ``jwks_uri`` (or per issuer, when the
URI comes from OpenID discovery), so every verifier in a warm container uses one cache.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ..errors import ConfigurationError, Reason, TesseraError, TokenError
from .discovery import discover_jwks_uri, discovery_url, fetch_json
from .fetch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    Fetcher,
    FetchError,
    UrllibFetcher,
    check_url,
    safe_url,
)
from .flight import SingleFlight
from .keys import VerificationKey
from .keyset import JWKSError, parse_jwks

__all__ = ["RemoteKeySet", "fetch_jwks_document", "remote_jwks"]

ParseKeys = Callable[[Any], Mapping[str | None, VerificationKey]]


def _warn(message: str, *args: object) -> None:
    import logging  # imported on first use: logging costs a cold start several milliseconds

    logging.getLogger("tessera.verify").warning(message, *args)


class _Cached:
    """One good fetch: its parsed keys, the document they came from, and when they expire."""

    __slots__ = ("document", "expires_at", "keys")

    def __init__(self, keys: Mapping[str | None, VerificationKey], document: Any, expires_at: float) -> None:
        self.keys = keys
        self.document = document
        self.expires_at = expires_at


class _Refresh:
    """A lookup's verdict: refetch, unless the cache has changed since ``generation``."""

    __slots__ = ("generation",)

    def __init__(self, generation: int) -> None:
        self.generation = generation


def _seconds(name: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a finite number of seconds")
    if value < 0 or (positive and value == 0):
        raise ConfigurationError(f"{name} must be {'positive' if positive else 'zero or more'}")
    return float(value)


class RemoteKeySet:
    """The keys published at ``jwks_uri``, fetched on demand and cached (a :class:`KeySource`).

    Pass ``jwks_uri=None`` and ``issuer`` to find the URI by OpenID discovery on the first
    lookup. ``parse`` turns the fetched JSON document into keys by ``kid`` (default: a JWKS);
    ``fetcher`` replaces the HTTP transport; ``clock`` is a monotonic clock in seconds.
    All settings are checked here and raise :class:`~tessera.errors.ConfigurationError`.
    """

    def __init__(
        self,
        jwks_uri: str | None,
        *,
        issuer: str | None = None,
        parse: ParseKeys = parse_jwks,
        fetcher: Fetcher | None = None,
        cooldown_seconds: float = 30,
        min_max_age_seconds: float = 60,
        max_max_age_seconds: float = 600,
        default_max_age_seconds: float = 300,
        stale_if_error_seconds: float = 3600,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cooldown = _seconds("cooldown_seconds", cooldown_seconds)
        self.min_max_age = _seconds("min_max_age_seconds", min_max_age_seconds, positive=True)
        self.max_max_age = _seconds("max_max_age_seconds", max_max_age_seconds, positive=True)
        self.default_max_age = _seconds("default_max_age_seconds", default_max_age_seconds, positive=True)
        self.stale_if_error = _seconds("stale_if_error_seconds", stale_if_error_seconds)
        self.timeout = _seconds("timeout_seconds", timeout_seconds, positive=True)
        if not self.min_max_age <= self.default_max_age <= self.max_max_age:
            raise ConfigurationError(
                "need min_max_age_seconds <= default_max_age_seconds <= max_max_age_seconds"
            )
        if self.cooldown > self.min_max_age:
            raise ConfigurationError("cooldown_seconds may not exceed min_max_age_seconds")
        if self.timeout > 30:
            raise ConfigurationError("timeout_seconds must be at most 30")
        if type(max_bytes) is not int or not 1024 <= max_bytes <= 16 * 1024 * 1024:
            raise ConfigurationError("max_bytes must be a whole number between 1 KiB and 16 MiB")
        if not callable(parse) or not callable(clock):
            raise ConfigurationError("parse and clock must be callables")
        if fetcher is not None and not callable(getattr(fetcher, "fetch", None)):
            raise ConfigurationError("fetcher must have a fetch(url, *, timeout_seconds, max_bytes) method")
        self.max_bytes = max_bytes
        self.issuer = issuer
        self._jwks_uri = jwks_uri
        try:
            if jwks_uri is not None:
                check_url(jwks_uri)
            elif issuer is not None:
                check_url(discovery_url(issuer))
            else:
                raise ConfigurationError("give a jwks_uri, or an issuer to discover it from")
        except FetchError as exc:
            raise ConfigurationError(str(exc)) from None
        self._parse = parse
        self._fetcher: Fetcher = fetcher if fetcher is not None else UrllibFetcher()
        self._clock = clock
        self._lock = threading.Lock()
        self._flight = SingleFlight()
        self._cached: _Cached | None = None
        self._generation = 0
        self._last_attempt: float | None = None
        self.last_error: Exception | None = None

    @property
    def jwks_uri(self) -> str | None:
        """The configured or discovered JWKS URL (None until discovery has run)."""
        return self._jwks_uri

    def get_key(self, kid: str | None) -> VerificationKey:
        """The key for ``kid``, refetching if allowed; raise TokenError(UNKNOWN_KEY/KEYS_UNAVAILABLE)."""
        step = self._plan(kid, refreshed=False)
        if isinstance(step, _Refresh):
            self._flight.run(partial(self._refresh, step.generation))
            step = self._plan(kid, refreshed=True)
        return _settle(step)

    async def aget_key(self, kid: str | None) -> VerificationKey:
        """The async twin of :meth:`get_key`; a fetch runs in a worker thread."""
        step = self._plan(kid, refreshed=False)
        if isinstance(step, _Refresh):
            await self._flight.arun(partial(self._refresh, step.generation))
            step = self._plan(kid, refreshed=True)
        return _settle(step)

    def hydrate(self) -> None:
        """Fetch the keys now unless they are fresh; raise TokenError(KEYS_UNAVAILABLE) if none are usable."""
        with self._lock:
            now = self._clock()
            cached, generation, cooling = self._cached, self._generation, self._cooling(now)
        if cached is not None and now < cached.expires_at:
            return
        if self._flight.busy or not cooling:
            self._flight.run(partial(self._refresh, generation))
        with self._lock:
            cached = self._cached
            if cached is None or self._clock() >= cached.expires_at + self.stale_if_error:
                raise TokenError(Reason.KEYS_UNAVAILABLE) from self.last_error

    def snapshot(self) -> dict[str, Any]:
        """A copy of the last good document, to bundle with a function and :meth:`preload` later."""
        import copy

        cached = self._cached
        if cached is None or not isinstance(cached.document, dict):
            raise ConfigurationError("no key document has been fetched yet; call hydrate() first")
        return copy.deepcopy(cached.document)

    def preload(self, document: Any) -> None:
        """Use ``document`` (a bundled snapshot) as if it had just been fetched."""
        try:
            keys = self._parse(document)
        except TesseraError as exc:
            raise ConfigurationError(f"the preloaded document is unusable: {exc}") from None
        if not keys:
            raise ConfigurationError("the preloaded document holds no usable key")
        with self._lock:
            self._cached = _Cached(dict(keys), document, self._clock() + self.default_max_age)
            self._generation += 1

    def _cooling(self, now: float) -> bool:
        return self._last_attempt is not None and now < self._last_attempt + self.cooldown

    def _plan(self, kid: str | None, *, refreshed: bool) -> VerificationKey | TokenError | _Refresh:
        cached = self._cached
        now = self._clock()
        if cached is not None and now < cached.expires_at:
            key = cached.keys.get(kid)
            if key is not None:
                return key
        with self._lock:
            cached = self._cached
            # A fetch in flight is joined even inside the cooldown: that is the single-flight.
            may_refresh = not refreshed and (self._flight.busy or not self._cooling(now))
            if cached is None:
                return _Refresh(self._generation) if may_refresh else TokenError(Reason.KEYS_UNAVAILABLE)
            if now < cached.expires_at:
                key = cached.keys.get(kid)
                if key is not None:
                    return key
                return _Refresh(self._generation) if may_refresh else TokenError(Reason.UNKNOWN_KEY)
            if may_refresh:
                return _Refresh(self._generation)
            if now < cached.expires_at + self.stale_if_error:
                return cached.keys.get(kid) or TokenError(Reason.UNKNOWN_KEY)
            return TokenError(Reason.KEYS_UNAVAILABLE)

    def _refresh(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return  # another caller refreshed since this one looked
            started = self._clock()
            self._last_attempt = started
        try:
            document, max_age = self._download()
            keys = self._parse(document)
            if not keys:
                raise JWKSError("the document holds no usable key")
        except Exception as exc:
            self._fail(exc)
            return
        with self._lock:
            self._cached = _Cached(dict(keys), document, started + self._clamp(max_age))
            self._generation += 1
            self.last_error = None

    def _download(self) -> tuple[Any, float | None]:
        if self._jwks_uri is None:
            self._jwks_uri = discover_jwks_uri(
                str(self.issuer), self._fetcher, timeout_seconds=self.timeout, max_bytes=self.max_bytes
            )
        return fetch_json(
            self._fetcher, self._jwks_uri, timeout_seconds=self.timeout, max_bytes=self.max_bytes
        )

    def _fail(self, exc: Exception) -> None:
        with self._lock:
            self._generation += 1
            self.last_error = exc
            holding = self._cached is not None
        detail = str(exc) if isinstance(exc, TesseraError) else type(exc).__name__
        _warn(
            "refreshing keys from %s failed (%s); %s",
            safe_url(self._jwks_uri or discovery_url(str(self.issuer))),
            detail,
            "keeping the last good keys for a bounded time" if holding else "no keys are available",
        )

    def _clamp(self, max_age: float | None) -> float:
        if max_age is None:
            return self.default_max_age
        return min(max(max_age, self.min_max_age), self.max_max_age)

    def __repr__(self) -> str:
        source = self._jwks_uri if self._jwks_uri is not None else f"discovery of {self.issuer}"
        return f"RemoteKeySet({source!r})"


def _settle(step: VerificationKey | TokenError | _Refresh) -> VerificationKey:
    if isinstance(step, TokenError):
        raise step
    if isinstance(step, _Refresh):  # only returned before a refresh; a bug if seen after
        raise TokenError(Reason.KEYS_UNAVAILABLE)
    return step


_registry: dict[tuple[str, str], tuple[RemoteKeySet, dict[str, Any]]] = {}
_registry_lock = threading.Lock()


def remote_jwks(*, issuer: str, jwks_uri: str | None = None, **options: Any) -> RemoteKeySet:
    """The process-wide :class:`RemoteKeySet` for ``jwks_uri``, or for ``issuer``'s discovery.

    Every caller with the same ``jwks_uri`` (or, without one, the same ``issuer``) gets the same
    instance and so shares its cache and its cooldown. ``options`` are :class:`RemoteKeySet`
    settings and apply when the instance is created: the first caller's ``parse``, ``fetcher``
    and ``clock`` are kept, and asking again with different limits (the ``*_seconds``
    settings, ``max_bytes``) raises :class:`~tessera.errors.ConfigurationError`.
    """
    slot = ("jwks_uri", jwks_uri) if jwks_uri is not None else ("issuer", issuer)
    with _registry_lock:
        found = _registry.get(slot)
        if found is not None:
            instance, created_with = found
            asked = _limits(options)
            if asked and asked != _limits(created_with):
                raise ConfigurationError("this key set is already configured with other limits")
            return instance
        instance = RemoteKeySet(jwks_uri, issuer=issuer, **options)
        _registry[slot] = (instance, dict(options))
        return instance


def _limits(options: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value for name, value in options.items() if name.endswith("_seconds") or name == "max_bytes"
    }


def _reset_registry() -> None:
    """Forget every shared key set (for tests)."""
    with _registry_lock:
        _registry.clear()


def fetch_jwks_document(
    *,
    issuer: str,
    jwks_uri: str | None = None,
    fetcher: Fetcher | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    """Fetch an issuer's JWKS (by discovery unless ``jwks_uri`` is given) for bundling.

    Only keys Tessera can verify with are kept, so the result loads back with
    ``Verifier(jwks=...)`` without warnings. Raises :class:`FetchError` or
    :class:`~tessera.verify.keyset.JWKSError`.
    """
    transport = fetcher if fetcher is not None else UrllibFetcher()
    limits: dict[str, Any] = {"timeout_seconds": timeout_seconds, "max_bytes": max_bytes}
    uri = jwks_uri if jwks_uri is not None else discover_jwks_uri(issuer, transport, **limits)
    document, _ = fetch_json(transport, uri, **limits)
    keys = parse_jwks(document)
    if not keys:
        raise JWKSError("the JWKS holds no usable signing key")
    return {"keys": [e for e in document["keys"] if isinstance(e, Mapping) and e.get("kid") in keys]}
