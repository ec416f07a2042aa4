"""WEB-02 and WEB-17: which credential a request is read with. Behind an https issuer only the
``__Host-`` session cookie counts (a tossed unprefixed one is ignored); the token endpoints and
APIs read the bearer token only, so a session cookie for one user never merges with another's token."""

from __future__ import annotations

from pathlib import Path

from tessera.testing.idp import ProviderHarness, query_of


def test_web02_a_tossed_unprefixed_session_cookie_is_ignored(tmp_path: Path) -> None:
    idp = ProviderHarness(tmp_path, issuer="https://id.example.test")
    try:
        idp.sign_in(idp.authorize_params())
        genuine = idp.browser.cookies.get("__Host-tessera-session")
        assert genuine
        tossed = idp.new_browser()
        tossed.cookies.set("tessera-session", genuine, domain="id.example.test")
        refused = tossed.get("/authorize", params=idp.authorize_params(prompt="none"))
        assert query_of(refused.headers["location"])["error"] == "login_required"
        accepted = idp.browser.get("/authorize", params=idp.authorize_params(prompt="none"))
        assert "code" in query_of(accepted.headers["location"])
    finally:
        idp.close()


def test_web17_a_session_cookie_never_stands_in_for_or_merges_with_a_bearer_token(
    idp: ProviderHarness,
) -> None:
    bob = idp.tokens(email="bob@example.com")["access_token"]
    idp.browser.cookies.clear()
    idp.sign_in(idp.authorize_params())  # idp.browser now holds Alice's session cookie
    assert idp.browser.cookies.get("tessera-session")
    cookie_only = idp.browser.get("/userinfo")
    assert cookie_only.status_code == 401
    both = idp.browser.get("/userinfo", headers={"Authorization": f"Bearer {bob}"})
    assert both.status_code == 200 and both.json()["sub"] == "usr_bob"
    hello = idp.browser.get("/demo/hello", headers={"Authorization": f"Bearer {bob}"})
    assert hello.status_code == 200 and hello.json()["subject"] == "usr_bob"
    assert idp.browser.get("/demo/hello").status_code == 401
