// Issue 11: the database round trips of introspection and revocation of an opaque access token, counted on the
// wire (the harness's TCP proxy between the server and PostgreSQL reads the client side of the protocol).
import { basicAuth, postForm, registerClient, startAuthServer, type RunningAuthServer } from './auth-server.harness.js';

const API = 'https://api.example';
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

/** The round trips `work` makes, leaving out the revocation feed's reads of the log (on a timer and after each notification). */
async function roundTripsOf(work: () => Promise<unknown>): Promise<string[]> {
  const log = server.proxy!.roundTrips;
  log.length = 0;
  await work();
  return log.filter((sql) => !/FROM "revocations" "r"|max\(seq\)/.test(sql));
}

it('introspects an active opaque token in one round trip: the token and the revocation log in one statement', async () => {
  const token = await accessToken();
  expect(await introspect(token)).toBe(true); // the introspecting client is now cached
  const trips = await roundTripsOf(async () => {
    for (let i = 0; i < 3; i++) expect(await introspect(token)).toBe(true);
  });
  expect(trips).toEqual(Array(3).fill(expect.stringMatching(/FROM access_tokens t WHERE t\.token_hash = \$1$/)));
  expect(trips[0]).toContain('FROM revocations r');
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
