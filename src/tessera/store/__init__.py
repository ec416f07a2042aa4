"""The provider's persistence: one backend-neutral interface, one module per backend.

Every single-use artefact (authorization code, refresh token, one-time code, client-assertion
``jti``) is consumed with a conditional write, never read-then-write (STO-02). Every read
enforces ``expires_at`` itself (STO-09): lazy deletion is housekeeping, not a control. Secrets
reach the store only as hashes (STO-01); signing keys only sealed (STO-05).
"""

from . import base, errors, records
from .base import *  # noqa: F403 - the protocols, listed once in base.__all__
from .errors import *  # noqa: F403 - the store's refusals, listed once in errors.__all__
from .records import *  # noqa: F403 - the records, listed once in records.__all__

__all__ = []
__all__ += records.__all__
__all__ += base.__all__
__all__ += errors.__all__
