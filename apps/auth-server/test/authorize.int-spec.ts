// The authorization endpoint (RFC 6749 §4.1.1-4.1.2.1, RFC 7636, RFC 9207) and its sign-in and consent
// pages, over real HTTP on real PostgreSQL: exact statuses, redirects, cookies and headers; the bad
// requests a browser or an attacker can send.
import { randomBytes } from 'node:crypto';
import { ClientRepository, s256Challenge } from '@tessera/oauth-core';
import { ManualClock } from '@tessera/testing';
import { expectCallback, expectPage, formFields, textOf, UserAgent } from '../../../test/support/user-agent.js';
import { aPerson, userDirectory, type Person } from '../../../test/support/users.js';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const REDIRECT_URI = 'http://127.0.0.1:8080/callback';
const API = 'https://api.example';
const DESCRIPTIONS = { 'notes:read': 'Read your notes', 'notes:write': 'Create and change your notes' };

let server: RunningAuthServer;
let web: { client_id: string; client_secret: string };
let alice: Person;
/** The server's clock: the real time until a test moves it on. */
const clock = new ManualClock();

beforeAll(async () => {
  server = await startAuthServer({ env: { TESSERA_SCOPE_DESCRIPTIONS: JSON.stringify(DESCRIPTIONS) }, clock });
  web = await registerClient(server.url, {
    client_name: 'Notes <Web> & Co',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI, 'https://app.example/cb?tenant=7'],
    scope: 'notes:read notes:write',
    resources: [API],
  });
  alice = await aPerson(userDirectory(server), 'alice');
});
afterAll(() => server.stop());

const verifier = () => randomBytes(32).toString('base64url');

function authorizeUrl(params: Record<string, string | string[] | undefined> = {}, clientId = web.client_id): string {
  const query = new URLSearchParams();
  const all = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'notes:read',
    state: 'xyz',
    code_challenge: s256Challenge(verifier()),
    code_challenge_method: 'S256',
    ...params,
  };
  for (const [name, value] of Object.entries(all)) for (const v of [value ?? []].flat()) query.append(name, v);
  return `${server.url}/oauth2/authorize?${query}`;
}

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: 'manual', headers });

/** A user agent that has signed in as `person`. */
async function signedIn(person: Person = alice): Promise<UserAgent> {
  const ua = new UserAgent(server.url);
  expectPage(await ua.open('/login'), 200);
  expectPage(await ua.signIn(person.username, person.password), 200);
  return ua;
}

describe('discovery', () => {
  it('advertises the authorization endpoint, the code response type and RFC 9207 iss', async () => {
    const metadata = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
    expect(metadata).toMatchObject({
      authorization_endpoint: `${server.url}/oauth2/authorize`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
  });
});

describe('requests whose client or redirect URI cannot be trusted are shown, never redirected', () => {
  it.each([
    ['no client_id', { client_id: undefined }, 'missing required parameter "client_id"'],
    ['an unknown client', { client_id: 'nobody' }, 'unknown client'],
    ['a repeated client_id', { client_id: ['a', 'b'] }, 'parameter "client_id" must not be repeated'],
    ['no redirect_uri', { redirect_uri: undefined }, 'missing required parameter "redirect_uri"'],
    ['an unregistered redirect_uri', { redirect_uri: 'https://evil.example/cb' }, 'redirect_uri is not registered for this client'],
    ['a redirect_uri differing by a trailing slash', { redirect_uri: `${REDIRECT_URI}/` }, 'redirect_uri is not registered for this client'],
    ['a repeated redirect_uri', { redirect_uri: [REDIRECT_URI, REDIRECT_URI] }, 'parameter "redirect_uri" must not be repeated'],
  ])('%s', async (_, params, detail) => {
    const res = await get(authorizeUrl(params));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const text = textOf(await res.text());
    expect(text).toContain("This request can't be completed");
    expect(text).toContain(detail);
  });

  it('a disabled client', async () => {
    const c = await registerClient(server.url, { grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI], scope: 'notes:read' });
    await server.app.get(ClientRepository).update(c.client_id, { disabledAt: new Date() });
    const res = await get(authorizeUrl({}, c.client_id));
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toContain('unknown client');
  });

  it('a query that is not valid percent-encoding', async () => {
    const res = await get(`${server.url}/oauth2/authorize?client_id=%ZZ`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });
});

describe('other errors go back to the client (§4.1.2.1) with state and iss', () => {
  const errorOf = async (params: Record<string, string | string[] | undefined>, clientId?: string) => {
    const res = await get(authorizeUrl(params, clientId));
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    return Object.fromEntries(location.searchParams);
  };

  it.each([
    ['no response_type', { response_type: undefined }, 'invalid_request', 'missing required parameter "response_type"'],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type', 'response_type "token" is not supported; use "code"'],
    ['no code_challenge (PKCE is required)', { code_challenge: undefined }, 'invalid_request', 'code_challenge is required (PKCE with S256)'],
    ['code_challenge_method plain', { code_challenge_method: 'plain' }, 'invalid_request', 'code_challenge_method must be S256 (plain is not supported)'],
    ['no code_challenge_method (plain by default)', { code_challenge_method: undefined }, 'invalid_request', 'code_challenge_method must be S256 (plain is not supported)'],
    ['a challenge that is no S256 digest', { code_challenge: 'short' }, 'invalid_request', 'code_challenge must be the base64url SHA-256 of a code_verifier'],
    ['a scope the client may not ask for', { scope: 'notes:read admin' }, 'invalid_scope', 'scope not allowed for this client: admin'],
    ['a resource the client may not reach', { resource: 'https://other.example' }, 'invalid_target', 'resource not allowed for this client'],
    ['a repeated scope', { scope: ['notes:read', 'notes:write'] }, 'invalid_request', 'parameter "scope" must not be repeated'],
  ])('%s', async (_, params, error, description) => {
    expect(await errorOf(params)).toEqual({ error, error_description: description, state: 'xyz', iss: server.url });
  });

  it('a repeated state is not echoed', async () => {
    expect(await errorOf({ state: ['a', 'b'] })).toEqual({ error: 'invalid_request', error_description: 'parameter "state" must not be repeated', iss: server.url });
  });

  it('a client not registered for the code grant', async () => {
    const c = await registerClient(server.url, { grant_types: ['client_credentials'], redirect_uris: [REDIRECT_URI], scope: 'notes:read' });
    expect(await errorOf({ state: undefined }, c.client_id)).toEqual({
      error: 'unauthorized_client',
      error_description: 'this client may not use the authorization_code grant',
      iss: server.url,
    });
  });

  it("keeps the registered redirect URI's own query", async () => {
    const res = await get(authorizeUrl({ redirect_uri: 'https://app.example/cb?tenant=7', response_type: 'token' }));
    expect(res.headers.get('location')).toBe(
      `https://app.example/cb?tenant=7&error=unsupported_response_type&error_description=response_type+%22token%22+is+not+supported%3B+use+%22code%22&state=xyz&iss=${encodeURIComponent(server.url)}`,
    );
  });
});

describe('sign-in', () => {
  it('sends a valid request without a session to the sign-in page, which returns to it', async () => {
    const url = authorizeUrl();
    const res = await get(url);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!, server.url);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('return_to')).toBe(url.slice(server.url.length));
  });

  it('serves the sign-in page with a CSRF cookie, a token derived from it in the form, and headers that keep it unframed and uncached', async () => {
    const res = await get(`${server.url}/login?return_to=${encodeURIComponent('/oauth2/authorize?client_id=x')}`);
    expect(res.status).toBe(200);
    expect(Object.fromEntries([...res.headers].filter(([n]) => n !== 'date' && n !== 'content-length' && n !== 'set-cookie' && n !== 'connection' && n !== 'keep-alive'))).toEqual({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin', // a same-origin form post then carries its Origin, not null
      vary: 'Origin', // from the CORS hook, which decides per request (the pages get no CORS headers)
      'x-request-id': expect.stringMatching(/^[0-9a-f-]{36}$/), // the request log's id of this request
    });
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^tessera_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const fields = formFields(await res.text(), '/login');
    expect(fields).toEqual({ csrf: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), return_to: '/oauth2/authorize?client_id=x' });
    expect(fields.csrf).not.toBe(cookie.split(/[=;]/)[1]); // derived from the cookie (and the session, once there is one)
  });

  it('names the application the sign-in continues to, escaped, and no other', async () => {
    const step = expectPage(await new UserAgent(server.url).open(authorizeUrl()), 200);
    expect(step.html).toContain('Sign in to continue to <strong>Notes &lt;Web&gt; &amp; Co</strong>.');
    const unknown = await (await get(`${server.url}/login?return_to=${encodeURIComponent('/oauth2/authorize?client_id=nobody')}`)).text();
    expect(textOf(unknown)).toContain('Sign in to continue.');
  });

  it('drops a return_to that leads anywhere but the authorization endpoint (no open redirect)', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/oauth2/authorize?x', '/oauth2/token?x', '/oauth2/authorize']) {
      const html = await (await get(`${server.url}/login?return_to=${encodeURIComponent(returnTo)}`)).text();
      expect(formFields(html, '/login')).not.toHaveProperty('return_to');
    }
    const ua = new UserAgent(server.url);
    await ua.open('/login');
    const fields = formFields(ua.page!.html, '/login');
    const res = await ua.fetch('/login', form({ ...fields, return_to: 'https://evil.example/', username: alice.username, password: alice.password }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });

  it('signs in: a new HttpOnly, SameSite=Lax session cookie, then back to the request', async () => {
    const ua = new UserAgent(server.url);
    expectPage(await ua.open(authorizeUrl()), 200);
    const res = await ua.fetch('/login', form({ ...formFields(ua.page!.html, '/login'), username: alice.username.toUpperCase(), password: alice.password }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/oauth2\/authorize\?response_type=code&client_id=/);
    expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(/^tessera_session=tsr_ss_[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax$/)]);
  });

  it('answers every refusal alike: unknown user, wrong password, disabled user', async () => {
    const disabled = await aPerson(userDirectory(server), 'gone');
    await userDirectory(server).disable(disabled.username);
    const answers = [];
    for (const [username, password] of [
      ['nobody-here', 'whatever-password'],
      [alice.username, 'wrong-password'],
      [disabled.username, disabled.password],
    ]) {
      const ua = new UserAgent(server.url);
      await ua.open('/login');
      const page = expectPage(await ua.signIn(username, password), 401);
      expect(page.headers.getSetCookie()).toEqual([]);
      answers.push(textOf(page.html).replace(username, 'NAME'));
    }
    expect(answers[0]).toContain('Incorrect username or password.');
    expect(new Set(answers).size).toBe(1);
  });

  it.each([
    ['without the CSRF cookie', (ua: UserAgent) => ua.cookies.clear(), {}],
    ['with another CSRF token', () => {}, { csrf: 'A'.repeat(43) }],
    ['from another origin', () => {}, {}, { origin: 'https://evil.example' }],
    ['from another site (Sec-Fetch-Site)', () => {}, {}, { 'sec-fetch-site': 'cross-site' }],
  ] as const)('refuses a sign-in form posted %s (403)', async (_, tamper, override, headers: Record<string, string> = {}) => {
    const ua = new UserAgent(server.url);
    await ua.open('/login');
    const fields = { ...formFields(ua.page!.html, '/login'), username: alice.username, password: alice.password, ...override };
    tamper(ua);
    const res = await ua.fetch('/login', form(fields, headers));
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie().filter((c) => c.startsWith('tessera_session'))).toEqual([]);
    expect(textOf(await res.text())).toContain('This form has expired or was sent from another site.');
  });

  it('asks again for a missing username or password', async () => {
    const ua = new UserAgent(server.url);
    await ua.open('/login');
    const res = await ua.fetch('/login', form({ ...formFields(ua.page!.html, '/login'), username: alice.username }));
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toContain('Enter your username and password.');
  });

  it('ends a session once its lifetime has passed: the browser is sent to sign in again', async () => {
    const ua = await signedIn();
    expectPage(await ua.open(authorizeUrl()), 200); // the consent page: signed in
    clock.advance(server.config.signIn.sessionTtl + 1);
    const res = await ua.fetch(authorizeUrl());
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/login\?return_to=/);
  });

  it('signs out', async () => {
    const ua = await signedIn();
    const csrf = formFields(ua.page!.html, '/logout').csrf;
    const res = await ua.fetch('/logout', form({ csrf }));
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(/^tessera_session=; Max-Age=0;/)]);
    expect((await get(authorizeUrl(), { cookie: `tessera_session=${'x'}` })).status).toBe(303);
    expect(expectPage(await ua.open('/login'), 200).html).toContain('action="/login"');
  });
});

describe('consent', () => {
  it('shows the client by name and each scope with its description, escaped', async () => {
    const ua = await signedIn();
    const page = expectPage(await ua.open(authorizeUrl({ scope: 'notes:read notes:write' })), 200);
    expect(page.html).toContain('Notes &lt;Web&gt; &amp; Co wants to access your account');
    const text = textOf(page.html);
    expect(text).toContain('Read your notes notes:read');
    expect(text).toContain('Create and change your notes notes:write');
    expect(text).toContain(`On these services: ${API}`);
    expect(text).toContain(`Signed in as ${alice.username}`);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });

  it('denied: access_denied back at the client, with state and iss', async () => {
    const ua = await signedIn();
    expectPage(await ua.open(authorizeUrl({ state: 'deny-me' })), 200);
    const callback = expectCallback(await ua.consent('deny'));
    expect(Object.fromEntries(callback.searchParams)).toEqual({ error: 'access_denied', error_description: 'the user denied the request', state: 'deny-me', iss: server.url });
  });

  it('allowed: a code bound to the PKCE challenge, which the token endpoint redeems once', async () => {
    const person = await aPerson(userDirectory(server), 'bob');
    const ua = await signedIn(person);
    const codeVerifier = verifier();
    expectPage(await ua.open(authorizeUrl({ code_challenge: s256Challenge(codeVerifier), scope: 'notes:write' })), 200);
    const callback = expectCallback(await ua.consent('allow'));
    expect([...callback.searchParams.keys()]).toEqual(['code', 'state', 'iss']);
    expect(callback.searchParams.get('state')).toBe('xyz');
    const code = callback.searchParams.get('code')!;
    expect(code).toMatch(/^tsr_ac_[A-Za-z0-9_-]{43}$/);

    const redeem = () =>
      postForm(`${server.url}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: codeVerifier }, {
        authorization: basicAuth(web.client_id, web.client_secret),
      });
    const tokens = await (await redeem()).json();
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'notes:write', refresh_token: expect.any(String) });
    const introspected = await (await postForm(`${server.url}/oauth2/introspect`, { token: tokens.access_token }, { authorization: basicAuth(web.client_id, web.client_secret) })).json();
    expect(introspected).toMatchObject({ active: true, sub: person.user.id, client_id: web.client_id, aud: API, scope: 'notes:write' });
    expect((await redeem()).status).toBe(400);
  });

  it('remembers a consent: the same or fewer scopes skip the page, more scopes ask again', async () => {
    const person = await aPerson(userDirectory(server), 'carol');
    const ua = await signedIn(person);
    expectPage(await ua.open(authorizeUrl({ scope: 'notes:read' })), 200);
    expectCallback(await ua.consent('allow', { remember: true }));

    const again = await ua.fetch(authorizeUrl({ scope: 'notes:read', state: 'second' }));
    expect(again.status).toBe(302);
    const location = new URL(again.headers.get('location')!);
    expect(location.searchParams.get('code')).toMatch(/^tsr_ac_/);
    expect(location.searchParams.get('state')).toBe('second');
    expect(location.searchParams.get('iss')).toBe(server.url);

    expectPage(await ua.open(authorizeUrl({ scope: 'notes:read notes:write' })), 200);
  });

  it('does not remember a consent given with "remember" unticked', async () => {
    const person = await aPerson(userDirectory(server), 'dave');
    const ua = await signedIn(person);
    expectPage(await ua.open(authorizeUrl()), 200);
    expectCallback(await ua.consent('allow', { remember: false }));
    expectPage(await ua.open(authorizeUrl()), 200);
  });

  it('refuses a decision posted without the CSRF token, and sends one without a session to sign in', async () => {
    const ua = await signedIn();
    expectPage(await ua.open(authorizeUrl()), 200);
    const fields = formFields(ua.page!.html, '/oauth2/authorize/decision');
    const forged = await ua.fetch('/oauth2/authorize/decision', form({ ...fields, csrf: 'B'.repeat(43), decision: 'allow' }));
    expect(forged.status).toBe(403);

    const stranger = new UserAgent(server.url);
    await stranger.open('/login');
    const csrf = formFields(stranger.page!.html, '/login').csrf;
    const res = await stranger.fetch('/oauth2/authorize/decision', form({ ...fields, csrf, decision: 'allow' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?${new URLSearchParams({ return_to: `/oauth2/authorize?${fields.request}` })}`);
  });

  it('checks the posted request again: a tampered redirect_uri is shown, not followed', async () => {
    const ua = await signedIn();
    expectPage(await ua.open(authorizeUrl()), 200);
    const fields = formFields(ua.page!.html, '/oauth2/authorize/decision');
    const request = new URLSearchParams(fields.request);
    request.set('redirect_uri', 'https://evil.example/cb');
    const res = await ua.fetch('/oauth2/authorize/decision', form({ ...fields, request: request.toString(), decision: 'allow' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('a disabled user is signed out everywhere', async () => {
    const person = await aPerson(userDirectory(server), 'erin');
    const ua = await signedIn(person);
    await userDirectory(server).disable(person.username);
    const res = await ua.fetch(authorizeUrl());
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/login\?return_to=/);
  });
});

describe('failed sign-ins are throttled per account and per address; https issuers get __Host- Secure cookies', () => {
  let throttled: RunningAuthServer;
  const throttledClock = new ManualClock();
  beforeAll(async () => {
    throttled = await startAuthServer({
      clock: throttledClock,
      env: {
        TESSERA_ISSUER: 'https://auth.tessera.test',
        TESSERA_SIGN_IN_MAX_FAILURES_PER_ACCOUNT: '3',
        TESSERA_SIGN_IN_MAX_FAILURES_PER_ADDRESS: '6',
        TESSERA_SIGN_IN_THROTTLE_WINDOW: '600',
      },
    });
  });
  afterAll(() => throttled.stop());

  /** Posts a sign-in as a browser would, carrying the CSRF cookie by hand (the cookies are Secure, the test speaks http). */
  async function attempt(username: string, password: string) {
    const page = await fetch(`${throttled.url}/login`);
    const csrfCookie = page.headers.getSetCookie()[0].split(';')[0];
    const { csrf } = formFields(await page.text(), '/login');
    return fetch(`${throttled.url}/login`, { ...form({ csrf, username, password }, { cookie: csrfCookie }), redirect: 'manual' });
  }

  it("accepts a form posted from the issuer's origin whatever Host header a reverse proxy passes on, and no other origin", async () => {
    const person = await aPerson(userDirectory(throttled), 'proxied');
    const signIn = async (origin: string) => {
      const page = await fetch(`${throttled.url}/login`);
      const cookie = page.headers.getSetCookie()[0].split(';')[0];
      const { csrf } = formFields(await page.text(), '/login');
      return fetch(`${throttled.url}/login`, { ...form({ csrf, username: person.username, password: person.password }, { cookie, origin }), redirect: 'manual' });
    };
    expect((await signIn('https://auth.tessera.test')).status).toBe(303);
    expect((await signIn('https://evil.example')).status).toBe(403);
  });

  it('sets Secure __Host- cookies', async () => {
    const person = await aPerson(userDirectory(throttled), 'secure');
    const page = await fetch(`${throttled.url}/login`);
    expect(page.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-tessera_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/)]);
    const res = await attempt(person.username, person.password);
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-tessera_session=tsr_ss_[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Lax$/)]);
  });

  it('locks an account after its failures, even for the right password, while others sign in; then the address', async () => {
    const victim = await aPerson(userDirectory(throttled), 'victim');
    const other = await aPerson(userDirectory(throttled), 'other');
    for (let i = 0; i < 3; i++) expect((await attempt(victim.username, 'wrong-password')).status).toBe(401);
    const locked = await attempt(victim.username, victim.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(590);
    expect(textOf(await locked.text())).toContain('Too many failed sign-in attempts. Try again in 10 minutes.');
    // The account key ignores case, and unknown accounts are throttled the same way (no enumeration).
    expect((await attempt(victim.username.toUpperCase(), victim.password)).status).toBe(429);
    expect((await attempt(other.username, other.password)).status).toBe(303);

    // Three more failures from this address (on other, unknown names) reach its budget of six.
    for (const name of ['ghost-1', 'ghost-2', 'ghost-3']) expect((await attempt(name, 'wrong-password')).status).toBe(401);
    expect((await attempt(other.username, other.password)).status).toBe(429);

    // Once the window (TESSERA_SIGN_IN_THROTTLE_WINDOW) has passed on the server's clock, both sign in again.
    throttledClock.advance(601);
    expect((await attempt(victim.username, victim.password)).status).toBe(303);
    expect((await attempt(other.username, other.password)).status).toBe(303);
  });
});

function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() };
}

describe('behind a trusted proxy', () => {
  let proxied: RunningAuthServer;
  beforeAll(async () => {
    proxied = await startAuthServer({ env: { TESSERA_TRUST_PROXY: 'loopback', TESSERA_SIGN_IN_MAX_FAILURES_PER_ADDRESS: '2' } });
  });
  afterAll(() => proxied.stop());

  it("throttles each browser's address from X-Forwarded-For, not the proxy's", async () => {
    const attempt = async (forwardedFor: string) => {
      const page = await fetch(`${proxied.url}/login`);
      const cookie = page.headers.getSetCookie()[0].split(';')[0];
      const { csrf } = formFields(await page.text(), '/login');
      const username = `ghost-${randomBytes(4).toString('hex')}`;
      return (await fetch(`${proxied.url}/login`, form({ csrf, username, password: 'wrong-password' }, { cookie, 'x-forwarded-for': forwardedFor }))).status;
    };
    expect([await attempt('203.0.113.1'), await attempt('203.0.113.1'), await attempt('203.0.113.1')]).toEqual([401, 401, 429]);
    expect(await attempt('203.0.113.2')).toBe(401);
  });
});
