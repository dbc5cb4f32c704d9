// Retired signing keys (issue 10, point 6): a key rotated out loses its private half, in the database, whether it
// is retired or revoked as compromised; a retired key never signs again, so a token it signed with an `iat` after its
// retirement (beyond a grace of seconds for instances that had not heard of it) is not the auth server's, and
// neither is one issued in the future.
import { FixedClock } from '@tessera/oauth-core';
import { createDataSource, typeOrmStorage } from '@tessera/persistence';
import { composeAdministration } from '@tessera/server';
import { decryptPrivateKey, RETIREMENT_GRACE_SECONDS } from '@tessera/tokens';
import { decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { basicAuth, postForm, registerClient, startAuthServer, testKeyEncryption, type RunningAuthServer } from './auth-server.harness.js';

type Registered = { client_id: string; client_secret: string };

let server: RunningAuthServer;
let other: DataSource;
let c: Registered;

beforeAll(async () => {
  server = await startAuthServer();
  other = await createDataSource(server.databaseUrl).initialize();
  c = await registerClient(server.url, { access_token_format: 'jwt' });
});
afterAll(async () => {
  await other.destroy();
  await server.stop();
});

async function rows(): Promise<{ kid: string; status: string; private_key: string | null; retired_at: Date | null }[]> {
  const db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  try {
    return (await db.query('SELECT kid, status, private_key, retired_at FROM signing_keys ORDER BY created_at')).rows;
  } finally {
    await db.end();
  }
}

async function issue(): Promise<string> {
  const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
  expect(res.status).toBe(200);
  return (await res.json()).access_token;
}

async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await postForm(`${server.url}/oauth2/introspect`, { token }, { authorization: basicAuth(c.client_id, c.client_secret) });
  expect(res.status).toBe(200);
  return res.json();
}

/** What someone who read the key's private half (before it was destroyed) can sign: a token with the claims they choose. */
async function forge(stolen: { kid: string; privateJwk: JWK }, iat: number): Promise<string> {
  const key = await importJWK(stolen.privateJwk, 'ES256');
  return new SignJWT({ client_id: c.client_id })
    .setProtectedHeader({ alg: 'ES256', kid: stolen.kid, typ: 'at+jwt' })
    .setIssuer(server.config.issuer.url)
    .setAudience(server.config.issuer.url)
    .setSubject(c.client_id)
    .setJti(`forged-${iat}`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(key);
}

async function steal(): Promise<{ kid: string; privateJwk: JWK }> {
  const active = (await rows()).find((r) => r.status === 'active')!;
  return { kid: active.kid, privateJwk: JSON.parse(decryptPrivateKey(active.private_key!, active.kid, testKeyEncryption())) };
}

/** What `keys rotate [--revoke-tokens]` does, from another connection, with a clock at `at`. The server hears of it by NOTIFY. */
async function rotate(at: Date, revokeSigned = false): Promise<void> {
  const keys = composeAdministration(server.config, typeOrmStorage(other), { clock: new FixedClock(at) }).keySet('ES256');
  await keys.init();
  await keys.rotate('ES256', { revokeSigned });
  keys.close();
}

async function signedWithNewKey(oldKid: string): Promise<string> {
  for (let i = 0; i < 250; i++) {
    const token = await issue();
    if (decodeProtectedHeader(token).kid !== oldKid) return token;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the server still signs with the retired key');
}

it("destroys a retired key's private half, and refuses a token it signed after its retirement or one from the future", async () => {
  const stolen = await steal();
  const now = Math.floor(Date.now() / 1000);
  expect(await introspect(await forge(stolen, now))).toMatchObject({ active: true }); // while active, the key is the server's word

  // Retired a minute ago (the rotating process's clock says so): still published for the tokens it signed before.
  const retiredAt = now - 60;
  await rotate(new Date(retiredAt * 1000));
  await signedWithNewKey(stolen.kid);
  const retired = (await rows()).find((r) => r.kid === stolen.kid)!;
  expect(retired).toMatchObject({ status: 'retired', private_key: null });

  // The JWKS's retired_at allows a few seconds' grace, for what instances that had not heard of the rotation signed.
  const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
  expect(jwks.keys.find((k: JWK) => k.kid === stolen.kid)).toMatchObject({ retired_at: retiredAt + RETIREMENT_GRACE_SECONDS });
  expect(await introspect(await forge(stolen, retiredAt - 1))).toMatchObject({ active: true });
  expect(await introspect(await forge(stolen, retiredAt + RETIREMENT_GRACE_SECONDS))).toMatchObject({ active: true });
  expect(await introspect(await forge(stolen, retiredAt + RETIREMENT_GRACE_SECONDS + 1))).toEqual({ active: false });
  expect(await introspect(await forge(stolen, now))).toEqual({ active: false });

  // From the future (beyond the server's leeway of none), even under the active key.
  const current = await steal();
  expect(await introspect(await forge(current, Math.floor(Date.now() / 1000) + 120))).toEqual({ active: false });
  expect(await introspect(await forge(current, Math.floor(Date.now() / 1000) - 1))).toMatchObject({ active: true });
});

it("destroys the private half of a key revoked as compromised", async () => {
  const before = await steal();
  await rotate(new Date(), true);
  await signedWithNewKey(before.kid);
  expect((await rows()).find((r) => r.kid === before.kid)).toMatchObject({ status: 'retired', private_key: null });
  // Exactly one key keeps a private half: the active one.
  expect((await rows()).filter((r) => r.private_key !== null).map((r) => r.status)).toEqual(['active']);
});
