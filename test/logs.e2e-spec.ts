// Issue 12, point 1: "No token, secret, code, password, cookie or Authorization header ever appears in a log
// line. A test greps the logs of a full end-to-end run for every secret it used." Both built apps run as
// processes of their own at the default log level (JSON, since their stdout is not a terminal). oauth4webapi
// registers clients, gets tokens by client_credentials (both formats) and by the code flow with PKCE through the
// sign-in page (one wrong password first), refreshes and reuses a refresh token, replays a code, introspects,
// revokes and calls the resource server. Every secret of the run is collected, and every line both processes
// wrote is searched for each (as sent, base64, base64url and URL-encoded, and the Basic headers). The audit and
// request lines are checked too.
import { randomBytes } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import pg from 'pg';
import { defaultPasswordHasher } from '@tessera/server';
import { createTestDatabase, freePort } from '@tessera/testing';
import { startAuthServer as startInProcess, TEST_KEY_ENCRYPTION_KEY } from '../apps/auth-server/test/auth-server.harness.js';
import { authorizationRequest, discover, insecure, redeem } from './support/oauth-client.js';
import { buildIfStale, startApp, stopProcess, untilReady, type NodeProcess } from './support/processes.js';
import { expectCallback, expectPage, UserAgent } from './support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:8080/callback';

/** Every value that must never be logged, with a name for the failure message. */
const secrets = new Map<string, string>();
function secret(name: string, value: string | undefined | null): void {
  if (value) secrets.set(name, value);
}

/** The user agent, keeping every cookie value the auth server set. */
class RecordingUserAgent extends UserAgent {
  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const response = await super.fetch(url, init);
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = line.split(';')[0].split('=');
      secret(`cookie ${name}`, value);
    }
    return response;
  }
}

let authDb: { url: string; drop: () => Promise<void> };
let rsDb: { url: string; drop: () => Promise<void> };
let auth: NodeProcess;
let rs: NodeProcess;
let issuer: string;
let api: string;


beforeAll(async () => {
  await buildIfStale(['auth-server', 'resource-server']);
  [authDb, rsDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  const [authPort, rsPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${authPort}`;
  api = `http://127.0.0.1:${rsPort}`;
  const initialAccessToken = `iat-${randomBytes(24).toString('base64url')}`;
  secret('initial access token', initialAccessToken);
  secret('key-encryption key', TEST_KEY_ENCRYPTION_KEY);
  auth = startApp('auth', 'auth-server', {
    DATABASE_URL: authDb.url,
    TESSERA_AUTH_PORT: String(authPort),
    TESSERA_ISSUER: issuer,
    TESSERA_INITIAL_ACCESS_TOKEN: initialAccessToken,
    TESSERA_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    TESSERA_SIGN_IN_MAX_FAILURES_PER_ACCOUNT: '2',
  });
  await untilReady(auth, issuer);
  rs = startApp('rs', 'resource-server', {
    TESSERA_RESOURCE_DATABASE_URL: rsDb.url,
    TESSERA_RESOURCE_PORT: String(rsPort),
    TESSERA_RESOURCE_URL: api,
    TESSERA_ISSUER: issuer,
    TESSERA_INITIAL_ACCESS_TOKEN: initialAccessToken,
  });
  await untilReady(rs, api);
  // The resource server registered itself: its secret is one of the run's too.
  const db = new pg.Client({ connectionString: rsDb.url });
  await db.connect();
  try {
    for (const row of (await db.query('SELECT client_id, client_secret FROM registered_clients')).rows) {
      secret('resource server client secret', row.client_secret);
      secret('resource server Basic', Buffer.from(`${encodeURIComponent(row.client_id)}:${encodeURIComponent(row.client_secret)}`).toString('base64'));
    }
  } finally {
    await db.end();
  }
}, 180_000);

afterAll(async () => {
  for (const proc of [rs, auth]) if (proc) await stopProcess(proc);
  await Promise.all([authDb?.drop(), rsDb?.drop()]);
});

async function register(metadata: Record<string, unknown>) {
  const res = await fetch(`${issuer}/oauth2/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secrets.get('initial access token')}`, 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  expect(res.status).toBe(201);
  const client = (await res.json()) as { client_id: string; client_secret?: string; registration_access_token?: string };
  secret(`client secret of ${client.client_id}`, client.client_secret);
  secret(`registration access token of ${client.client_id}`, client.registration_access_token);
  if (client.client_secret) {
    secret(`Basic of ${client.client_id}`, Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64'));
  }
  return client;
}

/** The forms a secret could take in a line: as is, base64, base64url, URL-encoded. */
function forms(value: string): string[] {
  const all = [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url'), encodeURIComponent(value)];
  // A base64 form shorter than this could occur by chance; the value itself is checked whatever its length.
  return [...new Set(all)].filter((f, i) => i === 0 || f.length >= 12);
}

it('logs no secret of a full run, and the audit and request lines it must', async () => {
  const as = await discover(issuer);
  const call = async (token: string) => {
    const res = await fetch(`${api}/api/notes`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.status;
  };

  // client_credentials, both formats, and the resource server.
  const ccTokens: string[] = [];
  const ccClients: string[] = [];
  for (const format of ['opaque', 'jwt']) {
    const registered = await register({ client_name: `cc ${format}`, access_token_format: format, scope: 'notes:read notes:write' });
    const client: oauth.Client = { client_id: registered.client_id };
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(registered.client_secret!), { resource: api, scope: 'notes:read' }, insecure);
    const token = (await oauth.processClientCredentialsResponse(as, client, response)).access_token;
    secret(`${format} client_credentials token`, token);
    ccTokens.push(token);
    ccClients.push(registered.client_id);
    expect(await call(token)).toBe(200);
  }

  // The code flow with PKCE through the sign-in page, one wrong password first.
  const username = `alice-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(15).toString('base64url');
  const wrongPassword = randomBytes(15).toString('base64url');
  const throttledPassword = randomBytes(15).toString('base64url');
  secret('password', password);
  secret('wrong password', wrongPassword);
  secret('password of a throttled attempt', throttledPassword);
  // Created as `users create` does, with the servers' hasher, by a short-lived in-process server on the same database.
  const setup = await startInProcess({ databaseUrl: authDb.url, passwordHasher: defaultPasswordHasher() });
  const alice = await setup.services.users.create(username, password);
  await setup.stop();

  const registered = await register({
    client_name: 'Notes web',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    scope: 'notes:read',
    resources: [api],
  });
  const client: oauth.Client = { client_id: registered.client_id };
  const clientAuth = oauth.ClientSecretBasic(registered.client_secret!);
  const attempt = await authorizationRequest(as, client, { redirectUri: REDIRECT_URI, scope: 'notes:read', resources: [api] });
  secret('code verifier', attempt.codeVerifier);
  secret('state', attempt.state);
  const ua = new RecordingUserAgent(issuer);
  expectPage(await ua.open(attempt.url), 200);
  expectPage(await ua.signIn(username, wrongPassword), 401);
  expectPage(await ua.signIn(username, password), 200);
  const callback = expectCallback(await ua.consent('allow'));
  secret('authorization code', callback.searchParams.get('code'));
  const tokens = await redeem(as, client, clientAuth, attempt, callback);
  secret('code flow access token', tokens.access_token);
  secret('code flow refresh token', tokens.refresh_token);
  expect(await call(tokens.access_token)).toBe(200);

  // Throttled: an unknown account, over its budget of failures (2 in this run).
  const mallory = new RecordingUserAgent(issuer);
  expectPage(await mallory.signIn('mallory', throttledPassword), 401);
  expectPage(await mallory.signIn('mallory', throttledPassword), 401);
  expectPage(await mallory.signIn('mallory', throttledPassword), 429);

  // Refresh, then a reuse of the rotated token.
  const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, insecure));
  secret('refreshed access token', refreshed.access_token);
  secret('refreshed refresh token', refreshed.refresh_token);
  const reuse = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, insecure);
  expect(reuse.status).toBe(400);
  await reuse.arrayBuffer();

  // Introspection by a resource server's client, revocation, and a replayed code.
  const introspector = await register({ client_name: 'introspector', scope: '', resource_server_for: [api] });
  const rsClient: oauth.Client = { client_id: introspector.client_id };
  const introspection = await oauth.processIntrospectionResponse(
    as,
    rsClient,
    await oauth.introspectionRequest(as, rsClient, oauth.ClientSecretBasic(introspector.client_secret!), ccTokens[0], insecure),
  );
  expect(introspection).toMatchObject({ active: true });
  const revoked = await fetch(`${issuer}/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${secrets.get(`Basic of ${ccClients[1]}`)}` },
    body: new URLSearchParams({ token: ccTokens[1] }).toString(),
  });
  expect(revoked.status).toBe(200);
  const replay = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, oauth.validateAuthResponse(as, client, callback, attempt.state), REDIRECT_URI, attempt.codeVerifier, insecure);
  expect(replay.status).toBe(400);
  await replay.arrayBuffer();
  expect(await call(refreshed.access_token)).toBe(401);

  // Stopped, so every line is out.
  await stopProcess(rs);
  await stopProcess(auth);
  const lines = [...auth.output.map((l) => ({ app: 'auth', l })), ...rs.output.map((l) => ({ app: 'rs', l }))];
  expect(secrets.size).toBeGreaterThanOrEqual(20);

  // The search finds what is there (identifiers are logged), so it would find a secret.
  expect(lines.some(({ l }) => l.includes(registered.client_id))).toBe(true);
  // No secret, in any form.
  const leaks: string[] = [];
  for (const [name, value] of secrets) {
    for (const form of forms(value)) {
      for (const { app, l } of lines) if (l.includes(form)) leaks.push(`${name} (${form === value ? 'as is' : form}) in ${app}: ${l}`);
    }
  }
  for (const { app, l } of lines) if (/"(authorization|cookie|set-cookie|password|client_secret)"|bearer |basic /i.test(l)) leaks.push(`a credential's name in ${app}: ${l}`);
  expect(leaks).toEqual([]);

  // Every line is JSON, and Nest's start-up narration is not there at the default level.
  const parsed = lines.map(({ app, l }) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line from ${app}: ${l}`);
    }
  });
  expect(parsed.filter((l) => ['InstanceLoader', 'RoutesResolver', 'RouterExplorer'].includes(l.context as string))).toEqual([]);

  // Audit lines, with their fields.
  const audit = (event: string) => parsed.filter((l) => l.event === event);
  expect(audit('sign_in.failed')).toEqual(
    expect.arrayContaining([expect.objectContaining({ app: 'auth-server', audit: true, level: 'info', user_id: alice.id, username, address: '127.0.0.1' })]),
  );
  expect(audit('sign_in.failed').filter((l) => l.user_id === undefined)).toHaveLength(2); // mallory: not an account, so no name
  expect(audit('sign_in.succeeded')).toEqual([expect.objectContaining({ user_id: alice.id, username, address: '127.0.0.1' })]);
  expect(audit('sign_in.throttled')).toEqual([expect.objectContaining({ address: '127.0.0.1', retry_after_seconds: expect.any(Number) })]);
  expect(audit('refresh_token.reused')).toEqual([expect.objectContaining({ client_id: registered.client_id, grant_id: expect.any(String) })]);
  expect(audit('authorization_code.reused')).toEqual([expect.objectContaining({ client_id: registered.client_id, user_id: alice.id })]);
  expect(audit('token.revoked')).toEqual([expect.objectContaining({ client_id: ccClients[1], token_type: 'access_token', jti: expect.any(String) })]);
  // Two client_credentials clients, the code client, the introspector, and the resource server's own registration.
  expect(audit('client.created').filter((l) => l.via === 'registration')).toHaveLength(5);

  // Request lines: the route pattern, and the client once known, on both servers.
  const requests = parsed.filter((l) => l.msg === 'request');
  expect(requests.filter((l) => l.app === 'auth-server' && l.route === '/oauth2/token' && l.status === 200).every((l) => typeof l.client_id === 'string')).toBe(true);
  expect(requests.filter((l) => l.app === 'resource-server' && l.route === '/api/notes' && l.status === 200).map((l) => l.client_id)).toEqual(
    expect.arrayContaining([registered.client_id]),
  );
  expect(requests.filter((l) => typeof l.route === 'string' && (l.route as string).includes('?'))).toEqual([]);
}, 180_000);
