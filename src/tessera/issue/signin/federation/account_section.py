"""The account page's "Linked sign-ins" section: its context, from the store and the configured upstreams.

:func:`linked_sign_ins` gives what ``account_linked.html`` (included by ``account.html``) shows:
the user's linked identities with their unlink forms, a "Link ..." form for each configured
upstream not linked yet, the forms' token (bound to the session), and the origins those forms
may end at (the upstreams' authorization endpoints, for the page's CSP ``form-action``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tessera.issue.provider import Provider
from tessera.store import User
from tessera.verify.fetch import FetchError

__all__ = ["FORM_PURPOSE", "LinkedSignIns", "linked_sign_ins"]

FORM_PURPOSE = "account-upstreams"


@dataclass(frozen=True)
class LinkedSignIns:
    """The section's template context and the origins its forms may end at."""

    links: list[dict[str, str]]
    available: list[dict[str, str]]
    csrf: str
    form_targets: list[str] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        """What the template reads."""
        return {"links": self.links, "available": self.available, "csrf": self.csrf}


def linked_sign_ins(provider: Provider, session_cookie: str, user: User) -> LinkedSignIns | None:
    """The section for ``user``; None when no upstream is configured and nothing is linked."""
    upstreams = provider.federation.upstreams
    links = provider.federation.store.upstream_links_of(user.user_id) if upstreams else ()
    if not upstreams and not links:
        return None
    base = provider.settings.base_path
    linked = {link.upstream_id for link in links}
    available = [u for u in upstreams.values() if u.id not in linked]
    targets = []
    for upstream in available:
        try:
            targets.append(provider.federation.endpoints.get(upstream).authorization_endpoint)
        except FetchError:
            pass  # an unreachable upstream only loses its form target; linking it fails on a page
    return LinkedSignIns(
        links=[
            {
                "name": upstreams[link.upstream_id].name
                if link.upstream_id in upstreams
                else link.upstream_id,
                "email": link.email,
                "subject": link.subject,
                "unlink": f"{base}/upstream/{link.upstream_id}/unlink",
            }
            for link in links
        ],
        available=[{"name": u.name, "href": f"{base}/upstream/{u.id}/link"} for u in available],
        csrf=provider.cookies.bound_token(FORM_PURPOSE, session_cookie),
        form_targets=targets,
    )
