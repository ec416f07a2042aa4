"""``tessera config check --online``: each upstream's discovery and JWKS fetched and judged, one line each;
without ``--online`` nothing is fetched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tessera.cli import main
from tessera.testing.devserver import free_port
from tessera.testing.http import LocalHTTPServer, Response
from tessera.testing.issuer import LocalIssuer
from tessera.testing.upstream import FakeUpstream

from .conftest import WriteConfig
from .sample import VALID

DISCOVERY = "/.well-known/openid-configuration"


def _upstream(upstream_id: str, issuer: str, **extra: str) -> str:
    lines = [
        "",
        "[[upstreams]]",
        f'id = "{upstream_id}"',
        f'issuer = "{issuer}"',
        'client_id = "tessera"',
        'client_secret_env = "CORP_SECRET"',
        *(f'{k} = "{v}"' for k, v in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["config", "check", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    """A working OpenID upstream (discovery, JWKS) on real HTTP."""
    with FakeUpstream(LocalIssuer()) as upstream:
        yield upstream


@pytest.fixture
def served() -> Iterator[LocalHTTPServer]:
    """A server whose discovery document and JWKS a test writes; it counts every request."""
    with LocalHTTPServer() as server:
        yield server


def _document(server: LocalHTTPServer, **changes: Any) -> dict[str, Any]:
    document = {
        "issuer": server.url,
        "authorization_endpoint": f"{server.url}/authorize",
        "token_endpoint": f"{server.url}/token",
        "jwks_uri": f"{server.url}/jwks",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        **changes,
    }
    server.routes[DISCOVERY] = Response.json(document)
    return document


def test_a_reachable_upstream_passes_online(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, fake: FakeUpstream
) -> None:
    path = write_config(VALID + _upstream("corp", fake.issuer.issuer))
    code, out, err = _check(capsys, str(path), "--online")
    assert (code, err) == (0, ""), (out, err)
    assert out.splitlines()[-1].startswith(f"{path}: ok: ")
    assert f"upstream corp: ok (discovery at {fake.issuer.issuer}{DISCOVERY}, 1 signing key)" in out


def test_nothing_is_fetched_without_online(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, served: LocalHTTPServer
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    path = write_config(VALID + _upstream("gone", unreachable) + _upstream("counted", served.url))
    code, out, err = _check(capsys, str(path))
    assert (code, err) == (0, "") and "ok:" in out and "upstream" not in out
    assert sum(served.requests.values()) == 0
    # Asked, the same file fails on the unreachable upstream, and the other one is contacted.
    code, out, err = _check(capsys, str(path), "--online")
    assert code == 2 and "ok:" not in out
    assert f"upstream gone: unreachable: discovery: the server could not be reached: {unreachable}" in err
    assert served.requests[DISCOVERY] == 1


@pytest.mark.parametrize(
    "case",
    [
        (
            {"issuer": "https://evil.example"},
            {},
            "issuer mismatch: {url}/.well-known/openid-configuration names 'https://evil.example'",
        ),
        (
            {"code_challenge_methods_supported": ["plain"]},
            {},
            "no S256: code_challenge_methods_supported lacks 'S256'",
        ),
        ({"response_types_supported": ["token"]}, {}, "no code flow"),
        (
            {"token_endpoint_auth_methods_supported": ["client_secret_post"]},
            {},
            "client_secret_basic not supported: the token endpoint takes client_secret_post",
        ),
        (
            {"token_endpoint_auth_methods_supported": ["client_secret_basic"]},
            {"token_endpoint_auth_method": "client_secret_post"},
            "client_secret_post not supported",
        ),
        ({"authorization_endpoint": None}, {}, "authorization_endpoint is missing"),
    ],
)
def test_a_bad_discovery_document_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    write_config: WriteConfig,
    served: LocalHTTPServer,
    case: tuple[dict[str, Any], dict[str, str], str],
) -> None:
    changes, extra, words = case
    issuer = LocalIssuer(url="https://keys.example")
    served.routes["/jwks"] = Response.json(issuer.jwks())
    _document(served, **changes)
    path = write_config(VALID + _upstream("corp", served.url, **extra))
    code, out, err = _check(capsys, str(path), "--online")
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("upstream corp: "), err
    assert words.format(url=served.url) in lines[0]


@pytest.mark.parametrize(
    ("jwks", "words"),
    [
        (Response.json({"keys": []}), "JWKS has no key for RS256"),
        (Response(404, b""), "JWKS: the server answered with an error status"),
        (Response(200, b"<html>"), "JWKS: the response is not a usable document"),
    ],
)
def test_a_bad_jwks_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    write_config: WriteConfig,
    served: LocalHTTPServer,
    jwks: Response,
    words: str,
) -> None:
    _document(served)
    served.routes["/jwks"] = jwks
    path = write_config(VALID + _upstream("corp", served.url))
    code, out, err = _check(capsys, str(path), "--online")
    assert code == 2 and words in err, (out, err)


def test_the_genuine_document_of_the_same_server_passes(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, served: LocalHTTPServer
) -> None:
    issuer = LocalIssuer(url="https://keys.example")
    served.routes["/jwks"] = Response.json(issuer.jwks())
    _document(served, token_endpoint_auth_methods_supported=["client_secret_basic", "private_key_jwt"])
    path = write_config(VALID + _upstream("corp", served.url))
    code, out, err = _check(capsys, str(path), "--online")
    assert (code, err) == (0, ""), (out, err)
    assert "upstream corp: ok" in out


def test_each_upstream_gets_its_verdict(
    capsys: pytest.CaptureFixture[str], write_config: WriteConfig, fake: FakeUpstream
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    github = '\n[[upstreams]]\nid = "github"\npreset = "github"\nclient_id = "x"\nclient_secret_env = "G"\n'
    path = write_config(
        VALID + _upstream("corp", fake.issuer.issuer) + _upstream("gone", unreachable) + github
    )
    code, out, err = _check(capsys, str(path), "--online")
    assert code == 2
    assert "upstream corp: ok" in out and "upstream github: ok (GitHub is OAuth 2.0" in out
    assert err.strip().startswith("upstream gone: unreachable") and len(err.strip().splitlines()) == 1
