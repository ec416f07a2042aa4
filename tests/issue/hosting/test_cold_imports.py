"""The Lambda handler's import path leaves out py_webauthn, which a token request never uses."""

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
