"""The hosted pages' look over HTTP: the configured name and logo, the stylesheet, the strict CSP,
and templates overridden from the deployer's folder (autoescaped all the same)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.look import LOGO_MAX_BYTES
from tessera.issue.settings import ProviderSettings
from tessera.testing.idp import ISSUER, ProviderHarness

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def _policy(response_headers: object) -> dict[str, str]:
    header = str(response_headers["content-security-policy"])  # type: ignore[index]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.fixture
def branded(tmp_path: Path) -> Iterator[ProviderHarness]:
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    harness = ProviderHarness(tmp_path / "idp", name="Orders & Co", logo=str(logo))
    yield harness
    harness.close()


def test_every_hosted_page_shows_the_name_and_logo_and_the_title_says_the_name(
    branded: ProviderHarness,
) -> None:
    for path in ("/signin", "/signin/code", "/authorize?client_id=nobody"):
        page = branded.browser.get(path)
        assert "<title>" in page.text and "· Orders &amp; Co</title>" in page.text, path
        assert '<span class="brand-name">Orders &amp; Co</span>' in page.text, path
        assert '<img class="logo" src="/static/logo" alt="">' in page.text, path


def test_the_logo_file_is_served_as_an_image_that_runs_no_script(branded: ProviderHarness) -> None:
    logo = branded.browser.get("/static/logo")
    assert logo.status_code == 200
    assert logo.content == PNG
    assert logo.headers["content-type"] == "image/png"
    assert logo.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in logo.headers["content-security-policy"]


def test_without_a_logo_there_is_no_image_and_no_logo_route(idp: ProviderHarness) -> None:
    page = idp.browser.get("/signin")
    assert "<img" not in page.text
    assert '<span class="brand-name">Tessera</span>' in page.text
    assert idp.browser.get("/static/logo").status_code == 404


def test_a_logo_url_is_shown_and_only_its_origin_joins_img_src(tmp_path: Path) -> None:
    harness = ProviderHarness(tmp_path, logo="https://cdn.example.com/brand/logo.svg?v=2")
    try:
        page = harness.browser.get("/signin")
        assert '<img class="logo" src="https://cdn.example.com/brand/logo.svg?v=2" alt="">' in page.text
        assert _policy(page.headers)["img-src"] == "img-src 'self' https://cdn.example.com"
        assert harness.browser.get("/static/logo").status_code == 404
    finally:
        harness.close()


def test_the_pages_take_their_styles_from_the_stylesheet_under_a_strict_csp(idp: ProviderHarness) -> None:
    page = idp.browser.get("/signin")
    policy = _policy(page.headers)
    assert policy["style-src"] == "style-src 'self'"
    assert policy["script-src"] == "script-src 'self'"
    assert "<style" not in page.text and " style=" not in page.text
    assert '<link rel="stylesheet" href="/static/tessera.css">' in page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    sheet = idp.browser.get("/static/tessera.css")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "text/css; charset=utf-8"
    assert "prefers-color-scheme: dark" in sheet.text
    assert ":focus-visible" in sheet.text


def test_the_dev_pages_use_the_stylesheet_too(idp: ProviderHarness) -> None:
    home = idp.browser.get("/")
    assert home.status_code == 200
    assert "<style" not in home.text
    assert 'href="/static/tessera.css"' in home.text


def test_a_template_in_the_folder_replaces_the_built_in_one_and_stays_autoescaped(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "signin_code.html").write_text(
        '{% extends "base.html" %}{% block body %}<h1 id="custom">Your code, {{ address }}</h1>'
        '<form method="post" action="{{ action }}"><input type="hidden" name="csrf" value="{{ csrf }}">'
        '<input type="hidden" name="request" value="{{ request_id }}"><input name="code"></form>'
        "{% endblock %}"
    )
    (folder / "error.html").write_text(
        '{% extends "tessera/error.html" %}{% block title %}Oops{% endblock %}'
    )
    harness = ProviderHarness(tmp_path / "idp", templates=folder, name="<b>Shop</b>")
    try:
        form = harness.browser.get("/signin?request=")
        fields = dict(re.findall(r'name="(csrf|request)" value="([^"]*)"', form.text))
        sent = harness.browser.post("/signin", data={**fields, "email": "<i>alice</i>@example.com"})
        assert sent.status_code == 303
        page = harness.browser.get(sent.headers["location"])
        assert '<h1 id="custom">Your code, &lt;i&gt;alice&lt;/i&gt;@example.com</h1>' in page.text
        assert "&lt;b&gt;Shop&lt;/b&gt;" in page.text and "<b>Shop</b>" not in page.text
        built_in = harness.browser.get("/signin")
        assert 'id="custom"' not in built_in.text and "<h1>Sign in</h1>" in built_in.text
        error = harness.browser.get("/authorize?client_id=nobody")
        assert "<title>Oops · &lt;b&gt;Shop&lt;/b&gt;</title>" in error.text
        assert 'role="alert"' in error.text  # the built-in page it extends
    finally:
        harness.close()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("templates", "missing-folder", "the templates folder"),
        ("logo", "missing.png", "does not exist"),
        ("logo", "logo.bmp", "must be one of"),
        ("logo", "http://cdn.example.com/logo.png", "must be https"),
        ("logo", "https://cdn.example.com/a b.png", "not a usable URL"),
        ("logo", "https://cdn.example.com;script-src *", "not a usable URL"),
        ("logo", "https://cdn.example.com;script-src/logo.png", "not a usable URL"),
    ],
)
def test_a_look_setting_that_cannot_work_is_refused(
    tmp_path: Path, setting: str, value: str, message: str
) -> None:
    resolved: object = value if value.startswith("http") else tmp_path / value
    if setting == "logo":
        resolved = str(resolved)
    with pytest.raises(ConfigurationError, match=message):
        ProviderSettings(issuer=ISSUER, **{setting: resolved})  # type: ignore[arg-type]


def test_a_logo_file_too_large_is_refused_and_one_within_the_limit_accepted(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (LOGO_MAX_BYTES + 1))
    with pytest.raises(ConfigurationError, match="larger than"):
        ProviderSettings(issuer=ISSUER, logo=str(big))
    big.write_bytes(b"\0" * LOGO_MAX_BYTES)
    assert ProviderSettings(issuer=ISSUER, logo=str(big)).logo == str(big)
