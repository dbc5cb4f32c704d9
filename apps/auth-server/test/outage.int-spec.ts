import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let server: RunningAuthServer;
beforeAll(async () => {
  server = await startAuthServer({ proxy: true });
});
afterAll(() => server.stop());

describe('when PostgreSQL goes away', () => {
  it('answers 503 temporarily_unavailable, then recovers by itself', async () => {
    const opaque = await registerClient(server.url, { access_token_format: 'opaque' });
    const jwt = await registerClient(server.url, { access_token_format: 'jwt' });
    const token = (c: { client_id: string; client_secret: string }) =>
      postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(c.client_id, c.client_secret) });
    expect((await token(opaque)).status).toBe(200);
    expect((await token(jwt)).status).toBe(200);

    await server.proxy!.stop();
    const down = await token(opaque);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(await down.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again later' });
    // A JWT for a cached client needs no database at all.
    expect((await token(jwt)).status).toBe(200);
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { database: 'down' } });
    const unknown = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth('someone-else', 'x') });
    expect(unknown.status).toBe(503);

    await server.proxy!.start();
    expect((await token(opaque)).status).toBe(200);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
  });
});

describe('the sign-in page when PostgreSQL goes away', () => {
  it('answers a 503 page, then signs in again by itself', async () => {
    const signIn = async () => {
      const page = await fetch(`${server.url}/login`);
      const cookie = page.headers.getSetCookie()[0].split(';')[0];
      const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1];
      return postForm(`${server.url}/login`, { csrf, username: 'nobody', password: 'whatever-password' }, { cookie });
    };
    expect((await signIn()).status).toBe(401);

    await server.proxy!.stop();
    const down = await signIn();
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await down.text()).toContain('Sign-in is unavailable for a moment. Please try again shortly.');

    await server.proxy!.start();
    expect((await signIn()).status).toBe(401);
  });
});

describe('the revocation feed when PostgreSQL goes away', () => {
  /** The event names a stream sends within `ms`. A read that the deadline cut short carries over to the next call, so no chunk is lost. */
  let pendingRead: Promise<ReadableStreamReadResult<string>> | undefined;
  async function eventsWithin(reader: ReadableStreamDefaultReader<string>, ms: number): Promise<string[]> {
    const names: string[] = [];
    const deadline = Date.now() + ms;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(1, deadline - Date.now()))));
      pendingRead ??= reader.read();
      const chunk = await Promise.race([pendingRead, timeout]).finally(() => clearTimeout(timer));
      if (chunk === null) return names;
      pendingRead = undefined;
      if (chunk.done) return names;
      for (const match of chunk.value.matchAll(/^event: (.+)$/gm)) names.push(match[1]);
    }
  }

  it('sends no heartbeat while it cannot read the log (a heartbeat vouches for latest_seq), and resumes after', async () => {
    const feedServer = await startAuthServer({ proxy: true, env: { TESSERA_REVOCATION_FEED_HEARTBEAT: '1' } });
    const follower = await registerClient(feedServer.url, { client_name: 'resource server', scope: '', resource_server_for: ['https://api.example'] });
    const res = await fetch(`${feedServer.url}/oauth2/revocations?after=0`, {
      headers: { authorization: basicAuth(follower.client_id, follower.client_secret), accept: 'text/event-stream' },
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      const first = await eventsWithin(reader, 1500);
      expect(first.slice(0, 3)).toEqual(['pseudonym-key', 'caught-up', 'keys']);
      expect(first.slice(3)).toContain('heartbeat');
      await feedServer.proxy!.stop();
      await eventsWithin(reader, 1600); // a heartbeat may still go out before the first failed read
      expect(await eventsWithin(reader, 2500)).toEqual([]);
      await feedServer.proxy!.start();
      expect(await eventsWithin(reader, 2500)).toContain('heartbeat');
    } finally {
      await reader.cancel();
      await feedServer.stop();
    }
  }, 20_000);
});
