"""Holding a server's port before anything is printed or created, then serving on it with uvicorn.

``tessera dev`` binds first: a port in use is one line and exit 2 before the banner, and the
"shown once" dev-service secret is not made for a server that never ran.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from ..errors import ConfigurationError

__all__ = ["check_port", "hold_port", "serve"]


def check_port(value: str) -> int:
    """An ``argparse`` type: a TCP port, 1-65535."""
    import argparse

    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 1-65535")
    return port


def hold_port(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; ConfigurationError (one line) when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def serve(app: Any, sock: socket.socket, *, workers: int = 1, **options: Any) -> None:
    """Run uvicorn on the held socket until interrupted; ``workers`` > 1 needs an import string."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(app, workers=workers, **options)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
