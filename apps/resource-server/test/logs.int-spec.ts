// The resource server's log: a line per request naming the token's client, and TokenGuard's refusals summarised
// while the authorization server is out of reach (not a warning per refused request).
import { randomBytes } from 'node:crypto';
import { LogCapture } from '@tessera/logging';
import { freePort, TcpProxy } from '@tessera/testing';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from '../../auth-server/test/auth-server.harness.js';
import { startResourceServer, type RunningResourceServer } from './resource-server.harness.js';

describe('resource server logs', () => {
  const logs = new LogCapture();
  let auth: RunningAuthServer;
  let proxy: TcpProxy;
  let rs: RunningResourceServer;
  let client: { client_id: string; client_secret: string };

  beforeAll(async () => {
    auth = await startAuthServer();
    proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(auth.url).port) });
    proxy.port = await freePort();
    await proxy.start();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const introspector = await registerClient(auth.url, { client_name: 'notes api', scope: '', resource_server_for: [url] });
    client = await registerClient(auth.url, { access_token_format: 'opaque', scope: 'notes:read notes:write' });
    rs = await startResourceServer({
      issuer: auth.url,
      port,
      logs,
      env: {
        TESSERA_AUTH_SERVER_URL: `http://127.0.0.1:${proxy.port}`,
        TESSERA_RESOURCE_CLIENT_ID: introspector.client_id,
        TESSERA_RESOURCE_CLIENT_SECRET: introspector.client_secret,
        TESSERA_REVOCATION_FEED: 'off',
      },
    });
  });
  afterAll(async () => {
    await rs?.stop();
    await proxy?.stop();
    await auth?.stop();
  });

  const issue = async () =>
    (await (await postForm(`${auth.url}/oauth2/token`, { grant_type: 'client_credentials', resource: rs.url }, { authorization: basicAuth(client.client_id, client.client_secret) })).json())
      .access_token as string;
  const call = (token: string, path = '/api/notes') => fetch(`${rs.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it("writes a line per request with the route pattern and the verified token's client", async () => {
    const token = await issue();
    logs.clear();
    const res = await call(token, '/api/notes/00000000-0000-4000-8000-000000000000?x=secret-query');
    expect(res.status).toBe(404);
    const unauthenticated = await fetch(`${rs.url}/api/notes`);
    expect(unauthenticated.status).toBe(401);
    expect(logs.lines.filter((l) => l.msg === 'request')).toEqual([
      expect.objectContaining({ app: 'resource-server', req_id: res.headers.get('x-request-id'), method: 'GET', route: '/api/notes/:id', status: 404, client_id: client.client_id }),
      expect.objectContaining({ req_id: unauthenticated.headers.get('x-request-id'), method: 'GET', route: '/api/notes', status: 401 }),
    ]);
    expect(logs.lines[1]).not.toHaveProperty('client_id');
    expect(logs.raw.join('\n')).not.toContain('secret-query');
    expect(logs.raw.join('\n')).not.toContain(token);
  });

  it("summarises TokenGuard's refusals while the authorization server is unreachable, and says when it recovers", async () => {
    const token = await issue();
    await proxy.stop();
    logs.clear();
    const REQUESTS = 150;
    for (let i = 0; i < REQUESTS; i++) {
      // A token never seen before: only introspection could tell.
      const res = await call(`tsr_at_${randomBytes(32).toString('base64url')}`);
      expect(res.status).toBe(503);
    }
    const guard = logs.lines.filter((l) => l.context === 'TokenGuard');
    expect(logs.lines.filter((l) => l.msg === 'request' && l.status === 503)).toHaveLength(REQUESTS);
    expect(guard.length).toBeGreaterThanOrEqual(1);
    expect(guard.length).toBeLessThanOrEqual(4); // the first, then at most a count per 10 s
    expect(guard[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/^authorization server unavailable: /) });

    await proxy.start();
    logs.clear();
    expect((await call(token)).status).toBe(200);
    expect(logs.lines.filter((l) => l.context === 'TokenGuard')).toEqual([
      expect.objectContaining({ level: 'info', msg: expect.stringMatching(/^authorization server unavailable: recovered after \d+ s and \d+ failure\(s\)$/) }),
    ]);
  }, 60_000);
});
