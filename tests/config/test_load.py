"""``tessera.config.load``: the protect side's verifier and routes from ``tessera.toml``, in one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tessera.config
from tessera.errors import ConfigurationError, Reason, TokenError
from tessera.gateway import load_gateway_config
from tessera.protect.routes import load_routes
from tessera.testing import LocalIssuer

from .conftest import WriteConfig
from .sample import replaced

TWO_APIS = replaced(
    "[[clients]]", '[[apis]]\naudience = "billing-api"\nscopes = ["billing:read"]\n\n[[clients]]'
)


@pytest.fixture
def offline_issuer(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LocalIssuer:
    """An issuer with no server; the file's issuer is overridden to it and its keys bundled."""
    issuer = LocalIssuer(url="https://id.example.com")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    monkeypatch.setenv("TESSERA_ISSUER", issuer.issuer)
    monkeypatch.setenv("TESSERA_JWKS_FILE", str(jwks))
    return issuer


def test_one_line_gives_the_verifier(write_config: WriteConfig, offline_issuer: LocalIssuer) -> None:
    verifier = tessera.config.load(write_config()).verifier()
    claims = verifier.verify(offline_issuer.mint(aud="orders-api", scope="orders:read", sub="bob"))
    assert claims.subject == "bob" and claims.issuer == "https://id.example.com"
    refused = {
        Reason.WRONG_AUDIENCE: offline_issuer.mint(aud="billing-api", scope="orders:read"),
        Reason.WRONG_TYPE: offline_issuer.mint(aud="orders-api", typ="JWT"),
        Reason.WRONG_ISSUER: LocalIssuer(url="https://other.example").mint(aud="orders-api"),
    }
    for reason, token in refused.items():
        with pytest.raises(TokenError) as caught:
            verifier.verify(token)
        assert caught.value.reason in (reason, Reason.UNKNOWN_KEY)
        if reason is not Reason.WRONG_ISSUER:
            assert caught.value.reason is reason


def test_the_routes_come_with_it(write_config: WriteConfig) -> None:
    config = tessera.config.load(write_config())
    route = config.routes.match("GET", "/orders/7")
    assert route is not None and route.scopes == ("orders:read",)
    assert config.routes.match("DELETE", "/orders/7") is None
    assert config.issuer() == "http://127.0.0.1:8000" and config.audience() == "orders-api"


def test_several_apis_need_a_choice(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tessera.config.load(write_config(TWO_APIS))
    with pytest.raises(ConfigurationError, match="2 \\[\\[apis\\]\\]: choose one"):
        config.audience()
    assert config.audience("billing-api") == "billing-api"
    with pytest.raises(ConfigurationError, match="no \\[\\[apis\\]\\] has audience 'biling-api'"):
        config.audience("biling-api")
    monkeypatch.setenv("TESSERA_AUDIENCE", "billing-api")
    assert tessera.config.load(write_config(TWO_APIS)).audience() == "billing-api"


def test_environment_overrides(write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_ISSUER", "https://id.example.com")
    monkeypatch.setenv("TESSERA_PROVIDER_NAME", "Shop")
    monkeypatch.setenv("TESSERA_SIGNUP", "false")
    provider = tessera.config.load(write_config()).provider
    assert (provider.issuer, provider.name, provider.signup) == ("https://id.example.com", "Shop", False)
    monkeypatch.setenv("TESSERA_SIGNUP", "maybe")
    with pytest.raises(ConfigurationError, match="TESSERA_SIGNUP must be true or false"):
        tessera.config.load(write_config())


def test_without_an_issuer_the_verifier_says_so(write_config: WriteConfig) -> None:
    config = tessera.config.load(write_config(replaced('issuer = "http://127.0.0.1:8000"\n', "")))
    with pytest.raises(
        ConfigurationError, match=re.escape("no issuer: set [provider].issuer or TESSERA_ISSUER")
    ):
        config.verifier()


def test_load_finds_the_file(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=re.escape("tessera.toml: no such file")):
        tessera.config.load()
    write_config()
    assert tessera.config.load().path == tmp_path / "tessera.toml"
    other = write_config(TWO_APIS, name="elsewhere.toml")
    monkeypatch.setenv("TESSERA_CONFIG", str(other))
    assert len(tessera.config.load().apis) == 2


def test_a_bad_file_is_refused_with_its_line(write_config: WriteConfig) -> None:
    path = write_config(replaced("signup = true", "sign_up = true"))
    with pytest.raises(tessera.config.ConfigFileError) as caught:
        tessera.config.load(path)
    assert (
        str(caught.value)
        == f"{path}:4: provider.sign_up: unknown key (known: issuer, logo, name, signup, templates)"
    )


def test_a_missing_secret_does_not_stop_the_protect_side(
    write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERS_SERVICE_SECRET")
    assert tessera.config.load(write_config()).audience() == "orders-api"


def test_routes_files_readers_accept_tessera_toml(write_config: WriteConfig) -> None:
    path = write_config()
    rules = load_routes(path)
    assert rules.issuer == "http://127.0.0.1:8000" and rules.audience == ("orders-api",)
    assert [r.route_key for r in rules.routes] == ["GET /orders/{id}"]
    gateway = load_gateway_config(path)
    assert [(r.key.text, r.handler) for r in gateway.routes] == [("GET /orders/{id}", "app:handler")]
    assert gateway.base_dir == path.parent


def test_a_routes_file_still_reads_as_before(tmp_path: Path) -> None:
    routes = tmp_path / "routes.toml"
    routes.write_text('audience = "a"\n[[routes]]\nmethod = "GET"\npath = "/x"\n')
    assert load_routes(routes).audience == ("a",)
    routes.write_text('[[apis]]\naudience = "a"\nscopes = ["s"]\n[[routes]]\nmethod = "GET"\npath = "/x"\n')
    assert load_routes(routes).audience == ("a",)  # a provider section makes it a tessera.toml


def test_routes_export_reads_tessera_toml(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    from tessera.cli import main

    path = write_config()
    assert main(["routes", "export", "--format", "apigw-jwt", str(path)]) == 0
    template = json.loads(capsys.readouterr().out)
    jwt = template["Resources"]["TesseraJwtAuthorizer"]["Properties"]["JwtConfiguration"]
    assert jwt == {"Issuer": "http://127.0.0.1:8000", "Audience": ["orders-api"]}
    assert main(["routes", "export", "--format", "apim", "--config", str(path)]) == 0
    assert "<audience>orders-api</audience>" in capsys.readouterr().out


def test_the_protect_side_does_not_import_the_provider(write_config: WriteConfig) -> None:
    path = write_config()
    probe = (
        "import sys, tessera.config as c; v = c.load(sys.argv[1]).verifier(); c.load(sys.argv[1]).routes; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'jinja2', 'uvicorn') "
        "or m.startswith(('tessera.issue', 'tessera.gateway', 'tessera.cli', 'tessera.store')));"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
