"""No policy the Lambda authorizer returns opens an ARN that no rule declares (issue 10, item 5).

Both sides are worked out here, independently of the code under test:

* IAM's resource matching (``*`` any run of characters, ``/`` included; ``?`` exactly one; an
  explicit Deny wins over every Allow; otherwise an Allow is needed);
* which rule declares an ARN, from the rules' text: a literal segment is itself, ``{name}`` one
  non-empty segment, ``{name+}`` one or more; the most specific rule wins (segment by segment
  literal, ``{name}``, ``{name+}``, then a named method before ``ANY``). Every rule here needs
  one scope, so whether the caller may call it is whether the caller holds that scope.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.protect import route_policy
from tessera.protect.authorizer import LambdaAuthorizer
from tessera.protect.routes import parse_routes

from .support import Api, bearer

API = Api()
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod"
OTHER_PREFIXES = (
    "arn:aws:execute-api:us-east-1:123456789012:abcdef123/dev",
    "arn:aws:execute-api:us-east-1:123456789012:other/prod",
    f"{PREFIX}x",
)
SCOPES: tuple[tuple[str, ...], ...] = ((), ("a",), ("b",), ("a", "b"))
ARN_METHOD = re.compile(r"[A-Z]{3,7}")
LITERALS = ("items", "me", "x")

Rule = tuple[str, str, str]  # method, path, the one scope it needs


def glob_matches(pattern: str, text: str) -> bool:
    """IAM resource matching: ``*`` any run of characters (``/`` too), ``?`` exactly one."""
    head = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    if not text.startswith(pattern[:head]):
        return False
    p = t = head
    star, resume = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif p < len(pattern) and pattern[p] in ("?", text[t]):
            p += 1
            t += 1
        elif star >= 0:
            p, resume = star + 1, resume + 1
            t = resume
        else:
            return False
    return pattern[p:].strip("*") == ""


def iam_allows(document: dict[str, Any], arn: str) -> bool:
    """Whether API Gateway lets the call to ``arn`` through under the policy ``document``."""

    def covers(statement: dict[str, Any]) -> bool:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        invokes = any(a.lower() in ("execute-api:invoke", "execute-api:*", "*") for a in actions)
        return invokes and any(glob_matches(r, arn) for r in resources)

    statements = document["Statement"]
    if any(s["Effect"] == "Deny" and covers(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and covers(s) for s in statements)


def _path_regex(path: str) -> re.Pattern[str]:
    parts = [] if path == "/" else path[1:].split("/")
    return re.compile(
        "/".join(
            r"[^/]+(?:/[^/]+)*" if p.endswith("+}") else r"[^/]+" if p.startswith("{") else re.escape(p)
            for p in parts
        )
    )


def _specificity(rule: Rule) -> tuple[tuple[int, ...], int]:
    parts = [] if rule[1] == "/" else rule[1][1:].split("/")
    ranks = tuple(2 if p.endswith("+}") else 1 if p.startswith("{") else 0 for p in parts)
    return ranks, rule[0] == "ANY"


def declaring_rule(rules: list[Rule], arn: str) -> Rule | None:
    """The rule API Gateway routes ``arn`` to in the stage ``PREFIX``, or None."""
    if not arn.startswith(f"{PREFIX}/"):
        return None
    method, slash, path = arn[len(PREFIX) + 1 :].partition("/")
    if not slash or not ARN_METHOD.fullmatch(method):
        return None
    matching = [r for r in rules if r[0] in (method, "ANY") and _path_regex(r[1]).fullmatch(path)]
    return min(matching, key=_specificity) if matching else None


def may_call(rules: list[Rule], scopes: tuple[str, ...], arn: str) -> bool:
    rule = declaring_rule(rules, arn)
    return rule is not None and rule[2] in scopes


# Every ARN of these methods whose path has up to three segments drawn from the rules' literals,
# another segment, or an empty one.
EVERY_SHORT_ARN = [
    f"{PREFIX}/{method}/{'/'.join(parts)}"
    for method in ("GET", "POST", "PUT")
    for depth in range(4)
    for parts in itertools.product((*LITERALS, "y", ""), repeat=depth)
]

route_paths = st.builds(
    lambda parts, greedy: "/" + "/".join(parts + (["{proxy+}"] if greedy else [])),
    st.lists(st.sampled_from((*LITERALS, "{id}")), max_size=3),
    st.booleans(),
)
rule_sets = st.lists(
    st.tuples(st.sampled_from(("GET", "POST", "DELETE", "ANY")), route_paths, st.sampled_from("ab")),
    min_size=1,
    max_size=6,
    unique_by=lambda rule: (rule[0], rule[1]),
)
segments = st.sampled_from((*LITERALS, "y", "")) | st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="*?"), max_size=3
)
paths = st.lists(segments, max_size=6).map("/".join)
method_arns = st.builds(
    lambda method, path: f"{PREFIX}/{method}/{path}",
    st.sampled_from(("GET", "POST", "DELETE", "PUT", "HEAD", "OPTIONS", "PATCH", "FOO")),
    paths,
)
arns = (
    method_arns
    | st.builds(
        lambda prefix, method, path: f"{prefix}/{method}/{path}",
        st.sampled_from(OTHER_PREFIXES),
        st.sampled_from(("GET", "get", "*", "", "GET/x")),
        paths,
    )
    | st.builds(lambda tail: f"{PREFIX}/{tail}", st.text(max_size=20))
)


def authorize(rules: list[Rule], scopes: tuple[str, ...], method_arn: str) -> dict[str, Any]:
    authorizer = LambdaAuthorizer(
        API.verifier, parse_routes({"routes": [{"method": m, "path": p, "scopes": [s]} for m, p, s in rules]})
    )
    answer = authorizer.token(
        {
            "type": "TOKEN",
            "authorizationToken": bearer(API.token(scope=" ".join(scopes))),
            "methodArn": method_arn,
        }
    )
    document: dict[str, Any] = answer["policyDocument"]
    return document


def check(rules: list[Rule], scopes: tuple[str, ...], method_arn: str, others: list[str]) -> None:
    policy = authorize(rules, scopes, method_arn)

    assert iam_allows(policy, method_arn) is may_call(rules, scopes, method_arn)  # the genuine request
    for arn in [*EVERY_SHORT_ARN, *others]:
        if iam_allows(policy, arn):
            assert may_call(rules, scopes, arn), (arn, policy)


@settings(max_examples=150, deadline=None, database=None)
@given(
    rules=rule_sets,
    scopes=st.sampled_from(SCOPES),
    method_arn=method_arns,
    others=st.lists(arns, max_size=20),
)
def test_lam01_no_policy_opens_an_arn_no_rule_gives_the_caller(
    rules: list[Rule], scopes: tuple[str, ...], method_arn: str, others: list[str]
) -> None:
    check(rules, scopes, method_arn, others)


@settings(max_examples=40, deadline=None, database=None)
@given(
    rules=rule_sets,
    scopes=st.sampled_from(SCOPES),
    method_arn=method_arns,
    others=st.lists(arns, max_size=20),
)
def test_lam01_past_the_state_bound_only_exact_arns_are_allowed(
    rules: list[Rule], scopes: tuple[str, ...], method_arn: str, others: list[str]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(route_policy, "MAX_STATES", 1)
        check(rules, scopes, method_arn, others)
        policy = authorize(rules, scopes, method_arn)
    allowed = [r for s in policy["Statement"] if s["Effect"] == "Allow" for r in s["Resource"]]
    assert all("*" not in r and "?" not in r for r in allowed)


def test_glob_matcher_follows_iam() -> None:
    assert glob_matches("a/*/c", "a/b/x/c") and glob_matches("a/*", "a/") and glob_matches("*", "")
    assert glob_matches("a/?", "a//") and glob_matches("a/?*", "a/bc")
    assert (
        not glob_matches("a/?", "a/") and not glob_matches("a/*/c", "a/b/d") and not glob_matches("a", "a/")
    )
    deny_wins = {
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["p/GET/*"]},
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "p/GET/x/*"},
        ]
    }
    assert iam_allows(deny_wins, "p/GET/y/z") and not iam_allows(deny_wins, "p/GET/x/z")
    assert not iam_allows(deny_wins, "p/POST/y")
