"""moto's DynamoDB server for the benchmarks: one request at a time, transactions rolled back per item.

moto's ``TransactWriteItems`` deep-copies the whole table before it applies a transaction (once
for each item the transaction names) so it can roll back; that costs time in proportion to the
table: 3-5 s per refresh on this machine with 4,000 items, minutes with a million. Real DynamoDB
costs nothing of the kind. Here moto's own transaction code still checks every condition and
applies every write; only its backup is replaced: the items the transaction names are saved
before it runs and put back if it is cancelled, which restores the same state, since a
transaction changes only the items it names. Requests are applied one at a time, as in the
store tests' server (``tests/store/moto_serialised.py``).

Run as ``python bench/moto_server.py HOST PORT``; :func:`moto_server` starts one on a free port.
"""

from __future__ import annotations

import copy
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class _NoTableCopy:
    """Stands in for the ``copy`` module inside moto's DynamoDB models: tables are not copied."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        """``value`` itself for a table (its backup is taken per item instead), else a deep copy."""
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)


def patch_transactions() -> None:
    """Make moto's ``TransactWriteItems`` back up the items it names instead of whole tables."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    models.copy = _NoTableCopy(Table)  # type: ignore[attr-defined]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            _, action = next(iter(entry.items()))
            name = action.get("TableName")
            if name not in self.tables:
                continue
            table = self.tables[name]
            if "Key" in action:
                item_key = action["Key"]
            else:
                names = [table.hash_key_attr, table.range_key_attr]
                item_key = {attr: action["Item"][attr] for attr in names if attr and attr in action["Item"]}
            current = self.get_item(name, item_key)
            saved.append((name, item_key, None if current is None else current.to_json()["Attributes"]))
        try:
            original(self, transact_items)
        except Exception:
            for name, item_key, attributes in reversed(saved):
                if attributes is not None:
                    self.put_item(name, copy.deepcopy(attributes))
                elif self.get_item(name, item_key) is not None:
                    self.delete_item(name, item_key)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def moto_server() -> Iterator[str]:
    """This server on a free 127.0.0.1 port, stopped afterwards; yields its endpoint URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "moto_server.py"), "127.0.0.1", str(port)],
        cwd=HERE.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's moto server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    """Serve on ``argv[1]:argv[2]``."""
    sys.path.insert(0, str(HERE.parent))
    patch_transactions()
    from tests.store import moto_serialised

    moto_serialised.main()


if __name__ == "__main__":
    main()
