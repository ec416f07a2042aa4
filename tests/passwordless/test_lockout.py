"""ASVS V2.2.1: strangers' wrong codes bound their own guessing and never lock the owner out.

Every attack here goes through the provider's pages with fresh cookie jars from simulated source
addresses (the connection's peer, as ``request_address`` reads it), then the owner, from another
address, asks for a fresh code and signs in with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tessera.testing.idp import ProviderHarness, query_of
from tessera.testing.signin import code_in

VICTIM = "alice@example.com"
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_REQUEST = re.compile(r'name="request" value="([^"]*)"')


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    """A provider with ``tessera dev``'s 5-second resend interval (the issue's attack timing)."""
    harness = ProviderHarness(tmp_path, sign_in_resend_seconds=5)
    yield harness
    harness.close()


def _email_page(idp: ProviderHarness, browser: TestClient) -> tuple[str, str]:
    """Open an authorization request in ``browser``; its sign-in form's CSRF token and request id."""
    start = idp.authorize(idp.authorize_params(), browser)
    page = browser.get(start.headers["location"])
    csrf, request_id = _CSRF.search(page.text), _REQUEST.search(page.text)
    assert csrf is not None and request_id is not None
    return csrf.group(1), request_id.group(1)


def _attack(idp: ProviderHarness, source: str, guesses: int = 5) -> list[int]:
    """One fresh cookie jar from ``source``: start a sign-in for the victim, try wrong codes."""
    browser = idp.new_browser(source)
    csrf, request_id = _email_page(idp, browser)
    started = browser.post("/signin", data={"csrf": csrf, "request": request_id, "email": VICTIM})
    statuses = [started.status_code]
    if started.status_code != 303:
        return statuses
    for n in range(guesses):
        idp.clock.advance(0.2)
        wrong = browser.post("/signin/code", data={"csrf": csrf, "request": request_id, "code": f"{n:06d}"})
        statuses.append(wrong.status_code)
    return statuses


def _owner_signs_in(idp: ProviderHarness) -> str:
    """The owner, on another address, asks for a fresh code and types what the mail says."""
    owner = idp.new_browser(OWNER)
    csrf, request_id = _email_page(idp, owner)
    idp.settle_mail()
    before = max((int(m["id"]) for m in idp.outbox.messages()), default=0)
    started = owner.post("/signin", data={"csrf": csrf, "request": request_id, "email": VICTIM})
    assert started.status_code == 303, started.status_code
    code = code_in(idp.wait_for_mail(VICTIM, after=before))
    done = owner.post("/signin/code", data={"csrf": csrf, "request": request_id, "code": code})
    assert done.status_code == 303, done.text
    callback = owner.get(done.headers["location"]).headers["location"]
    assert query_of(callback)["code"]
    return code


def test_four_jars_from_one_address_then_the_owner_signs_in(idp: ProviderHarness) -> None:
    outcomes = []
    for _ in range(4):
        idp.clock.advance(5)
        outcomes.append(_attack(idp, ATTACKER))
    code = _owner_signs_in(idp)
    assert len(code) == 6
    # The stranger's address spent its 10 failures on the first two jars; then it is refused.
    assert outcomes[:2] == [[303, 400, 400, 400, 400, 400]] * 2
    assert outcomes[2:] == [[429], [429]]


def test_the_per_address_bound_holds_and_lifts_after_the_hour(idp: ProviderHarness) -> None:
    waiting = idp.new_browser(ATTACKER)
    csrf, request_id = _email_page(idp, waiting)
    idp.clock.advance(5)
    assert (
        waiting.post("/signin", data={"csrf": csrf, "request": request_id, "email": VICTIM}).status_code
        == 303
    )
    for _ in range(2):
        idp.clock.advance(5)
        assert _attack(idp, ATTACKER) == [303, 400, 400, 400, 400, 400]
    refused = waiting.post("/signin/code", data={"csrf": csrf, "request": request_id, "code": "123456"})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3601
    idp.clock.advance(5)
    again = _attack(idp, ATTACKER)
    assert again == [429]
    # Another account is not affected from that address, and the bound lifts after the hour.
    assert idp.sign_in(idp.authorize_params(), "bob@example.com", idp.new_browser(ATTACKER))
    idp.clock.advance(3600)
    assert idp.sign_in(idp.authorize_params(), VICTIM, idp.new_browser(ATTACKER))


def test_a_distributed_attack_gains_nothing_and_the_owner_still_signs_in(idp: ProviderHarness) -> None:
    # The owner started a sign-in before the attack; the code in that mail has six digits.
    owner = idp.new_browser(OWNER)
    csrf, request_id = _email_page(idp, owner)
    assert (
        owner.post("/signin", data={"csrf": csrf, "request": request_id, "email": VICTIM}).status_code == 303
    )
    early_code = code_in(idp.wait_for_mail(VICTIM))
    assert len(early_code) == 6
    sources = [f"203.0.113.{n}" for n in range(1, 31)]
    for source in sources:
        for _ in range(2):
            idp.clock.advance(5)
            assert _attack(idp, source) == [303, 400, 400, 400, 400, 400]
    # 300 wrong codes from 30 addresses: the account's 20 six-digit failures are spent, so even
    # the right six-digit code is no longer compared...
    stale = owner.post("/signin/code", data={"csrf": csrf, "request": request_id, "code": early_code})
    assert stale.status_code == 400
    # ...while a fresh code for the owner has twelve digits, and signs in.
    idp.clock.advance(5)
    assert len(_owner_signs_in(idp)) == 12
