"""``tessera login``: a user token from the authorization code flow with PKCE, as a native app.

RFC 8252: the redirect is a loopback ``http://127.0.0.1:PORT/callback`` on a free port; the
system browser (when there is one) shows the provider's sign-in page. The answer's ``state``
must be ours and its ``iss`` the issuer's (RFC 9207, mix-up defence) before the code is redeemed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

__all__ = ["LoginError", "check_callback", "discover", "open_browser", "register"]


class LoginError(Exception):
    """The login could not complete; the message is shown as one line."""


def register(commands: Any) -> None:
    """Add the ``login`` command."""
    login = commands.add_parser("login", help="sign in through the browser and print the tokens (PKCE)")
    login.add_argument("--issuer", required=True, help="the provider's issuer URL")
    login.add_argument("--client", required=True, metavar="ID", help="a public client (e.g. dev-spa)")
    login.add_argument(
        "--scope", action="append", default=[], metavar="S", help="a scope (repeatable; default openid)"
    )
    login.add_argument("--resource", metavar="AUD", help="the API the access token is for (RFC 8707)")
    login.add_argument("--json", action="store_true", help="print the whole token response as JSON")
    login.add_argument("--no-browser", action="store_true", help="only print the URL to open")
    login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser")
    login.set_defaults(handler=run_login)


def _get_json(url: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    body = urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) checked
            document = json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            error = json.load(exc)
        except ValueError:
            error = {}
        detail = error.get("error_description") or error.get("error") or f"HTTP {exc.code}"
        raise LoginError(f"{url} refused the request: {detail}") from None
    except (OSError, ValueError) as exc:
        raise LoginError(f"cannot read {url}: {getattr(exc, 'reason', exc)}") from None
    if not isinstance(document, dict):
        raise LoginError(f"{url} did not answer with a JSON object")
    return document


def discover(issuer: str) -> dict[str, Any]:
    """The provider's metadata; its ``issuer`` must be exactly ``issuer``."""
    if not issuer.startswith(("https://", "http://")):
        raise LoginError(f"--issuer must be an http(s) URL, not {issuer!r}")
    metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise LoginError(f"the provider's issuer is {metadata.get('issuer')!r}, not {issuer!r}")
    return metadata


def check_callback(params: dict[str, str], *, state: str, issuer: str, iss_required: bool) -> str:
    """The authorization code in the callback ``params``; LoginError for a forged or failed answer."""
    if not hmac.compare_digest(params.get("state", "").encode(), state.encode()):
        raise LoginError("the callback's state is not the one this login sent; nothing was redeemed")
    iss = params.get("iss")
    if (iss is not None or iss_required) and iss != issuer:
        raise LoginError(f"the callback came from issuer {iss!r}, not {issuer!r}; nothing was redeemed")
    if "error" in params:
        detail = params.get("error_description") or params["error"]
        raise LoginError(f"the provider refused the sign-in: {detail}")
    code = params.get("code")
    if not code:
        raise LoginError("the callback carried no code")
    return code


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def open_browser(url: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Open ``url`` in the system browser; False when there is none to open.

    On Linux without a display (and no ``BROWSER`` chosen), :mod:`webbrowser` would fall back
    to a console browser in this very terminal, which blocks until it exits: print instead.
    """
    import webbrowser

    graphical = any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))
    if sys.platform.startswith("linux") and not graphical:
        return False
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def login(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole flow; the token response."""
    from .loopback import LoopbackReceiver

    metadata = discover(args.issuer)
    state = secrets.token_urlsafe(32)
    verifier, challenge = _pkce()
    receiver = LoopbackReceiver()
    try:
        query = {
            "response_type": "code",
            "client_id": args.client,
            "redirect_uri": receiver.redirect_uri,
            "scope": " ".join(args.scope) or "openid",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if args.resource:
            query["resource"] = args.resource
        url = f"{metadata['authorization_endpoint']}?{urlencode(query)}"
        opened = not args.no_browser and open_browser(url)
        print(
            f"{'Opened your browser at' if opened else 'Open this URL in a browser'}:\n  {url}\n"
            f"Waiting for the sign-in (up to {args.timeout:.0f} s) ...",
            file=sys.stderr,
            flush=True,
        )
        params = receiver.wait(args.timeout)
    finally:
        receiver.close()
    if params is None:
        raise LoginError(f"no sign-in came back within {args.timeout:.0f} s")
    code = check_callback(
        params,
        state=state,
        issuer=args.issuer,
        iss_required=bool(metadata.get("authorization_response_iss_parameter_supported")),
    )
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": receiver.redirect_uri,
        "client_id": args.client,
        "code_verifier": verifier,
    }
    if args.resource:
        form["resource"] = args.resource
    return _get_json(str(metadata["token_endpoint"]), form)


def run_login(args: argparse.Namespace) -> int:
    """``tessera login``: print the tokens, or one line and exit 2."""
    if args.timeout <= 0:
        print("error: --timeout must be positive", file=sys.stderr)
        return 2
    try:
        tokens = login(args)
    except LoginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(tokens, indent=2))
        return 0
    for name in ("access_token", "id_token", "refresh_token"):
        if name in tokens:
            print(f"{name}: {tokens[name]}")
    print(f"expires_in: {tokens.get('expires_in')}  scope: {tokens.get('scope', '')}")
    return 0
