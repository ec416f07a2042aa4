"""What ``tessera dev`` prints on start: where everything is, and how to sign in."""

from __future__ import annotations

from collections.abc import Sequence

from ..issue.dev.provider import DEV_SERVICE_SECRET_ENV, SHOWN_USERS, DevSetup

__all__ = ["dev_banner"]


def dev_banner(issuer: str, data: str, setup: DevSetup, workers: int, details: Sequence[str] = ()) -> str:
    """The banner's lines for a provider at ``issuer`` on the data directory ``data``.

    ``details`` are lines about the configuration file, shown after the data directory.
    """
    lines = [
        f"Tessera dev provider: {issuer}",
        f"  start page  {issuer}/  (sign in, see your tokens)",
        f"  discovery   {issuer}/.well-known/openid-configuration",
        "  clients     dev-spa (public, PKCE, http://127.0.0.1:*/callback), dev-service (client_credentials)",
        "              dev-partner (as dev-spa, but third-party: asks for consent)",
        f"  demo API    {issuer}/demo/hello (scope demo:read), {issuer}/demo/admin (role admin)",
        f"  dev outbox  {issuer}/dev/outbox.html (sign-in codes are also printed here)",
        f"  data        {data}",
        *details,
    ]
    if workers > 1:
        lines.append(f"  workers     {workers} processes")
    users = setup.user_emails
    if users:
        more = " and others (tessera users list)" if len(users) > SHOWN_USERS else ""
        lines.append("  sign in as  " + ", ".join(users[:SHOWN_USERS]) + more)
    lines.append("  user token  tessera login --issuer " + issuer + " --client dev-spa --scope demo:read")
    if setup.new_service_secret:
        lines += [
            "  dev-service secret, shown once; paste this line to keep it in your shell:",
            f"export {DEV_SERVICE_SECRET_ENV}={setup.new_service_secret}",
        ]
    else:
        lines.append(
            f"  dev-service secret: set earlier (from ${DEV_SERVICE_SECRET_ENV}, or"
            f" `tessera clients reset-secret dev-service --data {data}` for a new one)"
        )
    return "\n".join(lines)
