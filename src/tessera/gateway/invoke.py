"""Running a Lambda handler: in this process, or (see ``runtime_api``) through the real runtime client."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .config import GatewayConfig

__all__ = [
    "InProcessInvoker",
    "InvocationResult",
    "Invoker",
    "LambdaContext",
    "function_name",
    "preload_handlers",
]

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class InvocationResult:
    """A handler's JSON result, or the error Lambda reports (``errorType``/``errorMessage``)."""

    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the invocation ended in an error instead of a result."""
        return self.error_type is not None


class Invoker(Protocol):
    """Runs a handler (``module:function``) on one event."""

    def invoke(self, handler: str, event: dict[str, Any]) -> InvocationResult:
        """Run ``handler`` on ``event`` and return its result or error."""
        ...

    def close(self) -> None:
        """Release what the invoker holds (processes, servers)."""
        ...


def function_name(handler: str) -> str:
    """A Lambda-style function name derived from the handler path."""
    return handler.replace(":", "-").replace(".", "-")


class LambdaContext:
    """The ``context`` object a Python Lambda handler receives."""

    def __init__(self, handler: str, request_id: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS):
        self.function_name = function_name(handler)
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.memory_limit_in_mb = "128"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation's deadline."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InProcessInvoker:
    """Imports each handler from ``base_dir`` once and calls it in this process.

    Like one Lambda execution environment, each handler runs one event at a time, always on
    the same thread of its own (so per-thread state such as an asyncio event loop survives
    between invocations, as it does on Lambda). Results go through a JSON round trip, as they
    would on Lambda, so a handler returning something that is not JSON fails here as there.
    """

    def __init__(self, base_dir: Path) -> None:
        self._base_dir = str(base_dir)
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._workers: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def load(self, handler: str) -> Callable[[Any, Any], Any]:
        """Import ``module:function`` (from ``base_dir`` first); raises ConfigurationError."""
        with self._lock:
            if handler in self._handlers:
                return self._handlers[handler]
            module_name, _, attribute = handler.partition(":")
            if self._base_dir not in sys.path:
                sys.path.insert(0, self._base_dir)
            try:
                function: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
            except Exception as exc:  # whatever the module raises while it is imported
                raise ConfigurationError(
                    f"cannot load handler {handler!r} (module {module_name!r}): {type(exc).__name__}: {exc}"
                ) from None
            if not callable(function):
                raise ConfigurationError(f"handler {handler!r} is not callable")
            self._handlers[handler] = function
            return function

    def _worker(self, handler: str) -> ThreadPoolExecutor:
        with self._lock:
            worker = self._workers.get(handler)
            if worker is None:
                worker = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=function_name(handler), initializer=_open_event_loop
                )
                self._workers[handler] = worker
            return worker

    def invoke(self, handler: str, event: dict[str, Any]) -> InvocationResult:
        """Call the handler with a fresh context; exceptions become Lambda error results."""
        try:
            function = self.load(handler)
        except ConfigurationError as exc:
            return InvocationResult(error_type="Runtime.ImportModuleError", error_message=str(exc))
        return self._worker(handler).submit(_call, handler, function, event).result()

    def close(self) -> None:
        """Stop the handlers' threads."""
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.submit(_close_event_loop)
            worker.shutdown(wait=True, cancel_futures=False)


def _open_event_loop() -> None:
    # Lambda runs handlers on the main thread, where asyncio.get_event_loop() works (Mangum uses it).
    asyncio.set_event_loop(asyncio.new_event_loop())


def _close_event_loop() -> None:
    asyncio.get_event_loop().close()
    asyncio.set_event_loop(None)


def _call(handler: str, function: Callable[[Any, Any], Any], event: dict[str, Any]) -> InvocationResult:
    context = LambdaContext(handler, str(uuid.uuid4()))
    try:
        result = function(json.loads(json.dumps(event)), context)
        return InvocationResult(payload=json.loads(json.dumps(result)))
    except Exception as exc:
        return InvocationResult(error_type=type(exc).__name__, error_message=str(exc))


def preload_handlers(config: GatewayConfig, invoker: InProcessInvoker) -> None:
    """Import every route's handler and authorizer now; ConfigurationError names the first that fails."""
    handlers = {route.handler for route in config.routes}
    handlers |= {route.authorizer.handler for route in config.routes if route.authorizer is not None}
    for handler in sorted(handlers):
        invoker.load(handler)
