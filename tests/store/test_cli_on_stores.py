"""``tessera keys rotate --store URL``: the key set rotates in the network store the provider uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tessera.cli import main
from tessera.issue.dev.provider import dev_provider
from tessera.store.url import open_store


@pytest.mark.parametrize("backend", ["postgresql", "dynamodb"])
def test_keys_rotate_in_the_store_the_url_names(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "dev"
    setup = dev_provider(data, "http://127.0.0.1:9", store_url=store_url)
    setup.provider.outgoing.stop()
    setup.provider.store.close()
    store = open_store(store_url)
    before = {k.status: k.kid for k in store.list_signing_keys()}
    assert set(before) == {"previous", "current", "next"}
    assert not (data / "tessera.db").exists()
    assert main(["keys", "rotate", "--data", str(data), "--store", store_url]) == 0
    printed = json.loads(capsys.readouterr().out)
    after = {k.status: k.kid for k in store.list_signing_keys()}
    assert printed == after
    assert after["previous"] == before["current"] and after["current"] == before["next"]
    store.close()
