// Shutdown (issue 10, point 16): a request on a keep-alive connection that is still open while the
// server stops gets an RFC 6749 error (temporarily_unavailable, 503, Cache-Control: no-store,
// Retry-After), never Fastify's own {"error":"Service Unavailable","statusCode":503}.
import net from 'node:net';
import { basicAuth, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads complete HTTP/1.1 responses (Content-Length bodies) off one socket, in order. */
function responses(socket: net.Socket) {
  let buffer = Buffer.alloc(0);
  const parsed: RawResponse[] = [];
  const waiting: Array<() => void> = [];
  let ended = false;
  const parse = () => {
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      if (buffer.length < end + 4 + length) return;
      parsed.push({ status: Number(statusLine.split(' ')[1]), headers, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
      buffer = buffer.subarray(end + 4 + length);
    }
  };
  const wake = () => waiting.splice(0).forEach((w) => w());
  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    parse();
    wake();
  });
  socket.on('close', () => {
    ended = true;
    wake();
  });
  return {
    /** The `n`th response (from 1), once it has arrived; fails if the connection closes first. */
    async nth(n: number): Promise<RawResponse> {
      while (parsed.length < n) {
        if (ended) throw new Error(`the connection closed after ${parsed.length} responses`);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      return parsed[n - 1];
    },
  };
}

/** Resolves once `check` holds, looking again after each turn of the event loop (no timer). */
async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('shutdown', () => {
  let server: RunningAuthServer;
  let client: { client_id: string; client_secret: string };
  beforeEach(async () => {
    server = await startAuthServer();
    client = await registerClient(server.url);
  });
  afterEach(() => server.stop().catch(() => undefined));

  const TOKEN_BODY = 'grant_type=client_credentials';
  const tokenRequest = () =>
    `POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nAuthorization: ${basicAuth(client.client_id, client.client_secret)}\r\n` +
    `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${TOKEN_BODY.length}\r\n\r\n`;

  /**
   * On one keep-alive connection: a request served, then a request still arriving when app.close()
   * starts (it holds the connection open), then `next`, pipelined once Fastify itself is closing.
   * Returns the answers to the second request and to `next`.
   */
  async function duringShutdown(next: string): Promise<[RawResponse, RawResponse]> {
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const read = responses(socket);
    socket.write(tokenRequest() + TOKEN_BODY);
    const first = await read.nth(1);
    expect(first.status).toBe(200);
    expect(first.headers.connection).toBe('keep-alive');

    // Node emits 'request' once the headers are in, after Fastify's own listener has taken the request.
    const arrived = new Promise((resolve) => server.app.getHttpServer().once('request', resolve));
    socket.write(tokenRequest() + TOKEN_BODY.slice(0, 10));
    await arrived;
    const closing = server.app.close();
    // Wait until Fastify itself is closing (it no longer listens): from here on it would answer with its own 503.
    await eventually(() => !server.app.getHttpServer().listening);
    socket.write(TOKEN_BODY.slice(10) + next);
    const answers: [RawResponse, RawResponse] = [await read.nth(2), await read.nth(3)];
    socket.destroy();
    await closing;
    return answers;
  }

  it('answers an OAuth request on an open keep-alive connection with temporarily_unavailable while the server stops', async () => {
    const [underWay, refused] = await duringShutdown(tokenRequest() + TOKEN_BODY);
    // The request under way when the app began to stop is still served: the database closes last.
    expect(underWay.status).toBe(200);
    expect(JSON.parse(underWay.body)).toEqual(expect.objectContaining({ token_type: 'Bearer' }));
    // One that began afterwards gets the RFC 6749 error, from the same writer as every other error.
    expect({ status: refused.status, body: JSON.parse(refused.body) }).toEqual({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again later' },
    });
    expect(refused.headers).toMatchObject({
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'retry-after': '5',
      connection: 'close',
      'content-type': expect.stringMatching(/^application\/json/),
    });
  });

  it('answers a page request the same way, as a page', async () => {
    const [, refused] = await duringShutdown('GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(refused.status).toBe(503);
    expect(refused.headers).toMatchObject({ 'retry-after': '5', connection: 'close', 'content-type': expect.stringMatching(/^text\/html/) });
    expect(refused.body).toContain('Temporarily unavailable');
  });

  it('answers the metadata the same way', async () => {
    const [, refused] = await duringShutdown('GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({ error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again later' });
    expect(refused.headers).toMatchObject({ 'cache-control': 'no-store', 'retry-after': '5' });
  });
});
