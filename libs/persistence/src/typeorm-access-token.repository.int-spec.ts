// Issue 11: concurrent revocations of opaque tokens share one statement and one commit (group commit), counted on
// the wire through a TCP proxy that logs the statement of each round trip.
import { aClient, createTestDatabase, someClaims, TcpProxy } from '@tessera/testing';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { TypeOrmAccessTokenRepository } from './typeorm-access-token.repository.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmRevocationRepository } from './typeorm-revocation.repository.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let proxy: TcpProxy;
let dataSource: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  const proxied = await TcpProxy.for(db.url);
  proxy = proxied.proxy;
  dataSource = await createDataSource(proxied.url).initialize();
  await dataSource.runMigrations();
});
afterAll(async () => {
  await dataSource?.destroy();
  await proxy?.stop();
  await db?.drop();
});

it('revokes what arrives while a revocation commits in one batch: one statement, one commit, every entry in the log', async () => {
  const client = aClient();
  await new TypeOrmClientRepository(dataSource).create(client);
  const accessTokens = new TypeOrmAccessTokenRepository(dataSource);
  const hashes = Array.from({ length: 6 }, (_, i) => `batch-${i}-${'x'.repeat(40)}`);
  const claims = hashes.map(() => someClaims({ clientId: client.clientId }));
  for (const [i, hash] of hashes.entries()) await accessTokens.insert(hash, claims[i]);

  proxy.roundTrips.length = 0;
  const at = new Date('2026-01-01T00:10:00Z');
  // The first runs alone; the five that arrive while it commits go together.
  expect(await Promise.all(hashes.map((hash) => accessTokens.revoke(hash, at)))).toEqual(hashes.map(() => true));
  expect(proxy.roundTrips).toEqual([
    expect.stringMatching(/pg_advisory_xact_lock[\s\S]*UPDATE access_tokens[\s\S]*INSERT INTO revocations/),
    expect.stringMatching(/pg_advisory_xact_lock[\s\S]*UPDATE access_tokens[\s\S]*INSERT INTO revocations/),
  ]);

  const entries = await new TypeOrmRevocationRepository(dataSource).listAfter('0', 100);
  expect(entries.map((e) => (e.kind === 'token' ? e.jti : null)).sort()).toEqual(claims.map((c) => c.jti).sort());
  for (const hash of hashes) expect((await accessTokens.findByHash(hash))?.revokedAt).toEqual(at);
});
