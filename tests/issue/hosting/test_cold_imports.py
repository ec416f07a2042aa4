"""The Lambda handler's import leaves out what a token request never uses: webauthn, Jinja2, pyotp, segno."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import tessera.issue.hosting.lambda_handler
after_import = set(sys.modules)
from tessera.passwordless.passkeys import PasskeyRejected
print(json.dumps([sorted(after_import), sorted(sys.modules)]))
"""

_PASSKEY_LIBRARIES = {"webauthn", "pyasn1", "cbor2", "OpenSSL"}


def _top_level(modules: list[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_importing_the_handler_imports_no_passkey_library_until_passkeys_are_used() -> None:
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    after_import, after_passkeys = json.loads(probe.stdout)

    assert not _top_level(after_import) & _PASSKEY_LIBRARIES
    assert "webauthn" in _top_level(after_passkeys)


_PAGE_PROBE = """
import json, sys
import tessera.issue.hosting.lambda_handler
after_import = {name.split(".")[0] for name in sys.modules}
from tessera.issue.web import page
page("message.html", title="t", message="m")
from tessera.passwordless.totp import Totp
Totp._secret
print(json.dumps([sorted(after_import), sorted({name.split(".")[0] for name in sys.modules})]))
"""


def test_the_pages_template_engine_and_totp_libraries_load_when_first_used() -> None:
    probe = subprocess.run([sys.executable, "-c", _PAGE_PROBE], capture_output=True, text=True, check=True)
    after_import, after_page = map(set, json.loads(probe.stdout))

    assert not after_import & {"jinja2", "pyotp", "segno"}
    assert "jinja2" in after_page
