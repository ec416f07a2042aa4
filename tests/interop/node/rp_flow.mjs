// A relying party built on panva's openid-client v6, driven by a Python test.
//
// Usage: node rp_flow.mjs '{"issuer": ..., "client_id": ..., "redirect_uri": ..., "scope": ...,
//                           "resource": null, "authorization_params": {}}'
// 1. discovers the provider and prints {"authorization_url": ...} as one JSON line;
// 2. reads the callback URL the browser landed on from stdin;
// 3. redeems the code (PKCE, state, nonce and ID token checked by openid-client, ID token
//    signature too), calls userinfo, refreshes, revokes the new refresh token and checks it is
//    dead; prints the result as one JSON line.
import { createInterface } from 'node:readline';

import { importPeer } from './peers.mjs';

const client = await importPeer('openid-client');
const settings = JSON.parse(process.argv[2]);
const resource = settings.resource ? { resource: settings.resource } : {};

const config = await client.discovery(
  new URL(settings.issuer),
  settings.client_id,
  undefined,
  client.None(),
  { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
);

const codeVerifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: settings.redirect_uri,
  scope: settings.scope,
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  state,
  nonce,
  ...resource,
  ...settings.authorization_params,
});
process.stdout.write(`${JSON.stringify({ authorization_url: authorizationUrl.href })}\n`);

const lines = createInterface({ input: process.stdin });
const callbackUrl = await new Promise((resolve) => lines.once('line', resolve));
lines.close();

const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
  pkceCodeVerifier: codeVerifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const idTokenClaims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, idTokenClaims.sub);

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, resource);
await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
let afterRevocation = 'accepted';
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token, resource);
} catch (error) {
  afterRevocation = error.error ?? error.code ?? String(error);
}

process.stdout.write(`${JSON.stringify({
  issuer: config.serverMetadata().issuer,
  id_token_claims: idTokenClaims,
  access_token: tokens.access_token,
  userinfo,
  refresh_token_rotated: typeof refreshed.refresh_token === 'string' && refreshed.refresh_token !== tokens.refresh_token,
  refreshed_access_token: refreshed.access_token,
  refreshed_id_token_claims: refreshed.id_token ? refreshed.claims() : null,
  refresh_after_revocation: afterRevocation,
})}\n`);
