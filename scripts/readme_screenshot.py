"""Take the README's picture of the sign-in page: a real ``tessera dev`` in Chromium, light and dark.

Run ``.venv/bin/python scripts/readme_screenshot.py`` after changing the hosted pages' look; it
writes ``docs/images/signin.png`` and ``docs/images/signin-dark.png`` (the browser tests check the
pages themselves; this only keeps the picture current).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

from tessera.testing.devserver import DevServer

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 720, "height": 560}


def main() -> None:
    """Start ``tessera dev``, open its sign-in page as ``dev-spa`` would, save both colour schemes."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    with DevServer(users=("dev@example.com",), host="localhost") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            for scheme, name in (("light", "signin.png"), ("dark", "signin-dark.png")):
                context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme, device_scale_factor=1)
                page = context.new_page()
                page.goto(f"{server.issuer}/dev/login")
                page.wait_for_selector("#passkey-button")
                page.fill("#email", "dev@example.com")
                page.locator("#email").blur()
                page.screenshot(path=str(IMAGES / name))
                context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
