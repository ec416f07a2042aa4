"""What a ``tessera.toml`` holds, once read: one frozen dataclass per section, and the whole file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..protect.routes import RouteRules
from .lines import KeyLines

if TYPE_CHECKING:
    from ..verify import Verifier

__all__ = ["ApiConfig", "ClientConfig", "Overrides", "ProviderConfig", "TesseraConfig", "UserConfig"]


@dataclass(frozen=True)
class ProviderConfig:
    """``[provider]``: the issuer URL, the name and logo on hosted pages, their templates, self sign-up.

    ``logo`` (a URL, or a file) and ``templates`` (a folder) are read as written; a relative
    path is relative to the file's folder (:meth:`TesseraConfig.provider_path`).
    """

    issuer: str | None = None
    name: str | None = None
    signup: bool | None = None
    logo: str | None = None
    templates: str | None = None


@dataclass(frozen=True)
class ApiConfig:
    """``[[apis]]``: a resource server, the ``aud`` of its access tokens, and its scopes."""

    audience: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ClientConfig:
    """``[[clients]]``: an OAuth client; a confidential one's secret is read from ``secret_env``."""

    id: str
    type: str
    grants: tuple[str, ...]
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...] = ()
    secret_env: str | None = None
    name: str = ""

    @property
    def public(self) -> bool:
        """True for a ``type = "public"`` client (no secret, PKCE)."""
        return self.type == "public"


@dataclass(frozen=True)
class UserConfig:
    """``[[users]]``: a seed user and their roles."""

    email: str
    roles: tuple[str, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Overrides:
    """The protect side's values that only the environment sets (``TESSERA_AUDIENCE``, ...)."""

    audience: str | None = None
    jwks_file: str | None = None


@dataclass(frozen=True)
class TesseraConfig:
    """A parsed ``tessera.toml``; ``document`` is the raw table (the gateway reads its own part).

    The protect side needs two things from it: :meth:`verifier` and :attr:`routes`.
    """

    path: Path
    provider: ProviderConfig = ProviderConfig()
    apis: tuple[ApiConfig, ...] = ()
    clients: tuple[ClientConfig, ...] = ()
    users: tuple[UserConfig, ...] = ()
    route_rules: RouteRules | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    lines: KeyLines = field(default_factory=lambda: KeyLines({}), repr=False, compare=False)
    overrides: Overrides = Overrides()

    @property
    def routes(self) -> RouteRules:
        """The ``[[routes]]`` rules; a ConfigurationError when the file has none."""
        if self.route_rules is None:
            raise ConfigurationError(f"{self.path}: no [[routes]] rules")
        return self.route_rules

    def audience(self, api: str | None = None) -> str:
        """The audience a function trusts: ``api``, else ``TESSERA_AUDIENCE``, else the only API's.

        A name that no ``[[apis]]`` declares is refused when the file declares any: a typo
        would otherwise reject every token (or, worse, trust another API's).
        """
        chosen = api or self.overrides.audience
        if chosen is not None:
            if self.apis and self.api_for(chosen) is None:
                known = ", ".join(a.audience for a in self.apis)
                raise ConfigurationError(f"{self.path}: no [[apis]] has audience {chosen!r} (known: {known})")
            return chosen
        if len(self.apis) == 1:
            return self.apis[0].audience
        if not self.apis:
            raise ConfigurationError(f"{self.path}: no [[apis]]: declare the API whose tokens to accept")
        raise ConfigurationError(
            f"{self.path}: {len(self.apis)} [[apis]]: choose one with load(..., api=...) or TESSERA_AUDIENCE"
        )

    def issuer(self) -> str:
        """``[provider].issuer`` (or ``TESSERA_ISSUER``); a ConfigurationError when neither is set."""
        if self.provider.issuer is None:
            raise ConfigurationError(f"{self.path}: no issuer: set [provider].issuer or TESSERA_ISSUER")
        return self.provider.issuer

    def verifier(self, api: str | None = None, *, jwks: str | os.PathLike[str] | None = None) -> Verifier:
        """A :class:`~tessera.verify.Verifier` for this provider's access tokens (``at+jwt``) to ``api``.

        Keys come from the JWKS file ``jwks`` (bundled beside the code), else from
        ``TESSERA_JWKS_FILE``, else from OpenID discovery.
        """
        from ..verify import Verifier

        return Verifier(
            issuer=self.issuer(),
            audience=self.audience(api),
            token_type="at+jwt",
            jwks=jwks if jwks is not None else self.overrides.jwks_file,
        )

    def provider_path(self, value: str) -> Path:
        """A ``[provider]`` path setting, relative to this file's folder unless absolute."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.path.parent / path

    def logo(self) -> str | None:
        """``[provider].logo``: its URL as written, or its file's path (relative to this file)."""
        logo = self.provider.logo
        if logo is None or logo.startswith(("https://", "http://")):
            return logo
        return str(self.provider_path(logo))

    def templates(self) -> Path | None:
        """``[provider].templates``: the deployer's template folder (relative to this file), or None."""
        folder = self.provider.templates
        return self.provider_path(folder) if folder is not None else None

    def api_for(self, audience: str) -> ApiConfig | None:
        """The API whose audience is ``audience``, or None."""
        return next((api for api in self.apis if api.audience == audience), None)
