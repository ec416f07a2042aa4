"""The sign-in benchmark's ledger: was any sign-in's artefact lost, or spent twice?

After a sign-in cell, :func:`replay_signins` presents each sign-in's artefacts to the provider
again: the refresh token must still redeem (nothing lost), the email code and the authorization
code must be refused as invalid (nothing double-spent). :func:`signin_problems` reads those
outcomes and the cell's counts (sign-ins started, mails sent, sign-ins finished).
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["REDIRECT_URI", "replay_signins", "signin_problems"]

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def replay_signins(issuer: str, records: list[dict[str, str]]) -> list[dict[str, str]]:
    """For each sign-in: its refresh token redeemed, then its email code and authorization code replayed.

    Each outcome is ``redeemed`` (a 200 with a new token), ``refused`` (refused as an invalid
    code or grant), ``accepted`` (a replay that worked) or ``other HTTP n`` (refused for some
    other reason, which tests nothing).
    """
    outcomes = []
    with httpx.Client(base_url=issuer, timeout=30) as client:
        for record in records:
            refresh = client.post(
                "/token",
                data={
                    "grant_type": "refresh_token",
                    "client_id": "dev-spa",
                    "refresh_token": record["refresh_token"],
                },
            )
            code = client.post(
                "/signin/code",
                data={"csrf": record["csrf"], "request": record["request"], "code": record["code"]},
                headers={"Cookie": record["cookie"]},
            )
            authorization = client.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": record["authorization_code"],
                    "redirect_uri": REDIRECT_URI,
                    "client_id": "dev-spa",
                    "code_verifier": record["code_verifier"],
                },
            )
            outcomes.append(
                {
                    "refresh": _outcome(refresh, 200, "refresh_token"),
                    "code": _outcome(code, 400, "code is not valid", accepted=303),
                    "authorization_code": _outcome(authorization, 400, "invalid_grant"),
                }
            )
    return outcomes


def _outcome(response: httpx.Response, status: int, marker: str, *, accepted: int = 200) -> str:
    if response.status_code == status and marker in response.text:
        return "redeemed" if status == 200 else "refused"
    if response.status_code == accepted:
        return "accepted"
    return f"other HTTP {response.status_code}"


def signin_problems(result: dict[str, Any], replays: list[dict[str, str]]) -> list[str]:
    """What was lost or double-spent in a sign-in cell's ``result``, given its ``replays``.

    Counts must match (sign-ins started = mails sent = sign-ins finished, with no errors); each
    mail, authorization code and refresh token belongs to one sign-in; each refresh token
    redeems (nothing lost); each email code and authorization code is refused when replayed,
    as an invalid code, not for another reason (nothing double-spent).
    """
    records = result["records"]
    problems = []
    if result["errors"]:
        problems.append(f"{result['errors']} sign-ins failed: {result['error_samples'][:1]}")
    if result["started"] != len(records) + result["errors"]:
        problems.append(f"{result['started']} sign-ins started, {len(records)} finished")
    if result["mails"] != result["started"]:
        problems.append(f"{result['started']} sign-ins started but {result['mails']} mails were sent")
    for name in ("mail_id", "authorization_code", "refresh_token"):  # not the six-digit code: it may recur
        seen = [record[name] for record in records]
        if len(set(seen)) != len(seen):
            problems.append(f"{len(seen) - len(set(seen))} {name.replace('_', ' ')}s served two sign-ins")
    if len(replays) != len(records):
        problems.append(f"{len(records)} sign-ins but {len(replays)} replays")
    expected = {"refresh": "redeemed", "code": "refused", "authorization_code": "refused"}
    for name, outcome in expected.items():
        wrong = [replay[name] for replay in replays if replay[name] != outcome]
        if wrong:
            what = "refresh tokens not redeemed" if name == "refresh" else f"{name} replays not refused"
            problems.append(f"{len(wrong)} {what}: {sorted(set(wrong))}")
    return problems
