// Issue 11: concurrent revocations of opaque tokens share one statement and one commit (group commit), counted on
// the wire through a TCP proxy that logs the statement of each round trip. And the revocation log's read
// (`listAfter`), which runs after every revocation batch on every instance: on a table PostgreSQL had no statistics
// for yet (a fresh database, before autovacuum first analyzes it), the read of the last few entries scanned and
// sorted the whole log each time.
import { aClient, createTestDatabase, someClaims, TcpProxy } from '@tessera/testing';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { TypeOrmAccessTokenRepository } from './typeorm-access-token.repository.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { LIST_AFTER, TypeOrmRevocationRepository } from './typeorm-revocation.repository.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let proxy: TcpProxy;
let dataSource: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  const proxied = await TcpProxy.for(db.url);
  proxy = proxied.proxy;
  dataSource = await createDataSource(proxied.url).initialize();
  await dataSource.runMigrations();
  // Never analyzed during the tests, as in a fresh database's first minute.
  await dataSource.query(`ALTER TABLE revocations SET (autovacuum_enabled = off)`);
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

/** The plan's node types and index names, depth first. */
function planNodes(plan: { 'Node Type': string; 'Index Name'?: string; Plans?: unknown[] }): string[] {
  const own = plan['Index Name'] ? `${plan['Node Type']} ${plan['Index Name']}` : plan['Node Type'];
  return [own, ...((plan.Plans ?? []) as (typeof plan)[]).flatMap(planNodes)];
}

it('reads the newest entries of a never-analyzed log through its primary key, not by scanning the log', async () => {
  await dataSource.query(
    `INSERT INTO revocations (kind, jti, client_id, audience, expires_at, revoked_at)
     SELECT 'token', 'log-read-' || i, 'client-' || (i % 7), '{https://api.example.test}', now() + interval '1 hour', now()
     FROM generate_series(1, 15000) i`,
  );
  const [{ analyzed }] = await dataSource.query(`SELECT count(*)::int AS analyzed FROM pg_stats WHERE tablename = 'revocations'`);
  expect(analyzed).toBe(0);
  const [{ latest }] = await dataSource.query(`SELECT max(seq)::text AS latest FROM revocations`);
  const after = String(BigInt(latest) - 12n);

  const [{ 'QUERY PLAN': [{ Plan: plan }] }] = await dataSource.query(`EXPLAIN (FORMAT JSON) ${LIST_AFTER}`, [after, 500]);
  const nodes = planNodes(plan);
  expect(nodes).not.toContain('Seq Scan');
  expect(nodes.some((node) => node.endsWith(' revocations_pkey'))).toBe(true);

  const entries = await new TypeOrmRevocationRepository(dataSource).listAfter(after, 500);
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => String(BigInt(after) + BigInt(i + 1))));
  expect(entries[0]).toEqual({
    kind: 'token',
    seq: String(BigInt(after) + 1n),
    jti: expect.stringMatching(/^log-read-\d+$/),
    clientId: expect.stringMatching(/^client-\d$/),
    audience: ['https://api.example.test'],
    expiresAt: expect.any(Date),
    revokedAt: expect.any(Date),
  });
  // In the order of seq as a number, across a power of ten.
  expect((await new TypeOrmRevocationRepository(dataSource).listAfter('9995', 10)).map((e) => e.seq)).toEqual(
    Array.from({ length: 10 }, (_, i) => String(9996 + i)),
  );
});
