"""The ``Host`` check (DNS rebinding): in-process, for a deployed issuer and a loopback one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.hosts import allowed_hosts
from tessera.issue.settings import ProviderSettings
from tessera.testing.idp import ProviderHarness


def test_allowed_hosts_of_a_deployed_issuer_with_an_extra_name() -> None:
    hosts = allowed_hosts("https://ID.example.com/tenant", ["auth.example.net", "edge.example.net:8443"])
    assert hosts == {
        "id.example.com",
        "id.example.com:443",
        "auth.example.net",
        "auth.example.net:443",
        "edge.example.net:8443",
    }


def test_allowed_hosts_of_a_loopback_issuer_are_its_loopback_aliases_at_its_port() -> None:
    expected = {"127.0.0.1:8123", "localhost:8123", "[::1]:8123"}
    assert allowed_hosts("http://127.0.0.1:8123") == expected
    assert allowed_hosts("http://[::1]:8123") == expected
    assert allowed_hosts("http://localhost:8123") == expected


@pytest.mark.parametrize("extra", [("evil.com/x",), ("a b",), ("",), "evil.com"])
def test_malformed_extra_hosts_are_refused(extra: object) -> None:
    with pytest.raises(ConfigurationError, match="extra_hosts"):
        ProviderSettings(issuer="https://id.example.com", check_host=True, extra_hosts=extra)  # type: ignore[arg-type]


def test_deployed_provider_checks_host_when_configured(tmp_path: Path) -> None:
    idp = ProviderHarness(
        tmp_path, issuer="https://id.example.com", check_host=True, extra_hosts=("auth.example.net",)
    )
    for host in ("id.example.com", "ID.example.com:443", "auth.example.net"):
        response = idp.browser.get("/jwks", headers={"Host": host})
        assert response.status_code == 200, host
        assert response.json()["keys"]
    for host in ("evil.com", "id.example.com:8443", "id.example.com.evil.com", "127.0.0.1"):
        for path in ("/jwks", "/dev/outbox", "/.well-known/openid-configuration", "/nowhere"):
            refused = idp.browser.get(path, headers={"Host": host})
            assert (refused.status_code, refused.content) == (400, b""), (host, path)
    form = {"grant_type": "client_credentials"}
    posted = idp.browser.post("/token", data=form, headers={"Host": "evil.com"})
    assert (posted.status_code, posted.content) == (400, b"")


def test_the_host_check_is_off_unless_configured(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, issuer="https://id.example.com")
    assert idp.browser.get("/jwks", headers={"Host": "api-gateway.example.org"}).status_code == 200
