"""The store benchmark measures each cell for the seconds asked, whatever the user load took."""

from __future__ import annotations

from typing import Any

import pytest

from .modules import bench_module

store_bench = bench_module("store_bench")


def test_a_cell_runs_for_the_seconds_asked_not_for_the_loads_duration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_load = store_bench.load

    def quick_load(url: str, users: int, **options: Any) -> tuple[int, float]:
        loaded, _ = real_load(url, users, **options)
        return loaded, 0.2  # a load that took much less than a cell

    monkeypatch.setattr(store_bench, "load", quick_load)
    data: dict[str, Any] = {"loads": [], "cells": [], "problems": []}
    store_bench.measure_backend("sqlite", [1], 2.0, grants=["client_credentials"], users=20, data=data)
    [cell] = data["cells"]
    assert data["problems"] == []
    assert data["loads"][0]["seconds"] == 0.2
    assert cell["seconds"] >= 1.9 and cell["requests"] > 0
