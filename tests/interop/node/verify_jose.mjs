// Verifies access tokens with panva's jose, as a resource server would.
//
// Usage: node verify_jose.mjs JWKS_URI ISSUER AUDIENCE < tokens.json   (a JSON array of strings)
// Prints a JSON array with, per token, {"ok": true, "header": ..., "payload": ...} or
// {"ok": false, "code": <jose error code>}.
import { readFileSync } from 'node:fs';

import { importPeer } from './peers.mjs';

const { createRemoteJWKSet, jwtVerify } = await importPeer('jose');
const [jwksUri, issuer, audience] = process.argv.slice(2);
const keys = createRemoteJWKSet(new URL(jwksUri));
const tokens = JSON.parse(readFileSync(0, 'utf8'));

const results = [];
for (const token of tokens) {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys, {
      issuer,
      audience,
      typ: 'at+jwt',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
    });
    results.push({ ok: true, header: protectedHeader, payload });
  } catch (error) {
    results.push({ ok: false, code: error.code ?? String(error) });
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
