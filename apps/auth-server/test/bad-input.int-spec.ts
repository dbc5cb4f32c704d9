import net from 'node:net';
import { basicAuth, INITIAL_ACCESS_TOKEN, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let server: RunningAuthServer;
let client: { client_id: string; client_secret: string };
beforeAll(async () => {
  server = await startAuthServer();
  client = await registerClient(server.url);
});
afterAll(() => server.stop());

const FORM = 'application/x-www-form-urlencoded';

async function send(path: string, init: RequestInit & { headers?: Record<string, string> }) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', signal: AbortSignal.timeout(5000), ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const auth = () => ({ authorization: basicAuth(client.client_id, client.client_secret) });

describe('the token endpoint refuses malformed requests with an OAuth error', () => {
  it.each([
    ['JSON instead of a form', 'application/json', '{"grant_type":"client_credentials"}', 400, 'invalid_request'],
    ['a form labelled text/plain', 'text/plain', 'grant_type=client_credentials', 400, 'invalid_request'],
    ['an unknown content type', 'application/xml', '<grant/>', 415, 'invalid_request'],
    ['a repeated parameter', FORM, 'grant_type=client_credentials&grant_type=client_credentials', 400, 'invalid_request'],
    ['a repeated scope', FORM, 'grant_type=client_credentials&scope=read&scope=write', 400, 'invalid_request'],
    ['invalid UTF-8', FORM, 'grant_type=client_credentials&scope=%FF', 400, 'invalid_request'],
    ['a broken percent-escape', FORM, 'grant_type=%ZZ', 400, 'invalid_request'],
    ['no grant_type', FORM, 'scope=read', 400, 'invalid_request'],
    ['an unknown grant type', FORM, 'grant_type=password&username=a&password=b', 400, 'unsupported_grant_type'],
    ['malformed JSON', 'application/json', '{"grant_type":', 400, 'invalid_request'],
    ['an empty body', FORM, '', 400, 'invalid_request'],
  ])('%s (%s, %j) → %d %s', async (_, type, body, status, error) => {
    const res = await send('/oauth2/token', { headers: { 'content-type': type, ...auth() }, body });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error, error_description: expect.any(String) });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an oversized body with 413', async () => {
    const res = await send('/oauth2/token', { headers: { 'content-type': FORM, ...auth() }, body: `grant_type=client_credentials&x=${'a'.repeat(70_000)}` });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body is too large' });
  });

  it.each([
    ['garbage', 'Basic %%%'],
    ['no colon', `Basic ${Buffer.from('justanid').toString('base64')}`],
    ['invalid UTF-8', `Basic ${Buffer.from([0xff, 0x3a, 0x61]).toString('base64')}`],
    ['bad form-encoding', `Basic ${Buffer.from('a%zz:b').toString('base64')}`],
    ['a wrong secret', undefined],
    ['another scheme', 'Bearer abc'],
  ])('answers a Basic header with %s with 401 invalid_client and WWW-Authenticate', async (_, header) => {
    const authorization = header ?? basicAuth(client.client_id, 'wrong');
    const res = await send('/oauth2/token', { headers: { 'content-type': FORM, authorization }, body: 'grant_type=client_credentials' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="tessera"');
    expect(res.body.error).toBe('invalid_client');
  });

  it('answers a request without client authentication with 401 invalid_client', async () => {
    const res = await send('/oauth2/token', { headers: { 'content-type': FORM }, body: 'grant_type=client_credentials' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="tessera"');
    expect(res.body.error).toBe('invalid_client');
  });

  it('refuses two authentication methods in one request', async () => {
    const res = await send('/oauth2/token', {
      headers: { 'content-type': FORM, ...auth() },
      body: `grant_type=client_credentials&client_id=${client.client_id}&client_secret=${client.client_secret}`,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});

describe('other endpoints', () => {
  it('introspection needs a token parameter and client authentication', async () => {
    expect((await send('/oauth2/introspect', { headers: { 'content-type': FORM, ...auth() }, body: '' })).body.error).toBe('invalid_request');
    const anon = await send('/oauth2/introspect', { headers: { 'content-type': FORM }, body: 'token=x' });
    expect(anon.status).toBe(401);
    expect(anon.body.error).toBe('invalid_client');
  });

  it('revocation needs client authentication', async () => {
    const res = await send('/oauth2/revoke', { headers: { 'content-type': FORM }, body: 'token=x' });
    expect(res.status).toBe(401);
  });

  it.each([
    ['malformed JSON', '{"client_name":', 400, 'invalid_request'],
    ['a JSON array', '[]', 400, 'invalid_client_metadata'],
    ['a JSON string', '"x"', 400, 'invalid_client_metadata'],
  ])('registration with %s → %i %s', async (_, body, status, error) => {
    const res = await send('/oauth2/register', { headers: { 'content-type': 'application/json', authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` }, body });
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });

  it('an unknown route is a 404 with an error body', async () => {
    const res = await send('/nope', { method: 'GET' });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('invalid_request');
  });

  it('a body that never arrives does not hold the server', async () => {
    // Announce a body and send half of it; the server must still answer other requests.
    const socket = net.connect(new URL(server.url).port as unknown as number, '127.0.0.1');
    socket.write(`POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: ${FORM}\r\nContent-Length: 100\r\n\r\ngrant_type=`);
    const res = await send('/health/live', { method: 'GET' });
    expect(res.status).toBe(200);
    socket.destroy();
  });
});
