"""The ``tessera`` pytest plugin: a local issuer, a clean JWKS registry, provider-shaped issuers.

The provider fixtures are offline :class:`LocalIssuer` objects whose ``iss`` is the provider's
real issuer string for the identifiers in :data:`tessera.testing.providers.EXAMPLE`; mint
with the matching ``*_claims`` helper of :mod:`tessera.testing.providers` and serve
``issuer.jwks()`` (or ``x509_certificates(issuer.published)`` for Firebase) from
``http_server`` to test a preset end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .http import LocalHTTPServer
from .issuer import LocalIssuer
from .providers import EXAMPLE

if TYPE_CHECKING:
    from .idp import ProviderHarness


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    """A running :class:`LocalHTTPServer` with no routes."""
    with LocalHTTPServer() as server:
        yield server


@pytest.fixture
def local_issuer() -> Iterator[LocalIssuer]:
    """A running RS256 :class:`LocalIssuer`: discovery, JWKS and a token minter."""
    with LocalIssuer() as issuer:
        yield issuer


@pytest.fixture
def fresh_jwks_registry() -> Iterator[None]:
    """An empty process-wide remote JWKS registry for the test, emptied again afterwards."""
    from ..verify.jwks import _reset_registry

    _reset_registry()
    yield
    _reset_registry()


@pytest.fixture
def cognito_user_pool() -> LocalIssuer:
    """Signs as the Cognito user pool ``EXAMPLE.cognito_user_pool_id`` (RS256, offline)."""
    return LocalIssuer(
        url=f"https://cognito-idp.{EXAMPLE.cognito_region}.amazonaws.com/{EXAMPLE.cognito_user_pool_id}"
    )


@pytest.fixture
def auth0_tenant() -> LocalIssuer:
    """Signs as the Auth0 tenant ``EXAMPLE.auth0_domain`` (RS256, offline)."""
    return LocalIssuer(url=f"https://{EXAMPLE.auth0_domain}/")


@pytest.fixture
def firebase_project() -> LocalIssuer:
    """Signs as Firebase Authentication for ``EXAMPLE.firebase_project_id`` (RS256, offline)."""
    return LocalIssuer(url=f"https://securetoken.google.com/{EXAMPLE.firebase_project_id}")


@pytest.fixture
def b2c_tenant() -> LocalIssuer:
    """Signs as the Azure AD B2C tenant ``EXAMPLE.b2c_tenant`` (RS256, offline)."""
    return LocalIssuer(url=f"https://{EXAMPLE.b2c_tenant}.b2clogin.com/{EXAMPLE.b2c_tenant_id}/v2.0/")


@pytest.fixture
def entra_tenant() -> LocalIssuer:
    """Signs as the Entra External ID tenant ``EXAMPLE.entra_tenant_id`` (RS256, offline)."""
    tenant = EXAMPLE.entra_tenant_id
    return LocalIssuer(url=f"https://{tenant}.ciamlogin.com/{tenant}/v2.0")


@pytest.fixture
def google_accounts() -> LocalIssuer:
    """Signs as Google (``https://accounts.google.com``) (RS256, offline)."""
    return LocalIssuer(url="https://accounts.google.com")


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[ProviderHarness]:
    """An in-process provider on a fresh SQLite file with a frozen clock (needs the ``idp`` extra)."""
    from .idp import ProviderHarness

    harness = ProviderHarness(tmp_path)
    yield harness
    harness.close()
