// Issue 11: concurrent refresh-token rotations share one statement and one commit (group commit), counted on the
// wire through a TCP proxy that logs the statement of each round trip.
import type { RefreshToken } from '@tessera/oauth-core';
import { aClient, createTestDatabase, TcpProxy } from '@tessera/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import type { GroupCommitStatement } from './group-commit.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmRefreshTokenRepository } from './typeorm-refresh-token.repository.js';

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
