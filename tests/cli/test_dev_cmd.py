"""``tessera dev``'s server settings (the process itself is driven in tests/issue/dev/test_process.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tessera.cli import listen
from tessera.cli import main as cli_main
from tessera.issue.hosting.serving import KEEP_ALIVE_SECONDS, BoundedHttpProtocol
from tessera.testing.devserver import free_port


def _recorder(started: dict[str, Any]) -> Callable[..., None]:
    """A stand-in for listen.serve that records its arguments and lets the held port go."""

    def serve(app: Any, sock: socket.socket, **options: Any) -> None:
        started.update(app=app, sock_port=sock.getsockname()[1], **options)
        sock.close()

    return serve


def test_dev_bounds_request_reads_leaves_x_forwarded_for_to_trusted_proxies_names_no_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr(listen, "serve", _recorder(started))
    port = free_port()
    assert cli_main(["dev", "--data", str(tmp_path / "data"), "--port", str(port)]) == 0
    assert started["proxy_headers"] is False
    assert started["server_header"] is False
    assert started["http"] is BoundedHttpProtocol
    assert started["timeout_keep_alive"] == KEEP_ALIVE_SECONDS
    assert (started["host"], started["port"], started["sock_port"]) == ("127.0.0.1", port, port)
    assert started["app"].state.provider.settings.trusted_proxies == ()
    assert f"http://127.0.0.1:{port}" in capsys.readouterr().out


def test_dev_refuses_a_non_loopback_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listen, "serve", lambda app, sock, **options: pytest.fail("must not start"))
    assert cli_main(["dev", "--data", str(tmp_path / "data"), "--host", "0.0.0.0"]) == 2


def test_dev_workers_share_the_data_directory_through_an_app_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.issue.dev.provider import DEV_DATA_ENV, DEV_ISSUER_ENV, DEV_WORKERS_ENV, app_from_environment

    started: dict[str, Any] = {}
    monkeypatch.setattr(listen, "serve", _recorder(started))
    monkeypatch.setenv(DEV_DATA_ENV, "set by the command")  # restored after the test
    monkeypatch.setenv(DEV_ISSUER_ENV, "set by the command")
    monkeypatch.setenv(DEV_WORKERS_ENV, "set by the command")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    data = tmp_path / "data"
    port = free_port()
    assert cli_main(["dev", "--data", str(data), "--port", str(port), "--workers", "2"]) == 0
    assert (started["app"], started["factory"], started["workers"]) == (
        "tessera.issue.dev.provider:app_from_environment",
        True,
        2,
    )
    assert started["proxy_headers"] is False
    assert started["http"] is BoundedHttpProtocol
    worker_app = app_from_environment()
    provider = worker_app.state.provider
    assert provider.settings.issuer == f"http://127.0.0.1:{port}"
    assert provider.settings.work_in_thread is True  # a worker serves many connections too
    assert provider.store.get_client("dev-service") is not None
    assert {k["kid"] for k in provider.keys.jwks()["keys"]} == set(
        provider.keys.records()[s].kid for s in ("previous", "current", "next")
    )
    assert cli_main(["dev", "--data", str(data), "--workers", "0"]) == 2


def test_a_port_in_use_is_one_line_before_the_banner_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(listen, "serve", lambda app, sock, **options: pytest.fail("must not start"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli_main(["dev", "--data", str(tmp_path / "data"), "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert not (tmp_path / "data").exists()  # no secret made and lost, no keys generated


@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1", "http"])
def test_a_port_outside_1_to_65535_is_refused(
    port: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(["dev", "--data", str(tmp_path / "data"), "--port", port])
    assert exited.value.code == 2
    assert "--port" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_the_banner_names_a_seeded_user_and_a_pasteable_secret_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TESSERA_DEV_SERVICE_SECRET", raising=False)
    started: dict[str, Any] = {}
    monkeypatch.setattr(listen, "serve", _recorder(started))
    data = str(tmp_path / "data")
    assert cli_main(["dev", "--data", data, "--port", str(free_port())]) == 0
    out = capsys.readouterr().out
    assert "sign in as  dev@example.com" in out
    store = started["app"].state.provider.store
    seeded = store.find_user_by_email("dev@example.com")
    assert seeded is not None
    assert seeded.roles == ("admin",)
    exports = [line for line in out.splitlines() if line.startswith("export ")]
    assert len(exports) == 1
    name, _, secret = exports[0].removeprefix("export ").partition("=")
    assert name == "TESSERA_DEV_SERVICE_SECRET"
    assert len(secret) >= 32
    assert secret.replace("-", "").replace("_", "").isalnum()  # pastes into any shell unquoted
    # The pasted line sets the same secret on the next start; no new one is printed.
    monkeypatch.setenv("TESSERA_DEV_SERVICE_SECRET", secret)
    assert cli_main(["dev", "--data", data, "--port", str(free_port())]) == 0
    again = capsys.readouterr().out
    assert "export " not in again
    assert "reset-secret dev-service" in again
    assert again.count("dev@example.com") == 1  # seeded once, not again beside the users it has


def test_a_corrupt_or_unusable_data_directory_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(listen, "serve", lambda app, sock, **options: pytest.fail("must not start"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.json").write_text("{not json")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    broken_db = tmp_path / "broken"
    broken_db.mkdir()
    (broken_db / "tessera.db").write_text("this is not a database" * 100)
    for path, expected in (
        (data, "config.json is not readable JSON"),
        (a_file, "is a file, not a directory"),
        (a_file / "below", "cannot be used"),
        (broken_db, "not a usable Tessera database"),
    ):
        assert cli_main(["dev", "--data", str(path), "--port", str(free_port())]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("error: ")
        assert expected in err, err
        assert len(err.splitlines()) == 1


def test_the_banner_names_three_users_and_says_there_are_others_without_listing_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tessera.store.sqlite import SQLiteStore

    started: dict[str, Any] = {}
    monkeypatch.setattr(listen, "serve", _recorder(started))
    asked: list[int | None] = []
    listing = SQLiteStore.list_users

    def counted(self: SQLiteStore, limit: int | None = None) -> Any:
        asked.append(limit)
        return listing(self, limit)

    monkeypatch.setattr(SQLiteStore, "list_users", counted)
    data = str(tmp_path / "data")
    users = [f"--user=u{i}@example.com" for i in range(5)]
    assert cli_main(["dev", "--data", data, "--port", str(free_port()), *users]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "sign in as" in x)
    assert line.strip() == (
        "sign in as  u0@example.com, u1@example.com, u2@example.com and others (tessera users list)"
    )
    assert None not in asked
