import { OAuthError } from '@tessera/oauth-core';
import { aClient, createTestDatabase, someClaims } from '@tessera/testing';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { isDatabaseOutage, translateOutage } from './database-outage.js';
import { TcpProxy } from '@tessera/testing';
import { TypeOrmAccessTokenRepository } from './typeorm-access-token.repository.js';
import { TypeOrmClientRepository } from './typeorm-client.repository.js';
import { TypeOrmHealthCheck } from './typeorm-health.check.js';
import { TypeOrmRevocationRepository } from './typeorm-revocation.repository.js';
import { TypeOrmSigningKeyRepository } from './typeorm-signing-key.repository.js';

describe('a database outage', () => {
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
    await proxy?.stop();
    await dataSource?.destroy().catch(() => undefined);
    await db?.drop();
  });

  const unavailable = expect.objectContaining({ code: 'temporarily_unavailable', status: 503 });

  it('makes every repository method throw temporarily_unavailable within 3 s, and the health check reject', async () => {
    const client = aClient();
    const clients = new TypeOrmClientRepository(dataSource);
    const accessTokens = new TypeOrmAccessTokenRepository(dataSource);
    const revocations = new TypeOrmRevocationRepository(dataSource);
    const keys = new TypeOrmSigningKeyRepository(dataSource);
    const health = new TypeOrmHealthCheck(dataSource);
    await clients.create(client);
    await health.ping();

    await proxy.stop(); // live connections cut, new ones refused

    const at = new Date();
    const key = { kid: 'k', alg: 'ES256', publicJwk: {}, privateKey: '{}', status: 'active', createdAt: at, retiredAt: null, publishUntil: null } as const;
    const calls: [string, () => Promise<unknown>][] = [
      ['clients.findById', () => clients.findById(client.clientId)],
      ['clients.create', () => clients.create(aClient())],
      ['clients.update', () => clients.update(client.clientId, { clientName: 'x' }, at)],
      ['clients.list', () => clients.list()],
      ['accessTokens.insert', () => accessTokens.insert('h', someClaims({ clientId: client.clientId }))],
      ['accessTokens.findByHash', () => accessTokens.findByHash('h')],
      ['accessTokens.revoke', () => accessTokens.revoke('h', at)],
      ['revocations.revokeToken', () => revocations.revokeToken('j', client.clientId, [], at, at)],
      ['revocations.isRevoked', () => revocations.isRevoked(someClaims())],
      ['signingKeys.listPublished', () => keys.listPublished(at)],
      ['signingKeys.insertFirst', () => keys.insertFirst(key)],
      ['signingKeys.rotate', () => keys.rotate(key, at, at)],
      ['health.ping', () => health.ping()],
    ];
    for (const [name, call] of calls) {
      const started = Date.now();
      const outcome = await call().then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect({ name, outcome }).toEqual({ name, outcome: unavailable });
      expect(outcome).toBeInstanceOf(OAuthError);
      expect(Date.now() - started).toBeLessThan(3000);
    }

    await proxy.start(); // same port: the pool reconnects on its own
    expect(await clients.findById(client.clientId)).toEqual(client);
    await expect(health.ping()).resolves.toBeUndefined();
  });

  it('translates a connection terminated mid-query (SQLSTATE 57P01)', async () => {
    const own = await createDataSource(db.url).initialize(); // its connection dies: keep it away from the others
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const sleeping = translateOutage(() => own.query(`SELECT pg_sleep(5) /* to be terminated */`)).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%to be terminated%' AND pid <> pg_backend_pid()`,
      );
      expect(rowCount).toBe(1);
      expect(await sleeping).toEqual(unavailable);
    } finally {
      await admin.end();
      await own.destroy();
    }
  });

  it('leaves any other database error as it is', async () => {
    const clients = new TypeOrmClientRepository(dataSource);
    const client = aClient();
    await clients.create(client);
    const error = await clients.create(client).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: '23505' });
  });

  it('is what connecting to a port with nothing listening fails with (so boot retries it)', async () => {
    const dead = new URL(db.url);
    dead.port = String(proxy.port);
    await proxy.stop();
    const started = Date.now();
    const error = await createDataSource(dead.toString())
      .initialize()
      .catch((e: unknown) => e);
    expect(isDatabaseOutage(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    await proxy.start();
  });
});
