"""The verifiers measured by the verify benchmark, each as three source snippets.

An :class:`Adapter` is (imports, setup, verify body). The snippets run in a namespace holding
``JWKS``, ``JWK`` (the key the token's ``kid`` names), ``KID``, ``ALG``, ``ISS``, ``AUD`` and
``TYP``; the same source serves the warm loop and the fresh-process cold start, where the
imports are timed as "import" and the setup as "key load".
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jwt_fixtures import ALGS, AUD, ISS, ROLES, SUB, TYP, Fixture


@dataclass
class Adapter:
    """One verifier: how to import it, load the key, and verify a token."""

    name: str
    dists: tuple[str, ...]
    imports: str
    setup: Callable[[str], str]  # alg -> source that loads the key (and helpers)
    body: str  # body of verify(token) -> claims mapping
    algs: tuple[str, ...] = ALGS


_FLOOR_SETUP = {
    "RS256": """
        key = rsa.RSAPublicNumbers(int.from_bytes(_b64d(JWK["e"]), "big"),
                                   int.from_bytes(_b64d(JWK["n"]), "big")).public_key()
        _pad, _sha256 = padding.PKCS1v15(), hashes.SHA256()
        def _prepare(sig):
            return sig
        def _verify_prepared(sig, data):
            key.verify(sig, data, _pad, _sha256)
        """,
    "ES256": """
        key = ec.EllipticCurvePublicNumbers(int.from_bytes(_b64d(JWK["x"]), "big"),
                                            int.from_bytes(_b64d(JWK["y"]), "big"),
                                            ec.SECP256R1()).public_key()
        _ecdsa = ec.ECDSA(hashes.SHA256())
        def _prepare(sig):  # JWS carries r||s, OpenSSL wants DER
            if len(sig) != 64:
                raise ValueError("bad signature length")
            return encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        def _verify_prepared(sig, data):
            key.verify(sig, data, _ecdsa)
        """,
    "EdDSA": """
        key = ed25519.Ed25519PublicKey.from_public_bytes(_b64d(JWK["x"]))
        def _prepare(sig):
            return sig
        def _verify_prepared(sig, data):
            key.verify(sig, data)
        """,
    "HS256": """
        key = _b64d(JWK["k"])
        def _prepare(sig):
            return sig
        def _verify_prepared(sig, data):
            if not hmac.compare_digest(hmac.digest(key, data, "sha256"), sig):
                raise ValueError("bad signature")
        """,
}

FLOOR = Adapter(
    name="floor: hand-rolled (cryptography)",
    dists=("cryptography",),
    imports=textwrap.dedent("""
        import base64, hmac, json, time
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        """).strip(),
    setup=lambda alg: (
        textwrap.dedent("""
        def _b64d(s):
            return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        """)
        + textwrap.dedent(_FLOOR_SETUP[alg])
    ),
    body="""
        signing_input, _, sig = token.rpartition(".")
        _verify_prepared(_prepare(_b64d(sig)), signing_input.encode())
        claims = json.loads(_b64d(signing_input.partition(".")[2]))
        if claims["exp"] <= time.time() or claims["iss"] != ISS or claims["aud"] != AUD:
            raise ValueError("claims rejected")
        return claims
        """,
)
SIGNATURE_ONLY = "signature verify only (cryptography)"

# All claim checks on: iss, aud, exp, nbf/iat, typ at+jwt, RFC 9068's required claims (iat, sub,
# client_id, jti). HS256 uses the configured secret; the others the bundled JWKS.
_TESSERA_SETUP = """
    if ALG == "HS256":
        _keys = {{"secret": b64url_decode(JWK["k"])}}
    else:
        _keys = {{"jwks": JWKS}}
    _verify = Verifier(
        issuer=ISS, audience=AUD, token_type=TYP, algorithms=[ALG], cache_size={cache}, **_keys
    ).verify
    """

TESSERA_UNCACHED = Adapter(
    name="Tessera uncached",
    dists=("tessera-auth",),
    imports="from tessera import Verifier\nfrom tessera.encoding import b64url_decode",
    setup=lambda alg: _TESSERA_SETUP.format(cache=0),
    body="return _verify(token)",
)
TESSERA_CACHED = Adapter(
    name="Tessera cached",
    dists=("tessera-auth",),
    imports=TESSERA_UNCACHED.imports,
    setup=lambda alg: _TESSERA_SETUP.format(cache=1024),
    body="return _verify(token)",
)

PEERS = [
    Adapter(
        name="PyJWT",
        dists=("PyJWT",),
        imports="import jwt",
        setup=lambda alg: (
            """
            key = jwt.PyJWK(JWK).key
            _algs = [ALG]
            _opts = {"require": ["exp", "iss", "aud"]}
            """
        ),
        body="return jwt.decode(token, key, algorithms=_algs, audience=AUD, issuer=ISS, options=_opts)",
    ),
    Adapter(
        name="joserfc",
        dists=("joserfc",),
        imports="from joserfc import jwk, jwt",
        setup=lambda alg: (
            """
            key = jwk.import_key(JWK)
            _algs = [ALG]
            _registry = jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISS},
                                              aud={"essential": True, "value": AUD},
                                              exp={"essential": True})
            """
        ),
        body="""
            tok = jwt.decode(token, key, algorithms=_algs)
            _registry.validate(tok.claims)
            return tok.claims
            """,
    ),
    Adapter(
        name="authlib",
        dists=("Authlib",),
        imports="from authlib.jose import JsonWebKey, JsonWebToken",
        setup=lambda alg: (
            """
            key = JsonWebKey.import_key(JWK)
            _jwt = JsonWebToken([ALG])
            _opts = {"iss": {"essential": True, "value": ISS},
                     "aud": {"essential": True, "value": AUD},
                     "exp": {"essential": True}}
            """
        ),
        body="""
            claims = _jwt.decode(token, key, claims_options=_opts)
            claims.validate()
            return claims
            """,
    ),
    Adapter(
        name="python-jose",
        dists=("python-jose",),
        imports="from jose import jwk, jwt",
        setup=lambda alg: (
            """
            key = jwk.construct(JWK, ALG)
            _algs = [ALG]
            """
        ),
        body="return jwt.decode(token, key, algorithms=_algs, audience=AUD, issuer=ISS)",
        algs=("RS256", "ES256", "HS256"),  # no EdDSA support
    ),
]

ADAPTERS = [FLOOR, TESSERA_UNCACHED, TESSERA_CACHED, *PEERS]
SELECT_JWK = 'JWK = next(k for k in JWKS["keys"] if k["kid"] == KID)'


def installed(adapter: Adapter) -> bool:
    """Whether the adapter's imports work in this environment."""
    try:
        exec(adapter.imports, {})
    except ImportError:
        return False
    return True


def adapter_source(adapter: Adapter, alg: str) -> tuple[str, str]:
    """(imports, setup + ``def verify(token)``) as runnable source."""
    rest = textwrap.dedent(adapter.setup(alg)).strip() + "\n\ndef verify(token):\n"
    rest += textwrap.indent(textwrap.dedent(adapter.body).strip(), "    ") + "\n"
    return adapter.imports, rest


def fixture_globals(fx: Fixture) -> dict[str, Any]:
    """The names the snippets may use (``JWK`` is then selected by ``SELECT_JWK``)."""
    return {"JWKS": fx.jwks, "KID": fx.kid, "ALG": fx.alg, "ISS": ISS, "AUD": AUD, "TYP": TYP}


def build_verifier(adapter: Adapter, fx: Fixture) -> tuple[Callable[[str], Any], dict[str, Any]]:
    """The adapter's ``verify`` function for ``fx``, and the namespace it lives in."""
    imports, rest = adapter_source(adapter, fx.alg)
    namespace = fixture_globals(fx)
    exec(SELECT_JWK, namespace)
    exec(compile(imports + "\n" + rest, f"<{adapter.name}:{fx.alg}>", "exec"), namespace)
    return namespace["verify"], namespace


def check_verifier(verify: Callable[[str], Any], fx: Fixture) -> dict[str, str]:
    """Accept the valid token, reject every bad one: {case: 'ok' or the problem}."""
    out = {}
    try:
        claims = verify(fx.token)
        good = claims["sub"] == SUB and list(claims["roles"]) == ROLES
        out["valid"] = "ok" if good else "WRONG CLAIMS"
    except Exception as exc:
        out["valid"] = f"REJECTED VALID TOKEN ({type(exc).__name__})"
    for case, bad in fx.bad_tokens.items():
        try:
            verify(bad)
            out[case] = "ACCEPTED"
        except Exception:
            out[case] = "ok"
    return out


def cold_child_source(adapter: Adapter, fx: Fixture, early_calls: int) -> str:
    """A script timing import, key load and the first verification, then ``early_calls`` more."""
    imports, rest = adapter_source(adapter, fx.alg)
    constants = fixture_globals(fx)
    return "\n".join(
        [
            "import time as _time",
            "_t0 = _time.perf_counter()",
            imports,
            "_t1 = _time.perf_counter()",
            "\n".join(f"{k} = {v!r}" for k, v in constants.items()),
            SELECT_JWK,
            rest,
            f"_token = {fx.token!r}",
            "_t2 = _time.perf_counter()",
            "_claims = verify(_token)",
            "_t3 = _time.perf_counter()",
            f"assert _claims['sub'] == {SUB!r}",
            f"for _ in range({early_calls}):",
            "    verify(_token)",
            "_t4 = _time.perf_counter()",
            "print(_t1 - _t0, _t2 - _t1, _t3 - _t2, _t4 - _t3)",
        ]
    )
