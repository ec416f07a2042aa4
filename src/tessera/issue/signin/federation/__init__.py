"""Federation: sign in at an upstream identity provider (Google, Entra, Auth0, Cognito, Okta,
Apple, GitHub or any OpenID provider) and receive Tessera's own tokens.

:mod:`.upstreams` (the configuration and presets), :mod:`.discovery`, :mod:`.flow` (the
protocol) and :mod:`.linking` (which user an identity is) import no web framework;
:mod:`.pages` translates them to HTTP.
"""

from tessera.issue.signin.federation.errors import FederationError, FederationFailure
from tessera.issue.signin.federation.flow import Federation, FinishedLogin, StartedLogin, UpstreamIdentity
from tessera.issue.signin.federation.upstreams import (
    PRESETS,
    Upstream,
    upstream_from_mapping,
    upstreams_from_config,
)

__all__ = [
    "PRESETS",
    "Federation",
    "FederationError",
    "FederationFailure",
    "FinishedLogin",
    "StartedLogin",
    "Upstream",
    "UpstreamIdentity",
    "upstream_from_mapping",
    "upstreams_from_config",
]
