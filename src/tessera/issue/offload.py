"""Store work off the event loop: a request's store calls and signatures in one worker-thread hop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from tessera.issue.provider import Provider

__all__ = ["off_loop"]

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(provider: Provider, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` in the event loop's default thread pool, so the loop goes on.

    ``work`` is a request's synchronous unit of work (store calls, signatures): every store
    backend's driver blocks, so the async endpoints read the request on the loop and hand
    the rest here. With ``provider.settings.work_in_thread`` off (the Lambda handler: its
    container serves one request at a time, so no other request waits on the loop) it runs
    inline.
    """
    if not provider.settings.work_in_thread:
        return work(*args, **kwargs)
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)
