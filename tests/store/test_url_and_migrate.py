"""Choosing a store by URL, and ``tessera store migrate`` on every backend against real servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tessera.cli import main
from tessera.errors import ConfigurationError
from tessera.store.url import choose_store, open_store

from .conftest import NOW
from .test_single_use import code


def test_the_flag_wins_over_the_environment_which_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "tessera.toml"
    config.write_text('[store]\nurl = "sqlite:///from-file.db"\ncache = "redis://127.0.0.1:1/0"\n')
    env = {"TESSERA_STORE": "postgresql://db.example/tessera"}
    flag = choose_store("dynamodb://t?region=eu-west-1", environ=env, config=config)
    assert flag is not None and (flag.url, flag.source) == ("dynamodb://t?region=eu-west-1", "--store")
    assert flag.cache == "redis://127.0.0.1:1/0"
    from_env = choose_store(None, environ=env, config=config)
    assert from_env is not None and (from_env.url, from_env.source) == (env["TESSERA_STORE"], "TESSERA_STORE")
    from_file = choose_store(None, environ={}, config=config)
    assert from_file is not None and from_file.url == "sqlite:///from-file.db"
    assert choose_store(None, environ={}, config=tmp_path / "absent.toml") is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://h/db", "unknown store URL scheme 'mysql'"),
        ("sqlite://host/x.db", "sqlite:///path/to/file.db"),
        ("dynamodb://?region=us-east-1", "dynamodb://TABLE"),
        ("dynamodb://t?region=us-east-1&colour=red", "unknown DynamoDB store URL parameter 'colour'"),
    ],
)
def test_bad_store_urls_are_one_clear_error(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        open_store(url)


def test_a_bad_config_file_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "tessera.toml"
    config.write_text("[store\nurl = 1")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        choose_store(None, environ={}, config=config)
    config.write_text("[store]\nurl = 1\n")
    with pytest.raises(ConfigurationError, match=r"\[store\] url must be a string"):
        choose_store(None, environ={}, config=config)


def test_importing_the_store_imports_no_driver() -> None:
    drivers = "('psycopg', 'psycopg_pool', 'boto3', 'botocore', 'redis')"
    code = (
        "import sys, tessera.store, tessera.store.url, tessera.cli;"
        f"print(sorted(m for m in {drivers} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_migrate_creates_then_finds_the_schema_up_to_date(
    store_url: str, backend: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fresh = store_url
    if backend == "dynamodb":  # the fixture's table is migrated already: name a new one
        fresh = store_url.replace("dynamodb://", "dynamodb://cli-", 1)
    if backend == "postgresql":  # so is the fixture's database: empty its schema
        import psycopg

        with psycopg.connect(store_url, autocommit=True) as db:
            db.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    assert main(["store", "migrate", "--store", fresh]) == 0
    first = capsys.readouterr().out
    expected = {
        "sqlite": "SQLite schema ready",
        "postgresql": "applied migration 1",
        "dynamodb": "enabled TTL on attribute ttl",
    }[backend]
    assert expected in first
    assert main(["store", "migrate", "--store", fresh]) == 0
    second = capsys.readouterr().out
    if backend != "sqlite":
        assert "up to date" in second and expected not in second
    store = open_store(fresh)
    store.save_code(code())
    assert store.consume_code("c1", NOW)
    store.close()


def test_migrate_reads_the_environment_then_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TESSERA_STORE", raising=False)
    assert main(["store", "migrate"]) == 2
    assert "no store given" in capsys.readouterr().err
    (tmp_path / "tessera.toml").write_text('[store]\nurl = "sqlite:///from-file.db"\n')
    assert main(["store", "migrate"]) == 0
    assert "from-file.db" in capsys.readouterr().out and (tmp_path / "from-file.db").exists()
    monkeypatch.setenv("TESSERA_STORE", "sqlite:///from-env.db")
    assert main(["store", "migrate"]) == 0
    assert (tmp_path / "from-env.db").exists()


def test_migrate_failures_are_one_line_exit_2_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from .servers import free_port

    url = f"postgresql://tessera:hunter2-secret@127.0.0.1:{free_port()}/db?connect_timeout=2"
    assert main(["store", "migrate", "--store", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the postgresql store could not be migrated: ")
    assert err.count("\n") == 1 and "hunter2-secret" not in err
    assert main(["store", "migrate", "--store", "oracle://x"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown store URL scheme 'oracle'")


def test_postgres_migration_4_adds_session_amr_and_keeps_the_sessions_it_finds(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    import psycopg
    from psycopg.rows import dict_row

    from tessera.store import Session
    from tessera.store.postgres_schema import MIGRATIONS, migrate, schema_version

    from .conftest import fresh_store_url

    url = fresh_store_url("postgresql", request, tmp_path)
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as db:
        db.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        db.execute("CREATE TABLE tessera_schema (version INTEGER NOT NULL)")
        for _, _, sql in MIGRATIONS[:3]:
            db.execute(sql.encode())
        db.execute("INSERT INTO tessera_schema VALUES (3)")
        db.execute("INSERT INTO sessions VALUES ('s-old', 'usr_a', %s, %s, FALSE)", (int(NOW), NOW + 600))
        applied = migrate(db)
        assert applied[0] == "applied migration 4: the authentication methods (amr) of each session"
        assert applied == [f"applied migration {v}: {d}" for v, d, _ in MIGRATIONS[3:]]
        assert schema_version(db) == MIGRATIONS[-1][0]
    store = open_store(url)
    assert store.get_session("s-old", NOW) == Session("s-old", "usr_a", int(NOW), NOW + 600)
    store.close()
