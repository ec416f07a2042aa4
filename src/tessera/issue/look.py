"""How the hosted pages look: the provider's name and logo, and the templates they render from.

A deployer's ``[provider] templates`` folder comes first: a file there with a built-in
template's name replaces it, and every built-in one stays reachable as ``tessera/NAME`` (so an
override can extend the page it replaces). Autoescaping is on for every template, built-in or not.
A logo is an https URL (the pages' CSP then allows images from its origin) or a file the
provider serves itself at ``/static/logo``. The checks import no template engine, so
``tessera config check`` runs them without the ``idp`` extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "BUILTIN_TEMPLATES",
    "LOGO_MAX_BYTES",
    "LOGO_TYPES",
    "Look",
    "check_logo",
    "check_templates",
    "logo_is_url",
    "look_for",
    "template_environment",
]

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
LOGO_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
LOGO_MAX_BYTES = 512 * 1024
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", re.ASCII)


def template_environment(folder: Path | None = None) -> Environment:
    """The templates: ``folder``'s first (when given), then the built-in ones, autoescaped."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

    builtin = FileSystemLoader(BUILTIN_TEMPLATES)
    loaders = [FileSystemLoader(folder)] if folder is not None else []
    loader = ChoiceLoader([*loaders, builtin, PrefixLoader({"tessera": builtin})])
    return Environment(loader=loader, autoescape=select_autoescape(default=True, default_for_string=True))


def logo_is_url(logo: str) -> bool:
    """Whether ``logo`` names a URL (else it is a file path)."""
    return logo.startswith(("https://", "http://"))


def check_logo(logo: str) -> str | None:
    """What is wrong with a ``logo`` setting (a URL or an image file), or None."""
    if logo_is_url(logo):
        parts = urlsplit(logo)
        origin = f"{parts.scheme}://{parts.netloc}"
        if _ORIGIN.fullmatch(origin) is None or any(c.isspace() or c in "\"'<>" for c in logo):
            return f"the logo {logo!r} is not a usable URL"
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            return "the logo URL must be https (plain http on loopback only)"
        return None
    path = Path(logo)
    if path.suffix.lower() not in LOGO_TYPES:
        return f"the logo {logo!r} must be one of {', '.join(sorted(LOGO_TYPES))}, or an https URL"
    if not path.is_file():
        return f"the logo file {logo} does not exist"
    if path.stat().st_size > LOGO_MAX_BYTES:
        return f"the logo file {logo} is larger than {LOGO_MAX_BYTES // 1024} KiB"
    return None


def check_templates(folder: Path) -> str | None:
    """What is wrong with a ``templates`` folder setting, or None."""
    return None if folder.is_dir() else f"the templates folder {folder} does not exist"


@dataclass(frozen=True)
class Look:
    """What every hosted page shows and where it comes from.

    ``static`` is the path prefix of the provider's static files (stylesheet, logo);
    ``image_origins`` are the origins the pages' CSP allows images from besides their own.
    """

    name: str
    templates_folder: Path | None = None
    static: str = "/static"
    logo_src: str | None = None
    image_origins: tuple[str, ...] = ()

    @cached_property
    def templates(self) -> Environment:
        """The pages' Jinja2 environment, built at the first page (a token request never needs it)."""
        return template_environment(self.templates_folder)


def look_for(name: str, base_path: str, logo: str | None, templates: Path | None) -> Look:
    """The look of a provider named ``name`` at ``base_path`` with these (checked) settings."""
    static = f"{base_path}/static"
    logo_src: str | None = None
    origins: tuple[str, ...] = ()
    if logo is not None and logo_is_url(logo):
        parts = urlsplit(logo)
        logo_src, origins = logo, (f"{parts.scheme}://{parts.netloc}",)
    elif logo is not None:
        logo_src = f"{static}/logo"
    return Look(name, templates, static, logo_src, origins)
