// The reference OpenID provider for the interop tests and the token-endpoint benchmark:
// panva's oidc-provider in dev mode, with clients that mirror Tessera's `dev-spa` and `dev-service`.
//
// Usage: node reference_op.mjs PORT CALLBACK_PORT   (environment: REFERENCE_OP_SERVICE_SECRET)
// Binds 127.0.0.1:PORT and prints one JSON line {"issuer": ...} on stdout once it listens.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import { importPeer } from './peers.mjs';

const { default: Provider } = await importPeer('oidc-provider');
const { default: MemoryAdapter } = await importPeer('oidc-provider/lib/adapters/memory_adapter.js');
const { default: LRU } = await importPeer('oidc-provider/lib/helpers/lru.js');

// The dev adapter keeps 1000 entries and evicts the least recent: under load it drops idle
// refresh tokens and grants (invalid_grant). A store as large as a real database has no such limit.
const store = new LRU({ maxSize: 10_000_000 });

const [port, callbackPort] = process.argv.slice(2).map(Number);
const serviceSecret = process.env.REFERENCE_OP_SERVICE_SECRET;
if (!port || !callbackPort || !serviceSecret) {
  console.error('usage: REFERENCE_OP_SERVICE_SECRET=... node reference_op.mjs PORT CALLBACK_PORT');
  process.exit(2);
}

const issuer = `http://127.0.0.1:${port}`;
const resource = 'urn:tessera:demo';
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients: [
    {
      client_id: 'dev-spa',
      token_endpoint_auth_method: 'none',
      redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid offline_access demo:read',
    },
    {
      client_id: 'dev-service',
      client_secret: serviceSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      scope: 'demo:read',
    },
  ],
  jwks: { keys: [{ ...signingKey, kid: 'reference-op-rs256', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'demo:read'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@example.test`, email_verified: true }),
  }),
  responseTypes: ['code'],
  pkce: { required: () => true },
  rotateRefreshToken: () => true,
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'demo:read',
          audience: resource,
          accessTokenTTL: 900,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer, resource })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
