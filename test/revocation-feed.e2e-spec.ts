// Revocation that reaches every resource server within a second: two auth-server instances on one PostgreSQL,
// behind one issuer, and two resource servers, each following the revocation feed of one instance, for both token formats.
import { decodeProtectedHeader } from 'jose';
import * as oauth from 'oauth4webapi';
import { createDataSource, typeOrmStorage, TypeOrmClientRepository, TypeOrmRevocationRepository } from '@tessera/persistence';
import { composeAdministration } from '@tessera/server';
import { TokenGuardStatus } from '@tessera/token-guard';
import type { DataSource } from 'typeorm';
import { INITIAL_ACCESS_TOKEN, registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';
import { startResourceServer, type RunningResourceServer } from '../apps/resource-server/test/resource-server.harness.js';
import { waitFor } from './support/wait.js';

/** The issuer both instances share, as behind a load balancer: not reachable, so every call must go to an instance's own URL. */
const ISSUER = 'http://auth.tessera.test';
/** Both resource servers are one API (one audience), so both accept the same token. */
const RESOURCE = 'http://notes.tessera.test';
const MAX_STALENESS_SECONDS = 3;
const AUTH_ENV = { TESSERA_ISSUER: ISSUER, TESSERA_REVOCATION_FEED_HEARTBEAT: '1' };
const insecure = { [oauth.allowInsecureRequests]: true };

let a: RunningAuthServer;
let b: RunningAuthServer;
/** RS-1 follows instance A, RS-2 instance B. */
let rs1: RunningResourceServer;
let rs2: RunningResourceServer;
let authDb: DataSource;
/** Revocation-to-rejection delays, printed once at the end. */
const delays = { live: [] as string[], afterRestart: [] as string[] };

let bIsDown = false;
/** Stops instance B; its database is A's, so it stays in place. */
const stopB = async () => {
  bIsDown = true;
  await b.stop();
};
/** Instance B again, on the same port and database, where RS-2 expects it. */
const restartB = async () => {
  b = await startAuthServer({ databaseUrl: a.databaseUrl, port: Number(new URL(b.url).port), env: AUTH_ENV });
  bIsDown = false;
};
// A test that failed with B down leaves it up again for the next one.
afterEach(async () => {
  if (bIsDown) await restartB();
});

beforeAll(async () => {
  a = await startAuthServer({ env: AUTH_ENV });
  b = await startAuthServer({ databaseUrl: a.databaseUrl, env: AUTH_ENV });
  // The resource servers' own client (RFC 7591): it introspects and reads the feed.
  const own = await registerClient(a.url, { client_name: 'notes api', scope: '', resource_server_for: [RESOURCE] });
  const rsEnv = (authServer: RunningAuthServer) => ({
    TESSERA_AUTH_SERVER_URL: authServer.url,
    TESSERA_RESOURCE_URL: RESOURCE,
    TESSERA_RESOURCE_CLIENT_ID: own.client_id,
    TESSERA_RESOURCE_CLIENT_SECRET: own.client_secret,
    TESSERA_REVOCATION_MAX_STALENESS: String(MAX_STALENESS_SECONDS),
  });
  rs1 = await startResourceServer({ issuer: ISSUER, env: rsEnv(a) });
  rs2 = await startResourceServer({ issuer: ISSUER, env: rsEnv(b) });
  // What the operator CLI does to disable a client.
  authDb = await createDataSource(a.databaseUrl).initialize();
  // Following from start-up: each reports ready once it has caught up.
  await waitFor('both resource servers ready', () => Promise.all([ready(rs1), ready(rs2)]), ([r1, r2]) => r1.status === 200 && r2.status === 200, 10_000);
});

afterAll(async () => {
  if (delays.live.length > 0) {
    console.log(
      `revocation through instance A to rejection by RS-2 (following instance B): ${delays.live.join(', ')}` +
        `; revoked while B was down, rejected after B restarted: ${delays.afterRestart.join(', ')}`,
    );
  }
  await rs2?.stop();
  await rs1?.stop();
  await authDb?.destroy();
  if (!bIsDown) await b?.stop(); // on A's database: leaves it in place
  await a?.stop();
});

/** GET /api/notes with a token: status, body, and the headers that matter. */
async function listNotes(rs: RunningResourceServer, token: string) {
  const res = await fetch(`${rs.url}/api/notes`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json(), challenge: res.headers.get('www-authenticate'), retryAfter: res.headers.get('retry-after') };
}

async function ready(rs: RunningResourceServer) {
  const res = await fetch(`${rs.url}/health/ready`);
  return { status: res.status, body: await res.json() };
}

const accepted = { status: 200, body: { notes: [] }, challenge: null, retryAfter: null };
const refused = (description: string) => ({
  status: 401,
  body: { error: 'invalid_token', error_description: description },
  challenge: `Bearer realm="${RESOURCE}", error="invalid_token", error_description="${description}"`,
  retryAfter: null,
});

describe.each(['opaque', 'jwt'] as const)('with %s access tokens', (format) => {
  /** Opaque: the auth server says inactive once the cached result is dropped; JWT: TokenGuard's own revocation list says so. */
  const revoked = refused(format === 'opaque' ? 'token is not active' : 'token revoked');
  /** Instance A as oauth4webapi sees it: its real endpoints, for the shared issuer. */
  let as: oauth.AuthorizationServer;

  /** A client registered through RFC 7591 that gets tokens for the notes API (client credentials, RFC 8707 resource) and revokes them (RFC 7009). */
  async function aClient() {
    const registered = await registerClient(a.url, { access_token_format: format, scope: 'notes:read notes:write' });
    const client: oauth.Client = { client_id: registered.client_id };
    const auth = oauth.ClientSecretBasic(registered.client_secret);
    return {
      clientId: registered.client_id,
      async token(): Promise<string> {
        const response = await oauth.clientCredentialsGrantRequest(as, client, auth, { resource: RESOURCE }, insecure);
        return (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
      },
      async revoke(token: string): Promise<void> {
        await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, token, insecure));
      },
    };
  }

  let client: Awaited<ReturnType<typeof aClient>>;
  beforeAll(async () => {
    as = { issuer: ISSUER, token_endpoint: `${a.url}/oauth2/token`, revocation_endpoint: `${a.url}/oauth2/revoke` };
    client = await aClient();
  });

  it('is accepted by both resource servers, the second time from their caches', async () => {
    const token = await client.token();
    expect(token.startsWith('tsr_at_')).toBe(format === 'opaque');
    for (const rs of [rs1, rs2, rs1, rs2]) expect(await listNotes(rs, token)).toEqual(accepted);
  });

  it('revoked through instance A, is refused within a second by the resource server following instance B', async () => {
    const token = await client.token();
    const other = await client.token();
    for (const rs of [rs1, rs2]) {
      expect(await listNotes(rs, token)).toEqual(accepted); // now cached: introspection result, or verified JWT
      expect(await listNotes(rs, other)).toEqual(accepted);
    }

    await client.revoke(token);
    const { value, elapsed } = await waitFor('RS-2 refuses the revoked token', () => listNotes(rs2, token), (r) => r.status !== 200, 1000);
    delays.live.push(`${format} ${elapsed.toFixed(0)} ms`);
    expect(value).toEqual(revoked);
    // RS-1 follows instance A: the entry reaches it on its own stream, within the same second (not necessarily first).
    const atRs1 = await waitFor('RS-1 refuses the revoked token', () => listNotes(rs1, token), (r) => r.status !== 200, 1000);
    expect(atRs1.value).toEqual(revoked);
    // Only that token.
    expect(await listNotes(rs1, other)).toEqual(accepted);
    expect(await listNotes(rs2, other)).toEqual(accepted);
  });

  it("is refused after revocations of another audience's tokens, which the resource servers are not shown", async () => {
    const token = await client.token();
    for (const rs of [rs1, rs2]) expect(await listNotes(rs, token)).toEqual(accepted);
    // Tokens of another API, revoked first: their entries only move the resource servers' cursors.
    const registered = await registerClient(a.url, { access_token_format: format, scope: 'notes:read' });
    const elsewhere: oauth.Client = { client_id: registered.client_id };
    const auth = oauth.ClientSecretBasic(registered.client_secret);
    for (let i = 0; i < 3; i++) {
      const response = await oauth.clientCredentialsGrantRequest(as, elsewhere, auth, { resource: 'https://elsewhere.example' }, insecure);
      const foreign = (await oauth.processClientCredentialsResponse(as, elsewhere, response)).access_token;
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, elsewhere, auth, foreign, insecure));
    }
    // Their cursors move past those entries all the same (a later heartbeat would otherwise look like a gap).
    const latest = await new TypeOrmRevocationRepository(authDb).latestSeq();
    await waitFor(
      'both resource servers past the entries they are not shown',
      async () => [rs1, rs2].map((rs) => rs.app.get(TokenGuardStatus).revocationFeed()),
      (feeds) => feeds.every((f) => f.lastSeq === latest && f.caughtUp && !f.stale),
      2000,
    );
    await client.revoke(token);
    for (const rs of [rs2, rs1]) {
      const { value } = await waitFor(`${rs === rs1 ? 'RS-1' : 'RS-2'} refuses the revoked token`, () => listNotes(rs, token), (r) => r.status !== 200, 1000);
      expect(value).toEqual(revoked);
    }
    // Still current (no false gap, no resync): both ready, and other tokens accepted.
    for (const rs of [rs1, rs2]) {
      expect((await ready(rs)).status).toBe(200);
      expect(await listNotes(rs, await client.token())).toEqual(accepted);
    }
  });

  it('refuses every token of a disabled client at both resource servers', async () => {
    const doomed = await aClient();
    const tokens = [await doomed.token(), await doomed.token()];
    const bystander = await client.token();
    for (const rs of [rs1, rs2]) for (const token of tokens) expect(await listNotes(rs, token)).toEqual(accepted);

    const now = new Date();
    expect(await new TypeOrmClientRepository(authDb).update(doomed.clientId, { disabledAt: now }, now)).toMatchObject({ clientId: doomed.clientId });

    const everywhere = () => Promise.all([rs1, rs2].flatMap((rs) => tokens.map((token) => listNotes(rs, token))));
    const { value } = await waitFor('both refuse both tokens', everywhere, (all) => all.every((r) => r.status !== 200), 1000);
    expect(value).toEqual([revoked, revoked, revoked, revoked]);
    expect(await listNotes(rs1, bystander)).toEqual(accepted);
    expect(await listNotes(rs2, bystander)).toEqual(accepted);
  });

  it('refuses every token of a client deleted through its RFC 7592 configuration endpoint, at both resource servers', async () => {
    // Registered by oauth4webapi (RFC 7591, with the initial access token), as a client would.
    const registration = await oauth.dynamicClientRegistrationRequest(
      { ...as, registration_endpoint: `${a.url}/oauth2/register` },
      { access_token_format: format, scope: 'notes:read' },
      { initialAccessToken: INITIAL_ACCESS_TOKEN, ...insecure },
    );
    const registered = await oauth.processDynamicClientRegistrationResponse(registration);
    const doomed: oauth.Client = { client_id: registered.client_id };
    const auth = oauth.ClientSecretBasic(registered.client_secret as string);
    const token = async () =>
      (await oauth.processClientCredentialsResponse(as, doomed, await oauth.clientCredentialsGrantRequest(as, doomed, auth, { resource: RESOURCE }, insecure)))
        .access_token;
    const tokens = [await token(), await token()];
    const bystander = await client.token();
    for (const rs of [rs1, rs2]) for (const t of tokens) expect(await listNotes(rs, t)).toEqual(accepted);

    // The configuration endpoint is under the shared issuer; this test reaches instance B by its own URL.
    const uri = new URL(registered.registration_client_uri as string);
    expect(uri.origin + uri.pathname).toBe(`${ISSUER}/oauth2/register/${registered.client_id}`);
    const deleted = await fetch(`${b.url}${uri.pathname}`, { method: 'DELETE', headers: { authorization: `Bearer ${registered.registration_access_token}` } });
    expect(deleted.status).toBe(204);

    const everywhere = () => Promise.all([rs1, rs2].flatMap((rs) => tokens.map((t) => listNotes(rs, t))));
    const { value } = await waitFor('both refuse both tokens', everywhere, (all) => all.every((r) => r.status !== 200), 5000);
    expect(value).toEqual([revoked, revoked, revoked, revoked]);
    await expect(token()).rejects.toThrow();
    expect(await listNotes(rs1, bystander)).toEqual(accepted);
    expect(await listNotes(rs2, bystander)).toEqual(accepted);
  });

  it('catches up on what was revoked while instance B was down, once it is back', async () => {
    const token = await client.token();
    for (const rs of [rs1, rs2]) expect(await listNotes(rs, token)).toEqual(accepted);

    await stopB();
    await client.revoke(token);
    // RS-2 cannot know yet (and is still within its staleness bound): its cached verification stands.
    expect(await listNotes(rs2, token)).toEqual(accepted);
    const { value: atA } = await waitFor('RS-1 refuses the revoked token', () => listNotes(rs1, token), (r) => r.status !== 200, 1000);
    expect(atA).toEqual(revoked);

    await restartB();
    const { value, elapsed } = await waitFor('RS-2 refuses the revoked token', () => listNotes(rs2, token), (r) => r.status === 401, 10_000);
    delays.afterRestart.push(`${format} ${elapsed.toFixed(0)} ms`);
    expect(value).toEqual(revoked);
    expect(await ready(rs2)).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', revocation_feed: 'up' } } });
  });

  it('fails closed past its staleness bound while instance B is down, and recovers once it is back', async () => {
    const token = await client.token();
    const revokedMeanwhile = await client.token();
    for (const rs of [rs1, rs2]) for (const t of [token, revokedMeanwhile]) expect(await listNotes(rs, t)).toEqual(accepted);

    const stopping = performance.now();
    await stopB();
    const { value } = await waitFor('RS-2 fails closed', () => listNotes(rs2, token), (r) => r.status !== 200, (MAX_STALENESS_SECONDS + 3) * 1000, 100);
    // Not at the disconnect but past the bound: it last heard from B (a heartbeat, every second) shortly before B stopped.
    expect(performance.now() - stopping).toBeGreaterThan((MAX_STALENESS_SECONDS - 1.5) * 1000);
    expect(value).toEqual({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again later' },
      challenge: null,
      retryAfter: '5',
    });
    expect(await ready(rs2)).toEqual({ status: 503, body: { status: 'unavailable', checks: { database: 'up', revocation_feed: 'stale' } } });
    // RS-1 follows A, which is up: unaffected.
    expect(await listNotes(rs1, token)).toEqual(accepted);
    expect(await ready(rs1)).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', revocation_feed: 'up' } } });
    await client.revoke(revokedMeanwhile);

    await restartB();
    await waitFor('RS-2 accepts valid tokens again', () => listNotes(rs2, token), (r) => r.status === 200, 10_000);
    expect(await listNotes(rs2, token)).toEqual(accepted);
    // Back in service only once caught up: what was revoked while it was stale is refused.
    expect(await listNotes(rs2, revokedMeanwhile)).toEqual(revoked);
    expect(await ready(rs2)).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'up', revocation_feed: 'up' } } });
  });
});

it('refuses every JWT a signing key signed once that key is rotated out as compromised, at both resource servers', async () => {
  const registered = await registerClient(a.url, { access_token_format: 'jwt', scope: 'notes:read' });
  const as: oauth.AuthorizationServer = { issuer: ISSUER, token_endpoint: `${a.url}/oauth2/token` };
  const client: oauth.Client = { client_id: registered.client_id };
  const auth = oauth.ClientSecretBasic(registered.client_secret);
  const token = async () =>
    (await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, auth, { resource: RESOURCE }, insecure)))
      .access_token;
  const before = await token();
  for (const rs of [rs1, rs2]) expect(await listNotes(rs, before)).toEqual(accepted);

  // What `npm run cli -- keys rotate --revoke-tokens` does.
  const keys = composeAdministration(a.config, typeOrmStorage(authDb)).keySet('ES256');
  await keys.init();
  await keys.rotate('ES256', { revokeSigned: true });
  keys.close();

  const everywhere = () => Promise.all([rs1, rs2].map((rs) => listNotes(rs, before)));
  const { value } = await waitFor('both refuse the token of the compromised key', everywhere, (all) => all.every((r) => r.status !== 200), 1000);
  // Refused by the key's revocation mark, or, once the announced JWKS fetch has dropped the key, as signed by an unknown key.
  for (const answer of value) expect([refused('token revoked'), refused('unknown signing key')]).toContainEqual(answer);
  // The auth server agrees: the key is no longer published, so the token is not active.
  const introspected = await fetch(`${b.url}/oauth2/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ token: before }),
  });
  expect(await introspected.json()).toEqual({ active: false });
  // Tokens signed with the new key are accepted at once: the feed announced the new key set, and the guards fetched it.
  const after = await waitFor('a token signed with the new key', token, (t) => decodeProtectedHeader(t).kid === keys.signingKey().kid, 2000);
  for (const rs of [rs1, rs2]) expect(await listNotes(rs, after.value)).toEqual(accepted);
});
