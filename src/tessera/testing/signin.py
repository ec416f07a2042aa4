"""A scripted browser for the provider's sign-in: email, code from the dev outbox, callback URL.

Interop tests give an RP's authorization URL to :func:`sign_in_via_outbox` and get back the
callback URL the browser would have been sent to, with no browser involved. Mail is sent off the
request path, so the outbox is polled (:func:`wait_for_mail`) until the new mail is there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urljoin

__all__ = [
    "SignInFailed",
    "code_in",
    "newest_mail_id",
    "run_sign_in",
    "sign_in_by_text",
    "sign_in_via_outbox",
    "submit_consent",
    "wait_for_mail",
]

_HIDDEN = re.compile(r'<input type="hidden" name="(csrf|request|then)" value="([^"]*)">')
_CODE = re.compile(r"sign-in code is ([0-9]{12}|[0-9]{6})\b")
_MAX_HOPS = 8
_MAX_WAIT_SECONDS = 30
MAIL_WAIT_SECONDS = 15.0

Mails = Sequence[Mapping[str, Any]]


class SignInFailed(AssertionError):
    """The provider did not behave as the scripted browser expected."""


def _hidden(html: str) -> dict[str, str]:
    import html as html_module

    return {name: html_module.unescape(value) for name, value in _HIDDEN.findall(html)}


def newest_mail_id(mails: Mails) -> int:
    """The id of the newest mail in an outbox listing (0 for an empty one)."""
    return max((int(m["id"]) for m in mails), default=0)


def wait_for_mail(
    read: Callable[[], Mails], email: str, *, after: int = 0, timeout: float = MAIL_WAIT_SECONDS
) -> Mapping[str, Any]:
    """The newest mail to ``email`` with an id above ``after``, polling ``read()`` for up to ``timeout`` s.

    ``read`` lists the outbox (``DevOutbox.messages`` or ``GET /dev/outbox``); raises
    :class:`SignInFailed` when no such mail arrives in time.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in read() if int(m["id"]) > after and str(m["to"]).lower() == email.lower()]
        if found:
            return max(found, key=lambda m: int(m["id"]))
        if time.monotonic() > deadline:
            raise SignInFailed(f"no new mail for {email} in the outbox within {timeout} s")
        time.sleep(0.01)


def code_in(mail: Mapping[str, Any]) -> str:
    """The sign-in code (6 or 12 digits) in a code mail."""
    match = _CODE.search(str(mail["text"]))
    if match is None:
        raise SignInFailed("the mail holds no sign-in code")
    return match.group(1)


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
    ``{issuer}/dev/outbox``, polled until the new mail arrives. A browser that is already
    signed in goes straight to that answer.
    """
    response = _follow(http, authorization_url, issuer)
    if response.status_code in (302, 303) or "/consent" in str(response.url):
        return response
    if response.status_code != 200 or "/signin" not in str(response.url):
        raise SignInFailed(f"expected the sign-in page, got {response.status_code}")
    fields = _hidden(response.text)

    def outbox() -> Mails:
        mails: Mails = http.get(f"{issuer}/dev/outbox").json()
        return mails

    before = newest_mail_id(outbox())
    posted = http.post(f"{issuer}/signin", data={**fields, "email": email}, follow_redirects=False)
    retry_after = posted.headers.get("retry-after", "")
    if posted.status_code == 429 and retry_after.isdigit() and int(retry_after) <= _MAX_WAIT_SECONDS:
        # A code was asked for this address moments ago (the resend throttle): wait, ask again.
        time.sleep(int(retry_after))
        posted = http.post(f"{issuer}/signin", data={**fields, "email": email}, follow_redirects=False)
    if posted.status_code != 303:
        raise SignInFailed(f"the email form answered {posted.status_code}")
    code_page = http.get(urljoin(str(posted.url), posted.headers["location"]))
    code = code_in(wait_for_mail(outbox, email, after=before))
    fields = _hidden(code_page.text)
    done = http.post(f"{issuer}/signin/code", data={**fields, "code": code}, follow_redirects=False)
    if done.status_code != 303:
        raise SignInFailed(f"the code form answered {done.status_code}")
    return _follow(http, urljoin(str(done.url), done.headers["location"]), issuer)


def sign_in_by_text(http: Any, number: str, *, issuer: str) -> Any:
    """Sign in by a code sent by SMS to ``number`` (E.164), read from ``{issuer}/dev/outbox``;
    the provider's answer to the code (a 303 when it was accepted)."""

    def outbox() -> Mails:
        mails: Mails = http.get(f"{issuer}/dev/outbox").json()
        return mails

    form = http.get(f"{issuer}/signin/phone")
    if form.status_code != 200:
        raise SignInFailed(f"the phone page answered {form.status_code}")
    before = newest_mail_id(outbox())
    posted = http.post(
        f"{issuer}/signin/phone", data={**_hidden(form.text), "phone": number}, follow_redirects=False
    )
    if posted.status_code != 303:
        raise SignInFailed(f"the phone form answered {posted.status_code}")
    code_page = http.get(urljoin(str(posted.url), posted.headers["location"]))
    code = code_in(wait_for_mail(outbox, number, after=before))
    return http.post(
        f"{issuer}/signin/phone/code",
        data={**_hidden(code_page.text), "code": code},
        follow_redirects=False,
    )


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
