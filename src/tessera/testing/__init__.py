"""Test support: a local issuer served over real HTTP on 127.0.0.1, and offline token minting.

Also a pytest plugin (registered as ``tessera``) with the fixtures ``local_issuer`` and
``http_server``; a :class:`ManualClock` and a :class:`RecordingFetcher` for the remote key
cache. Nothing here is imported by the verification path.
"""

from .fakes import ManualClock, RecordingFetcher
from .http import LocalHTTPServer, Response
from .issuer import LocalIssuer

__all__ = ["LocalHTTPServer", "LocalIssuer", "ManualClock", "RecordingFetcher", "Response"]
