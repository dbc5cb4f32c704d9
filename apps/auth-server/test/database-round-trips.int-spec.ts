// Issue 11: the database round trips of introspection and revocation of an opaque access token, counted on the
// wire (the harness's TCP proxy between the server and PostgreSQL reads the client side of the protocol).
import { ClientRepository, s256Challenge, UserRepository } from '@tessera/oauth-core';
import { aUser } from '@tessera/testing';
import { randomBytes } from 'node:crypto';
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const API = 'https://api.example';
const REDIRECT_URI = 'https://app.example/callback';
type Credentials = { client_id: string; client_secret: string };

let server: RunningAuthServer;
let client: Credentials;
let jwtClient: Credentials;
let rs: Credentials;
beforeAll(async () => {
  server = await startAuthServer({ proxy: true });
  client = await registerClient(server.url, { access_token_format: 'opaque', resources: [API] });
  jwtClient = await registerClient(server.url, { access_token_format: 'jwt', resources: [API] });
  rs = await registerClient(server.url, { client_name: 'api', scope: '', resource_server_for: [API] });
});
afterAll(() => server.stop());

const as = (c: Credentials) => ({ authorization: basicAuth(c.client_id, c.client_secret) });
const accessToken = async (of = client) => {
  const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'client_credentials', resource: API }, as(of));
  expect(res.status).toBe(200);
  return (await res.json()).access_token as string;
};
const introspect = async (token: string) => {
  const res = await postForm(`${server.url}/oauth2/introspect`, { token }, as(rs));
  expect(res.status).toBe(200);
  return (await res.json()).active as boolean;
};
const revoke = async (token: string, by = client) => {
  const res = await postForm(`${server.url}/oauth2/revoke`, { token }, as(by));
  expect(res.status).toBe(200);
};

/**
 * The round trips `work` makes, leaving out the revocation feed's reads of the log (on a timer and after each
 * notification) and the rate limiter's flushes (on a timer, one statement for every request counted meanwhile).
 */
async function roundTripsOf(work: () => Promise<unknown>): Promise<string[]> {
  const log = server.proxy!.roundTrips;
  log.length = 0;
  await work();
  return log.filter((sql) => !/FROM revocations r WHERE r\.seq > \$1|INSERT INTO rate_limit_counts/.test(sql));
}

/** The fence: the revocation log's latest seq, one read shared by the introspections waiting for it. */
const fence = expect.stringMatching(/^SELECT coalesce\(max\(seq\), 0\)::text AS seq FROM revocations$/);
/** The token and the revocation log's verdict on it, in one statement. */
const tokenWithLog = expect.stringMatching(/FROM revocations r[\s\S]*FROM access_tokens t WHERE t\.token_hash = \$1$/);

it('introspects an active opaque token issued here from memory: one read of the log\'s latest seq, no token statement', async () => {
  const token = await accessToken();
  expect(await introspect(token)).toBe(true); // the introspecting client is now cached
  const trips = await roundTripsOf(async () => {
    for (let i = 0; i < 3; i++) expect(await introspect(token)).toBe(true);
  });
  expect(trips).toEqual([fence, fence, fence]);
});

it('introspects an opaque token not in memory in one round trip (the token and the log in one statement), then from memory', async () => {
  const token = await accessToken();
  expect(await introspect(token)).toBe(true);
  server.services.accessTokens.clear(); // as if issued at another instance
  const trips = await roundTripsOf(async () => {
    for (let i = 0; i < 3; i++) expect(await introspect(token)).toBe(true);
  });
  expect(trips).toEqual([tokenWithLog, fence, fence]);
});

it('concurrent introspections of tokens in memory read nothing but the fence, at most one per introspection (shared when they arrive together)', async () => {
  const tokens = await Promise.all(Array.from({ length: 8 }, () => accessToken()));
  expect(await introspect(tokens[0])).toBe(true);
  const trips = await roundTripsOf(() => Promise.all(tokens.map(async (token) => expect(await introspect(token)).toBe(true))));
  expect(trips.length).toBeGreaterThanOrEqual(1);
  expect(trips.length).toBeLessThanOrEqual(tokens.length);
  expect(trips).toEqual(trips.map(() => fence));
});

it('revokes an opaque token in two round trips: its lookup, then one statement that marks it and appends to the log', async () => {
  const tokens = [await accessToken(), await accessToken()];
  await introspect(tokens[0]);
  const trips = await roundTripsOf(async () => {
    for (const token of tokens) await revoke(token);
  });
  const lookup = expect.stringMatching(/^SELECT .* FROM access_tokens t WHERE t\.token_hash = \$1$/);
  const markAndAppend = expect.stringMatching(/pg_advisory_xact_lock[\s\S]*UPDATE access_tokens[\s\S]*INSERT INTO revocations[\s\S]*pg_notify/);
  expect(trips).toEqual([lookup, markAndAppend, lookup, markAndAppend]);
  for (const token of tokens) expect(await introspect(token)).toBe(false);
});

it('revokes a JWT in one round trip: one statement that takes the log\'s lock, appends the entry and notifies', async () => {
  const tokens = [await accessToken(jwtClient), await accessToken(jwtClient)];
  await introspect(tokens[0]);
  const trips = await roundTripsOf(async () => {
    for (const token of tokens) await revoke(token, jwtClient);
  });
  const append = expect.stringMatching(/pg_advisory_xact_lock[\s\S]*INSERT INTO revocations[\s\S]*pg_notify/);
  expect(trips).toEqual([append, append]);
  for (const token of tokens) expect(await introspect(token)).toBe(false);
});

describe('refresh with rotation', () => {
  let web: Credentials;
  beforeAll(async () => {
    web = await registerClient(server.url, {
      client_name: 'web app', access_token_format: 'opaque', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], resources: [API],
    });
  });

  /** A refresh token of a new user's grant, from a code redeemed at the token endpoint. */
  async function aRefreshToken(): Promise<string> {
    const user = aUser();
    await server.app.get(UserRepository).create(user);
    const client = (await server.app.get(ClientRepository).findById(web.client_id))!;
    const codeVerifier = randomBytes(32).toString('base64url');
    const code = await server.services.authorizationCodeIssuer.issue({
      client, redirectUri: REDIRECT_URI, codeChallenge: s256Challenge(codeVerifier), codeChallengeMethod: 'S256', scope: ['read'], resources: [API], subject: user.id,
    });
    const res = await postForm(`${server.url}/oauth2/token`, { grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: REDIRECT_URI }, as(web));
    expect(res.status).toBe(200);
    return (await res.json()).refresh_token;
  }
  const refresh = (refreshToken: string) => postForm(`${server.url}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, as(web));

  /** The refresh token and its user's standing, in one statement. */
  const lookupWithUser = expect.stringMatching(/^SELECT [\s\S]* FROM users u[\s\S]* FROM refresh_tokens t WHERE t\.token_hash = \$1$/);

  it('refreshes in three round trips, two in turn: the token with its user in one statement, then at once one statement that rotates it and inserts the next, and the access token', async () => {
    const first = await aRefreshToken();
    let rotated = '';
    const trips = await roundTripsOf(async () => {
      const res = await refresh(first);
      expect(res.status).toBe(200);
      rotated = (await res.json()).refresh_token;
    });
    expect(trips[0]).toEqual(lookupWithUser);
    // Sent together (RefreshTokenGrant), so they reach the wire in either order.
    expect(trips.slice(1)).toEqual(
      expect.arrayContaining([expect.stringMatching(/UPDATE refresh_tokens SET rotated_at[\s\S]*INSERT INTO refresh_tokens/), expect.stringMatching(/^INSERT INTO access_tokens/)]),
    );
    expect(trips).toHaveLength(3);
    expect((await refresh(rotated)).status).toBe(200);
  });

  it('answers a reused refresh token in two round trips: the token (with its user), then one statement that revokes its family and appends the mark', async () => {
    const first = await aRefreshToken();
    const res = await refresh(first);
    expect(res.status).toBe(200);
    const rotated = (await res.json()).refresh_token;
    const trips = await roundTripsOf(async () => {
      const reused = await refresh(first);
      expect(reused.status).toBe(400);
      expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });
    });
    expect(trips).toEqual([lookupWithUser, expect.stringMatching(/UPDATE refresh_tokens SET revoked_at[\s\S]*pg_advisory_xact_lock[\s\S]*INSERT INTO revocations[\s\S]*pg_notify/)]);
    expect((await refresh(rotated)).status).toBe(400); // the family is revoked
  });
});
