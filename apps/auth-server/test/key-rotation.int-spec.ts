// Scheduled signing-key rotation (issue 12, point 5): with two instances on one database, exactly one rotates when
// the active key is TESSERA_KEY_ROTATION_INTERVAL old; both then sign with the new key, the retired key stays in
// both JWKS while tokens it signed are live (introspection and a resource server's TokenGuard accept them), and it
// leaves the JWKS once they have expired. The instances' clocks are ManualClocks: time jumps, nothing sleeps it out.
import { ManualClock } from '@tessera/testing';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { JwksKeyStore } from '../../../libs/token-guard/src/jwks.key-store.js';
import { JwtAccessTokenChecker } from '../../../libs/token-guard/src/jwt-access-token.checker.js';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

type Registered = { client_id: string; client_secret: string };

/** The shortest settings the configuration allows: tokens live at most a minute, the key is rotated every minute. */
const ENV = { TESSERA_ACCESS_TOKEN_TTL: '60', TESSERA_MAX_ACCESS_TOKEN_TTL: '60', TESSERA_KEY_ROTATION_INTERVAL: '60' };

const clocks = [new ManualClock(), new ManualClock()];
let a: RunningAuthServer;
let b: RunningAuthServer;
/** A resource server's view, as TokenGuard builds it: the JWKS of instance A, fetched again when told the keys changed. */
let jwks: JwksKeyStore;
let checker: JwtAccessTokenChecker;
const RESOURCE = 'https://notes.example';
let jwtClient: Registered;
let opaqueClient: Registered;

beforeAll(async () => {
  a = await startAuthServer({ clock: clocks[0], env: ENV });
  // The second instance shares the database and the issuer (as instances behind one address do).
  b = await startAuthServer({ clock: clocks[1], databaseUrl: a.databaseUrl, env: { ...ENV, TESSERA_ISSUER: a.config.issuer.url } });
  jwtClient = await registerClient(a.url, { access_token_format: 'jwt', scope: 'notes:read', resources: [RESOURCE] });
  opaqueClient = await registerClient(a.url, { access_token_format: 'opaque', scope: 'notes:read', resources: [RESOURCE] });
  // On the instances' time, as a resource server whose clock agrees with theirs.
  jwks = new JwksKeyStore(async () => `${a.url}/.well-known/jwks.json`, 0, () => clocks[0].now().getTime());
  checker = new JwtAccessTokenChecker({ issuer: a.config.issuer.url, audience: RESOURCE, clockToleranceSeconds: 5 }, jwks, clocks[0]);
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what}: not in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function advance(seconds: number): void {
  for (const clock of clocks) clock.advance(seconds);
}

async function keyRows(): Promise<{ kid: string; status: string; created_at: Date }[]> {
  const db = new pg.Client({ connectionString: a.databaseUrl });
  await db.connect();
  try {
    return (await db.query('SELECT kid, status, created_at FROM signing_keys ORDER BY created_at')).rows;
  } finally {
    await db.end();
  }
}

async function issue(server: RunningAuthServer, c: Registered): Promise<string> {
  const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
  expect(res.status).toBe(200);
  return (await res.json()).access_token;
}

async function introspect(server: RunningAuthServer, token: string, c = jwtClient): Promise<Record<string, unknown>> {
  const res = await postForm(`${server.url}/oauth2/introspect`, { token }, { authorization: basicAuth(c.client_id, c.client_secret) });
  expect(res.status).toBe(200);
  return res.json();
}

async function jwksKids(server: RunningAuthServer): Promise<string[]> {
  const res = await fetch(`${server.url}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
  return ((await res.json()).keys as { kid: string }[]).map((k) => k.kid);
}

/** What TokenGuard's JWT check says of a token (against the JWKS it fetched): its client, or the error's description. */
async function check(token: string): Promise<string> {
  return checker.check(token).then(
    (record) => record.token.clientId,
    (error: Error) => error.message,
  );
}

it('rotates once across two instances, keeps the old key published while its tokens live, then retires it', async () => {
  const [first] = await keyRows();
  expect(await keyRows()).toMatchObject([{ kid: first.kid, status: 'active' }]);

  // Not due yet (the key is 59 s old by the instances' clocks): nothing happens, however often they ask.
  advance(59 - (clocks[0].now().getTime() - first.created_at.getTime()) / 1000);
  expect(await Promise.all([a.services.keys.rotateIfDue(60), b.services.keys.rotateIfDue(60)])).toEqual([false, false]);
  expect(await keyRows()).toHaveLength(1);
  // Tokens of the first key, issued just before it is rotated out.
  const before = [await issue(a, jwtClient), await issue(b, jwtClient)];
  const opaqueBefore = await issue(b, opaqueClient);
  for (const token of before) expect(decodeProtectedHeader(token).kid).toBe(first.kid);
  for (const token of before) expect(await check(token)).toBe(jwtClient.client_id);

  // Due: both instances' schedulers and these calls race for it; one rotates.
  advance(2);
  const outcomes = await Promise.all([1, 2, 3].flatMap(() => [a.services.keys.rotateIfDue(60), b.services.keys.rotateIfDue(60)]));
  expect(outcomes.filter(Boolean).length).toBeLessThanOrEqual(1);
  let second = '';
  await eventually('both instances sign with the new key', async () => {
    const kids = [decodeProtectedHeader(await issue(a, jwtClient)).kid, decodeProtectedHeader(await issue(b, jwtClient)).kid];
    second = kids[0] ?? '';
    return kids.every((kid) => kid !== first.kid) && kids[0] === kids[1];
  });
  expect(await keyRows()).toMatchObject([
    { kid: first.kid, status: 'retired' },
    { kid: second, status: 'active' },
  ]);

  // The overlap: both keys in both JWKS; tokens of the old key verify at both instances and at the resource server.
  for (const server of [a, b]) expect(await jwksKids(server)).toEqual(expect.arrayContaining([first.kid, second]));
  for (const server of [a, b]) {
    for (const token of before) expect(await introspect(server, token)).toMatchObject({ active: true, client_id: jwtClient.client_id });
    expect(await introspect(server, opaqueBefore, opaqueClient)).toMatchObject({ active: true });
  }
  const after = await issue(b, jwtClient);
  expect(decodeProtectedHeader(after).kid).toBe(second);
  await jwks.refreshNow(); // what the revocation feed's `keys` event makes TokenGuard do
  for (const token of [...before, after]) expect(await check(token)).toBe(jwtClient.client_id);
  // Still one rotation: the new key is not due for another interval.
  expect(await Promise.all([a.services.keys.rotateIfDue(60), b.services.keys.rotateIfDue(60)])).toEqual([false, false]);
  expect(await keyRows()).toHaveLength(2);

  // Past the longest token lifetime plus the skew: every token of the old key has expired, and it leaves the JWKS.
  advance(60);
  for (const server of [a, b]) expect(await jwksKids(server)).toContain(first.kid); // a token issued just before rotation may live on
  advance(61);
  for (const server of [a, b]) {
    const kids = await jwksKids(server);
    expect(kids).not.toContain(first.kid);
    expect(kids).toContain(second);
    for (const token of before) expect(await introspect(server, token)).toEqual({ active: false });
  }

  // By now the second key is due too: nobody calls, the instances' own schedulers rotate it, once.
  await eventually('the schedulers rotate the second key', async () => (await keyRows()).length > 2);
  const rows = await keyRows();
  expect(rows.map((r) => r.status)).toEqual(['retired', 'retired', 'active']);
  expect(rows[1].kid).toBe(second);
  await eventually('both instances sign with the third key', async () =>
    [await issue(a, jwtClient), await issue(b, jwtClient)].every((t) => decodeProtectedHeader(t).kid === rows[2].kid),
  );
  expect(await Promise.all([a.services.keys.rotateIfDue(60), b.services.keys.rotateIfDue(60)])).toEqual([false, false]);
  expect(await keyRows()).toHaveLength(3);
});
