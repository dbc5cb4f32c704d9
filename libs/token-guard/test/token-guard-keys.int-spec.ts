// Signing-key changes reach a running TokenGuard with no restart: a new algorithm, a rotation while
// tokens with made-up kids keep arriving, and rotations announced on the revocation feed.
import { Clock, FixedClock, SystemClock, type SigningAlgorithm } from '@tessera/oauth-core';
import { createDataSource, typeOrmStorage, PostgresChangeFeed } from '@tessera/persistence';
import { composeAdministration } from '@tessera/server';
import { decryptPrivateKey, RETIREMENT_GRACE_SECONDS } from '@tessera/tokens';
import { decodeProtectedHeader, generateKeyPair, importJWK, SignJWT } from 'jose';
import pg from 'pg';
import {
  basicAuth,
  postForm,
  registerClient,
  startAuthServer,
  testKeyEncryption,
  type RunningAuthServer,
} from '../../../apps/auth-server/test/auth-server.harness.js';
import { AUDIENCE, startResourceApp, type RunningResourceApp } from './resource-app.harness.js';

type Client = { client_id: string; client_secret: string };

let server: RunningAuthServer;
let introspector: Client;
let client: Client;

beforeAll(async () => {
  server = await startAuthServer();
  introspector = await registerClient(server.url, { client_name: 'reports api', scope: '', resource_server_for: [AUDIENCE] });
  client = await registerClient(server.url, { access_token_format: 'jwt', resources: [AUDIENCE], scope: 'read' });
});
afterAll(() => server.stop());

async function issue(): Promise<string> {
  const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', scope: 'read' }, { authorization: basicAuth(client.client_id, client.client_secret) });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

async function call(app: RunningResourceApp, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${app.url}/reports`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/** What `npm run cli -- keys rotate --alg <alg>` does: rotate from another connection; the servers hear of it by NOTIFY. */
async function rotate(alg: SigningAlgorithm, clock: Clock = new SystemClock()): Promise<void> {
  const db = await createDataSource(server.databaseUrl).initialize();
  const feed = new PostgresChangeFeed({ url: server.databaseUrl });
  await feed.start();
  const keys = composeAdministration(server.config, typeOrmStorage(db, { changes: feed }), { clock }).keySet(alg);
  try {
    await keys.init();
    await keys.rotate(alg);
  } finally {
    keys.close();
    await feed.close();
    await db.destroy();
  }
}

/** A token the auth server issues once it signs with `alg` (it reloads its keys on the NOTIFY). */
async function tokenSignedWith(alg: string, notKid?: string): Promise<string> {
  const until = Date.now() + 5000;
  for (;;) {
    const token = await issue();
    const header = decodeProtectedHeader(token);
    if (header.alg === alg && header.kid !== notKid) return token;
    if (Date.now() > until) throw new Error(`the auth server still signs with ${decodeProtectedHeader(token).alg}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A well-formed at+jwt for us, signed by a key of our own under a kid the auth server never published. */
async function madeUpKidToken(n: number): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: client.client_id, scope: 'read' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: `made-up-${n}` })
    .setIssuer(server.url)
    .setAudience(AUDIENCE)
    .setSubject(client.client_id)
    .setJti(`forged-${n}`)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}

/** The active key's private half, read from the database (as someone who could read it and the KEK would). */
async function stealActiveKey(): Promise<{ kid: string; alg: string; key: CryptoKey | Uint8Array }> {
  const db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  try {
    const [row] = (await db.query(`SELECT kid, alg, private_key FROM signing_keys WHERE status = 'active'`)).rows;
    return { kid: row.kid, alg: row.alg, key: await importJWK(JSON.parse(decryptPrivateKey(row.private_key, row.kid, testKeyEncryption())), row.alg) };
  } finally {
    await db.end();
  }
}

/** A token for the app signed with `stolen`, claiming `iat`. */
function forged(stolen: Awaited<ReturnType<typeof stealActiveKey>>, iat: number): Promise<string> {
  return new SignJWT({ client_id: client.client_id, scope: 'read' })
    .setProtectedHeader({ alg: stolen.alg, typ: 'at+jwt', kid: stolen.kid })
    .setIssuer(server.url)
    .setAudience(AUDIENCE)
    .setSubject(client.client_id)
    .setJti(`forged-${stolen.kid}-${iat}`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(stolen.key);
}

const UNKNOWN_KEY = { status: 401, body: { error: 'invalid_token', error_description: 'unknown signing key' } };

describe.each([
  ['without the revocation feed (no credentials)', false],
  ['following the revocation feed', true],
])('TokenGuard %s', (_name, feed) => {
  let app: RunningResourceApp;
  beforeEach(async () => {
    app = await startResourceApp('fastify', {
      issuer: server.url,
      audience: AUDIENCE,
      ...(feed && { introspection: { clientId: introspector.client_id, clientSecret: introspector.client_secret } }),
      jwksRefetchMinIntervalSeconds: 2,
    });
  });
  afterEach(() => app.close());

  it.each<SigningAlgorithm>(['EdDSA', 'RS256', 'ES256'])('accepts JWTs of a key rotated in with %s, with no restart', async (alg) => {
    expect((await call(app, await issue())).status).toBe(200); // metadata and keys fetched
    await rotate(alg);
    const token = await tokenSignedWith(alg);
    expect(await call(app, token)).toMatchObject({ status: 200, body: { format: 'jwt', jti: expect.any(String) } });
  });

  it('refuses a JWT its key signed after the key was retired (the JWKS says when), even one it had cached, and one from the future', async () => {
    const stolen = await stealActiveKey();
    const now = Math.floor(Date.now() / 1000);
    const cached = await forged(stolen, now);
    expect((await call(app, cached)).status).toBe(200); // while active: accepted, and cached
    expect(await call(app, await forged(stolen, now + 30))).toEqual({ status: 401, body: { error: 'invalid_token', error_description: 'token issued in the future' } });

    // Retired a minute ago, by the rotating process's clock.
    await rotate('ES256', new FixedClock(new Date((now - 60) * 1000)));
    // The guard fetches the JWKS when the feed announces the rotation, or for the new key's first token.
    expect((await call(app, await tokenSignedWith('ES256', stolen.kid))).status).toBe(200);

    const afterRetirement = { status: 401, body: { error: 'invalid_token', error_description: 'token issued after its signing key was retired' } };
    expect(await call(app, cached)).toEqual(afterRetirement);
    expect(await call(app, await forged(stolen, now))).toEqual(afterRetirement);
    // The JWKS's retired_at allows a few seconds' grace, for what instances that had not heard of the rotation signed.
    expect(await call(app, await forged(stolen, now - 60 + RETIREMENT_GRACE_SECONDS + 1))).toEqual(afterRetirement);
    expect((await call(app, await forged(stolen, now - 60 + RETIREMENT_GRACE_SECONDS))).status).toBe(200);
    expect((await call(app, await forged(stolen, now - 61))).status).toBe(200); // signed before its retirement
  });

  it('accepts a new key’s first token right after a made-up kid used up a refetch', async () => {
    expect((await call(app, await issue())).status).toBe(200);
    expect(await call(app, await madeUpKidToken(1))).toEqual(UNKNOWN_KEY); // a JWKS fetch, just now
    await rotate('ES256');
    const token = await tokenSignedWith('ES256');
    // Before: refused until the refetch interval had passed. Now: it waits for the next fetch.
    expect((await call(app, token)).status).toBe(200);
  });
});

it('with the feed, fetches a rotated-in key when it is announced, while made-up kids wait on the refetch interval', async () => {
  const app = await startResourceApp('fastify', {
    issuer: server.url,
    audience: AUDIENCE,
    introspection: { clientId: introspector.client_id, clientSecret: introspector.client_secret },
    // Longer than this test may run: only the announcement can bring the new key in time.
    jwksRefetchMinIntervalSeconds: 600,
  });
  try {
    expect((await call(app, await issue())).status).toBe(200);
    // Tokens with made-up kids: each waits for a fetch that starts after it arrived, due in 600 s.
    const madeUp = Promise.all(Array.from({ length: 20 }, async (_, n) => call(app, await madeUpKidToken(n))));
    await rotate('EdDSA');
    const token = await tokenSignedWith('EdDSA');
    expect(await call(app, token)).toMatchObject({ status: 200, body: { format: 'jwt' } });
    // The announced fetch answered them too, without the new key's help.
    expect(await madeUp).toEqual(Array.from({ length: 20 }, () => UNKNOWN_KEY));
  } finally {
    await app.close();
  }
});
