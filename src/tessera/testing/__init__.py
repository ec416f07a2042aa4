"""Test support: a local issuer served over real HTTP on 127.0.0.1, and offline token minting.

Also a pytest plugin (registered as ``tessera``) with the fixtures ``local_issuer`` and
``http_server``. Nothing here is imported by the verification path.
"""

from .http import LocalHTTPServer, Response
from .issuer import LocalIssuer

__all__ = ["LocalHTTPServer", "LocalIssuer", "Response"]
