// Issue 11: concurrent refresh-token rotations share one statement and one commit (group commit), counted on the
// wire through a TCP proxy that logs the statement of each round trip.
import type { RefreshToken } from '@tessera/oauth-core';
import { aClient, aUser, createTestDatabase, TcpProxy } from '@tessera/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import type { GroupCommitStatement } from './group-commit.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmRefreshTokenRepository } from './typeorm-refresh-token.repository.js';
import { TypeOrmUserRepository } from './typeorm-user.repository.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let proxy: TcpProxy;
let dataSource: DataSource;
let clientId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const proxied = await TcpProxy.for(db.url);
  proxy = proxied.proxy;
  dataSource = await createDataSource(proxied.url).initialize();
  await dataSource.runMigrations();
  const client = aClient({ grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb'] });
  await new TypeOrmClientRepository(dataSource).create(client);
  clientId = client.clientId;
});
afterAll(async () => {
  await dataSource?.destroy();
  await proxy?.stop();
  await db?.drop();
});

const aToken = (): RefreshToken => {
  const grantId = randomUUID();
  return {
    familyId: grantId,
    clientId,
    subject: randomUUID(),
    scope: ['read'],
    audience: ['https://api.example'],
    grantId,
    issuedAt: new Date('2026-01-01T00:00:00.000Z'),
    familyIssuedAt: new Date('2026-01-01T00:00:00.000Z'),
    expiresAt: new Date('2026-01-31T00:00:00.000Z'),
  };
};
const aHash = () => `rt-${randomUUID()}`;
const lone = expect.stringMatching(/^WITH rotated AS \(\s*UPDATE refresh_tokens SET rotated_at = \$2 WHERE token_hash = \$1/);
const batch = expect.stringMatching(/^WITH input [\s\S]*FOR UPDATE OF t[\s\S]*UPDATE refresh_tokens t SET rotated_at[\s\S]*INSERT INTO refresh_tokens/);

/** `count` tokens stored, their hashes, and a repository whose group-commit statements are recorded. */
async function stored(count: number) {
  const statements: [GroupCommitStatement, number][] = [];
  const refreshTokens = new TypeOrmRefreshTokenRepository(dataSource, undefined, (statement, rows) => statements.push([statement, rows]));
  const tokens = Array.from({ length: count }, aToken);
  const hashes = tokens.map(aHash);
  for (const [i, token] of tokens.entries()) await refreshTokens.insert(hashes[i], token);
  return { refreshTokens, tokens, hashes, statements };
}

it('rotates what arrives while rotations commit in one shared statement, each caller told its own outcome, a repeat losing', async () => {
  const { refreshTokens, tokens, hashes, statements } = await stored(8);
  const at = new Date('2026-01-02T00:00:00Z');
  // Two go out alone (two statements at a time); the rest arrive while they run and go together, a repeat of the
  // first token among them (already rotated by then: it loses) and of the fifth (its first entry wins, the second loses).
  const calls = [...hashes.map((hash, i) => ({ hash, token: tokens[i] })), { hash: hashes[0], token: tokens[0] }, { hash: hashes[4], token: tokens[4] }];
  const nexts = calls.map(aHash);
  proxy.roundTrips.length = 0;
  const results = await Promise.all(calls.map(({ hash, token }, i) => refreshTokens.rotate(hash, at, nexts[i], { ...token, issuedAt: at })));

  expect(results).toEqual([...hashes.map(() => true), false, false]);
  // The two lone statements and the shared one, in whatever order they reached the wire.
  expect([...proxy.roundTrips].sort()).toEqual([batch, lone, lone]);
  expect(statements).toEqual([['refresh_token_rotation', 1], ['refresh_token_rotation', 1], ['refresh_token_rotation', 8]]);
  for (const [i, token] of tokens.entries()) {
    expect(await refreshTokens.findByHash(hashes[i])).toEqual({ ...token, rotatedAt: at, revokedAt: null });
    expect(await refreshTokens.findByHash(nexts[i])).toEqual({ ...token, issuedAt: at, rotatedAt: null, revokedAt: null });
  }
  for (const lost of nexts.slice(hashes.length)) expect(await refreshTokens.findByHash(lost)).toBeNull();
});

it('fails only the caller whose row fails in a shared statement: the statement is rolled back and its rows tried alone', async () => {
  const { refreshTokens, tokens, hashes } = await stored(5);
  const at = new Date('2026-01-02T00:00:00Z');
  // The fourth's next token names a client that does not exist: its INSERT breaks the foreign key.
  const nexts = hashes.map(aHash);
  const outcomes = await Promise.allSettled(
    tokens.map((token, i) => refreshTokens.rotate(hashes[i], at, nexts[i], { ...token, issuedAt: at, clientId: i === 3 ? `gone-${randomUUID()}` : token.clientId })),
  );
  expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
    true, true, true, expect.stringContaining('refresh_tokens_client_id_fkey'), true,
  ]);
  for (const [i, token] of tokens.entries()) {
    expect((await refreshTokens.findByHash(hashes[i]))?.rotatedAt).toEqual(i === 3 ? null : at);
    expect(await refreshTokens.findByHash(nexts[i])).toEqual(i === 3 ? null : { ...token, issuedAt: at, rotatedAt: null, revokedAt: null });
  }
});

it('lets shared statements of two instances rotate the same tokens at once, in opposite orders: each token once, no deadlock', async () => {
  const { tokens, hashes } = await stored(24);
  const [a, b] = [new TypeOrmRefreshTokenRepository(dataSource), new TypeOrmRefreshTokenRepository(dataSource)];
  const at = new Date('2026-01-02T00:00:00Z');
  const order = tokens.map((_, i) => i);
  const calls = [...order.map((i) => ({ repo: a, i })), ...order.reverse().map((i) => ({ repo: b, i }))];
  const nexts = calls.map(aHash);
  const results = await Promise.all(calls.map(({ repo, i }, k) => repo.rotate(hashes[i], at, nexts[k], { ...tokens[i], issuedAt: at })));
  for (const [i, token] of tokens.entries()) {
    const won = calls.map((c, k) => ({ ...c, k })).filter((c) => c.i === i && results[c.k]);
    expect(won).toHaveLength(1);
    expect(await a.findByHash(nexts[won[0].k])).toEqual({ ...token, issuedAt: at, rotatedAt: null, revokedAt: null });
  }
});

it('reads the tokens (and their users) asked for while a read runs in one shared statement, each caller given its own', async () => {
  const { refreshTokens, tokens, hashes } = await stored(6);
  const user = aUser();
  await new TypeOrmUserRepository(dataSource).create(user);
  const withUser = aToken();
  const withUserHash = aHash();
  await refreshTokens.insert(withUserHash, { ...withUser, subject: user.id });
  // Two go out alone; the rest (a repeat, an unknown hash, the token of a known user among them) share the next.
  const asked = [...hashes, hashes[1], aHash(), withUserHash];
  proxy.roundTrips.length = 0;
  const found = await Promise.all(asked.map((hash) => refreshTokens.findForRefresh(hash)));

  expect(found).toEqual([
    ...tokens.map((token) => ({ token: { ...token, rotatedAt: null, revokedAt: null }, userActive: false })),
    { token: { ...tokens[1], rotatedAt: null, revokedAt: null }, userActive: false },
    null,
    { token: { ...withUser, subject: user.id, rotatedAt: null, revokedAt: null }, userActive: true },
  ]);
  const one = expect.stringMatching(/FROM refresh_tokens t WHERE t\.token_hash = \$1$/);
  const many = expect.stringMatching(/FROM refresh_tokens t WHERE t\.token_hash = ANY\(\$1::text\[\]\)$/);
  expect([...proxy.roundTrips].sort()).toEqual([one, one, many]);
});

it('rotates in place: the rotation updates its row on the same page, touching no index (a HOT update), nearly always', async () => {
  // A database of its own, so that the table's counts are this test's only.
  const own = await createTestDatabase();
  const ds = await createDataSource(own.url).initialize();
  try {
    await ds.runMigrations();
    const client = aClient({ grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb'] });
    await new TypeOrmClientRepository(ds).create(client);
    const refreshTokens = new TypeOrmRefreshTokenRepository(ds);
    // 16 chains rotated in turn, as refreshes of 16 clients would.
    const chains = Array.from({ length: 16 }, () => ({ hash: aHash(), token: { ...aToken(), clientId: client.clientId } }));
    for (const c of chains) await refreshTokens.insert(c.hash, c.token);
    for (let round = 0; round < 25; round++) {
      await Promise.all(
        chains.map(async (c) => {
          const next = aHash();
          expect(await refreshTokens.rotate(c.hash, new Date(), next, c.token)).toBe(true);
          c.hash = next;
        }),
      );
    }
  } finally {
    await ds.destroy(); // its backends report their counts as they exit
  }
  const reader = await createDataSource(own.url).initialize();
  try {
    let counts: { updated: number; hot: number } = { updated: 0, hot: 0 };
    // The counts of exited backends reach the view as they exit: read until all 400 updates are in.
    for (let i = 0; i < 50 && counts.updated < 400; i++) {
      [counts] = await reader.query(`SELECT n_tup_upd::int AS updated, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'refresh_tokens'`);
      if (counts.updated < 400) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(counts.updated).toBe(400);
    expect(counts.hot).toBeGreaterThanOrEqual(360);
  } finally {
    await reader.destroy();
    await own.drop();
  }
});
