import { LogCapture } from '@tessera/logging';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const logs = new LogCapture();
let server: RunningAuthServer;
beforeAll(async () => {
  server = await startAuthServer({ proxy: true, logs });
});
afterAll(() => server.stop());

/** Every line but the request lines: what an operator reads. */
const narrative = () => logs.lines.filter((l) => l.msg !== 'request');

describe('the log while PostgreSQL is down', () => {
  it('summarises: the first failure in full, counts after, then the recovery; not a line per request', async () => {
    const client = await registerClient(server.url, { access_token_format: 'opaque' });
    const token = () => postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, client.client_secret) });
    const signIn = async () => {
      const page = await fetch(`${server.url}/login`);
      const cookie = page.headers.getSetCookie()[0].split(';')[0];
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1];
      return { cookie, csrf };
    };
    const form = await signIn();
    expect((await token()).status).toBe(200);
    // A resource server following the revocation feed reconnects every second or so while the log cannot be read.
    const follower = await registerClient(server.url, { client_name: 'resource server', scope: '', resource_server_for: ['https://api.example'] });
    const follow = async () => {
      const res = await fetch(`${server.url}/oauth2/revocations?after=0`, {
        headers: { authorization: basicAuth(follower.client_id, follower.client_secret), accept: 'text/event-stream' },
      });
      await res.text(); // the stream ends once its catch-up fails
      return res.status;
    };

    await server.proxy!.stop();
    logs.clear();
    const REQUESTS = 150;
    const started = Date.now();
    for (let i = 0; i < REQUESTS; i++) {
      expect((await token()).status).toBe(503);
      const page = await postForm(`${server.url}/login`, { csrf: form.csrf, username: 'nobody', password: 'whatever-password' }, { cookie: form.cookie });
      expect(page.status).toBe(503);
      if (i % 5 === 0) await follow();
    }
    const during = narrative();
    const intervals = Math.ceil((Date.now() - started) / 10_000);
    // Each request was logged, as a request line.
    expect(logs.lines.filter((l) => l.msg === 'request' && l.status === 503 && ['/oauth2/token', '/login'].includes(l.route as string))).toHaveLength(2 * REQUESTS);
    expect(logs.lines.filter((l) => l.msg === 'request' && l.route === '/oauth2/revocations')).toHaveLength(REQUESTS / 5);
    // The failures were not: per source a first line, and at most a count per 10 s interval (this loop takes a few
    // seconds). The sources: the requests (Database), the revocation feed's reader, the rate limiter's flushes
    // (AuthServer), and once each the change feed's lost connection and the signing keys' reload it set off.
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.length).toBeLessThanOrEqual(6 + 3 * intervals);
    const rateLimits = during.filter((l) => l.context === 'AuthServer' && String(l.msg).startsWith('rate-limit counts'));
    expect(rateLimits[0]).toMatchObject({ level: 'warn', msg: 'rate-limit counts could not be shared; limiting from this instance’s counts meanwhile' });
    expect(rateLimits.length).toBeLessThanOrEqual(1 + intervals);
    const database = during.filter((l) => l.context === 'Database');
    expect(database[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/^database unavailable: /) });
    // Later lines of it are counts (one per 10 s at most).
    for (const line of database.slice(1)) expect(line.msg).toMatch(/^database unavailable: \d+ more failure\(s\), failing for \d+ s/);

    logs.clear();
    await server.proxy!.start();
    expect((await token()).status).toBe(200);
    await server.services.rateLimiter!.flush();
    expect(narrative().filter((l) => l.context === 'AuthServer')).toEqual([
      expect.objectContaining({ level: 'info', msg: expect.stringMatching(/^rate-limit counts are shared again: recovered after \d+ s and \d+ failure\(s\)$/) }),
    ]);
    expect(narrative().filter((l) => l.context === 'Database')).toEqual([
      expect.objectContaining({ level: 'info', msg: expect.stringMatching(/^database unavailable: recovered after \d+ s and \d+ failure\(s\)$/) }),
    ]);
  }, 60_000);
});
