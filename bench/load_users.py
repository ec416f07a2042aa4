#!/usr/bin/env python3
"""Load many users into a store, batched, with a progress bar: ``python bench/load_users.py --store URL``.

The users are ``user0000000@bench.example`` … (``EMAIL_FORMAT``), each with a fresh ``usr_`` id,
written as the store itself writes them, so the provider finds them as real users:

- PostgreSQL: ``COPY`` into ``users (user_id, email, body)``, the columns ``put_user`` fills;
- DynamoDB: ``BatchWriteItem``, 25 items a request, of exactly the items
  ``DynamoDBStore.put_user`` would write (captured from it, not re-implemented: the ``USER#``
  item and its ``EMAIL#`` uniqueness item today, and whatever it writes tomorrow), without
  its conditions, which a batch write cannot carry: the table must not hold these users yet;
- any other store (SQLite): ``put_user`` one by one.

The store must be migrated first (``tessera store migrate --store URL``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from tessera.issue.subjects import new_user_id  # noqa: E402
from tessera.store import User  # noqa: E402
from tessera.store.url import open_store  # noqa: E402

EMAIL_FORMAT = "user{:07d}@bench.example"
PG_BATCH = 10_000
DYNAMO_BATCH = 25


def bench_user(index: int) -> User:
    """The ``index``-th benchmark user (a fresh id each call)."""
    email = EMAIL_FORMAT.format(index)
    return User(user_id=new_user_id(), email=email, email_verified=True, name=email.split("@")[0])


class Progress:
    """A one-line progress bar on a terminal stream: done/total, percentage, rate, time left."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.total, self.width = label, total, width
        self.done = 0
        self._stream = stream or sys.stderr
        self._started = time.monotonic()
        self._shown = 0.0
        self._lock = threading.Lock()

    def advance(self, count: int) -> None:
        """Count ``count`` more done; redraw at most ten times a second, and at the end."""
        with self._lock:
            self.done += count
            now = time.monotonic()
            if now - self._shown >= 0.1 or self.done >= self.total:
                self._shown = now
                self._stream.write("\r" + self.line(now - self._started))
                if self.done >= self.total:
                    self._stream.write("\n")
                self._stream.flush()

    def line(self, elapsed: float) -> str:
        """The bar as text after ``elapsed`` seconds."""
        fraction = min(1.0, self.done / self.total) if self.total else 1.0
        filled = int(fraction * self.width)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = f"{left:.0f} s left" if left != float("inf") else "-"
        return (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
            f"{fraction:.0%} {rate:.0f}/s {eta}  "
        )


def _chunks(start: int, count: int, size: int) -> Iterator[range]:
    for first in range(start, start + count, size):
        yield range(first, min(first + size, start + count))


def postgres_row(user: User) -> tuple[str, str, str]:
    """The ``users`` row ``PostgresStore.put_user`` writes for ``user``: id, lower-case email, JSON body."""
    body = json.dumps(user.__dict__ | {"roles": list(user.roles)})
    return user.user_id, user.email.lower(), body


class Budget:
    """Until when loading may go on (``max_seconds`` from now; None: until done), and whether to stop."""

    def __init__(self, max_seconds: float | None) -> None:
        self._deadline = None if max_seconds is None else time.monotonic() + max_seconds
        self.stopped = threading.Event()

    def spent(self) -> bool:
        """True once the time is up or a batch failed: no further batch should start."""
        if self._deadline is not None and time.monotonic() > self._deadline:
            self.stopped.set()
        return self.stopped.is_set()


def load_postgres(url: str, start: int, count: int, progress: Progress, budget: Budget) -> None:
    """COPY ``count`` users into PostgreSQL, ``PG_BATCH`` rows per transaction."""
    import psycopg

    with psycopg.connect(url) as connection:
        for batch in _chunks(start, count, PG_BATCH):
            if budget.spent():
                return
            with (
                connection.transaction(),
                connection.cursor() as cursor,
                cursor.copy("COPY users (user_id, email, body) FROM STDIN") as copy,
            ):
                for index in batch:
                    copy.write_row(postgres_row(bench_user(index)))
            progress.advance(len(batch))


def dynamodb_recorder(store: Any) -> Callable[[User], list[dict[str, Any]]]:
    """A function giving the items ``store.put_user(user)`` writes to a table without that user.

    It runs the store's own ``put_user`` with its reads answering "absent" and its transaction
    captured instead of sent; each ``Put`` item is kept, its condition dropped.
    """
    captured: list[list[dict[str, Any]]] = []

    class Recorder(type(store)):  # type: ignore[misc]
        def _get(self, pk: str, sk: str = "-") -> None:
            return None

        def _transact(self, items: list[dict[str, Any]]) -> bool:
            captured.append(items)
            return True

    recorder = Recorder.__new__(Recorder)
    recorder.__dict__.update(store.__dict__)

    def items_of(user: User) -> list[dict[str, Any]]:
        captured.clear()
        recorder.put_user(user)
        if len(captured) != 1 or any(set(write) != {"Put"} for write in captured[0]):
            raise RuntimeError("put_user no longer writes a new user as one transaction of puts")
        return [write["Put"]["Item"] for write in captured[0]]

    return items_of


def load_dynamodb(
    store: Any, start: int, count: int, progress: Progress, budget: Budget, *, threads: int = 4
) -> None:
    """BatchWriteItem ``count`` users' items into the store's table, from ``threads`` threads."""
    client = store._db  # the store's own client: its endpoint and region
    local = threading.local()

    def write(batch: range) -> None:
        if budget.spent():
            return
        if not hasattr(local, "items_of"):
            local.items_of = dynamodb_recorder(store)
        items = [item for index in batch for item in local.items_of(bench_user(index))]
        try:
            for first in range(0, len(items), DYNAMO_BATCH):
                requests = [{"PutRequest": {"Item": item}} for item in items[first : first + DYNAMO_BATCH]]
                _batch_write(client, store.table, requests)
        except BaseException:
            budget.stopped.set()  # the queued batches return at once instead of failing one by one
            raise
        progress.advance(len(batch))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(write, _chunks(start, count, 500)):
            pass


def _batch_write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem, its unprocessed items sent again with a growing pause."""
    pending = {table: requests}
    for attempt in range(20):
        answer = client.batch_write_item(RequestItems=pending)
        pending = answer.get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(min(1.0, 0.01 * 2**attempt))
    raise RuntimeError("BatchWriteItem left items unprocessed after 20 attempts")


def load(
    url: str,
    count: int,
    *,
    start: int = 0,
    stream: TextIO | None = None,
    max_seconds: float | None = None,
) -> tuple[int, float]:
    """Load users ``start`` … ``start + count - 1`` into the store at ``url``: (users loaded, seconds).

    With ``max_seconds``, no batch starts after that time, so fewer users may be loaded: still
    the first ones, ``start`` … ``start + loaded - 1`` (batches start in order and each one
    started is finished).
    """
    progress = Progress(f"users → {url.split(':', 1)[0]}", count, stream)
    budget = Budget(max_seconds)
    began = time.monotonic()
    if url.startswith(("postgresql:", "postgres:")):
        load_postgres(url, start, count, progress, budget)
    else:
        store = open_store(url)
        try:
            if type(store).__name__ == "DynamoDBStore":
                load_dynamodb(store, start, count, progress, budget)
            else:
                for batch in _chunks(start, count, 1000):
                    if budget.spent():
                        break
                    for index in batch:
                        store.put_user(bench_user(index))
                    progress.advance(len(batch))
        finally:
            store.close()
    if progress.done < count:
        (stream or sys.stderr).write(f"\nstopped after {max_seconds} s: {progress.done} of {count} users\n")
    return progress.done, time.monotonic() - began


def main(argv: Sequence[str] | None = None, *, loader: Callable[..., float] = load) -> int:
    """The command line: ``--store URL --count N [--start I]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, metavar="URL", help="a migrated store")
    parser.add_argument("--count", type=int, default=500_000)
    parser.add_argument("--start", type=int, default=0, help="index of the first user")
    parser.add_argument("--max-seconds", type=float, default=None, help="start no batch after this")
    args = parser.parse_args(argv)
    if args.count < 1 or args.start < 0:
        print("error: --count must be at least 1 and --start at least 0", file=sys.stderr)
        return 2
    loaded, seconds = loader(args.store, args.count, start=args.start, max_seconds=args.max_seconds)
    print(f"{loaded} users loaded in {seconds:.1f} s ({loaded / seconds:.0f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
