"""moto's server with its requests applied one at a time, as DynamoDB applies writes to an item.

moto's own server runs each request on a thread with no lock around its in-memory tables, so
two concurrent conditional updates of one item can both pass their condition: a lost update no
real DynamoDB table allows (each write to an item is atomic there). Serialising the requests
gives moto that guarantee back; the conditions deciding every race are still evaluated by
moto, from the requests boto3 sends over HTTP.

Run as ``python -m tests.store.moto_serialised HOST PORT``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    """Serve moto on ``argv[1]:argv[2]``, one request at a time."""
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    run_simple(sys.argv[1], int(sys.argv[2]), serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
