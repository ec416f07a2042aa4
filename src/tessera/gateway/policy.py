"""Evaluating an authorizer's IAM policy against a ``methodArn``, as API Gateway does.

An explicit ``Deny`` that matches wins; otherwise a matching ``Allow`` allows; otherwise the
call is denied implicitly. ``*`` in a resource matches any run of characters (``/`` included)
and ``?`` exactly one, as in IAM.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from typing import Any

__all__ = ["Decision", "PolicyError", "evaluate_policy"]

_INVOKE_ACTIONS = frozenset({"*", "execute-api:*", "execute-api:invoke"})


class Decision(Enum):
    """The outcome of evaluating a policy for one call."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


class PolicyError(ValueError):
    """The policy document is not one API Gateway accepts (it answers 500 for it)."""


@lru_cache(maxsize=4096)
def _pattern(resource: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in resource))


def _strings(value: Any, what: str) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise PolicyError(f"{what} must be a string or a non-empty list of strings")
    return values


def _statements(policy: Any) -> list[Mapping[str, Any]]:
    if not isinstance(policy, Mapping):
        raise PolicyError("policyDocument must be an object")
    statements = policy.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise PolicyError("policyDocument.Statement must be a list of objects")
    return statements


def evaluate_policy(policy: Any, arn: str) -> Decision:
    """Decide whether ``policy`` lets the caller invoke ``arn``; raises PolicyError if malformed."""
    allowed = False
    for statement in _statements(policy):
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError("Effect must be Allow or Deny")
        actions = {a.lower() for a in _strings(statement.get("Action"), "Action")}
        resources = _strings(statement.get("Resource"), "Resource")
        if not actions & _INVOKE_ACTIONS:
            continue
        if any(_pattern(r).fullmatch(arn) for r in resources):
            if effect == "Deny":
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
