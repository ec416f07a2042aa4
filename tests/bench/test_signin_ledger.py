"""The sign-in benchmark's lost/double-spent check: it passes a clean run and catches planted faults."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .modules import bench_module

ledger = bench_module("signin_ledger")

CLEAN_REPLAY = {"refresh": "redeemed", "code": "refused", "authorization_code": "refused"}


def _record(number: int) -> dict[str, str]:
    return {
        "email": f"user{number:07d}@bench.example",
        "mail_id": str(100 + number),
        "code": "123456",
        "authorization_code": f"ac-{number}",
        "refresh_token": f"rt-{number}",
    }


def _clean(count: int = 3) -> tuple[dict[str, Any], list[dict[str, str]]]:
    records = [_record(number) for number in range(count)]
    result = {"records": records, "started": count, "mails": count, "errors": 0, "error_samples": []}
    return result, [dict(CLEAN_REPLAY) for _ in records]


def test_a_clean_run_has_no_problems() -> None:
    result, replays = _clean()
    assert ledger.signin_problems(result, replays) == []


def test_the_same_six_digit_code_in_two_sign_ins_is_not_a_problem() -> None:
    result, replays = _clean()
    assert len({record["code"] for record in result["records"]}) == 1
    assert ledger.signin_problems(result, replays) == []


@pytest.mark.parametrize("artefact", ["authorization_code", "refresh_token", "mail_id"])
def test_an_artefact_serving_two_sign_ins_is_caught(artefact: str) -> None:
    result, replays = _clean()
    result["records"][2][artefact] = result["records"][0][artefact]
    problems = ledger.signin_problems(result, replays)
    assert problems == [f"1 {artefact.replace('_', ' ')}s served two sign-ins"]


@pytest.mark.parametrize("artefact", ["code", "authorization_code"])
def test_a_replay_that_worked_is_caught(artefact: str) -> None:
    result, replays = _clean()
    replays[1][artefact] = "accepted"
    assert ledger.signin_problems(result, replays) == [f"1 {artefact} replays not refused: ['accepted']"]


def test_a_replay_refused_for_another_reason_tests_nothing_and_is_reported() -> None:
    result, replays = _clean()
    replays[0]["code"] = "other HTTP 403"
    assert ledger.signin_problems(result, replays) == ["1 code replays not refused: ['other HTTP 403']"]


def test_a_lost_refresh_token_is_caught() -> None:
    result, replays = _clean()
    replays[2]["refresh"] = "other HTTP 400"
    assert ledger.signin_problems(result, replays) == ["1 refresh tokens not redeemed: ['other HTTP 400']"]


@pytest.mark.parametrize(("mails", "why"), [(2, "lost"), (4, "sent twice")])
def test_a_mail_count_off_by_one_is_caught(mails: int, why: str) -> None:
    result, replays = _clean()
    result["mails"] = mails
    assert ledger.signin_problems(result, replays) == [f"3 sign-ins started but {mails} mails were sent"], why


def test_an_unfinished_sign_in_and_a_missing_replay_are_caught() -> None:
    result, replays = _clean()
    unfinished = copy.deepcopy(result)
    unfinished["started"] = 4
    assert "4 sign-ins started, 3 finished" in ledger.signin_problems(unfinished, replays)
    assert "3 sign-ins but 2 replays" in ledger.signin_problems(result, replays[:2])
