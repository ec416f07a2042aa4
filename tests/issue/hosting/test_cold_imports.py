"""The Lambda handler's import path leaves out what a token request never uses (its cold start)."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import tessera.issue.hosting.lambda_handler
after_import = set(sys.modules)
from tessera.issue.web import page
rendered = page("message.html", title="Signed in", message="You are signed in.")
print(json.dumps([sorted(after_import), sorted(sys.modules), rendered.status_code]))
"""

_ONLY_WHEN_USED = ("webauthn", "jinja2", "segno", "phonenumbers", "pyotp")


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_importing_the_handler_imports_no_page_or_passkey_library_until_a_page_is_rendered() -> None:
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    after_import, after_page, status = json.loads(probe.stdout)

    assert not _top_level(set(after_import)) & set(_ONLY_WHEN_USED)
    assert status == 200
    assert "jinja2" in _top_level(set(after_page))
