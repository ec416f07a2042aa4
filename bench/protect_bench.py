#!/usr/bin/env python3
"""Per-invocation cost of protecting a Lambda: tessera's authorizer and ``authorize`` vs the floor.

Every case verifies the same RS256 (RSA-2048) access token, warm (keys loaded, modules
imported), and is reported in µs per invocation and as a ratio to the bare signature check:

* bare signature: one ``cryptography`` RSA PKCS#1 v1.5 verify of pre-decoded bytes (the floor);
* the JWT floor (decode, one signature check, exp/iss/aud) and the authorizer floor: the JWT
  floor plus a scope check and an Allow policy, the least any Python TOKEN authorizer does
  (it skips the header checks, so it is a lower bound, not a safe verifier);
* tessera ``Verifier.verify``, with the verified-token cache off and on;
* tessera's Lambda authorizer on an API Gateway TOKEN event (policy document included), and
  ``tessera.protect.aws_lambda.authorize`` on an HTTP API v2 event, each uncached and cached;
* a plain PyJWT authorizer written the way common tutorials write it: fetch the JWKS (served by
  ``LocalHTTPServer`` on 127.0.0.1) and decode on every call; and the same with PyJWT's own
  ``PyJWKClient`` caching the keys.

Targets (issue 3): the whole authorizer invocation under 1.5x the bare signature check, and the
cached invocation under 10 µs; (issue 10) the Lambda authorizer uncached under 1.4x the
authorizer floor, and cached under 5 µs. Cases are timed in interleaved rounds (median of rounds), so
drift hits them alike. Runs under ``bench/run.py`` (``run(args)``) or alone:
``python bench/protect_bench.py [--quick]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ISSUER_PATH = ""
AUDIENCE = "orders-api"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/orders/42"
AUTHORIZER_TARGET_RATIO = 1.5
CACHED_TARGET_US = 10.0
# Issue 10 (item 5): the Lambda authorizer uncached within 1.4x the authorizer floor, cached under 5 µs.
FLOOR_TARGET_RATIO = 1.4
AUTHORIZER_CACHED_TARGET_US = 5.0
JWT_FLOOR = "JWT floor: base64url + json.loads + RSA verify + exp/iss/aud (issue 2's floor)"
MINIMAL_AUTHORIZER = "authorizer floor: the JWT floor + a scope check + an Allow policy (not a safe verifier)"
# The 10 µs target read on a slower machine, as issue 2's cold-start target is: the reference
# machine of peer-benchmarks.md ran this floor (RS256) in 22.2 µs.
REFERENCE_JWT_FLOOR_US = 22.2


@dataclass
class Case:
    """One measured thing: a label, a zero-argument call, and the group it is compared in."""

    name: str
    call: Callable[[], Any]
    kind: str


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _v2_event(token: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "GET /orders/{id}",
        "rawPath": "/orders/42",
        "rawQueryString": "",
        "headers": {"authorization": f"Bearer {token}", "host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "pathParameters": {"id": "42"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": "GET",
                "path": "/orders/42",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": "bench",
            "routeKey": "GET /orders/{id}",
            "stage": "$default",
            "time": "25/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }


def _tutorial_authorizer(jwks_url: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The shape of the common tutorial: fetch the JWKS, pick the key by kid, decode, build a policy."""
    import jwt

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        token = event["authorizationToken"].split(" ", 1)[1]
        with urllib.request.urlopen(jwks_url, timeout=5) as response:  # noqa: S310 - 127.0.0.1 only
            jwks = json.loads(response.read())
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE)
        return _allow(claims["sub"], event["methodArn"])

    return handler


def _allow(principal_id: str, method_arn: str) -> dict[str, Any]:
    """The Allow policy the tutorial authorizers return."""
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}],
        },
    }


def _pyjwk_client_authorizer(jwks_url: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The same authorizer with PyJWT's PyJWKClient caching the keys at module scope."""
    import jwt

    client = jwt.PyJWKClient(jwks_url)

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        token = event["authorizationToken"].split(" ", 1)[1]
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE)
        return _allow(claims["sub"], event["methodArn"])

    return handler


def build_cases(issuer: Any, token: str | None = None) -> tuple[list[Case], list[str]]:
    """Every case on one token (default: a genuine one); also notes on cases that could not be built."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from tessera.verify import Verifier

    token = token or issuer.mint(aud=AUDIENCE, scope="orders:read")
    header, payload, signature = token.split(".")
    signing_input, raw_signature = f"{header}.{payload}".encode(), _b64(signature)
    public_key = issuer.key.public_key
    jwks = issuer.jwks()

    pad, sha256 = padding.PKCS1v15(), hashes.SHA256()

    def bare() -> None:
        public_key.verify(raw_signature, signing_input, pad, sha256)

    def jwt_floor(jwt: str = token) -> dict[str, Any]:  # issue 2's floor: decode, one check, 3 compares
        head_and_payload, _, sig = jwt.rpartition(".")
        public_key.verify(_b64(sig), head_and_payload.encode(), pad, sha256)
        claims: dict[str, Any] = json.loads(_b64(head_and_payload.partition(".")[2]))
        if claims["exp"] <= time.time() or claims["iss"] != issuer.issuer or claims["aud"] != AUDIENCE:
            raise ValueError("claims rejected")
        return claims

    def authorizer_floor(event: dict[str, Any]) -> dict[str, Any]:
        claims = jwt_floor(event["authorizationToken"][7:])
        if "orders:read" not in claims["scope"].split():
            raise ValueError("Unauthorized")
        return _allow(claims["sub"], event["methodArn"])

    def verifier(cache_size: int) -> Verifier:
        return Verifier(
            issuer=issuer.issuer, audience=AUDIENCE, token_type="at+jwt", jwks=jwks, cache_size=cache_size
        )

    uncached, cached = verifier(0), verifier(1024)
    token_event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": METHOD_ARN}
    cases = [
        Case("bare RSA signature verify (floor)", bare, "floor"),
        Case(JWT_FLOOR, jwt_floor, "jwt-floor"),
        Case(MINIMAL_AUTHORIZER, lambda: authorizer_floor(token_event), "authorizer-floor"),
        Case("tessera Verifier.verify, token cache off", lambda: uncached.verify(token), "verify"),
        Case("tessera Verifier.verify, token cache on", lambda: cached.verify(token), "verify-cached"),
    ]
    notes: list[str] = []
    cases.extend(_protect_cases(verifier, token, token_event, notes))
    tutorial = _tutorial_authorizer(issuer.jwks_uri)
    pyjwk = _pyjwk_client_authorizer(issuer.jwks_uri)
    cases.append(
        Case(
            "PyJWT tutorial authorizer (fetch JWKS + decode per call)", lambda: tutorial(token_event), "peer"
        )
    )
    cases.append(Case("PyJWT authorizer with PyJWKClient key cache", lambda: pyjwk(token_event), "peer"))
    return cases, notes


def _protect_cases(
    verifier: Callable[[int], Any], token: str, token_event: dict[str, Any], notes: list[str]
) -> list[Case]:
    try:
        from tessera.protect import aws_lambda
    except ImportError:
        notes.append("tessera.protect is not available: authorizer and authorize rows skipped")
        return []
    cases: list[Case] = []
    v2_event = _v2_event(token)
    for label, cache_size in (("uncached", 0), ("cached token", 1024)):

        @aws_lambda.authorize(verifier(cache_size), scopes=["orders:read"])
        def handler(event: Any, context: Any, principal: Any) -> dict[str, Any]:
            return {"statusCode": 200, "body": principal.principal_id}

        protected = handler
        cases.append(
            Case(
                f"tessera authorize on an HTTP API v2 event, {label}",
                lambda p=protected: p(v2_event, None),
                "authorize-" + label,
            )
        )
    cases.extend(_authorizer_cases(verifier, token_event, notes))
    return cases


def _authorizer_cases(
    verifier: Callable[[int], Any], token_event: dict[str, Any], notes: list[str]
) -> list[Case]:
    try:
        from tessera.protect.authorizer import LambdaAuthorizer
        from tessera.protect.routes import parse_routes
    except ImportError:
        notes.append("tessera.protect.authorizer is not available: authorizer rows skipped")
        return []
    rules = parse_routes(
        {
            "routes": [
                {"method": "GET", "path": "/orders", "scopes": ["orders:read"]},
                {"method": "GET", "path": "/orders/{id}", "scopes": ["orders:read"]},
                {"method": "POST", "path": "/orders", "scopes": ["orders:write"]},
                {"method": "DELETE", "path": "/orders/{id}", "scopes": ["orders:write"]},
            ]
        }
    )
    cases = []
    for label, cache_size in (("uncached", 0), ("cached token", 1024)):
        authorizer = LambdaAuthorizer(
            verifier(cache_size),
            rules,
            cache_ttl_seconds=300,
            identity_sources=["method.request.header.Authorization"],
        )
        cases.append(
            Case(
                f"tessera Lambda authorizer, TOKEN event (4 routes), {label}",
                lambda a=authorizer: a(token_event, None),
                "authorizer-" + label,
            )
        )
    return cases


def _accepted_forgeries(issuer: Any) -> list[str]:
    """Names of cases that accept a token with a tampered payload (each must refuse it)."""
    genuine = issuer.mint(aud=AUDIENCE, scope="orders:read")
    header, payload, signature = genuine.split(".")
    claims = json.loads(_b64(payload))
    claims["scope"] = "orders:read orders:write admin"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    cases, _ = build_cases(issuer, f"{header}.{forged_payload}.{signature}")
    problems = []
    for case in cases[2:]:  # the first two floors verify the genuine token's signature
        try:
            result = case.call()
        except Exception:  # noqa: S112 - a refusal is what we want
            continue
        if not (isinstance(result, dict) and result.get("statusCode") == 401):
            problems.append(f"{case.name} accepted a forged token")
    return problems


def _measure(cases: list[Case], rounds: int, target_seconds: float) -> dict[str, float]:
    loops: dict[str, int] = {}
    for case in cases:  # warm up and size each loop to about target_seconds
        case.call()
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < target_seconds / 4:
            case.call()
            count += 1
        loops[case.name] = max(1, count * 4)
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            call, n = case.call, loops[case.name]
            started = time.perf_counter_ns()
            for _ in range(n):
                call()
            samples[case.name].append((time.perf_counter_ns() - started) / n / 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """Measure every case and return a markdown report and the raw numbers."""
    from tessera.testing import LocalIssuer

    quick = bool(getattr(args, "quick", False))
    rounds, target = (3, 0.05) if quick else (31, 0.1)
    with LocalIssuer() as issuer:
        cases, notes = build_cases(issuer)
        for case in cases:
            case.call()  # every case must succeed on the genuine token before it is timed
        problems = _accepted_forgeries(issuer)
        results = _measure(cases, rounds, target)
    floor, jwt_floor = results[cases[0].name], results[JWT_FLOOR]
    lines = [
        "## Protecting a Lambda: per-invocation overhead (RS256, warm)",
        "",
        f"Python {platform.python_version()} on {platform.machine()}; median of {rounds} interleaved rounds.",
        "",
        "| case | µs / call | x bare signature | x JWT floor |",
        "|---|---:|---:|---:|",
    ]
    for case in cases:
        us = results[case.name]
        lines.append(f"| {case.name} | {us:.2f} | {us / floor:.2f} | {us / jwt_floor:.2f} |")
    lines += ["", *_verdicts(cases, results, floor, jwt_floor), *(f"- note: {n}" for n in notes)]
    lines += [f"- PROBLEM: {p}" for p in problems]
    data = {
        "results_us": results,
        "floor_us": floor,
        "jwt_floor_us": jwt_floor,
        "notes": notes,
        "rounds": rounds,
        "problems": problems,
    }
    return "\n".join(lines), data


def _verdicts(cases: list[Case], results: dict[str, float], floor: float, jwt_floor: float) -> list[str]:
    """Each target read two ways: against the signature check alone (strict), and against the
    JWT floor every verifier must pay (how issue 2's targets are read on this machine)."""
    scaled_cached_us = CACHED_TARGET_US * jwt_floor / REFERENCE_JWT_FLOOR_US
    verdicts = []
    for case in cases:
        us = results[case.name]
        if case.kind == "authorizer-floor":
            ratio = us / floor
            verdicts.append(
                f"- {case.name}: {ratio:.2f}x the bare signature check, the least any Python "
                f"authorizer costs ({_met(ratio < AUTHORIZER_TARGET_RATIO)} < {AUTHORIZER_TARGET_RATIO}x)"
            )
        elif case.kind.endswith("uncached"):
            strict, relaxed = us / floor, us / jwt_floor
            verdicts.append(
                f"- {case.name}: {strict:.2f}x the bare signature check "
                f"({_met(strict < AUTHORIZER_TARGET_RATIO)} < {AUTHORIZER_TARGET_RATIO}x), "
                f"{relaxed:.2f}x the JWT floor ({_met(relaxed < AUTHORIZER_TARGET_RATIO)})"
            )
        if case.kind == "authorizer-uncached":
            ratio = us / results[MINIMAL_AUTHORIZER]
            verdicts.append(
                f"- {case.name}: {ratio:.2f}x the authorizer floor "
                f"({_met(ratio < FLOOR_TARGET_RATIO)} < {FLOOR_TARGET_RATIO}x, issue 10)"
            )
        elif case.kind == "authorizer-cached token":
            verdicts.append(
                f"- {case.name}: {us:.2f} µs ({_met(us < AUTHORIZER_CACHED_TARGET_US)} "
                f"< {AUTHORIZER_CACHED_TARGET_US:.0f} µs, issue 10)"
            )
        if case.kind.endswith("cached token"):
            verdicts.append(
                f"- {case.name}: {us:.2f} µs ({_met(us < CACHED_TARGET_US)} < {CACHED_TARGET_US:.0f} µs; "
                f"{_met(us < scaled_cached_us)} {scaled_cached_us:.1f} µs, the target scaled by this "
                f"machine's JWT floor against the reference machine's {REFERENCE_JWT_FLOOR_US} µs)"
            )
    return verdicts


def _met(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> int:
    """Standalone entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run, not a result")
    markdown, _ = run(parser.parse_args())
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
