"""A scripted browser for the provider's sign-in: email, code from the dev outbox, callback URL.

Interop tests give an RP's authorization URL to :func:`sign_in_via_outbox` and get back the
callback URL the browser would have been sent to, with no browser involved.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

__all__ = ["SignInFailed", "run_sign_in", "sign_in_via_outbox", "submit_consent"]

_HIDDEN = re.compile(r'<input type="hidden" name="(csrf|request|then)" value="([^"]*)">')
_CODE = re.compile(r"sign-in code is ([0-9]{6})")
_MAX_HOPS = 8


class SignInFailed(AssertionError):
    """The provider did not behave as the scripted browser expected."""


def _hidden(html: str) -> dict[str, str]:
    import html as html_module

    return {name: html_module.unescape(value) for name, value in _HIDDEN.findall(html)}


def _follow(http: Any, url: str, stop_prefix: str | None) -> Any:
    """GET ``url`` and follow the provider's own redirects; stop at one outside the provider."""
    response = http.get(url, follow_redirects=False)
    for _ in range(_MAX_HOPS):
        if response.status_code not in (302, 303):
            return response
        location = urljoin(str(response.url), response.headers["location"])
        if stop_prefix is not None and not location.startswith(stop_prefix):
            return response
        response = http.get(location, follow_redirects=False)
    raise SignInFailed("too many redirects")


def run_sign_in(http: Any, authorization_url: str, email: str, *, issuer: str) -> Any:
    """Sign in as ``email`` for the authorization request; the provider's last answer.

    That is a redirect to the client, or a page the provider shows after sign-in (the consent
    page, for a third-party client). ``http`` is an ``httpx.Client`` (or Starlette's
    ``TestClient``) that keeps cookies; it is the "browser". The code is read from
    ``{issuer}/dev/outbox``. A browser that is already signed in goes straight to that answer.
    """
    response = _follow(http, authorization_url, issuer)
    if response.status_code in (302, 303) or "/consent" in str(response.url):
        return response
    if response.status_code != 200 or "/signin" not in str(response.url):
        raise SignInFailed(f"expected the sign-in page, got {response.status_code}")
    fields = _hidden(response.text)
    posted = http.post(f"{issuer}/signin", data={**fields, "email": email}, follow_redirects=False)
    if posted.status_code != 303:
        raise SignInFailed(f"the email form answered {posted.status_code}")
    code_page = http.get(urljoin(str(posted.url), posted.headers["location"]))
    outbox = http.get(f"{issuer}/dev/outbox").json()
    mail = next((m for m in outbox if m["to"].lower() == email.lower()), None)
    match = _CODE.search(mail["text"]) if mail is not None else None
    if match is None:
        raise SignInFailed(f"no sign-in code in the outbox for {email}")
    fields = _hidden(code_page.text)
    done = http.post(f"{issuer}/signin/code", data={**fields, "code": match.group(1)}, follow_redirects=False)
    if done.status_code != 303:
        raise SignInFailed(f"the code form answered {done.status_code}")
    return _follow(http, urljoin(str(done.url), done.headers["location"]), issuer)


def submit_consent(http: Any, consent_page: Any, decision: str, *, issuer: str) -> Any:
    """Press Allow (``"approve"``) or Deny (``"deny"``) on a consent page; the provider's answer."""
    if consent_page.status_code != 200 or "/consent" not in str(consent_page.url):
        raise SignInFailed(f"expected the consent page, got {consent_page.status_code}")
    fields = _hidden(consent_page.text)
    return http.post(f"{issuer}/consent", data={**fields, "decision": decision}, follow_redirects=False)


def sign_in_via_outbox(http: Any, authorization_url: str, email: str, *, issuer: str) -> str:
    """Complete the authorization request as ``email``; return the client's callback URL.

    See :func:`run_sign_in`; a consent page on the way is an error here (first-party clients
    never show one): use :func:`run_sign_in` and :func:`submit_consent` for third-party ones.
    """
    final = run_sign_in(http, authorization_url, email, issuer=issuer)
    if final.status_code not in (302, 303):
        raise SignInFailed(f"expected a redirect to the client, got {final.status_code}")
    return urljoin(str(final.url), str(final.headers["location"]))
