"""AS-57 on the authorization endpoint: a per-address limit, and X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.addresses import source_address
from tessera.issue.settings import ProviderSettings
from tessera.testing.idp import ISSUER, SVC_SECRET, ProviderHarness

PROXIES = ProviderSettings(issuer=ISSUER, trusted_proxies=("10.0.0.0/8", "2001:db8::1")).proxy_networks


def _authorize(idp: ProviderHarness, browser: Any, forwarded_for: str | None = None) -> Any:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return browser.get("/authorize", params=idp.authorize_params(), headers=headers)


def _limited(response: Any) -> bool:
    if response.status_code != 429:
        assert response.status_code == 303, response.text
        return False
    assert "location" not in response.headers
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    return True


def test_as57_authorize_limited_per_source_address(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, authorize_requests_per_minute_per_address=5)
    first = idp.new_browser("203.0.113.5")
    assert [_limited(_authorize(idp, first)) for _ in range(6)] == [False] * 5 + [True]
    evil = first.get("/authorize", params=idp.authorize_params(redirect_uri="https://evil.example/cb"))
    assert _limited(evil)
    other = idp.new_browser("203.0.113.6")
    assert not _limited(_authorize(idp, other))
    idp.clock.advance(60)
    assert not _limited(_authorize(idp, first))
    idp.store.close()


def test_as57_authorize_limit_can_be_turned_off(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, authorize_requests_per_minute_per_address=None)
    browser = idp.new_browser("203.0.113.5")
    assert not any(_limited(_authorize(idp, browser)) for _ in range(400))
    idp.store.close()


def test_as57_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    idp = ProviderHarness(
        tmp_path, authorize_requests_per_minute_per_address=3, trusted_proxies=("10.0.0.0/8",)
    )
    direct = idp.new_browser("203.0.113.5")
    answers = [_limited(_authorize(idp, direct, f"198.51.100.{i}")) for i in range(4)]
    assert answers == [False, False, False, True]
    assert not _limited(_authorize(idp, idp.new_browser("203.0.113.6"), "203.0.113.5"))
    idp.store.close()


def test_as57_forwarded_for_honoured_from_a_trusted_proxy(tmp_path: Path) -> None:
    idp = ProviderHarness(
        tmp_path, authorize_requests_per_minute_per_address=3, trusted_proxies=("10.0.0.0/8",)
    )
    proxy = idp.new_browser("10.0.0.2")
    assert [_limited(_authorize(idp, proxy, "198.51.100.7")) for _ in range(3)] == [False] * 3
    assert _limited(_authorize(idp, proxy, "198.51.100.7"))
    assert _limited(_authorize(idp, proxy, "1.2.3.4, 198.51.100.7")), (
        "a prepended hop is the client's own text"
    )
    assert _limited(_authorize(idp, proxy, "198.51.100.7, 10.0.0.9")), "trusted hops are skipped"
    assert not _limited(_authorize(idp, proxy, "198.51.100.8"))
    idp.store.close()


def test_as57_token_endpoint_uses_the_same_source_address(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, token_requests_per_minute_per_address=2, trusted_proxies=("10.0.0.0/8",))
    proxy = idp.new_browser("10.0.0.2")

    def token(forwarded_for: str) -> int:
        response = proxy.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=("svc", SVC_SECRET),
            headers={"X-Forwarded-For": forwarded_for},
        )
        return int(response.status_code)

    assert [token("198.51.100.7") for _ in range(3)] == [200, 200, 429]
    assert token("198.51.100.8") == 200
    idp.store.close()


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.1.1.1"], "198.51.100.1"),
        ("10.0.0.2", ["10.3.3.3, 10.1.1.1"], "10.3.3.3"),
        ("10.0.0.2", ["not-an-ip, 10.1.1.1"], "10.1.1.1"),
        ("10.0.0.2", ["198.51.100.1, junk"], "10.0.0.2"),
        ("2001:db8::1", ["2001:db8::99"], "2001:db8::99"),
        ("2001:db8::2", ["198.51.100.1"], "2001:db8::2"),
        ("testclient", ["198.51.100.1"], "testclient"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_source_address_takes_the_rightmost_untrusted_hop(
    peer: str | None, forwarded_for: list[str], expected: str
) -> None:
    assert source_address(peer, forwarded_for, PROXIES) == expected


def test_source_address_ignores_forwarded_for_when_no_proxy_is_trusted() -> None:
    assert source_address("10.0.0.2", ["198.51.100.1"], ()) == "10.0.0.2"


@pytest.mark.parametrize("proxies", [("10.0.0.0/33",), ("proxy.example",), ("",), "10.0.0.1"])
def test_trusted_proxies_are_checked_at_construction(proxies: Any) -> None:
    with pytest.raises(ConfigurationError):
        ProviderSettings(issuer=ISSUER, trusted_proxies=proxies)
    assert ProviderSettings(issuer=ISSUER, trusted_proxies=("10.0.0.1", "::1/128")).proxy_networks
