"""Hostile inputs for the provider fuzz tests, and the checks every answer must pass.

The strategies mix junk (random text, percent-encoded bytes that are not UTF-8, huge values,
repeated names) with the names and values the provider really reads, so that examples get past
the first parser and into the checks behind it.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from typing import Any, TypeVar
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "BEARER_ERRORS",
    "FUZZ",
    "OAUTH_ERRORS",
    "assert_clean",
    "assert_oauth_error",
    "authorization_headers",
    "forms",
    "header_text",
    "junk_text",
    "malformed_bodies",
    "often",
    "snapshot",
    "values",
]

T = TypeVar("T")
FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=50,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# RFC 6749 §5.2 (token endpoint), RFC 7009 §2.2.1 (revocation); introspection (RFC 7662 §2.3) uses §5.2's.
OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "unsupported_token_type",
    }
)
# RFC 6750 §3.1; a request with no token at all gets no error code.
BEARER_ERRORS = frozenset({"invalid_request", "invalid_token", "insufficient_scope"})
# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
# Counters of AS-57 (failed client authentications, requests per address) are the one write a
# rejected request is meant to make; they are left out of the comparison.
RATE_COUNTERS = "rate_hits"

junk_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
# Header values reach the app as bytes, which Starlette reads as Latin-1.
header_text = st.text(st.characters(max_codepoint=0xFF), max_size=40)
_huge = st.sampled_from([255, 4097, 8193]).map(lambda n: "A" * n)


def values(*real: str) -> st.SearchStrategy[str]:
    """A parameter value: one of ``real`` (most often), real text spoiled, junk, a huge value, or empty."""
    junk: list[st.SearchStrategy[str]] = [junk_text, _huge, st.just("")]
    if not real:
        return st.one_of(junk)
    known = st.sampled_from(real)
    return often(known, st.tuples(known, junk_text).map("".join), *junk)


def often(usual: st.SearchStrategy[T], *rare: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``usual`` about three times in four, else one of ``rare``."""
    branches = [usual] * (3 * len(rare)) + list(rare)
    return st.sampled_from(branches).flatmap(lambda branch: branch)


@st.composite
def forms(draw: st.DrawFn, fields: Mapping[str, st.SearchStrategy[str]]) -> str:
    """Well-formed ``name=value`` text: distinct names, mostly from ``fields``, values from them."""
    names = often(st.sampled_from(sorted(fields)), junk_text)
    chosen = draw(st.lists(names, max_size=8, unique=True))
    return "&".join(
        f"{quote(name, safe='')}={quote(draw(fields.get(name, junk_text)), safe='')}" for name in chosen
    )


_FORM = "application/x-www-form-urlencoded"
_CONTENT_TYPES = st.sampled_from(
    [
        _FORM + "; charset=utf-8",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=xyz",
        "",
        "\u00e9/\u00e9",
    ]
)
_NOT_UTF8 = st.sampled_from(["%ff=1", "a=%c3%28", "%ed%a0%80=x", "a=%e2%82", "%c0%af=1"])


@st.composite
def malformed_bodies(
    draw: st.DrawFn, fields: Mapping[str, st.SearchStrategy[str]]
) -> tuple[bytes, dict[str, bytes]]:
    """A body that breaks the transport rules: bad bytes, a repeated name, wrong type or size, JSON."""
    form = draw(forms(fields))
    kind = draw(st.sampled_from(["repeat", "percent", "bytes", "type", "json", "huge", "length"]))
    headers = {"Content-Type": _FORM.encode()}
    if kind == "repeat":
        name = draw(st.sampled_from(sorted(fields)))
        pair = f"{quote(name, safe='')}={quote(draw(fields[name]), safe='')}"
        body = f"{pair}&{form}&{pair}".encode()
    elif kind == "percent":
        body = f"{form}&{draw(_NOT_UTF8)}".encode()
    elif kind == "bytes":
        body = form.encode() + b"&" + draw(st.binary(min_size=1, max_size=32)) + b"\xff"
    elif kind == "json":
        body = json.dumps(draw(st.dictionaries(st.sampled_from(sorted(fields)), junk_text))).encode()
        headers["Content-Type"] = b"application/json"
    elif kind == "huge":
        body = f"{form}&x={'A' * 70_000}".encode()
    else:
        body = form.encode()
        if kind == "type":
            headers["Content-Type"] = draw(_CONTENT_TYPES).encode("latin-1")
        else:
            headers["Content-Length"] = draw(
                st.sampled_from([b"-1", b"abc", b"99999999999999999999", b"\xb9"])
            )
    return body, headers


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@st.composite
def authorization_headers(draw: st.DrawFn, real_client: tuple[str, str]) -> list[tuple[str, bytes]]:
    """``Authorization`` headers: none, junk Basic, a real client with a wrong secret, Bearer junk, two."""
    client_id, secret = real_client
    one = st.one_of(
        st.tuples(st.sampled_from([client_id, "spa", "svc", "nobody", "%ff", "a%3Ab"]), junk_text).map(
            lambda pair: _basic(*pair)
        ),
        st.just(_basic(client_id, secret + "x")),
        st.just(_basic(client_id, "")),
        st.just(_basic(client_id + " ", secret)),
        st.tuples(st.sampled_from(["Basic ", "basic ", "Bearer ", "Basic", "Digest "]), header_text).map(
            "".join
        ),
        st.sampled_from(
            ["Basic !!!!", "Basic w6k6w6k=", "Basic " + "A" * 10_000, "Basic Og==", "Basic YQ=="]
        ),
    )
    count = draw(st.sampled_from([0, 0, 0, 1, 1, 2]))
    return [("Authorization", draw(one).encode("latin-1")) for _ in range(count)]


def snapshot(path: str, ignore: Mapping[str, frozenset[str]] | None = None) -> dict[str, list[str]]:
    """Every row of every table (but the rate counters), sorted; ``ignore`` drops columns."""
    skip = ignore or {}
    tables: dict[str, list[str]] = {}
    with closing(sqlite3.connect(path)) as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in names:
            if name == RATE_COUNTERS:
                continue
            cursor = db.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - names from sqlite_master
            columns = [d[0] for d in cursor.description]
            keep = [i for i, column in enumerate(columns) if column not in skip.get(name, frozenset())]
            tables[name] = sorted(repr(tuple(row[i] for i in keep)) for row in cursor)
    return tables


def changed_tables(before: Mapping[str, list[str]], after: Mapping[str, list[str]]) -> dict[str, str]:
    """The tables whose rows differ, with their row counts before and after."""
    return {
        name: f"{len(before.get(name, []))} -> {len(after.get(name, []))} rows"
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def assert_clean(response: Any) -> None:
    """G1: no 5xx and no stack trace."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


def assert_oauth_error(response: Any, allowed: frozenset[str] = OAUTH_ERRORS) -> None:
    """G4 for a rejected back-channel request: a JSON body with a standard ``error`` code."""
    assert response.headers.get("content-type", "").startswith("application/json"), response.text[:200]
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] in allowed, body
    assert _DESCRIPTION.fullmatch(body.get("error_description", "")), body
    status = {"invalid_client": 401, "invalid_token": 401, "insufficient_scope": 403}.get(body["error"], 400)
    statuses = {status, 429} if body["error"] == "invalid_request" else {status}
    assert response.status_code in statuses, (response.status_code, body)
