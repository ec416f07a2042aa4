"""``tessera dev`` as a real process on a free 127.0.0.1 port, for black-box tests."""

from __future__ import annotations

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
    example ``TESSERA_DEV_SERVICE_SECRET``). The process's combined output is kept in a file,
    readable with :meth:`output` (the dev outbox prints sign-in mails there).
    """

    def __init__(
        self,
        *,
        users: Sequence[str] = ("alice@example.com:admin",),
        data: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        ready_timeout_seconds: float = 30.0,
    ) -> None:
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tessera-dev-")
            data = self._tmp.name
        self.data = Path(data)
        self.users = tuple(users)
        self.env = dict(env or {})
        self.ready_timeout_seconds = ready_timeout_seconds
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> DevServer:
        """Start the process and wait until discovery answers."""
        args = [sys.executable, "-m", "tessera.cli", "dev", "--port", str(self.port)]
        args += ["--data", str(self.data)]
        for user in self.users:
            args += ["--user", user]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives until stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            args, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
        )
        deadline = time.monotonic() + self.ready_timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tessera dev exited early:\n{self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(  # noqa: S310 - a loopback http URL we built
                    f"{self.issuer}/.well-known/openid-configuration", timeout=1
                ) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("tessera dev did not become ready in time")

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
