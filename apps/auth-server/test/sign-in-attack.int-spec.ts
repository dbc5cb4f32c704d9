// The sign-in page under attack, over real HTTP on real PostgreSQL: concurrent wrong passwords
// against the throttle (two instances on one database), a burst of sign-ins against the bound on
// password hashes running at once, and forged form posts (Origin: null, a CSRF cookie the attacker chose).
import { PasswordHasher } from '@tessera/oauth-core';
import { FastPasswordHasher } from '@tessera/testing';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { expectPage, formFields, textOf, UserAgent } from '../../../test/support/user-agent.js';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

/**
 * The test hasher, counting the verifications it runs and how many ran at once;
 * `hold()` keeps every verification waiting until `open()`.
 */
class CountingHasher extends PasswordHasher {
  private readonly inner = new FastPasswordHasher();
  verified = 0;
  running = 0;
  maxRunning = 0;
  private gate: Promise<void> | null = null;
  private opener = () => {};

  hash(password: string): Promise<string> {
    return this.inner.hash(password);
  }

  async verify(password: string, hash: string): Promise<boolean> {
    this.verified++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await this.gate;
      return await this.inner.verify(password, hash);
    } finally {
      this.running--;
    }
  }

  needsRehash(hash: string): boolean {
    return this.inner.needsRehash(hash);
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.opener = resolve));
  }

  open(): void {
    this.opener();
    this.gate = null;
  }

  reset(): void {
    this.verified = this.maxRunning = 0;
  }
}

/** A user of `server`, created with its own user directory (and so its password hasher). */
async function aUser(server: RunningAuthServer) {
  const username = `user-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  await server.services.users.create(username, password);
  return { username, password };
}

/** A fresh browser's sign-in: GET /login for the CSRF cookie and token, then the POST. */
async function attempt(server: RunningAuthServer, username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  const ua = new UserAgent(server.url);
  expectPage(await ua.open('/login'), 200);
  const fields = formFields(ua.page!.html, '/login');
  return ua.fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ ...fields, username, password }).toString(),
  });
}

const statuses = (responses: Response[]) => responses.map((r) => r.status).sort();

describe('concurrent wrong passwords are throttled before any is checked, across instances', () => {
  const hasher = new CountingHasher();
  let a: RunningAuthServer;
  let b: RunningAuthServer;
  const env = {
    TESSERA_SIGN_IN_MAX_FAILURES_PER_ACCOUNT: '10',
    TESSERA_SIGN_IN_THROTTLE_WINDOW: '600',
    // Room for every attempt to wait for a hash here: this is about the throttle, not the bound on hashes.
    TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES: '2',
    TESSERA_SIGN_IN_MAX_QUEUED_HASHES: '16',
  };
  beforeAll(async () => {
    a = await startAuthServer({ env, passwordHasher: hasher });
    b = await startAuthServer({ env, databaseUrl: a.databaseUrl, passwordHasher: hasher });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('16 parallel wrong passwords against a limit of 10, half on each instance: 10 checked, 6 refused with 429 and Retry-After', async () => {
    const victim = await aUser(a);
    hasher.reset();
    const responses = await Promise.all(Array.from({ length: 16 }, (_, i) => attempt(i % 2 ? b : a, victim.username, 'wrong-password')));
    expect(statuses(responses)).toEqual([...Array(10).fill(401), ...Array(6).fill(429)]);
    expect(hasher.verified).toBe(10);
    for (const r of responses.filter((r) => r.status === 429)) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(500);
      expect(textOf(await r.text())).toContain('Too many failed sign-in attempts.');
    }
    // The right password now waits too, on either instance.
    expect((await attempt(b, victim.username, victim.password)).status).toBe(429);
  });

  it('a successful sign-in takes back its own attempt and clears the account, as before', async () => {
    const person = await aUser(a);
    for (let i = 0; i < 9; i++) expect((await attempt(i % 2 ? b : a, person.username, 'wrong-password')).status).toBe(401);
    // The tenth slot goes to one of them, whose check is held until the other has been answered: 429, since the
    // slot is taken while its password is checked. Then the check succeeds and clears the account.
    hasher.hold();
    let answered = 0;
    const both = [a, b].map((s) => attempt(s, person.username, person.password).then((r) => (answered++, r)));
    while (answered < 1 || hasher.running < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    hasher.open();
    const ok = await Promise.all(both);
    expect(statuses(ok)).toEqual([303, 429]);
    expect((await attempt(b, person.username, person.password)).status).toBe(303);
  });
});

describe('a burst of sign-ins: password hashes running at once are bounded, the rest get 503 with Retry-After', () => {
  const hasher = new CountingHasher();
  let server: RunningAuthServer;
  beforeAll(async () => {
    server = await startAuthServer({
      env: { TESSERA_SIGN_IN_MAX_CONCURRENT_HASHES: '2', TESSERA_SIGN_IN_MAX_QUEUED_HASHES: '1' },
      passwordHasher: hasher,
    });
  });
  afterAll(() => server?.stop());

  it('runs two, queues one, and answers the others at once with a 503 page, while the token endpoint still answers', async () => {
    const person = await aUser(server);
    const client = await registerClient(server.url);
    hasher.reset();
    hasher.hold();
    // The forms first, so that the six posts arrive together.
    const browsers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const ua = new UserAgent(server.url);
        expectPage(await ua.open('/login'), 200);
        return ua;
      }),
    );
    const answered: Response[] = [];
    const posts = browsers.map((ua) =>
      ua.signIn(person.username, 'wrong-password').then(() => answered.push(ua.page ? new Response(ua.page.html, { status: ua.page.status, headers: ua.page.headers }) : Response.error())),
    );
    // Two checks reach the (held) hash, and three posts are answered meanwhile: only the bound could answer them.
    while (answered.length < 3 || hasher.running < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect([answered.length, hasher.running]).toEqual([3, 2]);
    const token = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth(client.client_id, client.client_secret) });
    expect(token.status).toBe(200);
    for (const busy of answered) {
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('5');
      expect(busy.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(busy.headers.get('cache-control')).toBe('no-store');
      expect(textOf(await busy.text())).toContain('Sign-in is unavailable for a moment. Please try again shortly.');
    }
    hasher.open();
    await Promise.all(posts);
    expect(answered.slice(3).map((r) => r.status)).toEqual([401, 401, 401]);
    expect(hasher.maxRunning).toBe(2);
    expect(hasher.verified).toBe(3);
    // The three refused were not counted: the failures are the three checked, each under the account and the address.
    const failures = await server.app.get(DataSource).query(`SELECT count(*)::int AS n FROM sign_in_failures`);
    expect(failures).toEqual([{ n: 3 * 2 }]);
    // And once the burst is over, the right password signs in.
    expect((await attempt(server, person.username, person.password)).status).toBe(303);
  });
});

describe('forged form posts: Origin null, and a CSRF cookie the attacker chose (cookie tossing over http)', () => {
  const REDIRECT_URI = 'http://127.0.0.1:8080/callback';
  let server: RunningAuthServer;
  let web: { client_id: string };
  beforeAll(async () => {
    server = await startAuthServer();
    web = await registerClient(server.url, { token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI], scope: 'read' });
  });
  afterAll(() => server?.stop());

  const authorizeUrl = () =>
    `/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT_URI, scope: 'read', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuX_cT3FNIo', code_challenge_method: 'S256' })}`;
  const post = (ua: UserAgent, action: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    ua.fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });

  it.each([
    ['Origin: null (a sandboxed frame, a data: URL, a cross-origin redirect)', { origin: 'null' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'sec-fetch-site': 'same-site' }],
  ])('refuses a sign-in form, a consent and a sign-out posted with %s, though they carry the right token', async (_, headers) => {
    const person = await aUser(server);
    const ua = new UserAgent(server.url);
    expectPage(await ua.open('/login'), 200);
    const signIn = await post(ua, '/login', { ...formFields(ua.page!.html, '/login'), username: person.username, password: person.password }, headers);
    expect(signIn.status).toBe(403);
    expect(textOf(await signIn.text())).toContain('This form has expired or was sent from another site.');

    expectPage(await ua.signIn(person.username, person.password), 200);
    const consent = expectPage(await ua.open(authorizeUrl()), 200);
    const decision = await post(ua, '/oauth2/authorize/decision', { ...formFields(consent.html, '/oauth2/authorize/decision'), decision: 'allow' }, headers);
    expect(decision.status).toBe(403);
    const signedIn = expectPage(await ua.open('/login'), 200);
    const signOut = await post(ua, '/logout', formFields(signedIn.html, '/logout'), headers);
    expect(signOut.status).toBe(303);
    expect(signOut.headers.getSetCookie()).toEqual([]); // not signed out
    expectPage(await ua.open(authorizeUrl()), 200); // still signed in: the consent page again
  });

  it('the form carries a token derived from the CSRF cookie, not the cookie itself, so a value the attacker planted is refused', async () => {
    const person = await aUser(server);
    const ua = new UserAgent(server.url);
    const page = expectPage(await ua.open('/login'), 200);
    expect(formFields(page.html, '/login').csrf).not.toBe(ua.cookies.get('tessera_csrf')!.value);
    // The attacker tosses a cookie of its choosing into the browser, and posts the same value (the double submit of old).
    const planted = randomBytes(32).toString('base64url');
    const forged = await fetch(`${server.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tessera_csrf=${planted}` },
      body: new URLSearchParams({ csrf: planted, username: person.username, password: person.password }).toString(),
    });
    expect(forged.status).toBe(403);
  });

  it("binds the token of a signed-in browser's forms to its session: a token minted for the attacker's own cookie does not carry a consent", async () => {
    const victim = await aUser(server);
    // The attacker gets the server to mint a token for a cookie value it knows, without any session.
    const attacker = new UserAgent(server.url);
    const attackerPage = expectPage(await attacker.open('/login'), 200);
    const attackerCookie = attacker.cookies.get('tessera_csrf')!.value;
    const attackerToken = formFields(attackerPage.html, '/login').csrf;

    const ua = new UserAgent(server.url);
    expectPage(await ua.open('/login'), 200);
    expectPage(await ua.signIn(victim.username, victim.password), 200);
    const consent = expectPage(await ua.open(authorizeUrl()), 200);
    const fields = formFields(consent.html, '/oauth2/authorize/decision');
    const session = ua.cookies.get('tessera_session')!.value;
    // The victim's browser, with the attacker's cookie tossed in, posts the attacker's token: refused.
    const forged = await fetch(`${server.url}/oauth2/authorize/decision`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tessera_csrf=${attackerCookie}; tessera_session=${session}` },
      body: new URLSearchParams({ ...fields, csrf: attackerToken, decision: 'allow' }).toString(),
    });
    expect(forged.status).toBe(403);
    // The token of a page rendered before signing in is no good after it either; the consent page's own token is.
    expect((await post(ua, '/oauth2/authorize/decision', { ...fields, csrf: formFields(attackerPage.html, '/login').csrf, decision: 'allow' })).status).toBe(403);
    const allowed = await post(ua, '/oauth2/authorize/decision', { ...fields, decision: 'allow' });
    expect(allowed.status).toBe(303);
    expect(new URL(allowed.headers.get('location')!).searchParams.get('code')).toMatch(/^tsr_ac_/);
  });
});
