"""The ``op`` fixture: each OpenID provider the black-box interop tests run against.

Add a provider by adding a context-manager factory to ``PROVIDERS``; every test in this folder
then runs against it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import pytest

from .providers import OP, reference_op, run_rp_flow
from .tessera_op import tessera_op

PROVIDERS: dict[str, Callable[[], AbstractContextManager[OP]]] = {
    "oidc-provider": reference_op,
    "tessera": tessera_op,
    # Two server processes on one data directory: the store, the outbox and the limits are shared.
    "tessera-2-workers": partial(tessera_op, workers=2),
}


@pytest.fixture(scope="session", params=sorted(PROVIDERS))
def op(request: pytest.FixtureRequest) -> Iterator[OP]:
    """A running provider, shared by the session's tests."""
    with PROVIDERS[request.param]() as provider:
        yield provider


@pytest.fixture(scope="session")
def rp_result(op: OP) -> dict[str, Any]:
    """What openid-client saw of one full code flow against ``op`` (see ``node/rp_flow.mjs``)."""
    return run_rp_flow(op)
