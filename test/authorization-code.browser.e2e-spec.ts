// The authorization code flow in a real browser: headless Chromium (driven by playwright-core; which binary:
// test/support/browser.ts, TESSERA_CHROMIUM, else /usr/bin/chromium, else @sparticuz/chromium's) opens
// the authorization request that oauth4webapi built, a person types their username and password and
// clicks through the consent page, and the browser lands on the client's redirect URI, a small local
// server, with code, state and iss; oauth4webapi then checks that answer and redeems the code.
// Screenshots of the login and consent pages go to test/screenshots/ (not committed), to be looked at.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { UserDirectory } from '@tessera/oauth-core';
import { defaultPasswordHasher } from '@tessera/server';
import * as oauth from 'oauth4webapi';
import type { Page } from 'playwright-core';
import { registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';
import { chooseChromium, launchChromium, type TestBrowser } from './support/browser.js';
import { authorizationRequest, discover, redeem, type AuthorizationAttempt } from './support/oauth-client.js';
import { startRedirectReceiver, type RedirectReceiver } from './support/redirect-receiver.js';
import { aPerson, userDirectory, type Person } from './support/users.js';

const API = 'https://api.example';
const SCOPE_DESCRIPTIONS = { 'notes:read': 'Read your notes', 'notes:write': 'Create, change and delete your notes' };
const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

let server: RunningAuthServer;
let as: oauth.AuthorizationServer;
let users: UserDirectory;
let receiver: RedirectReceiver;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  // Chromium starts while the server and its database come up.
  const started = Promise.all([launchChromium(), startRedirectReceiver(), mkdir(SCREENSHOTS, { recursive: true })]);
  // The production password hasher (scrypt, 128 MiB), as `npm start` runs it: one suite signs in at full cost.
  server = await startAuthServer({ env: { TESSERA_SCOPE_DESCRIPTIONS: JSON.stringify(SCOPE_DESCRIPTIONS) }, passwordHasher: defaultPasswordHasher() });
  [browser, receiver] = await started;
  as = await discover(server.url);
  users = userDirectory(server);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await server?.stop();
});

beforeEach(async () => {
  await browser.clearCookies();
  page = await browser.newPage();
  page.setDefaultTimeout(10_000);
});
afterEach(() => page.close());

async function aClient(kind: 'spa' | 'web', name: string) {
  const c = await registerClient(server.url, {
    client_name: name,
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [receiver.redirectUri],
    scope: 'notes:read notes:write',
    resources: [API],
    ...(kind === 'spa' ? { token_endpoint_auth_method: 'none' } : {}),
  });
  return { client: { client_id: c.client_id } as oauth.Client, auth: kind === 'spa' ? oauth.None() : oauth.ClientSecretBasic(c.client_secret) };
}

// The test's name says which binary ran: on a machine with only Node, @sparticuz/chromium.
const expectedChromium = chooseChromium();
it(`runs the Chromium chosen for this machine (${expectedChromium.source})`, () => {
  expect(browser.executable.source).toBe(expectedChromium.source);
  if (expectedChromium.path) expect(browser.executable.path).toBe(expectedChromium.path);
  expect(browser.executable.path).toMatch(/^\//);
});

const pathOf = (p: Page) => new URL(p.url()).pathname;
const onRedirectUri = (url: URL) => url.href.startsWith(receiver.redirectUri);
const screenshot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });

/** Opens the authorization request: a visitor is sent to the login page. */
async function openLogin(attempt: AuthorizationAttempt): Promise<void> {
  await page.goto(attempt.url.href);
  expect(pathOf(page)).toBe('/login');
  await page.getByLabel('Username').waitFor();
}

/** Types the username and password and clicks "Sign in", as a person would. */
async function signIn(person: Pick<Person, 'username' | 'password'>): Promise<number> {
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password').fill(person.password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/login' && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.waitForLoadState('load');
  // The form post says where it comes from (the pages' referrer policy lets it): the server refuses `Origin: null`.
  expect(await response.request().headerValue('origin')).toBe(new URL(server.url).origin);
  return response.status();
}

/** Clicks Allow or Deny on the consent page and waits for the browser to land on the client. */
async function decide(button: 'Allow' | 'Deny'): Promise<URL> {
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.waitForURL(onRedirectUri);
  return new URL(page.url());
}

describe.each([
  ['spa', 'Notes for the browser'],
  ['web', 'Notes on the web'],
] as const)('%s client in Chromium', (kind, clientName) => {
  let client: oauth.Client;
  let auth: oauth.ClientAuth;

  beforeAll(async () => {
    ({ client, auth } = await aClient(kind, clientName));
  });

  const start = (scope = 'notes:read notes:write') => authorizationRequest(as, client, { redirectUri: receiver.redirectUri, scope, resources: [API] });

  /** Signs in on the login page the request leads to, and waits for the consent page. */
  async function signInToConsent(person: Person, attempt: AuthorizationAttempt): Promise<void> {
    await openLogin(attempt);
    expect(await signIn(person)).toBe(303);
    await page.waitForURL((url) => url.pathname === '/oauth2/authorize');
    await page.getByRole('button', { name: 'Allow', exact: true }).waitFor();
  }

  it('signs in, shows the consent page, and lands on the redirect URI with a code that oauth4webapi redeems', async () => {
    const person = await aPerson(users);
    const attempt = await start();
    await signInToConsent(person, attempt);

    for (const text of [clientName, 'notes:read', 'Read your notes', 'notes:write', SCOPE_DESCRIPTIONS['notes:write']]) {
      expect(await page.getByText(text).first().isVisible()).toBe(true);
    }
    expect(await page.getByRole('checkbox').isChecked()).toBe(true);
    await screenshot(`consent-${kind}`);

    const landed = await decide('Allow');
    expect(await page.locator('#outcome').textContent()).toBe('Signed in');
    const callback = receiver.last()!;
    expect(callback.href).toBe(landed.href);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    expect(callback.searchParams.get('state')).toBe(attempt.state);
    expect(callback.searchParams.get('iss')).toBe(as.issuer);

    const tokens = await redeem(as, client, auth, attempt, callback);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'notes:read notes:write', refresh_token: expect.stringMatching(/^tsr_rt_/) });
  });

  it('lands with access_denied when the person clicks Deny', async () => {
    const person = await aPerson(users);
    const attempt = await start();
    await signInToConsent(person, attempt);
    const callback = await decide('Deny');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
    expect(callback.searchParams.get('state')).toBe(attempt.state);
    expect(callback.searchParams.get('iss')).toBe(as.issuer);
    expect(() => oauth.validateAuthResponse(as, client, callback, attempt.state)).toThrow(oauth.AuthorizationResponseError);
  });

  it('goes straight back to the redirect URI the second time, when the consent was remembered', async () => {
    const person = await aPerson(users);
    const first = await start();
    await signInToConsent(person, first);
    await decide('Allow'); // "remember" is ticked by default
    await redeem(as, client, auth, first, receiver.last()!);

    const second = await start();
    const response = await page.goto(second.url.href);
    // One redirect, from the authorization endpoint to the client: no login page, no consent page.
    const from = response!.request().redirectedFrom();
    expect(from && new URL(from.url()).pathname).toBe('/oauth2/authorize');
    expect(from!.redirectedFrom()).toBeNull();
    expect(onRedirectUri(new URL(page.url()))).toBe(true);
    const callback = receiver.last()!;
    expect(callback.searchParams.get('state')).toBe(second.state);
    const tokens = await redeem(as, client, auth, second, callback);
    expect(tokens.scope).toBe('notes:read notes:write');
  });
});

it('shows "Incorrect username or password." on a wrong password and stays on the login page', async () => {
  const { client } = await aClient('web', 'Notes on the web');
  const person = await aPerson(users);
  const attempt = await authorizationRequest(as, client, { redirectUri: receiver.redirectUri, scope: 'notes:read', resources: [API] });
  await openLogin(attempt);
  await screenshot('login');

  expect(await signIn({ username: person.username, password: 'not-the-password' })).toBe(401);
  await page.getByText('Incorrect username or password.').waitFor();
  expect(pathOf(page)).toBe('/login');
  expect(await page.getByLabel('Password').isVisible()).toBe(true);
  await screenshot('login-error');

  // The right password on the same page still gets through to the consent page.
  expect(await signIn(person)).toBe(303);
  await page.waitForURL((url) => url.pathname === '/oauth2/authorize');
  await page.getByRole('button', { name: 'Allow', exact: true }).waitFor();
  expect(receiver.received.some((u) => u.searchParams.get('state') === attempt.state)).toBe(false);
});

it('lets a single-page app redeem its code and refresh from its own page, across origins (CORS)', async () => {
  const { client } = await aClient('spa', 'Notes in the page');
  const person = await aPerson(users);
  const attempt = await authorizationRequest(as, client, { redirectUri: receiver.redirectUri, scope: 'notes:read', resources: [API] });
  await openLogin(attempt);
  expect(await signIn(person)).toBe(303);
  await page.getByRole('button', { name: 'Allow', exact: true }).waitFor();
  const landed = await decide('Allow');
  expect(landed.origin).not.toBe(new URL(as.issuer).origin);

  // What the app's own script does on its redirect page: fetch() to the token endpoint of another origin.
  const post = (body: Record<string, string>) =>
    page.evaluate(
      async ({ url, form }) => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
        return { status: res.status, body: await res.json() };
      },
      { url: as.token_endpoint!, form: body },
    );
  const code = landed.searchParams.get('code')!;
  const redeemed = await post({ grant_type: 'authorization_code', client_id: client.client_id, code, redirect_uri: receiver.redirectUri, code_verifier: attempt.codeVerifier });
  expect(redeemed).toEqual({
    status: 200,
    body: { access_token: expect.stringMatching(/^tsr_at_/), token_type: 'Bearer', expires_in: 3600, scope: 'notes:read', refresh_token: expect.stringMatching(/^tsr_rt_/) },
  });
  const refreshed = await post({ grant_type: 'refresh_token', client_id: client.client_id, refresh_token: redeemed.body.refresh_token });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.refresh_token).not.toBe(redeemed.body.refresh_token);
  // An error reaches the page too (CORS headers on errors): the rotated token again is invalid_grant.
  const replayed = await post({ grant_type: 'refresh_token', client_id: client.client_id, refresh_token: redeemed.body.refresh_token });
  expect(replayed).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'refresh token already used; its grant is revoked' } });
});
