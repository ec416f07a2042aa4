"""IAM policy evaluation as API Gateway applies an authorizer's policy to a methodArn."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.gateway.policy import Decision, PolicyError, evaluate_policy

API = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod"


def _policy(*statements: tuple[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": e, "Resource": r} for e, r in statements],
    }


def test_exact_resource_allows_only_that_call() -> None:
    policy = _policy(("Allow", f"{API}/GET/items"))
    assert evaluate_policy(policy, f"{API}/GET/items") is Decision.ALLOW
    assert evaluate_policy(policy, f"{API}/GET/items/1") is Decision.IMPLICIT_DENY
    assert evaluate_policy(policy, f"{API}/DELETE/items") is Decision.IMPLICIT_DENY


def test_star_spans_slashes_and_question_mark_is_one_character() -> None:
    policy = _policy(("Allow", [f"{API}/GET/items/*", f"{API}/GET/v?/status"]))
    assert evaluate_policy(policy, f"{API}/GET/items/1/admin") is Decision.ALLOW
    assert evaluate_policy(policy, f"{API}/GET/v1/status") is Decision.ALLOW
    assert evaluate_policy(policy, f"{API}/GET/v10/status") is Decision.IMPLICIT_DENY
    other_stage = API.replace("/prod", "/dev")
    assert evaluate_policy(policy, f"{other_stage}/GET/items/1") is Decision.IMPLICIT_DENY


def test_explicit_deny_wins_over_allow() -> None:
    policy = _policy(("Allow", f"{API}/GET/items/*"), ("Deny", f"{API}/GET/items/*/*"))
    assert evaluate_policy(policy, f"{API}/GET/items/1") is Decision.ALLOW
    assert evaluate_policy(policy, f"{API}/GET/items/1/admin") is Decision.EXPLICIT_DENY


def test_single_statement_object_and_other_actions() -> None:
    single = {"Statement": {"Action": "execute-api:*", "Effect": "Allow", "Resource": f"{API}/*"}}
    assert evaluate_policy(single, f"{API}/GET/x") is Decision.ALLOW
    unrelated = {"Statement": [{"Action": "s3:GetObject", "Effect": "Allow", "Resource": "*"}]}
    assert evaluate_policy(unrelated, f"{API}/GET/x") is Decision.IMPLICIT_DENY


def test_regex_characters_in_resources_are_literal() -> None:
    policy = _policy(("Allow", f"{API}/GET/a.b"))
    assert evaluate_policy(policy, f"{API}/GET/a.b") is Decision.ALLOW
    assert evaluate_policy(policy, f"{API}/GET/aXb") is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    "policy",
    [
        None,
        {"Statement": "Allow"},
        {"Statement": [{"Action": "execute-api:Invoke", "Effect": "Maybe", "Resource": "*"}]},
        {"Statement": [{"Action": [], "Effect": "Allow", "Resource": "*"}]},
        {"Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": 5}]},
    ],
)
def test_malformed_policies_are_errors_not_allows(policy: Any) -> None:
    with pytest.raises(PolicyError):
        evaluate_policy(policy, f"{API}/GET/x")
