// Strict input (issue 10, points 11-13): control characters, feed cursors, registration's media type,
// redirect URIs and displayed client names get a clear 4xx, never a 5xx, and never reach PostgreSQL.
import { s256Challenge } from '@tessera/oauth-core';
import { TypeOrmClientRepository } from '@tessera/persistence';
import { aClient } from '@tessera/testing';
import { DataSource } from 'typeorm';
import { expectPage, textOf, UserAgent } from '../../../test/support/user-agent.js';
import { aPerson, userDirectory } from '../../../test/support/users.js';
import { basicAuth, INITIAL_ACCESS_TOKEN, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

let server: RunningAuthServer;
let confidential: { client_id: string; client_secret: string };
let publicClient: { client_id: string };

beforeAll(async () => {
  server = await startAuthServer();
  confidential = await registerClient(server.url);
  publicClient = await registerClient(server.url, {
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    redirect_uris: ['http://127.0.0.1:8080/cb'],
  });
});
afterAll(() => server.stop());

/** C0 controls (NUL first: PostgreSQL refuses it in text), DEL, and a C1 control. */
const CONTROLS = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001f', '\u007f', '\u0085'];
const printable = (c: string) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`;

/** Percent-encodes every character of a form value (so controls go through as %00 …). */
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
/** A Basic header whose decoded id and secret are exactly `id` and `secret` (form-encoded first, as RFC 6749 §2.3.1 says). */
const basic = (id: string, secret: string) => basicAuth(id, secret);
/** A Basic header carrying raw bytes (not form-encoded) in the id:secret pair. */
const rawBasic = (pair: string) => `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;

async function expectOAuthError(res: Response, status: number, error: string): Promise<{ error: string; error_description: string }> {
  const body = JSON.parse(await res.text());
  expect({ status: res.status, body }).toEqual({ status, body: { error, error_description: expect.any(String) } });
  expect(res.headers.get('cache-control')).toBe('no-store');
  return body;
}

describe('control characters in client credentials and parameters (point 11)', () => {
  describe.each(['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke'])('%s', (path) => {
    const base: Record<string, string> = path === '/oauth2/token' ? { grant_type: 'client_credentials' } : { token: 'tsr_at_whatever' };

    it.each(CONTROLS.map((c) => [printable(c), c]))('client_id with %s in the body → 400 invalid_request', async (_, c) => {
      await expectOAuthError(await postForm(`${server.url}${path}`, form({ ...base, client_id: `${confidential.client_id}${c}`, client_secret: confidential.client_secret })), 400, 'invalid_request');
      await expectOAuthError(await postForm(`${server.url}${path}`, form({ ...base, client_id: `${c}${publicClient.client_id}` })), 400, 'invalid_request');
    });

    it.each(CONTROLS.map((c) => [printable(c), c]))('client_secret with %s in the body → 400 invalid_request', async (_, c) => {
      await expectOAuthError(await postForm(`${server.url}${path}`, form({ ...base, client_id: confidential.client_id, client_secret: `x${c}y` })), 400, 'invalid_request');
    });

    it.each(CONTROLS.map((c) => [printable(c), c]))('Basic credentials with %s → 401 invalid_client', async (_, c) => {
      for (const authorization of [
        basic(`${confidential.client_id}${c}`, confidential.client_secret),
        basic(confidential.client_id, `${confidential.client_secret}${c}`),
        rawBasic(`${confidential.client_id}${c}:${confidential.client_secret}`),
        rawBasic(`${confidential.client_id}:${c}${confidential.client_secret}`),
      ]) {
        const res = await postForm(`${server.url}${path}`, form(base), { authorization });
        await expectOAuthError(res, 401, 'invalid_client');
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="tessera"');
      }
    });

    it.each(CONTROLS.map((c) => [printable(c), c]))('any other parameter with %s → 400 invalid_request', async (_, c) => {
      const fields: Record<string, string> = path === '/oauth2/token' ? { ...base, resource: `https://api.example/${c}` } : { token: `tsr_at_${c}` };
      const res = await postForm(`${server.url}${path}`, form(fields), { authorization: basic(confidential.client_id, confidential.client_secret) });
      await expectOAuthError(res, 400, 'invalid_request');
    });
  });

  it.each(CONTROLS.map((c) => [printable(c), c]))('the revocation feed refuses Basic credentials with %s: 401 invalid_client', async (_, c) => {
    for (const authorization of [
      basic(`${confidential.client_id}${c}`, confidential.client_secret),
      basic(confidential.client_id, `${c}${confidential.client_secret}`),
      rawBasic(`${c}${confidential.client_id}:${confidential.client_secret}`),
    ]) {
      for (const accept of ['application/json', 'text/event-stream']) {
        const res = await fetch(`${server.url}/oauth2/revocations?after=0`, { headers: { authorization, accept } });
        await expectOAuthError(res, 401, 'invalid_client');
      }
    }
  });

  it.each(CONTROLS.map((c) => [printable(c), c]))('the authorization endpoint and sign-in form answer %s with a 400 page', async (_, c) => {
    const authorize = await fetch(`${server.url}/oauth2/authorize?${form({ response_type: 'code', client_id: `${publicClient.client_id}${c}`, redirect_uri: 'http://127.0.0.1:8080/cb' })}`, {
      redirect: 'manual',
    });
    expect(authorize.status).toBe(400);
    expect(authorize.headers.get('content-type')).toMatch(/^text\/html/);
    const signIn = await postForm(`${server.url}/login`, form({ username: `alice${c}`, password: 'x', csrf: 'x' }), { origin: server.url });
    expect(signIn.status).toBe(400);
    expect(signIn.headers.get('content-type')).toMatch(/^text\/html/);
  });

  const register = (metadata: unknown, contentType = 'application/json') =>
    fetch(`${server.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}`, 'content-type': contentType },
      body: typeof metadata === 'string' ? metadata : JSON.stringify(metadata),
    });

  describe.each(CONTROLS.map((c) => [printable(c), c]))('registration metadata with %s', (_, c) => {
    it.each([
      ['client_name', 'invalid_client_metadata', { client_name: `Notes${c}` }],
      ['scope', 'invalid_client_metadata', { scope: `read${c}` }],
      ['grant_types', 'invalid_client_metadata', { grant_types: [`client_credentials${c}`] }],
      ['token_endpoint_auth_method', 'invalid_client_metadata', { token_endpoint_auth_method: `none${c}` }],
      ['access_token_format', 'invalid_client_metadata', { access_token_format: `jwt${c}` }],
      ['resources', 'invalid_client_metadata', { resources: [`https://api.example/${c}`] }],
      ['redirect_uris', 'invalid_redirect_uri', { grant_types: ['authorization_code'], redirect_uris: [`https://app.example/cb${c}`] }],
    ])('%s → 400 %s', async (_name, error, metadata) => {
      const body = await expectOAuthError(await register({ client_name: 'x', ...(metadata as object) }), 400, error as string);
      // The description never echoes the control back.
      expect(body.error_description).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    });
  });
});

describe('revocation feed cursors (point 12)', () => {
  // Only resource servers read the feed.
  let reader: { client_id: string; client_secret: string };
  beforeAll(async () => {
    reader = await registerClient(server.url, { scope: '', resource_server_for: ['https://api.example'] });
  });
  const auth = () => basicAuth(reader.client_id, reader.client_secret);

  it.each([
    ['above the int64 range', '9999999999999999999'],
    ['one above the int64 maximum', '9223372036854775808'],
    ['negative', '-1'],
    ['with a leading +', '+1'],
    ['not digits', 'abc'],
    ['a decimal', '1.5'],
    ['an exponent', '1e3'],
    ['hexadecimal', '0x10'],
    ['huge', '9'.repeat(10_000)],
    ['with spaces', ' 1'],
  ])('after= %s → 400 invalid_request', async (_, after) => {
    const res = await fetch(`${server.url}/oauth2/revocations?after=${encodeURIComponent(after)}`, { headers: { authorization: auth() } });
    await expectOAuthError(res, 400, 'invalid_request');
  });

  it.each([
    ['above the int64 range', '9999999999999999999'],
    ['negative', '-1'],
    ['with a leading +', '+5'],
    ['not digits', 'x'],
    ['huge', '1'.repeat(5_000)],
  ])('Last-Event-ID %s → 400 invalid_request', async (_, lastEventId) => {
    const res = await fetch(`${server.url}/oauth2/revocations`, { headers: { authorization: auth(), accept: 'text/event-stream', 'last-event-id': lastEventId } });
    await expectOAuthError(res, 400, 'invalid_request');
  });

  it('accepts the int64 maximum itself', async () => {
    const res = await fetch(`${server.url}/oauth2/revocations?after=9223372036854775807`, { headers: { authorization: auth() } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ revocations: [], next_after: '9223372036854775807', has_more: false });
  });
});

describe('registration (point 13)', () => {
  const register = (body: string, contentType: string | undefined) =>
    fetch(`${server.url}/oauth2/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}`, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'client_name=form&scope=read'],
    ['text/plain carrying JSON', 'text/plain', '{"client_name":"text","scope":"read"}'],
    ['no content type', undefined, ''],
  ])('refuses %s with 400 invalid_request and creates nothing', async (_, type, body) => {
    const clients = new TypeOrmClientRepository(server.app.get(DataSource), server.config.tokens.maxAccessTokenTtl);
    const before = (await clients.list()).length;
    await expectOAuthError(await register(body, type), 400, 'invalid_request');
    expect((await clients.list()).length).toBe(before);
  });

  it('answers a media type no endpoint parses with 415 invalid_request, as every endpoint does', async () => {
    await expectOAuthError(await register('<client/>', 'application/xml'), 415, 'invalid_request');
  });

  it('accepts application/json with a charset parameter', async () => {
    expect((await register('{"client_name":"json","scope":"read"}', 'application/json; charset=utf-8')).status).toBe(201);
  });

  it.each([
    ['CR/LF', 'https://app.example/cb\r\nSet-Cookie: x=y'],
    ['a trailing newline', 'https://app.example/cb\n'],
    ['a tab', 'https://app.\texample/cb'],
    ['a space', 'https://app.example/c b'],
    ['userinfo', 'https://user@app.example/cb'],
    ['userinfo with a password', 'https://user:pass@app.example/cb'],
    ['a wildcard host', 'https://*.app.example/cb'],
    ['a wildcard path', 'https://app.example/*'],
    ['a fragment', 'https://app.example/cb#x'],
    ['a relative reference', '/cb'],
    ['no host', 'https:///cb'],
    ['a backslash', 'https://app.example\\@evil.example/cb'],
    ['a non-ASCII character', 'https://app.example/caf\u00e9'],
    ['a broken percent-escape', 'https://app.example/%zz'],
    ['a bidi override', 'https://app.example/\u202ecb'],
  ])('refuses a redirect URI with %s: 400 invalid_redirect_uri', async (_, uri) => {
    const res = await register(JSON.stringify({ grant_types: ['authorization_code'], redirect_uris: [uri] }), 'application/json');
    await expectOAuthError(res, 400, 'invalid_redirect_uri');
  });

  it('still accepts exact https and loopback redirect URIs with a query', async () => {
    const ok = await registerClient(server.url, {
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example/cb?tenant=7&x=%20y', 'http://127.0.0.1:8080/callback', 'http://[::1]/cb'],
    });
    expect(ok.redirect_uris).toEqual(['https://app.example/cb?tenant=7&x=%20y', 'http://127.0.0.1:8080/callback', 'http://[::1]/cb']);
  });

  it.each([
    ['a right-to-left override', 'Notes\u202Egnp.exe'],
    ['a left-to-right embedding', '\u202ANotes'],
    ['a pop directional formatting', 'Notes\u202C'],
    ['a first-strong isolate', 'Notes\u2068x\u2069'],
    ['a right-to-left mark', 'Notes\u200F'],
    ['an Arabic letter mark', 'Notes\u061C'],
    ['a line separator', 'Notes\u2028Bank'],
  ])('refuses a client_name with %s: 400 invalid_client_metadata', async (_, name) => {
    const res = await register(JSON.stringify({ client_name: name, scope: 'read' }), 'application/json');
    await expectOAuthError(res, 400, 'invalid_client_metadata');
  });

  it('accepts names in any script, and emoji sequences', async () => {
    const c = await registerClient(server.url, { client_name: 'מחברת Notes 📝 👩‍💻' });
    expect(c.client_name).toBe('מחברת Notes 📝 👩‍💻');
  });

  it('the consent page strips controls and bidi overrides from a name stored before the check', async () => {
    // A row written by an older version (or straight into the table): the page must not show its controls.
    const clients = new TypeOrmClientRepository(server.app.get(DataSource), server.config.tokens.maxAccessTokenTtl);
    const clientId = `legacy-${Date.now()}`;
    await clients.create(
      aClient({
        clientId,
        clientName: 'Evil\u202E\u2066 Bank\u0007\u0085\u2028 Co\u200F',
        grantTypes: ['authorization_code'],
        scopes: ['read'],
        tokenEndpointAuthMethod: 'none',
        redirectUris: ['http://127.0.0.1:8080/cb'],
      }),
    );
    const person = await aPerson(userDirectory(server), 'carol');
    const ua = new UserAgent(server.url);
    expectPage(await ua.open('/login'), 200);
    expectPage(await ua.signIn(person.username, person.password), 200);
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:8080/cb',
      scope: 'read',
      state: 's',
      code_challenge: s256Challenge('a'.repeat(43)),
      code_challenge_method: 'S256',
    });
    const page = expectPage(await ua.open(`/oauth2/authorize?${query}`), 200);
    expect(page.html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
    expect(textOf(page.html)).toContain('Evil Bank Co wants to access your account');
    expect(page.html).toContain('<title>Allow Evil Bank Co? · Tessera</title>');

    // The sign-in page names the client too.
    const fresh = new UserAgent(server.url);
    const signInPage = expectPage(await fresh.open(`/oauth2/authorize?${query}`), 200);
    expect(signInPage.html).toContain('Sign in to continue to <strong>Evil Bank Co</strong>.');
    expect(signInPage.html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
  });
});
