"""The client's source address, for rate limits: the peer, or ``X-Forwarded-For`` behind trusted proxies.

AS-57: ``X-Forwarded-For`` is trusted only from configured proxies. A request whose peer is not
in ``ProviderSettings.trusted_proxies`` is keyed on the peer whatever it claims. Behind trusted
proxies the header is read right to left, skipping trusted hops, and the first address that is
not a trusted proxy is the client: everything to its left was written by the client itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

from tessera.issue.settings import IPNetwork

__all__ = ["request_address", "source_address"]

UNKNOWN = "unknown"


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def source_address(peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[IPNetwork]) -> str:
    """The client address given the connection ``peer`` and the ``X-Forwarded-For`` header values.

    An unparseable hop ends the walk at the last trusted address seen: the proxies never write
    one, so it came from the client, and keying on it would let the client pick its own bucket.
    """
    peer_address = _parse(peer) if peer is not None else None
    if peer_address is None:
        return peer or UNKNOWN
    if not proxies or not _trusted(peer_address, proxies):
        return str(peer_address)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    nearest = peer_address
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return str(nearest)
        if not _trusted(address, proxies):
            return str(address)
        nearest = address
    return str(nearest)


def request_address(request: Request, proxies: Sequence[IPNetwork]) -> str:
    """:func:`source_address` for a Starlette request."""
    peer = request.client.host if request.client is not None else None
    return source_address(peer, request.headers.getlist("x-forwarded-for"), proxies)
