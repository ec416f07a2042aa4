"""Provider settings: the issuer, lifetimes and policies, checked when they are built."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from tessera.errors import ConfigurationError
from tessera.issue.look import check_logo, check_templates
from tessera.issue.offload import WORKER_THREADS
from tessera.issue.resources import OPENID_SCOPES, ApiResource

__all__ = ["LOOPBACK_HOSTS", "IPNetwork", "ProviderSettings"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ProviderSettings:
    """How the provider behaves. Every duration is in seconds.

    ``issuer`` is the exact ``iss`` and the base of every endpoint. ``cors_origins`` are the
    browser-app origins allowed to call the token, userinfo and revocation endpoints (in dev
    mode, loopback origins are allowed too). ``audience`` is the ``aud`` of
    access tokens (by default the issuer itself, which hosts userinfo and the demo API).
    ``refresh_grace_seconds`` is the refresh concurrency window: a rotated refresh token that
    comes back within it is refused without revoking its family (a second tab racing the
    first); after it, the same replay is treated as theft and the whole family is revoked.
    ``apis`` are the resource servers the provider issues access tokens for (see
    :mod:`.resources`). ``name`` is shown on the hosted pages and in sign-in mails, beside
    ``logo`` (an https URL, or an image file the provider serves); a file in the ``templates``
    folder replaces the built-in template of the same name (:mod:`.look`). With
    ``signup``, anyone with a mailbox may create an account: an unknown address gets a code, and
    its user is created on the first successful sign-in.
    ``work_in_thread`` runs each request's store calls and signatures in one worker-thread hop
    (:func:`~tessera.issue.offload.off_loop`), so no store driver blocks the event loop and one
    process signs on several cores; off, they run on the loop, which only a process serving one
    request at a time (a Lambda container) should do; ``work_threads`` is how many threads
    (:func:`~tessera.issue.offload.threads_for_store`). ``check_host`` answers only requests whose
    ``Host`` names the issuer's host (or one of ``extra_hosts``; a loopback issuer also answers
    to its loopback aliases at the same port) and refuses the rest with 400, against DNS
    rebinding; ``tessera dev`` turns it on. ``sign_in_failures_per_hour_per_address`` is how
    many wrong codes one source address may try per account per clock hour before it may no
    longer sign in to that account this hour; ``sign_in_short_code_failures_per_hour`` is how
    many wrong six-digit codes the whole world may try per account per clock hour, after which
    that account's codes have 12 digits (docs/idp.md has the model and the odds).
    ``sms_sends_per_hour_per_number`` and ``sms_sends_per_hour_per_country`` cap the sign-in
    texts sent to one number and to one destination country per clock hour (SMS pumping);
    ``sms_default_region`` (``"GB"``, say) lets people type national numbers, which otherwise
    must start with ``+`` and the country code.
    """

    issuer: str
    audience: str | None = None
    access_token_seconds: int = 900
    id_token_seconds: int = 900
    code_seconds: int = 60
    refresh_idle_seconds: int = 14 * 86400
    refresh_absolute_seconds: int = 30 * 86400
    refresh_grace_seconds: int = 10
    session_seconds: int = 12 * 3600
    pending_request_seconds: int = 600
    client_assertion_max_seconds: int = 300
    sign_in_resend_seconds: int = 30
    cors_origins: frozenset[str] = frozenset()
    client_auth_failures_per_minute: int = 50
    sign_in_requests_per_minute_per_address: int = 30
    sign_in_failures_per_hour_per_address: int = 10
    sign_in_short_code_failures_per_hour: int = 20
    purge_interval_seconds: int = 900
    token_requests_per_minute_per_address: int | None = 1000
    authorize_requests_per_minute_per_address: int | None = 300
    trusted_proxies: tuple[str, ...] = ()
    work_in_thread: bool = True
    work_threads: int = WORKER_THREADS
    check_host: bool = False
    extra_hosts: tuple[str, ...] = ()
    dev_mode: bool = False
    sms_sends_per_hour_per_number: int = 5
    sms_sends_per_hour_per_country: int = 100
    sms_default_region: str | None = None
    apis: tuple[ApiResource, ...] = ()
    name: str = "Tessera"
    logo: str | None = None
    templates: Path | None = None
    signup: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigurationError("the issuer must be an https URL with no query or fragment")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ConfigurationError("a plain-http issuer is allowed on loopback only")
        if self.issuer.endswith("/"):
            raise ConfigurationError("the issuer must not end with '/'")
        if not 300 <= self.access_token_seconds <= 3600:
            raise ConfigurationError("access_token_seconds must be between 300 and 3600 (5-60 minutes)")
        if not 1 <= self.code_seconds <= 600:
            raise ConfigurationError("code_seconds must be between 1 and 600")
        if not 0 <= self.refresh_grace_seconds <= 300:
            raise ConfigurationError("refresh_grace_seconds must be between 0 and 300")
        if self.sign_in_failures_per_hour_per_address < 1 or self.sign_in_short_code_failures_per_hour < 1:
            raise ConfigurationError("the sign-in failure budgets must be at least 1")
        if self.sms_sends_per_hour_per_number < 1 or self.sms_sends_per_hour_per_country < 1:
            raise ConfigurationError("the SMS send limits must be at least 1")
        if self.refresh_idle_seconds > self.refresh_absolute_seconds:
            raise ConfigurationError("refresh_idle_seconds cannot exceed refresh_absolute_seconds")
        if not 1 <= self.work_threads <= 256:
            raise ConfigurationError("work_threads must be between 1 and 256")
        _ = self.proxy_networks
        self._check_look()
        if not isinstance(self.extra_hosts, tuple | list | frozenset) or not all(
            isinstance(h, str) and h and not any(c.isspace() or c in "/@?#" for c in h)
            for h in self.extra_hosts
        ):
            raise ConfigurationError("extra_hosts must be a list of host names, each with an optional port")
        self._check_apis()

    def _check_look(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError("the provider's name must be a non-empty string")
        problem = check_logo(self.logo) if self.logo is not None else None
        if problem is None and self.templates is not None:
            problem = check_templates(Path(self.templates))
        if problem is not None:
            raise ConfigurationError(problem)

    def _check_apis(self) -> None:
        owners: dict[str, str] = {}
        audiences = {self.issuer, self.audience}
        for api in self.apis:
            if not api.audience or api.audience in audiences:
                raise ConfigurationError(f"API audience {api.audience!r} is empty or not unique")
            audiences.add(api.audience)
            for scope in api.scopes:
                if scope in OPENID_SCOPES or scope in owners:
                    raise ConfigurationError(f"scope {scope!r} belongs to two APIs or is an OpenID scope")
                owners[scope] = api.audience

    @cached_property
    def proxy_networks(self) -> tuple[IPNetwork, ...]:
        """``trusted_proxies`` parsed; a bare address is a /32 (or /128) network."""
        if not isinstance(self.trusted_proxies, tuple | list | frozenset):
            raise ConfigurationError("trusted_proxies must be a list of addresses or CIDR blocks")
        networks: list[IPNetwork] = []
        for entry in self.trusted_proxies:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"trusted_proxies: {entry!r} is not an IP address or CIDR block"
                ) from None
        return tuple(networks)

    @property
    def token_audience(self) -> str:
        """The ``aud`` of issued access tokens."""
        return self.audience or self.issuer

    @property
    def accepted_audiences(self) -> tuple[str, ...]:
        """Every ``aud`` the provider's own tokens may carry (userinfo, introspection, revocation)."""
        return (self.token_audience, *(api.audience for api in self.apis))

    @property
    def secure_cookies(self) -> bool:
        """False only for a plain-http loopback issuer, where browsers would drop Secure cookies."""
        return urlsplit(self.issuer).scheme == "https"

    @property
    def origin(self) -> str:
        """The issuer's origin (scheme://host[:port])."""
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def base_path(self) -> str:
        """The issuer's path prefix ('' for an issuer at the root)."""
        return urlsplit(self.issuer).path.rstrip("/")
