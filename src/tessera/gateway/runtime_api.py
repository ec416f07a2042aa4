"""A stand-in for the Lambda Runtime API, and an invoker that runs handlers in the real runtime client.

No Lambda Runtime Interface Emulator can be installed here, so :class:`RuntimeAPI` serves the
three calls the runtime client makes (``GET /2018-06-01/runtime/invocation/next``,
``POST …/invocation/{id}/response`` and ``…/{id}/error``, plus ``/runtime/init/error``) on
127.0.0.1. :class:`RicInvoker` starts one ``python -m awslambdaric module.function`` process per
handler, lazily, each against its own stand-in, feeds it one event at a time and kills it on
:meth:`RicInvoker.close`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigurationError
from .invoke import DEFAULT_TIMEOUT_SECONDS, InvocationResult, function_name

__all__ = ["RicInvoker", "RuntimeAPI"]

_PREFIX = "/2018-06-01/runtime"
_STOP = object()


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    result: InvocationResult | None = None


class RuntimeAPI:
    """The Runtime API for one function instance, on ``127.0.0.1:<free port>``."""

    def __init__(self, function_arn: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.function_arn = function_arn
        self.timeout_seconds = timeout_seconds
        self._events: queue.Queue[Any] = queue.Queue()
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self.init_error: InvocationResult | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def submit(self, event: Any) -> tuple[str, threading.Event]:
        """Queue an event for the next ``/invocation/next``; returns its request id and done-flag."""
        request_id = str(uuid.uuid4())
        pending = _Pending()
        with self._lock:
            self._pending[request_id] = pending
        self._events.put((request_id, json.dumps(event).encode()))
        return request_id, pending.done

    def result(self, request_id: str) -> InvocationResult | None:
        """The result posted for ``request_id`` (None while there is none); forgets it once read."""
        with self._lock:
            pending = self._pending.get(request_id)
            if pending is None or pending.result is None:
                return None
            del self._pending[request_id]
            return pending.result

    def _resolve(self, request_id: str, result: InvocationResult) -> bool:
        with self._lock:
            pending = self._pending.get(request_id)
            if pending is None:
                return False
            pending.result = result
            pending.done.set()
            return True

    def _init_failed(self, result: InvocationResult) -> None:
        self.init_error = result
        with self._lock:
            for pending in self._pending.values():
                pending.result = result
                pending.done.set()

    def stop(self) -> None:
        """Release a waiting ``/next`` and close the socket."""
        self._events.put(_STOP)
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path != f"{_PREFIX}/invocation/next":
                    self._reply(404, b'{"errorMessage":"not found"}')
                    return
                item = api._events.get()
                if item is _STOP:
                    api._events.put(_STOP)
                    self._reply(500, b'{"errorMessage":"runtime API stopped"}')
                    return
                request_id, body = item
                deadline = int((time.time() + api.timeout_seconds) * 1000)
                self._reply(
                    200,
                    body,
                    {
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline),
                        "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
                        "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}",
                    },
                )

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                parts = self.path.removeprefix(_PREFIX).strip("/").split("/")
                if parts == ["init", "error"]:
                    error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                    api._init_failed(_error_result(body, error_type))
                    self._reply(202, b'{"status":"OK"}')
                    return
                if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
                    self._reply(404, b'{"errorMessage":"not found"}')
                    return
                if parts[2] == "response":
                    try:
                        result = InvocationResult(payload=json.loads(body) if body else None)
                    except ValueError:
                        result = InvocationResult(error_type="InvalidResponse", error_message="not JSON")
                else:
                    result = _error_result(body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
                known = api._resolve(parts[1], result)
                self._reply(202 if known else 400, b'{"status":"OK"}' if known else b"{}")

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _error_result(body: bytes, header_type: str | None) -> InvocationResult:
    try:
        document = json.loads(body)
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    return InvocationResult(
        error_type=str(document.get("errorType") or header_type or "Unhandled"),
        error_message=str(document.get("errorMessage", "")),
    )


class _Instance:
    """One runtime client process and its Runtime API."""

    def __init__(self, handler: str, base_dir: Path, timeout: float, output: IO[bytes] | int | None):
        name = function_name(handler)
        self.api = RuntimeAPI(f"arn:aws:lambda:us-east-1:123456789012:function:{name}", timeout)
        env = {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_REGION": "us-east-1",
            "LAMBDA_TASK_ROOT": str(base_dir),
            "_HANDLER": handler.replace(":", "."),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(base_dir), os.environ.get("PYTHONPATH")])),
        }
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [sys.executable, "-m", "awslambdaric", handler.replace(":", ".")],
            cwd=base_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
        self.lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and self.api.init_error is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.api.stop()


class RicInvoker:
    """Runs each handler in its own ``awslambdaric`` process (started on first use).

    One event at a time per handler, as one Lambda execution environment would. A process that
    died (or failed to initialise) is replaced on the next call; a call that outlasts
    ``timeout_seconds`` kills the process and fails with ``Task timed out``.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        output: IO[bytes] | int | None = subprocess.DEVNULL,
    ) -> None:
        if importlib.util.find_spec("awslambdaric") is None:
            raise ConfigurationError(
                "the runtime client is not installed: pip install 'tessera-auth[gateway]'"
            )
        self._base_dir = base_dir
        self._timeout = timeout_seconds
        self._output = output
        self._instances: dict[str, _Instance] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def process_ids(self) -> dict[str, int]:
        """The PID of each handler's runtime client process."""
        with self._lock:
            return {handler: i.process.pid for handler, i in self._instances.items()}

    def is_running(self, handler: str) -> bool:
        """Whether ``handler`` has a live runtime client process."""
        with self._lock:
            instance = self._instances.get(handler)
        return instance is not None and instance.process.poll() is None

    def _instance(self, handler: str) -> _Instance:
        with self._lock:
            if self._closed:
                raise RuntimeError("the invoker is closed")
            instance = self._instances.get(handler)
            if instance is None or not instance.alive:
                if instance is not None:
                    instance.stop()
                instance = _Instance(handler, self._base_dir, self._timeout, self._output)
                self._instances[handler] = instance
            return instance

    def invoke(self, handler: str, event: dict[str, Any]) -> InvocationResult:
        """Send ``event`` to the handler's runtime client and wait for its response or error."""
        instance = self._instance(handler)
        with instance.lock:
            request_id, done = instance.api.submit(event)
            deadline = time.monotonic() + self._timeout
            while not done.wait(0.05):
                if instance.process.poll() is not None:
                    return instance.api.init_error or InvocationResult(
                        error_type="Runtime.ExitError", error_message="the runtime process exited"
                    )
                if time.monotonic() > deadline:
                    instance.process.kill()
                    instance.process.wait()
                    return InvocationResult(error_type="Sandbox.Timedout", error_message="Task timed out")
            result = instance.api.result(request_id)
            return result or InvocationResult(error_type="Runtime.Unknown", error_message="no result")

    def close(self) -> None:
        """Kill every runtime client process and stop their Runtime APIs."""
        with self._lock:
            self._closed = True
            instances, self._instances = list(self._instances.values()), {}
        for instance in instances:
            instance.stop()
