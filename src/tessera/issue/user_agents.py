"""A short, human summary of a ``User-Agent`` header (``Chrome on Linux``) for the account page.

Only the summary is stored with a session, never the header: it is enough for a person to
recognise their own browsers, and it says less about them than the full string.
"""

from __future__ import annotations

import re

__all__ = ["UNKNOWN_BROWSER", "browser_summary"]

UNKNOWN_BROWSER = "Unknown browser"
MAX_HEADER = 512

# First match wins: Edge and Opera also say Chrome; Chrome also says Safari.
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(HeadlessChrome|Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\b(iPhone|iPad|iPod)\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def browser_summary(header: str) -> str:
    """``"<browser> on <system>"`` for a ``User-Agent`` header; either part may be unknown."""
    text = header[:MAX_HEADER]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(text)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(text)), None)
    if browser is None and system is None:
        return UNKNOWN_BROWSER
    if system is None:
        return str(browser)
    return f"{browser or 'A browser'} on {system}"
