// Revocations of a whole grant, or of a user's grants, reach a resource server that has already accepted
// (and so cached) an access token of that grant: the sample notes API behind TokenGuard, following the
// auth server's revocation feed, refuses the token within moments, for both token formats (issue 9, point 1:
// a cached introspection result had no grant id, so an opaque token stayed accepted for the cache TTL).
// Tokens come from the code flow, driven by oauth4webapi: a user agent signs in and consents on the
// server's own pages, the client redeems the code with PKCE and refreshes with rotation.
import type { UserDirectory } from '@tessera/oauth-core';
import { createDataSource, typeOrmStorage } from '@tessera/persistence';
import { composeAdministration } from '@tessera/server';
import { freePort } from '@tessera/testing';
import * as oauth from 'oauth4webapi';
import type { DataSource } from 'typeorm';
import { registerClient, startAuthServer, type RunningAuthServer } from '../apps/auth-server/test/auth-server.harness.js';
import { startResourceServer, type RunningResourceServer } from '../apps/resource-server/test/resource-server.harness.js';
import { authorizationRequest, discover, insecure, redeem, type AuthorizationAttempt } from './support/oauth-client.js';
import { expectCallback, expectPage, findForm, UserAgent } from './support/user-agent.js';
import { aPerson, type Person } from './support/users.js';
import { waitFor } from './support/wait.js';

/** Never contacted: the user agent stops at the redirect to it. */
const REDIRECT_URI = 'http://127.0.0.1:8080/callback';
/** How long a revoked token may still be accepted before the test gives up: a ceiling against hanging, far below the 60 s cache TTL. */
const GIVE_UP_MS = 3000;

let auth: RunningAuthServer;
let as: oauth.AuthorizationServer;
let rs: RunningResourceServer;
/** The operator's own connection to the auth server's database, as the CLI opens one. */
let operatorDb: DataSource;
/** The users as `npm run cli -- users ...` manages them. */
let users: UserDirectory;
/** Revocation-to-refusal delays, printed once at the end (not asserted). */
const delays: string[] = [];

beforeAll(async () => {
  auth = await startAuthServer();
  as = await discover(auth.url);
  // The resource server's own client (RFC 7591): it introspects and reads the revocation feed, which it follows by default.
  const port = await freePort();
  const own = await registerClient(auth.url, { client_name: 'notes api', scope: '', resource_server_for: [`http://127.0.0.1:${port}`] });
  rs = await startResourceServer({
    issuer: auth.url,
    port,
    env: { TESSERA_RESOURCE_CLIENT_ID: own.client_id, TESSERA_RESOURCE_CLIENT_SECRET: own.client_secret },
  });
  await waitFor('the resource server is ready', () => fetch(`${rs.url}/health/ready`).then((r) => r.status), (status) => status === 200, 10_000);
  operatorDb = await createDataSource(auth.databaseUrl).initialize();
  users = cliUserDirectory(operatorDb);
});

afterAll(async () => {
  if (delays.length > 0) console.log(`grant revocation to refusal by the resource server: ${delays.join(', ')}`);
  await operatorDb?.destroy();
  await rs?.stop();
  await auth?.stop();
});

/** What the CLI (apps/cli/src/cli-context.ts) builds for `users disable` and `users revoke-consent`, with the server's password hasher. */
function cliUserDirectory(dataSource: DataSource): UserDirectory {
  const storage = typeOrmStorage(dataSource, { maxTokenTtlSeconds: auth.config.tokens.maxAccessTokenTtl });
  return composeAdministration(auth.config, storage, { passwordHasher: auth.services.passwordHasher }).users;
}

/** GET /api/notes with a token: status, body, and the headers that matter. */
async function listNotes(token: string) {
  const res = await fetch(`${rs.url}/api/notes`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json(), challenge: res.headers.get('www-authenticate') };
}

const accepted = { status: 200, body: { notes: [] }, challenge: null };
const refused = (description: string) => ({
  status: 401,
  body: { error: 'invalid_token', error_description: description },
  challenge: `Bearer realm="${rs.url}", error="invalid_token", error_description="${description}"`,
});

describe.each(['opaque', 'jwt'] as const)('with %s access tokens', (format) => {
  /** Opaque: the auth server says inactive once the cached result is dropped; JWT: TokenGuard's own revocation list says so. */
  const revoked = () => refused(format === 'opaque' ? 'token is not active' : 'token revoked');

  /** A confidential web client of the notes API that uses the code flow with refresh tokens, through oauth4webapi. */
  async function aCodeClient(name: string) {
    const registered = await registerClient(auth.url, {
      client_name: `${name} (${format})`,
      access_token_format: format,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT_URI],
      scope: 'notes:read notes:write',
      resources: [rs.url],
    });
    const client: oauth.Client = { client_id: registered.client_id };
    const clientAuth = oauth.ClientSecretBasic(registered.client_secret);
    return {
      clientId: registered.client_id,
      /** The person (signed in already, or now) allows the request; the client gets the redirect back, not yet redeemed. */
      async authorize(person: Person, ua: UserAgent, remember = false): Promise<{ attempt: AuthorizationAttempt; callback: URL }> {
        const attempt = await authorizationRequest(as, client, { redirectUri: REDIRECT_URI, scope: 'notes:read', resources: [rs.url] });
        let step = await ua.open(attempt.url);
        if (step.kind === 'page' && findForm(step.page.html, '/login')) step = await ua.signIn(person.username, person.password);
        expectPage(step, 200); // the consent page
        return { attempt, callback: expectCallback(await ua.consent('allow', { remember })) };
      },
      redeem: (attempt: AuthorizationAttempt, callback: URL) => redeem(as, client, clientAuth, attempt, callback),
      /** One grant, from sign-in to tokens. */
      async grant(person: Person, ua: UserAgent, remember = false): Promise<oauth.TokenEndpointResponse> {
        const { attempt, callback } = await this.authorize(person, ua, remember);
        return this.redeem(attempt, callback);
      },
      refresh: async (refreshToken: string) =>
        oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, insecure)),
      /** RFC 7009, with the refresh token hint. */
      revokeRefreshToken: async (refreshToken: string) =>
        oauth.processRevocationResponse(
          await oauth.revocationRequest(as, client, clientAuth, refreshToken, { ...insecure, additionalParameters: { token_type_hint: 'refresh_token' } }),
        ),
    };
  }

  let client: Awaited<ReturnType<typeof aCodeClient>>;
  /** A second client of the same API, for a consent revoked at one client only. */
  let otherClient: Awaited<ReturnType<typeof aCodeClient>>;
  beforeAll(async () => {
    client = await aCodeClient('Notes web');
    otherClient = await aCodeClient('Notes mobile');
  });

  /** A new person signed in with a user agent of their own. */
  async function aSignedInPerson() {
    return { person: await aPerson(users, `${format}-user`), ua: new UserAgent(auth.url) };
  }

  /** Each token is accepted, twice: the second answer comes from the resource server's cache (introspection result, or verified JWT). */
  async function acceptedAndCached(...tokens: string[]) {
    for (const token of tokens) for (let i = 0; i < 2; i++) expect(await listNotes(token)).toEqual(accepted);
  }

  /** Polls until the resource server refuses every token (giving up after GIVE_UP_MS), then checks the refusal exactly. */
  async function expectRefusedSoon(kind: string, ...tokens: string[]) {
    const everyOne = () => Promise.all(tokens.map(listNotes));
    const { value, elapsed } = await waitFor(`the resource server refuses the tokens after ${kind}`, everyOne, (all) => all.every((r) => r.status !== 200), GIVE_UP_MS);
    delays.push(`${format} ${kind} ${elapsed.toFixed(0)} ms`);
    expect(value).toEqual(tokens.map(() => revoked()));
  }

  it('refuses the access token of a grant whose refresh token the client revoked (RFC 7009)', async () => {
    const { person, ua } = await aSignedInPerson();
    const tokens = await client.grant(person, ua);
    const otherGrant = await client.grant(person, ua); // same person, same client, another grant
    await acceptedAndCached(tokens.access_token, otherGrant.access_token);

    await client.revokeRefreshToken(tokens.refresh_token!);

    await expectRefusedSoon('refresh token revoked', tokens.access_token);
    expect(await listNotes(otherGrant.access_token)).toEqual(accepted);
  });

  it('refuses the access tokens of a grant whose rotated refresh token is used again', async () => {
    const { person, ua } = await aSignedInPerson();
    const tokens = await client.grant(person, ua);
    const rotated = await client.refresh(tokens.refresh_token!);
    const otherGrant = await client.grant(person, ua);
    await acceptedAndCached(tokens.access_token, rotated.access_token, otherGrant.access_token);

    // The stolen, already rotated refresh token: refused, and its family revoked.
    const replay = await client.refresh(tokens.refresh_token!).catch((e) => e);
    expect(replay).toBeInstanceOf(oauth.ResponseBodyError);
    expect(replay).toMatchObject({ status: 400, error: 'invalid_grant' });

    await expectRefusedSoon('rotated refresh token replayed', tokens.access_token, rotated.access_token);
    expect(await listNotes(otherGrant.access_token)).toEqual(accepted);
  });

  it('refuses the access token of a grant whose authorization code is redeemed a second time', async () => {
    const { person, ua } = await aSignedInPerson();
    const { attempt, callback } = await client.authorize(person, ua);
    const tokens = await client.redeem(attempt, callback);
    const otherGrant = await client.grant(person, ua);
    await acceptedAndCached(tokens.access_token, otherGrant.access_token);

    const replay = await client.redeem(attempt, callback).catch((e) => e);
    expect(replay).toBeInstanceOf(oauth.ResponseBodyError);
    expect(replay).toMatchObject({ status: 400, error: 'invalid_grant', error_description: expect.stringContaining('already used') });

    await expectRefusedSoon('authorization code replayed', tokens.access_token);
    expect(await listNotes(otherGrant.access_token)).toEqual(accepted);
  });

  it("refuses a user's access tokens at a client once their consent there is revoked (users revoke-consent --client)", async () => {
    const { person, ua } = await aSignedInPerson();
    const tokens = await client.grant(person, ua, true);
    const refreshed = await client.refresh(tokens.refresh_token!);
    const atOtherClient = await otherClient.grant(person, ua, true);
    const bystander = await aSignedInPerson();
    const othersToken = await client.grant(bystander.person, bystander.ua, true);
    await acceptedAndCached(tokens.access_token, refreshed.access_token, atOtherClient.access_token, othersToken.access_token);

    const { user, consentsRevoked } = await users.revokeConsent(person.username, client.clientId);
    expect({ userId: user.id, consentsRevoked }).toEqual({ userId: person.user.id, consentsRevoked: 1 });

    await expectRefusedSoon('consent revoked', tokens.access_token, refreshed.access_token);
    // Only that user, only at that client.
    expect(await listNotes(atOtherClient.access_token)).toEqual(accepted);
    expect(await listNotes(othersToken.access_token)).toEqual(accepted);
  });

  it("refuses a disabled user's access tokens (users disable)", async () => {
    const { person, ua } = await aSignedInPerson();
    const tokens = await client.grant(person, ua);
    const refreshed = await client.refresh(tokens.refresh_token!);
    const atOtherClient = await otherClient.grant(person, ua);
    const bystander = await aSignedInPerson();
    const othersToken = await client.grant(bystander.person, bystander.ua);
    await acceptedAndCached(tokens.access_token, refreshed.access_token, atOtherClient.access_token, othersToken.access_token);

    const { user, wasDisabled } = await users.disable(person.username);
    expect({ userId: user.id, wasDisabled, disabled: user.disabledAt !== null }).toEqual({ userId: person.user.id, wasDisabled: false, disabled: true });

    await expectRefusedSoon('user disabled', tokens.access_token, refreshed.access_token, atOtherClient.access_token);
    expect(await listNotes(othersToken.access_token)).toEqual(accepted);
  });
});
