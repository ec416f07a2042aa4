"""The local main job until `tessera dev` exists: mint a token at a local issuer, verify it with the CLI."""

from __future__ import annotations

import subprocess
import sys

from tessera.testing import LocalIssuer


def main() -> int:
    """Serve a local issuer on 127.0.0.1, then run `tessera token verify` against it."""
    with LocalIssuer() as issuer:
        token = issuer.mint(sub="demo-user", scope="orders:read")
        print(f"local issuer: {issuer.issuer}  (discovery and JWKS on real HTTP)")
        command = [
            sys.executable,
            "-m",
            "tessera.cli",
            "token",
            "verify",
            token,
            "--issuer",
            issuer.issuer,
            "--audience",
            "api",
            "--token-type",
            "at+jwt",
        ]
        print("$ tessera token verify <token> --issuer", issuer.issuer, "--audience api --token-type at+jwt")
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
