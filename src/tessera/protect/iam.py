"""``execute-api`` ARNs and IAM policy documents, as API Gateway reads them from an authorizer.

:func:`policy_allows` evaluates a policy the way API Gateway does (an explicit Deny wins, then
any Allow, otherwise deny; ``*`` in a resource matches any run of characters, ``/`` included,
``?`` one character). The local gateway uses it to honour cached authorizer policies, and the
tests use it to show which routes a cached policy opens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_ARN_BYTES",
    "POLICY_VERSION",
    "ApiArn",
    "parse_execute_api_arn",
    "policy_allows",
    "policy_document",
    "resource_matches",
]

MAX_ARN_BYTES = 1600
INVOKE = "execute-api:Invoke"
POLICY_VERSION = "2012-10-17"
_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):execute-api:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([a-z0-9]{1,64})"
    r"/(\$default|[A-Za-z0-9_-]{1,128})/([A-Z]{3,7})/([!-~]*)"
)
_UNSAFE_PATH = re.compile(r"[*?]")


@dataclass(frozen=True, slots=True)
class ApiArn:
    """A parsed ``methodArn``/``routeArn``: the API and stage it names, and the method and path."""

    partition: str
    region: str
    account: str
    api_id: str
    stage: str
    method: str
    path: str

    @property
    def stage_prefix(self) -> str:
        """``arn:...:{api_id}/{stage}``: every generated resource starts with it."""
        return f"arn:{self.partition}:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}"

    @property
    def arn(self) -> str:
        """The ARN itself."""
        return f"{self.stage_prefix}/{self.method}/{self.path.lstrip('/')}"


def parse_execute_api_arn(value: Any) -> ApiArn:
    """Parse an ``execute-api`` method ARN strictly; raise ValueError on anything unexpected."""
    if not isinstance(value, str) or len(value.encode("utf-8", "replace")) > MAX_ARN_BYTES:
        raise ValueError("not an execute-api ARN")
    match = _ARN.fullmatch(value)
    if match is None or _UNSAFE_PATH.search(match.group(7)):
        raise ValueError("not an execute-api ARN")
    partition, region, account, api_id, stage, method, path = match.groups()
    return ApiArn(partition, region, account, api_id, stage, method, "/" + path)


def policy_document(allow: Iterable[str], deny: Iterable[str]) -> dict[str, Any]:
    """An IAM policy document with one Allow and one Deny statement (each only when non-empty)."""
    statements = []
    for effect, resources in (("Allow", sorted(set(allow))), ("Deny", sorted(set(deny)))):
        if resources:
            statements.append({"Action": INVOKE, "Effect": effect, "Resource": resources})
    return {"Version": POLICY_VERSION, "Statement": statements}


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        ".*".join(".".join(re.escape(p) for p in part.split("?")) for part in pattern.split("*"))
    )


def resource_matches(pattern: str, arn: str) -> bool:
    """Whether ``arn`` matches the IAM resource ``pattern``: ``*`` spans any run of characters,
    ``/`` included, and ``?`` one character."""
    return _glob(pattern).fullmatch(arn) is not None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers(statement: Mapping[str, Any], arn: str) -> bool:
    actions = [a for a in _listed(statement.get("Action")) if isinstance(a, str)]
    if not any(a in (INVOKE, "execute-api:*", "*") for a in actions):
        return False
    resources = [r for r in _listed(statement.get("Resource")) if isinstance(r, str)]
    return any(resource_matches(r, arn) for r in resources)


def policy_allows(document: Any, arn: str) -> bool:
    """True when the IAM policy ``document`` lets the caller invoke ``arn``."""
    if not isinstance(document, Mapping) or not isinstance(document.get("Statement"), list):
        return False
    statements = [s for s in document["Statement"] if isinstance(s, Mapping)]
    if any(s.get("Effect") == "Deny" and _covers(s, arn) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and _covers(s, arn) for s in statements)
