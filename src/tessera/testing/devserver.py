"""``tessera dev`` as a real process on a free loopback port, for black-box tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["DevServer", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DevServer:
    """Runs ``python -m tessera.cli dev`` until :meth:`stop`; use as a context manager.

    ``data`` defaults to a fresh temporary directory. ``env`` adds environment variables (for
    example ``TESSERA_DEV_SERVICE_SECRET``); ``workers`` is passed as ``--workers``; ``host`` as
    ``--host`` (``"localhost"`` for browser tests: the issuer is then ``http://localhost:PORT``,
    the origin WebAuthn needs); ``config`` as ``--config``, with ``TESSERA_ISSUER`` set to the
    free port's issuer (the file's own issuer names the port it was written for); ``args`` are
    further command-line arguments. The process's combined output is kept in a file, readable
    with :meth:`output` (the dev outbox prints sign-in mails there).
    """

    def __init__(
        self,
        *,
        users: Sequence[str] = ("alice@example.com:admin",),
        data: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        workers: int = 1,
        host: str = "127.0.0.1",
        args: Sequence[str] = (),
        ready_timeout_seconds: float = 30.0,
        config: str | Path | None = None,
    ) -> None:
        self._auto_port = port is None
        self.host = host
        self.port = port or free_port()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tessera-dev-")
            data = self._tmp.name
        self.data = Path(data)
        self.users = tuple(users)
        self.env = dict(env or {})
        self.workers = workers
        self.config = Path(config) if config is not None else None
        self.args = tuple(args)
        self.ready_timeout_seconds = ready_timeout_seconds
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        """``http://HOST:PORT``, the dev provider's issuer (an IPv6 host in brackets)."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"

    def start(self) -> DevServer:
        """Start the process and wait until it answers.

        A free port is probed, then bound by the child: another process can take it in between.
        On a port this object chose itself, a lost race (the child cannot bind, or a stranger
        answers) is retried on another port.
        """
        for _ in range(3):
            if self._launch():
                return self
            self._discard()
            if not self._auto_port:
                break
            self.port = free_port()
        self.stop()
        raise RuntimeError(f"tessera dev could not serve on {self.issuer}")

    def _launch(self) -> bool:
        """Run the child until it serves (True) or lost its port to another process (False)."""
        args = [sys.executable, "-m", "tessera.cli", "dev", "--host", self.host, "--port", str(self.port)]
        args += ["--data", str(self.data), "--workers", str(self.workers)]
        for user in self.users:
            args += ["--user", user]
        args += self.args
        env = {**os.environ, **self.env}
        if self.config is not None:
            args += ["--config", str(self.config)]
            env["TESSERA_ISSUER"] = self.issuer
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives until stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            args, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + self.ready_timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if "address already in use" in self.output().lower():
                    return False
                raise RuntimeError(f"tessera dev exited early:\n{self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(  # noqa: S310 - a loopback http URL we built
                    f"{self.issuer}/jwks", timeout=1
                ) as response:
                    if response.status == 200:
                        return self._ours(json.load(response))
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("tessera dev did not become ready in time")

    def _ours(self, jwks: dict[str, Any]) -> bool:
        """True when the JWKS that answered holds this installation's keys, not a stranger's.

        The keys are read from the store ``TESSERA_STORE`` names, else from the data directory.
        """
        from ..store import Store
        from ..store.sqlite import SQLiteStore
        from ..store.url import choose_store, open_store

        chosen = choose_store(None, environ={**os.environ, **self.env}, config=self.data / "tessera.toml")
        store: Store
        if chosen is not None:
            store = open_store(chosen.url)
        elif (self.data / "tessera.db").exists():
            store = SQLiteStore(self.data / "tessera.db")
        else:
            return False
        try:
            stored = {record.kid for record in store.list_signing_keys()}
        finally:
            store.close()
        return bool(stored) and stored == {key.get("kid") for key in jwks.get("keys", [])}

    def _discard(self) -> None:
        """Stop a child that lost its port, keeping the data directory for the next try."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        """Everything the process printed so far."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        """Terminate the process (kill it if it lingers) and remove the temporary data."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
