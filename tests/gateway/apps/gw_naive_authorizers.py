"""Authorizers written the way many tutorials write them, to show what API Gateway's cache does.

The caller ``reader`` may GET but not DELETE; any other token is rejected with Unauthorized.
"""

from __future__ import annotations

from typing import Any


def _decision(event: dict[str, Any], method: str) -> str:
    token = event.get("authorizationToken") or event.get("headers", {}).get("authorization", "")
    if token != "Bearer reader":
        raise Exception("Unauthorized")  # API Gateway's 401
    return "Allow" if method == "GET" else "Deny"


def _policy(effect: str, resource: str) -> dict[str, Any]:
    return {
        "principalId": "reader",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": {"scope": "read", "admin": False, "level": 1},
    }


def exact_arn(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """LAM-01 (a): the policy covers only the methodArn of the first call."""
    method = event["methodArn"].split("/")[2]
    return _policy(_decision(event, method), event["methodArn"])


def wildcard(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """LAM-01 (b), the common "fix": an Allow for ``{api}/*/*`` (the vulnerability)."""
    method = event["methodArn"].split("/")[2]
    effect = _decision(event, method)
    api = event["methodArn"].split("/", 1)[0]
    return _policy(effect, f"{api}/*/*" if effect == "Allow" else event["methodArn"])


def simple(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """LAM-04: an HTTP API simple response decided on the route."""
    method = event["routeKey"].split(" ", 1)[0]
    return {"isAuthorized": _decision(event, method) == "Allow", "context": {"who": "reader"}}


def nested_context(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """LAM-07: a nested context value, which API Gateway refuses (500)."""
    answer = _policy("Allow", event["methodArn"])
    answer["context"] = {"groups": ["a", "b"]}
    return answer


def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A REQUEST authorizer that allows everything and reports what it was given."""
    return {
        "principalId": "anyone",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": {"type": event["type"], "tenant": (event.get("headers") or {}).get("X-Tenant", "")},
    }


def bad_policy(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A policy API Gateway cannot evaluate: it answers 500, never an Allow."""
    answer = _policy("Allow", event["methodArn"])
    answer["policyDocument"]["Statement"][0]["Effect"] = "Maybe"
    return answer


def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An authorizer that fails with an unexpected error."""
    raise KeyError("boom")


def echo_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Allow everything and hand the authorizer's own input to the handler (as a JSON string)."""
    import json

    if event.get("version") == "2.0":
        return {"isAuthorized": True, "context": {"event": json.dumps(event)}}
    answer = _policy("Allow", event["methodArn"])
    answer["context"] = {"event": json.dumps(event)}
    return answer
