"""Session cookies, CSRF and login CSRF on the sign-in pages (WEB-01..WEB-10, WEB-18)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tessera.testing.idp import ProviderHarness, query_of
from tessera.testing.signin import code_in


def _set_cookies(response: Any) -> list[str]:
    return [v for k, v in response.headers.multi_items() if k == "set-cookie"]


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="')[1].split('"', maxsplit=1)[0]


def _start(idp: ProviderHarness, browser: Any = None) -> tuple[Any, str, str]:
    browser = browser or idp.browser
    start = idp.authorize(idp.authorize_params(), browser)
    page = browser.get(start.headers["location"])
    request_id = start.headers["location"].split("request=")[1]
    return page, _csrf(page.text), request_id


def test_web01_web02_web04_https_issuer_cookies(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, issuer="https://id.example.test")
    idp.sign_in(idp.authorize_params())
    plain_http = idp.new_browser()
    page = plain_http.get("http://id.example.test/signin", headers={"X-Forwarded-Proto": "http"})
    cookies = _set_cookies(page)
    assert cookies
    start = idp.new_browser().get("/authorize", params=idp.authorize_params())
    assert start.status_code == 303
    for header in cookies:
        assert header.startswith("__Host-")
        attributes = [a.strip() for a in header.split(";")]
        assert "Secure" in attributes
        assert "HttpOnly" in attributes
        assert "SameSite=Lax" in attributes
        assert "Path=/" in attributes
        assert not any(a.lower().startswith("domain") for a in attributes)
        assert any(a.startswith("Max-Age=") and int(a.split("=")[1]) <= 12 * 3600 for a in attributes)
    assert idp.browser.cookies.get("__Host-tessera-session")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    idp.store.close()


def test_web16_security_headers_on_auth_pages(idp: ProviderHarness) -> None:
    start = idp.authorize(idp.authorize_params())
    page = idp.browser.get(start.headers["location"])
    for response in (page, idp.browser.get("/logout")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        # not no-referrer: browsers then send `Origin: null` with the page's own form POSTs
        assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in page.headers  # plain-http loopback issuer only


def test_web16_logout_page_lets_its_form_end_at_the_registered_return_address_only(
    idp: ProviderHarness,
) -> None:
    plain = idp.browser.get("/logout")
    assert "form-action 'self';" in plain.headers["content-security-policy"]
    query = urlencode({"client_id": "spa", "post_logout_redirect_uri": "https://app.example/bye"})
    returning = idp.browser.get(f"/logout?{query}")
    assert returning.status_code == 200
    assert "form-action 'self' https://app.example;" in returning.headers["content-security-policy"]
    query = urlencode({"client_id": "spa", "post_logout_redirect_uri": "https://evil.example/bye"})
    refused = idp.browser.get(f"/logout?{query}")
    assert refused.status_code == 400
    assert "evil.example" not in refused.headers["content-security-policy"]


def test_web01_loopback_http_issuer_cookies_drop_secure_only(idp: ProviderHarness) -> None:
    page, _, _ = _start(idp)
    header = _set_cookies(page)[0]
    assert header.startswith("tessera-csrf=")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header


def test_web06_session_fixation(idp: ProviderHarness) -> None:
    idp.browser.cookies.set("tessera-session", "attacker-chosen", domain="127.0.0.1")
    callback = idp.sign_in(idp.authorize_params())
    assert query_of(callback)["code"]
    session = idp.browser.cookies.get("tessera-session")
    assert session
    assert session != "attacker-chosen"
    attacker = idp.new_browser()
    attacker.cookies.set("tessera-session", "attacker-chosen")
    answer = attacker.get("/authorize", params=idp.authorize_params(prompt="none"))
    assert query_of(answer.headers["location"])["error"] == "login_required"


def test_web07_session_ids_random_and_hashed(idp: ProviderHarness) -> None:
    values = set()
    for _ in range(3):
        idp.browser = idp.new_browser()
        idp.sign_in(idp.authorize_params())
        value = idp.browser.cookies.get("tessera-session")
        assert value
        assert len(value) >= 43
        values.add(value)
    assert len(values) == 3
    with sqlite3.connect(idp.store.path) as db:
        dump = "\n".join(db.iterdump())
    assert not any(v in dump for v in values)


def test_web08_cross_site_posts_refused(idp: ProviderHarness) -> None:
    _, csrf, request_id = _start(idp)
    form = {"csrf": csrf, "request": request_id, "email": "alice@example.com"}
    attacks = [
        ({"Origin": "https://evil.example"}, form),
        ({"Origin": "null"}, form),
        ({"Origin": "http://127.0.0.1:8001"}, form),
        ({"Sec-Fetch-Site": "cross-site"}, form),
        ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, form),
        ({"Sec-Fetch-Site": "same-site"}, form),
        ({}, {**form, "csrf": "forged"}),
        ({}, {k: v for k, v in form.items() if k != "csrf"}),
    ]
    for headers, data in attacks:
        response = idp.browser.post("/signin", data=data, headers=headers)
        assert response.status_code == 403
    assert idp.outbox.messages() == []
    as_text = idp.browser.post("/signin", content="csrf=x", headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 400
    stranger = idp.new_browser()
    assert stranger.post("/signin", data=form).status_code == 403
    genuine = idp.browser.post("/signin", data=form, headers={"Origin": "http://127.0.0.1:8000"})
    assert genuine.status_code == 303
    idp.wait_for_mail()
    assert len(idp.outbox.messages()) == 1


def test_web09_get_logout_changes_nothing(idp: ProviderHarness) -> None:
    tokens = idp.tokens()
    assert idp.browser.get("/logout").status_code == 200
    still = idp.authorize(idp.authorize_params(prompt="none"))
    assert query_of(still.headers["location"])["code"]
    assert idp.hello(tokens["access_token"]).status_code == 200


def test_web10_login_csrf_code_without_the_browsers_challenge(idp: ProviderHarness) -> None:
    attacker = idp.new_browser()
    _, attacker_csrf, attacker_request = _start(idp, attacker)
    attacker.post(
        "/signin", data={"csrf": attacker_csrf, "request": attacker_request, "email": "bob@example.com"}
    )
    code = code_in(idp.wait_for_mail("bob@example.com"))
    victim = idp.new_browser()
    _, victim_csrf, victim_request = _start(idp, victim)
    forced = victim.post("/signin/code", data={"csrf": victim_csrf, "request": victim_request, "code": code})
    assert forced.status_code == 400
    assert victim.cookies.get("tessera-session") is None
    page = attacker.get("/signin/code")
    ok = attacker.post(
        "/signin/code", data={"csrf": _csrf(page.text), "request": attacker_request, "code": code}
    )
    assert ok.status_code == 303


def test_web18_duplicate_or_oversized_cookies(idp: ProviderHarness) -> None:
    idp.sign_in(idp.authorize_params())
    session = idp.browser.cookies.get("tessera-session")
    fresh = idp.new_browser()
    doubled = fresh.get(
        "/authorize",
        params=idp.authorize_params(),
        headers={"Cookie": f"tessera-session={session}; tessera-session=other"},
    )
    assert doubled.status_code == 400
    assert "location" not in doubled.headers
    huge = fresh.get("/authorize", params=idp.authorize_params(), headers={"Cookie": "a=" + "x" * 9000})
    assert huge.status_code == 400
    single = fresh.get(
        "/authorize", params=idp.authorize_params(), headers={"Cookie": f"tessera-session={session}"}
    )
    assert query_of(single.headers["location"])["code"]


def test_wrong_code_then_right_code_in_the_browser(idp: ProviderHarness) -> None:
    _, csrf, request_id = _start(idp)
    idp.browser.post("/signin", data={"csrf": csrf, "request": request_id, "email": "alice@example.com"})
    code = code_in(idp.wait_for_mail())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    bad = idp.browser.post("/signin/code", data={"csrf": csrf, "request": request_id, "code": wrong})
    assert bad.status_code == 400
    assert "not valid" in bad.text
    good = idp.browser.post("/signin/code", data={"csrf": csrf, "request": request_id, "code": code})
    assert good.status_code == 303
    assert good.headers["location"].startswith("/authorize/continue?request=")


def test_web16_code_page_lets_its_form_end_at_the_client_only(idp: ProviderHarness) -> None:
    page, csrf, request_id = _start(idp)
    assert "form-action 'self';" in page.headers["content-security-policy"]
    posted = idp.browser.post(
        "/signin", data={"csrf": csrf, "request": request_id, "email": "alice@example.com"}
    )
    code_page = idp.browser.get(posted.headers["location"])
    policy = code_page.headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:5173;" in policy
    assert "frame-ancestors 'none'" in policy
    unknown = idp.browser.get("/signin/code?request=not-a-request")
    assert "form-action 'self';" in unknown.headers["content-security-policy"]


def test_web18_duplicate_cookie_beside_a_valid_csrf_pair_is_a_clean_400(idp: ProviderHarness) -> None:
    _, csrf, request_id = _start(idp)
    csrf_cookie = f"tessera-csrf={idp.browser.cookies.get('tessera-csrf')}"
    form = {"csrf": csrf, "request": request_id, "code": "123456"}

    def post(path: str, cookies: str) -> Any:
        return idp.new_browser().post(path, data=form, headers={"Cookie": f"{csrf_cookie}; {cookies}"})

    doubled = post("/signin/code", "tessera-signin=a; tessera-signin=b")
    assert doubled.status_code == 400 and "could not be read" in doubled.text
    single = post("/signin/code", "tessera-signin=a")
    assert single.status_code == 400 and "That code is not valid" in single.text

    doubled = post("/logout", "tessera-session=a; tessera-session=b")
    assert doubled.status_code == 400 and "could not be read" in doubled.text
    single = post("/logout", "tessera-session=a")
    assert single.status_code == 200 and "could not be read" not in single.text
