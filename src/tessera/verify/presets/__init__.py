"""Provider presets: one function per identity provider, each returning a ready verifier.

Every preset derives the provider's exact issuer and key location from a few identifiers,
adds that provider's claim rules as checks on the generic :class:`~tessera.verify.Verifier`,
and accepts ``jwks_uri=`` (where to fetch keys), ``keys=`` (a key source, e.g. bundled),
``leeway_seconds=``, ``cache_size=`` and ``clock=``.
"""

from .auth0 import auth0
from .azure import azure_ad_b2c, entra_external_id
from .cognito import cognito, cognito_issuer
from .firebase import FIREBASE_CERTIFICATES_URI, firebase
from .google import GOOGLE_ISSUERS, GOOGLE_JWKS_URI, google
from .oidc import oidc
from .x509 import parse_x509_certificates

__all__ = [
    # presets
    "auth0",
    "azure_ad_b2c",
    "cognito",
    "entra_external_id",
    "firebase",
    "google",
    "oidc",
    # provider facts and key documents
    "FIREBASE_CERTIFICATES_URI",
    "GOOGLE_ISSUERS",
    "GOOGLE_JWKS_URI",
    "cognito_issuer",
    "parse_x509_certificates",
]
