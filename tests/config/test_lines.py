"""The key-line scanner: every key of a TOML text at its own line, whatever the text around it."""

from __future__ import annotations

import tomllib

from tessera.config.lines import key_lines

TRICKY = '''# [fake] = "a comment is not a table"
title = """
[provider]
name = "inside a multi-line string"
"""
literal = \'\'\'
[[clients]]
id = 'nope'
\'\'\'

[ provider ]
issuer = "http://127.0.0.1:8000"   # a comment after a value
"name" = "Orders"

[[clients]]
id = "one"
scopes = [
  "openid",   # id = "not a key"
  "orders:read",
]

[[clients]]
id = "two"
site.url = "https://x.example"
'quoted.key' = { inner = 1, other = "}" }

[gateway.authorizers."my.auth"]
ttl_seconds = 5

[[gateway.routes]]
route = "GET /a"

[[gateway.routes]]
route = "GET /b"
escaped = "a \\" [not] = x"
'''


def test_the_fixture_is_valid_toml() -> None:
    document = tomllib.loads(TRICKY)
    assert document["clients"][1]["site"]["url"] == "https://x.example"


def test_keys_and_tables_are_found_at_their_lines() -> None:
    lines = key_lines(TRICKY)
    expect = {
        ("title",): 2,
        ("literal",): 6,
        ("provider",): 11,
        ("provider", "issuer"): 12,
        ("provider", "name"): 13,
        ("clients", 0): 15,
        ("clients", 0, "id"): 16,
        ("clients", 0, "scopes"): 17,
        ("clients", 1): 22,
        ("clients", 1, "id"): 23,
        ("clients", 1, "site", "url"): 24,
        ("clients", 1, "site"): 24,
        ("clients", 1, "quoted.key"): 25,
        ("gateway", "authorizers", "my.auth"): 27,
        ("gateway", "authorizers", "my.auth", "ttl_seconds"): 28,
        ("gateway", "routes", 0, "route"): 31,
        ("gateway", "routes", 1, "route"): 34,
        ("gateway", "routes", 1, "escaped"): 35,
    }
    assert {path: lines.line(path) for path in expect} == expect


def test_text_inside_strings_comments_and_arrays_is_not_a_key() -> None:
    lines = key_lines(TRICKY)
    assert lines.line(("fake",)) == 1  # unknown: the file's first line
    assert lines.line(("clients", 2)) == lines.line(("clients",))  # no third [[clients]] was read
    assert lines.line(("clients", 0, "scopes", 1)) == 17  # an array element: its key's line


def test_an_unknown_path_falls_back_to_its_nearest_known_parent() -> None:
    lines = key_lines(TRICKY)
    assert lines.line(("clients", 1, "quoted.key", "inner")) == 25
    assert lines.line(("provider", "missing")) == 11


def test_windows_line_endings_give_the_same_lines() -> None:
    plain, crlf = key_lines(TRICKY), key_lines(TRICKY.replace("\n", "\r\n"))
    for path in [("provider", "issuer"), ("clients", 1, "site", "url"), ("gateway", "routes", 1, "escaped")]:
        assert crlf.line(path) == plain.line(path)
