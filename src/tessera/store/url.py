"""A store chosen by URL, the same everywhere: ``--store``, ``TESSERA_STORE``, ``tessera.toml``'s ``[store]``.

- ``sqlite:///path/to/file.db`` (``sqlite:///./rel.db`` is relative, ``sqlite:////abs.db`` absolute)
- ``postgresql://user:pass@host:port/db`` (``postgres://`` too), any libpq parameters in the query
- ``dynamodb://TABLE?region=us-east-1&endpoint_url=http://127.0.0.1:PORT`` (endpoint optional)
- ``[store] cache = "redis://host:port/0"``: rate limits and the revocation list in Redis

Drivers are imported only when a store of theirs is opened.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigurationError
from .base import Store

__all__ = ["STORE_ENV", "CACHE_ENV", "StoreChoice", "choose_store", "migrate_store", "open_store"]

STORE_ENV = "TESSERA_STORE"
CACHE_ENV = "TESSERA_STORE_CACHE"
CONFIG_FILE = "tessera.toml"


@dataclass(frozen=True)
class StoreChoice:
    """The store URL (and optional Redis cache URL) to use, and where it came from."""

    url: str
    cache: str | None
    source: str


def choose_store(
    cli_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config: str | Path = CONFIG_FILE,
) -> StoreChoice | None:
    """The store named by ``--store``, else ``TESSERA_STORE``, else ``[store] url`` in ``tessera.toml``."""
    env = os.environ if environ is None else environ
    section = _config_section(Path(config))
    cache = env.get(CACHE_ENV) or _string(section, "cache")
    if cli_url:
        return StoreChoice(cli_url, cache, "--store")
    if env.get(STORE_ENV):
        return StoreChoice(env[STORE_ENV], cache, STORE_ENV)
    url = _string(section, "url")
    if url:
        return StoreChoice(url, cache, f"{config} [store] url")
    return None


def _config_section(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    section = data.get("store", {})
    if not isinstance(section, dict):
        raise ConfigurationError(f"{path}: [store] must be a table")
    return section


def _string(section: Mapping[str, Any], name: str) -> str | None:
    value = section.get(name)
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"[store] {name} must be a string")
    return value


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("postgres", "postgresql"):
        return "postgresql"
    if scheme in ("sqlite", "dynamodb"):
        return scheme
    shown = scheme or url.split(":", 1)[0][:20]
    raise ConfigurationError(
        f"unknown store URL scheme {shown!r}: use sqlite:///PATH, postgresql://HOST/DB or dynamodb://TABLE"
    )


def _sqlite_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.path == "/":
        raise ConfigurationError("a SQLite store URL is sqlite:///path/to/file.db")
    return parts.path[1:] if parts.path != "/:memory:" else ":memory:"


def _dynamodb_args(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    table = parts.netloc
    if not table or parts.path not in ("", "/"):
        raise ConfigurationError("a DynamoDB store URL is dynamodb://TABLE?region=REGION[&endpoint_url=URL]")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"region", "endpoint_url"}
    if unknown:
        raise ConfigurationError(f"unknown DynamoDB store URL parameter {sorted(unknown)[0]!r}")
    region = query.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigurationError("a DynamoDB store URL needs ?region=REGION (or AWS_REGION)")
    return {"table": table, "region": region, "endpoint_url": query.get("endpoint_url")}


def open_store(url: str, cache: str | None = None) -> Store:
    """The store at ``url``, with rate limits and revocations in Redis at ``cache`` if given."""
    scheme = _scheme(url)
    store: Store
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        store = SQLiteStore(_sqlite_path(url))
    elif scheme == "postgresql":
        from .postgres import PostgresStore

        store = PostgresStore(url)
    else:
        from .dynamodb import DynamoDBStore

        store = DynamoDBStore(**_dynamodb_args(url))
    if cache:
        from .redis_cache import RedisCachedStore

        store = RedisCachedStore(store, cache)
    return store


def migrate_store(url: str) -> list[str]:
    """Create or upgrade the schema of the store at ``url``; one line per step taken.

    A driver's failure (refused, denied, unknown host) comes back as one-line
    :class:`~tessera.errors.ConfigurationError`, the URL's password never in it.
    """
    scheme = _scheme(url)
    try:
        return _migrate(scheme, url)
    except ConfigurationError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        password = urlsplit(url).password
        if password:
            first = first.replace(password, "***")
        raise ConfigurationError(f"the {scheme} store could not be migrated: {first}") from None


def _migrate(scheme: str, url: str) -> list[str]:
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        path = _sqlite_path(url)
        SQLiteStore(path).close()
        return [f"SQLite schema ready in {path} (created on open)"]
    if scheme == "postgresql":
        import psycopg
        from psycopg.rows import dict_row

        from .postgres_schema import migrate

        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as db:
            return migrate(db)
    from .dynamodb import DynamoDBStore

    return DynamoDBStore(**_dynamodb_args(url)).migrate()
