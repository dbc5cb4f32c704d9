// Changes made by another process (the operator CLI, another instance) reach this server's caches at once.
import { createDataSource, typeOrmStorage, PostgresChangeFeed, TypeOrmClientRepository } from '@tessera/persistence';
import { composeAdministration } from '@tessera/server';
import { decodeProtectedHeader } from 'jose';
import type { DataSource } from 'typeorm';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let server: RunningAuthServer;
let other: DataSource;
beforeAll(async () => {
  server = await startAuthServer();
  other = await createDataSource(server.databaseUrl).initialize();
});
afterAll(async () => {
  await other.destroy();
  await server.stop();
});

const token = (c: { client_id: string; client_secret: string }) =>
  postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('a client disabled by another process is refused at once, and its tokens are inactive', async () => {
  const c = await registerClient(server.url, { access_token_format: 'jwt', resources: ['https://api.example'] });
  const rs = await registerClient(server.url, { scope: '', resource_server_for: ['https://api.example'] });
  const { access_token } = await (await token(c)).json(); // the client is now cached
  await new TypeOrmClientRepository(other).update(c.client_id, { disabledAt: new Date() }, new Date());
  await eventually(async () => (await token(c)).status === 401);
  const introspected = await postForm(`${server.url}/oauth2/introspect`, { token: access_token }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
  expect(await introspected.json()).toEqual({ active: false });
});

it('a key rotated by another process signs new tokens, and the retired key stays published', async () => {
  const c = await registerClient(server.url, { access_token_format: 'jwt', resources: ['https://api.example'] });
  const rs = await registerClient(server.url, { scope: '', resource_server_for: ['https://api.example'] });
  const before = (await (await token(c)).json()).access_token;
  const oldKid = decodeProtectedHeader(before).kid;

  const feed = new PostgresChangeFeed({ url: server.databaseUrl });
  await feed.start();
  const keys = composeAdministration(server.config, typeOrmStorage(other, { changes: feed })).keySet('EdDSA');
  await keys.init();
  await keys.rotate('EdDSA');
  keys.close();
  await feed.close();

  await eventually(async () => decodeProtectedHeader((await (await token(c)).json()).access_token).alg === 'EdDSA');
  const jwks = await (await fetch(`${server.url}/.well-known/jwks.json`)).json();
  expect(jwks.keys.map((k: { kid: string; alg: string }) => k.alg).sort()).toEqual(['ES256', 'EdDSA']);
  expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(oldKid);
  const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
  expect(metadata.access_token_signing_alg_values_supported.sort()).toEqual(['ES256', 'EdDSA']);
  const introspect = await postForm(`${server.url}/oauth2/introspect`, { token: before }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
  expect((await introspect.json()).active).toBe(true);
});

/**
 * Issue 11: each instance keeps opaque tokens' claims in memory, and answers an introspection from there only once a
 * read of the revocation log's latest seq, started after the request came, shows every revocation committed before
 * it applied there. So what one instance answered 200 for is seen by the next introspection at any other, at once.
 */
describe('two instances on one database, each holding opaque tokens in memory', () => {
  let b: RunningAuthServer;
  let rs: { client_id: string; client_secret: string };
  beforeAll(async () => {
    b = await startAuthServer({ databaseUrl: server.databaseUrl, proxy: true });
    rs = await registerClient(server.url, { scope: '', resource_server_for: ['https://api.example'] });
  });
  afterAll(() => b.stop());

  const opaqueClient = () => registerClient(server.url, { access_token_format: 'opaque', resources: ['https://api.example'] });
  const issuedAtA = async (c: { client_id: string; client_secret: string }) => {
    const res = await token(c);
    expect(res.status).toBe(200);
    return (await res.json()).access_token as string;
  };
  const introspectAtB = async (accessToken: string) => {
    const res = await postForm(`${b.url}/oauth2/introspect`, { token: accessToken }, { authorization: basicAuth(rs.client_id, rs.client_secret) });
    expect(res.status).toBe(200);
    return res.json();
  };
  const revokeAtA = async (accessToken: string, c: { client_id: string; client_secret: string }) => {
    const res = await postForm(`${server.url}/oauth2/revoke`, { token: accessToken }, { authorization: basicAuth(c.client_id, c.client_secret) });
    expect(res.status).toBe(200);
  };
  /** The statements B sends while `work` runs that read an access token (not the fence on the log). */
  const tokenReadsAtB = async (work: () => Promise<unknown>) => {
    const trips = b.proxy!.roundTrips;
    trips.length = 0;
    await work();
    return trips.filter((sql) => sql.includes('FROM access_tokens'));
  };
  /**
   * Introspected at B until B holds it: the first read goes to the database, a later one is answered from memory,
   * once B has applied every log entry committed before it (an earlier test's revocation at A may still be on its way
   * to B: until then B rightly reads the row).
   */
  const heldAtB = async (accessToken: string) => {
    expect(await introspectAtB(accessToken)).toMatchObject({ active: true });
    let reads: string[] = [];
    for (let attempt = 0; attempt < 40; attempt++) {
      reads = await tokenReadsAtB(async () => expect(await introspectAtB(accessToken)).toMatchObject({ active: true }));
      if (reads.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(reads).toEqual([]);
  };

  it('a token issued at another instance is read from the database once, then answered from memory', async () => {
    const c = await opaqueClient();
    const accessToken = await issuedAtA(c);
    expect(await tokenReadsAtB(() => introspectAtB(accessToken))).toHaveLength(1);
    expect(await tokenReadsAtB(() => introspectAtB(accessToken))).toEqual([]);
    expect(await introspectAtB(accessToken)).toMatchObject({ active: true, client_id: c.client_id });
  });

  it('a token revoked at one instance is inactive at the other at once, though the other held it in memory', async () => {
    const c = await opaqueClient();
    const accessToken = await issuedAtA(c);
    await heldAtB(accessToken);
    await revokeAtA(accessToken, c);
    expect(await introspectAtB(accessToken)).toEqual({ active: false });
  });

  it('a client disabled at one instance: its tokens held in memory at the other are inactive there at once', async () => {
    const c = await opaqueClient();
    const accessToken = await issuedAtA(c);
    await heldAtB(accessToken);
    // No notification reaches B: its cached client stays enabled; the issued-before mark in the log is what counts.
    b.proxy!.stallListeners();
    try {
      await server.services.registrar.disable(c.client_id);
      expect(await introspectAtB(accessToken)).toEqual({ active: false });
    } finally {
      b.proxy!.resumeListeners();
    }
  });

  it('with its LISTEN connection stalled (no notification comes), an instance still sees a revocation made at another at once', async () => {
    const c = await opaqueClient();
    const [revoked, kept] = [await issuedAtA(c), await issuedAtA(c)];
    await heldAtB(revoked);
    await heldAtB(kept);
    b.proxy!.stallListeners();
    try {
      await revokeAtA(revoked, c);
      expect(await introspectAtB(revoked)).toEqual({ active: false });
      expect(await introspectAtB(kept)).toMatchObject({ active: true });
    } finally {
      b.proxy!.resumeListeners();
    }
  });
});
